package odata

import (
	"math"
	"math/bits"
)

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
