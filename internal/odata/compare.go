package odata

import (
	"strings"
	"time"
)

// compareOp applies a comparison operator to two runtime values.
func compareOp(op binOp, l, r value) (tri, error) {
	c, st := compareVals(l, r)
	switch st {
	case cmpOK:
	case cmpNull:
		return triNull, nil
	case cmpUnequal:
		return triOf(op == opNe), nil
	case cmpMismatch:
		switch op {
		case opEq:
			return triFalse, nil
		case opNe:
			return triTrue, nil
		}
		return triNull, evalErrorf("cannot compare a " + l.k.String() + " with a " + r.k.String() + " using '" + op.String() + "'")
	default: // cmpBad
		if l.k == kOther {
			return triNull, unsupported(l)
		}
		return triNull, unsupported(r)
	}
	return cmpResult(op, c), nil
}

// cmpResult turns a three-way comparison into the operator's result.
func cmpResult(op binOp, c int) tri {
	switch op {
	case opEq:
		return triOf(c == 0)
	case opNe:
		return triOf(c != 0)
	case opGt:
		return triOf(c > 0)
	case opGe:
		return triOf(c >= 0)
	case opLt:
		return triOf(c < 0)
	default: // opLe
		return triOf(c <= 0)
	}
}

type cmpNode struct {
	op   binOp
	l, r node
}

func (n *cmpNode) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *cmpNode) truth(row env) (tri, error) {
	l, err := n.l.eval(row)
	if err != nil {
		return triNull, err
	}
	r, err := n.r.eval(row)
	if err != nil {
		return triNull, err
	}
	return compareOp(n.op, l, r)
}

// cmpMemberLit is "member op literal", the common case, with the literal
// resolved at parse time.
type cmpMemberLit struct {
	op       binOp // with the member on the left
	m        *memberNode
	lit      value
	litFirst bool // written "literal op member" (for debugging output only)
}

func (n *cmpMemberLit) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *cmpMemberLit) truth(row env) (tri, error) {
	if n.m.segs == nil || row.bound() {
		// Fast paths for the row types a JSON-decoding server stores.
		var raw any
		if row.bound() {
			raw = row.vals[n.m.idx]
		} else {
			raw = row.m[n.m.name]
		}
		// Switching on the literal's kind first leaves single type
		// assertions, cheaper than a type switch.
		switch n.lit.k {
		case kBool:
			if x, ok := raw.(bool); ok {
				return cmpResult(n.op, cmpInt(b2i(x), n.lit.i)), nil
			}
		case kInt:
			if x, ok := raw.(int64); ok {
				return cmpResult(n.op, cmpInt(x, n.lit.i)), nil
			}
			if x, ok := raw.(float64); ok {
				if x != x {
					return triOf(n.op == opNe), nil
				}
				return cmpResult(n.op, -cmpIntFloat(n.lit.i, x)), nil
			}
		case kFloat:
			if n.lit.f == n.lit.f { // not NaN
				if x, ok := raw.(float64); ok && x == x {
					return cmpResult(n.op, cmpFloat(x, n.lit.f)), nil
				}
				if x, ok := raw.(int64); ok {
					return cmpResult(n.op, cmpIntFloat(x, n.lit.f)), nil
				}
			}
		case kStr:
			if x, ok := raw.(string); ok {
				return cmpResult(n.op, strings.Compare(x, n.lit.s)), nil
			}
		case kTime:
			if x, ok := raw.(time.Time); ok {
				return cmpResult(n.op, x.Compare(n.lit.t)), nil
			}
		}
		return compareOp(n.op, fromAny(raw), n.lit)
	}
	return compareOp(n.op, n.m.lookup(row), n.lit)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// cmpFloat compares two floats: -1, 0 or +1. Unlike cmp.Compare it calls
// NaN equal to everything; callers that care rule NaN out first.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
