package odata

import (
	"math"
	"math/bits"
	"strings"
	"time"
)

// node is an evaluable expression.
type node interface {
	eval(row map[string]any) (value, error)
}

type litNode struct{ v value }

func (n *litNode) eval(map[string]any) (value, error) { return n.v, nil }

// memberNode reads a row value. A name with '/' is first looked up as a
// whole key ("a/b"); when that key is absent the path is followed through
// nested map[string]any values. A missing key, or a path through something
// that is not a map, is null.
type memberNode struct {
	name string
	segs []string // nil unless name contains '/'
}

func (m *memberNode) lookup(row map[string]any) value {
	if v, ok := row[m.name]; ok {
		return fromAny(v)
	}
	if m.segs == nil {
		return nullVal
	}
	var cur any = row
	for _, s := range m.segs {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nullVal
		}
		if cur, ok = mm[s]; !ok {
			return nullVal
		}
	}
	return fromAny(cur)
}

func (m *memberNode) eval(row map[string]any) (value, error) { return m.lookup(row), nil }

func unsupported(v value) error {
	var name string
	switch v.i {
	case otherObject:
		name = "object"
	case otherArray:
		name = "array"
	case otherNumber:
		name = "invalid json.Number"
	default:
		name = "unsupported Go type"
	}
	return evalErrorf("unsupported value (" + name + ")")
}

// logical checks an operand of and/or/not. Callers skip it for the common
// kNull and kBool operands (kNull < kBool < every other kind).
func logical(op string, v value) error {
	switch v.k {
	case kBool, kNull:
		return nil
	case kOther:
		return unsupported(v)
	}
	if op == "not" {
		return evalErrorf("the operand of 'not' must be a boolean, not a " + v.k.String())
	}
	return evalErrorf("the operands of '" + op + "' must be booleans, not a " + v.k.String())
}

type notNode struct{ x node }

func (n *notNode) eval(row map[string]any) (value, error) {
	v, err := n.x.eval(row)
	if err != nil {
		return nullVal, err
	}
	if v.k > kBool {
		return nullVal, logical("not", v)
	}
	if v.k == kNull {
		return nullVal, nil
	}
	return boolVal(v.i == 0), nil
}

// andNode implements SQL's three-valued AND, short-circuiting on false.
type andNode struct{ l, r node }

func (n *andNode) eval(row map[string]any) (value, error) {
	l, err := n.l.eval(row)
	if err != nil {
		return nullVal, err
	}
	if l.k > kBool {
		return nullVal, logical("and", l)
	}
	if l.k == kBool && l.i == 0 {
		return falseVal, nil
	}
	r, err := n.r.eval(row)
	if err != nil {
		return nullVal, err
	}
	if r.k > kBool {
		return nullVal, logical("and", r)
	}
	if r.k == kBool && r.i == 0 {
		return falseVal, nil
	}
	if l.k == kNull || r.k == kNull {
		return nullVal, nil
	}
	return trueVal, nil
}

// orNode implements SQL's three-valued OR, short-circuiting on true.
type orNode struct{ l, r node }

func (n *orNode) eval(row map[string]any) (value, error) {
	l, err := n.l.eval(row)
	if err != nil {
		return nullVal, err
	}
	if l.k > kBool {
		return nullVal, logical("or", l)
	}
	if l.k == kBool && l.i != 0 {
		return trueVal, nil
	}
	r, err := n.r.eval(row)
	if err != nil {
		return nullVal, err
	}
	if r.k > kBool {
		return nullVal, logical("or", r)
	}
	if r.k == kBool && r.i != 0 {
		return trueVal, nil
	}
	if l.k == kNull || r.k == kNull {
		return nullVal, nil
	}
	return falseVal, nil
}

// isNullNode is "x eq null" (IS NULL) or "x ne null" (IS NOT NULL).
type isNullNode struct {
	x   node
	not bool
}

func (n *isNullNode) eval(row map[string]any) (value, error) {
	v, err := n.x.eval(row)
	if err != nil {
		return nullVal, err
	}
	return boolVal((v.k == kNull) != n.not), nil
}

// compareOp applies a comparison operator to two runtime values.
func compareOp(op binOp, l, r value) (value, error) {
	c, st := compareVals(l, r)
	switch st {
	case cmpOK:
	case cmpNull:
		return nullVal, nil
	case cmpUnequal:
		return boolVal(op == opNe), nil
	case cmpMismatch:
		switch op {
		case opEq:
			return falseVal, nil
		case opNe:
			return trueVal, nil
		}
		return nullVal, evalErrorf("cannot compare a " + l.k.String() + " with a " + r.k.String() + " using '" + op.String() + "'")
	default: // cmpBad
		if l.k == kOther {
			return nullVal, unsupported(l)
		}
		return nullVal, unsupported(r)
	}
	return cmpResult(op, c), nil
}

// cmpResult turns a three-way comparison into the operator's result.
func cmpResult(op binOp, c int) value {
	switch op {
	case opEq:
		return boolVal(c == 0)
	case opNe:
		return boolVal(c != 0)
	case opGt:
		return boolVal(c > 0)
	case opGe:
		return boolVal(c >= 0)
	case opLt:
		return boolVal(c < 0)
	default: // opLe
		return boolVal(c <= 0)
	}
}

type cmpNode struct {
	op   binOp
	l, r node
}

func (n *cmpNode) eval(row map[string]any) (value, error) {
	l, err := n.l.eval(row)
	if err != nil {
		return nullVal, err
	}
	r, err := n.r.eval(row)
	if err != nil {
		return nullVal, err
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

func (n *cmpMemberLit) eval(row map[string]any) (value, error) {
	if n.m.segs == nil {
		// Fast paths for the row types a JSON-decoding server stores.
		raw := row[n.m.name]
		switch x := raw.(type) {
		case float64:
			if n.lit.k == kFloat && x == x && n.lit.f == n.lit.f { // neither is NaN
				return cmpResult(n.op, cmpFloat(x, n.lit.f)), nil
			}
			if n.lit.k == kInt {
				if x != x {
					return boolVal(n.op == opNe), nil
				}
				return cmpResult(n.op, -cmpIntFloat(n.lit.i, x)), nil
			}
		case bool:
			if n.lit.k == kBool {
				return cmpResult(n.op, cmpInt(b2i(x), n.lit.i)), nil
			}
		case string:
			if n.lit.k == kStr {
				return cmpResult(n.op, strings.Compare(x, n.lit.s)), nil
			}
		case time.Time:
			if n.lit.k == kTime {
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

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// negNode is unary minus on a non-literal.
type negNode struct{ x node }

func (n *negNode) eval(row map[string]any) (value, error) {
	v, err := n.x.eval(row)
	if err != nil {
		return nullVal, err
	}
	switch v.k {
	case kNull:
		return nullVal, nil
	case kInt:
		if v.i == math.MinInt64 {
			return nullVal, evalErrorf("arithmetic overflow")
		}
		return intVal(-v.i), nil
	case kFloat:
		return floatVal(-v.f), nil
	case kOther:
		return nullVal, unsupported(v)
	}
	return nullVal, evalErrorf("the operand of '-' must be a number, not a " + v.k.String())
}

type arithNode struct {
	op   binOp
	l, r node
}

func (n *arithNode) eval(row map[string]any) (value, error) {
	l, err := n.l.eval(row)
	if err != nil {
		return nullVal, err
	}
	r, err := n.r.eval(row)
	if err != nil {
		return nullVal, err
	}
	return arith(n.op, l, r)
}

// arith applies add, sub, mul, div or mod. Integers stay integers (with
// SQL's truncating division) unless they overflow; anything with a double
// is computed in float64.
func arith(op binOp, l, r value) (value, error) {
	for _, v := range [2]value{l, r} {
		switch v.k {
		case kInt, kFloat, kNull:
		case kOther:
			return nullVal, unsupported(v)
		default:
			return nullVal, evalErrorf("the operands of '" + op.String() + "' must be numbers, not a " + v.k.String())
		}
	}
	if l.k == kNull || r.k == kNull {
		return nullVal, nil
	}
	if l.k == kInt && r.k == kInt {
		a, b := l.i, r.i
		switch op {
		case opAdd:
			s := a + b
			if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
				return nullVal, evalErrorf("arithmetic overflow")
			}
			return intVal(s), nil
		case opSub:
			s := a - b
			if (a >= 0) != (b >= 0) && (s >= 0) != (a >= 0) {
				return nullVal, evalErrorf("arithmetic overflow")
			}
			return intVal(s), nil
		case opMul:
			if p, ok := mulInt(a, b); ok {
				return intVal(p), nil
			}
			return nullVal, evalErrorf("arithmetic overflow")
		case opDiv, opMod:
			if b == 0 {
				return nullVal, evalErrorf("division by zero")
			}
			if a == math.MinInt64 && b == -1 {
				if op == opMod {
					return intVal(0), nil
				}
				return nullVal, evalErrorf("arithmetic overflow")
			}
			if op == opDiv {
				return intVal(a / b), nil
			}
			return intVal(a % b), nil
		}
	}
	a, b := l.asFloat(), r.asFloat()
	var res float64
	switch op {
	case opAdd:
		res = a + b
	case opSub:
		res = a - b
	case opMul:
		res = a * b
	case opDiv:
		if b == 0 {
			return nullVal, evalErrorf("division by zero")
		}
		res = a / b
	default: // opMod
		if b == 0 {
			return nullVal, evalErrorf("division by zero")
		}
		res = math.Mod(a, b)
	}
	if math.IsInf(res, 0) || math.IsNaN(res) {
		if math.IsNaN(a) || math.IsNaN(b) {
			return floatVal(math.NaN()), nil
		}
		return nullVal, evalErrorf("arithmetic overflow")
	}
	return floatVal(res), nil
}

// mulInt multiplies two int64 values, reporting overflow.
func mulInt(a, b int64) (int64, bool) {
	neg := (a < 0) != (b < 0)
	ua, ub := absU(a), absU(b)
	hi, lo := bits.Mul64(ua, ub)
	if hi != 0 {
		return 0, false
	}
	if neg {
		if lo > 1<<63 {
			return 0, false
		}
		return int64(-lo), true // -(1<<63) wraps to MinInt64
	}
	if lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-a) // MinInt64 gives 1<<63, as wanted
	}
	return uint64(a)
}
