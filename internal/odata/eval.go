package odata

import (
	"math"
	"math/bits"
	"strings"
	"time"
)

// env is the row a filter is evaluated against: a map (Match) or, when m
// is nil, the values of the filter's members in the order of
// Filter.Members (MatchValues). It is passed by value, so evaluation does
// not allocate.
type env struct {
	m    map[string]any
	vals []any
}

// bound reports whether e holds member values rather than a map.
func (e env) bound() bool { return e.m == nil }

// noRow stands for a nil row map in Match; it is never written.
var noRow = map[string]any{}

// node is an evaluable expression.
type node interface {
	eval(row env) (value, error)
}

type litNode struct{ v value }

func (n *litNode) eval(env) (value, error) { return n.v, nil }

// memberNode reads a row value. A name with '/' is first looked up as a
// whole key ("a/b"); when that key is absent the path is followed through
// nested map[string]any values. A missing key, or a path through something
// that is not a map, is null.
//
// In a bound env the member is vals[idx], taken as it is: paths are not
// walked.
type memberNode struct {
	name string
	segs []string // nil unless name contains '/'
	idx  int      // index in Filter.members
}

func (m *memberNode) lookup(e env) value {
	if e.bound() {
		return fromAny(e.vals[m.idx])
	}
	row := e.m
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

func (m *memberNode) eval(row env) (value, error) { return m.lookup(row), nil }

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

// tri is a truth value of SQL's three-valued logic.
type tri uint8

const (
	triNull tri = iota
	triFalse
	triTrue
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func (t tri) value() value {
	switch t {
	case triTrue:
		return trueVal
	case triFalse:
		return falseVal
	}
	return nullVal
}

// pred is a node whose value is always a boolean or null. truth gives that
// value without building a value struct, so the and/or/not/comparison
// skeleton of a filter evaluates cheaply; eval is truth as a value.
type pred interface {
	node
	truth(row env) (tri, error)
}

// asPred returns an operand of and, or or not (op) as a pred: other nodes
// (members, literals, function calls) are wrapped so that a value that is
// neither a boolean nor null is op's error.
func asPred(n node, op string) pred {
	if p, ok := n.(pred); ok {
		return p
	}
	return &operand{x: n, op: op}
}

// operand is an operand of and, or or not that is not a pred. It is not
// part of the tree: only the pred fields of the logical nodes hold it.
type operand struct {
	x  node
	op string
}

func (o *operand) eval(row env) (value, error) { return o.x.eval(row) }

func (o *operand) truth(row env) (tri, error) {
	v, err := o.x.eval(row)
	if err != nil {
		return triNull, err
	}
	switch v.k {
	case kNull:
		return triNull, nil
	case kBool:
		return triOf(v.i != 0), nil
	}
	return triNull, logical(o.op, v)
}

type notNode struct {
	x  node
	xp pred // x, as a pred
}

func newNot(x node) *notNode { return &notNode{x: x, xp: asPred(x, "not")} }

func (n *notNode) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *notNode) truth(row env) (tri, error) {
	t, err := n.xp.truth(row)
	switch {
	case err != nil:
		return triNull, err
	case t == triNull:
		return triNull, nil
	}
	return triOf(t == triFalse), nil
}

// andNode implements SQL's three-valued AND, short-circuiting on false.
type andNode struct {
	l, r   node
	lp, rp pred // l and r, as preds
}

func newAnd(l, r node) *andNode {
	return &andNode{l: l, r: r, lp: asPred(l, "and"), rp: asPred(r, "and")}
}

func (n *andNode) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *andNode) truth(row env) (tri, error) {
	l, err := n.lp.truth(row)
	if err != nil {
		return triNull, err
	}
	if l == triFalse {
		return triFalse, nil
	}
	r, err := n.rp.truth(row)
	if err != nil {
		return triNull, err
	}
	if r == triFalse {
		return triFalse, nil
	}
	if l == triNull || r == triNull {
		return triNull, nil
	}
	return triTrue, nil
}

// orNode implements SQL's three-valued OR, short-circuiting on true.
type orNode struct {
	l, r   node
	lp, rp pred // l and r, as preds
}

func newOr(l, r node) *orNode {
	return &orNode{l: l, r: r, lp: asPred(l, "or"), rp: asPred(r, "or")}
}

func (n *orNode) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *orNode) truth(row env) (tri, error) {
	l, err := n.lp.truth(row)
	if err != nil {
		return triNull, err
	}
	if l == triTrue {
		return triTrue, nil
	}
	r, err := n.rp.truth(row)
	if err != nil {
		return triNull, err
	}
	if r == triTrue {
		return triTrue, nil
	}
	if l == triNull || r == triNull {
		return triNull, nil
	}
	return triFalse, nil
}

// isNullNode is "x eq null" (IS NULL) or "x ne null" (IS NOT NULL).
type isNullNode struct {
	x   node
	not bool
}

func (n *isNullNode) eval(row env) (value, error) {
	t, err := n.truth(row)
	return t.value(), err
}

func (n *isNullNode) truth(row env) (tri, error) {
	v, err := n.x.eval(row)
	if err != nil {
		return triNull, err
	}
	return triOf((v.k == kNull) != n.not), nil
}

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

func (n *negNode) eval(row env) (value, error) {
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

func (n *arithNode) eval(row env) (value, error) {
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
