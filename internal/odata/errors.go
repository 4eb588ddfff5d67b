package odata

import (
	"strconv"
	"unicode/utf8"
)

// SyntaxError reports a query option ($filter, $orderby or $select) that
// cannot be parsed, or a $filter that is statically ill-typed (for example
// `(true add 1)` or `startswith(1,'a')`), too long or too deeply nested.
//
// Pos is the 0-based byte offset into the source of the offending token
// (len(src) when the input ended too early).
type SyntaxError struct {
	// Pos is the 0-based byte offset of the offending token.
	Pos int
	// Msg describes the problem, without position information.
	Msg string
	// Param names the query option: "$filter" (the default when empty),
	// "$orderby" or "$select".
	Param string
	// Near is a short excerpt of the source starting at Pos; empty at the
	// end of the input.
	Near string
}

// Error returns "invalid $filter at position N: msg", followed by
// ` near "excerpt"` when the error is not at the end of the input.
func (e *SyntaxError) Error() string {
	param := e.Param
	if param == "" {
		param = "$filter"
	}
	s := "invalid " + param + " at position " + strconv.Itoa(e.Pos) + ": " + e.Msg
	if e.Near != "" {
		s += " near " + strconv.Quote(e.Near)
	}
	return s
}

// maxExcerpt is the number of source bytes quoted by SyntaxError.Near.
const maxExcerpt = 24

// newSyntaxError builds a SyntaxError with an excerpt of src at pos.
func newSyntaxError(param, src string, pos int, msg string) *SyntaxError {
	if pos < 0 {
		pos = 0
	}
	if pos > len(src) {
		pos = len(src)
	}
	near := src[pos:]
	if len(near) > maxExcerpt {
		end := maxExcerpt
		// Do not cut a multi-byte character in half.
		for end > 0 && !utf8.RuneStart(near[end]) {
			end--
		}
		near = near[:end] + "…"
	}
	return &SyntaxError{Pos: pos, Msg: msg, Param: param, Near: near}
}

// EvalError reports a filter that parsed but cannot be evaluated against a
// row, in the cases where a SQL backend would reject the query: arithmetic
// or logic on values of the wrong type (e.g. adding booleans), ordering
// comparisons between unrelated types, function arguments of the wrong
// type, division by zero, arithmetic overflow, or values the evaluator does
// not understand (maps, slices, other Go types).
type EvalError struct {
	// Msg describes the problem.
	Msg string
}

// Error returns "cannot evaluate $filter: " followed by Msg.
func (e *EvalError) Error() string { return "cannot evaluate $filter: " + e.Msg }

func evalErrorf(msg string) error { return &EvalError{Msg: msg} }
