package odata

import (
	"strconv"
)

// MaxLength is the longest query option, in bytes, that ParseFilter,
// ParseOrderBy and ParseSelect accept. The official Node.js server runs on
// Node's 16 KiB request-header limit, so real requests are shorter.
const MaxLength = 32 << 10

// MaxDepth caps the nesting of a $filter: parentheses, unary operators,
// function arguments and the height of the expression tree all count.
// Clients write every binary operation fully parenthesised, so a chain of N
// "or" clauses nests N deep; 1000 leaves room for that while keeping the
// recursive parser and evaluator far from any stack limit.
const MaxDepth = 1000

// Filter is a parsed $filter expression. It is immutable and safe for
// concurrent use by multiple goroutines.
type Filter struct {
	src     string
	root    node
	pred    pred     // root, when it is a pred
	members []string // distinct member names, in order of first appearance
}

// String returns the source text the filter was parsed from.
func (f *Filter) String() string { return f.src }

// Match evaluates the filter against one row (a missing key is null) and
// reports whether the expression is boolean true. Null and false both give
// (false, nil), following SQL's three-valued logic. On failure it returns
// false and an *EvalError: for arithmetic or logic on values of the wrong
// type, ordering comparisons between unrelated types, function arguments of
// the wrong runtime type, division by zero, overflow, a row value the
// evaluator does not understand (map, slice, …) used in a comparison, or a
// top-level result that is not a boolean.
func (f *Filter) Match(row map[string]any) (bool, error) {
	if row == nil {
		row = noRow
	}
	return f.match(env{m: row})
}

// Members returns the distinct member names the filter reads, in order of
// first appearance in the source: the names MatchValues takes values for.
// The caller may modify the returned slice.
func (f *Filter) Members() []string {
	return append([]string(nil), f.members...)
}

// MatchValues is Match for a row given as the values of the filter's
// members: vals[i] is the value of Members()[i], nil for a missing one. A
// member path such as "a/b" is the value given for it, not walked through
// nested maps. With the values a row map holds for those names (and no
// path walking), MatchValues gives exactly the result of Match on that
// row; it saves the map lookups when rows are stored another way. It
// panics when len(vals) differs from len(Members()).
func (f *Filter) MatchValues(vals []any) (bool, error) {
	if len(vals) != len(f.members) {
		panic("odata: MatchValues: " + strconv.Itoa(len(vals)) + " values for " + strconv.Itoa(len(f.members)) + " members")
	}
	if f.pred != nil {
		t, err := f.pred.truth(env{vals: vals})
		return t == triTrue, err
	}
	return f.result(f.root.eval(env{vals: vals}))
}

func (f *Filter) match(e env) (bool, error) {
	if f.pred != nil {
		t, err := f.pred.truth(e)
		return t == triTrue, err
	}
	return f.result(f.root.eval(e))
}

// result turns the value of the whole filter into Match's answer.
func (f *Filter) result(v value, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	switch v.k {
	case kBool:
		return v.i != 0, nil
	case kNull:
		return false, nil
	}
	return false, evalErrorf("the filter evaluated to a " + v.k.String() + ", not a boolean")
}
