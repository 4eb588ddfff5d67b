package odata

// Binary operator precedences, lowest first.
const (
	precOr = 1 + iota
	precAnd
	precEq
	precRel
	precAdd
	precMul
)

type binOp uint8

const (
	opOr binOp = iota
	opAnd
	opEq
	opNe
	opGt
	opGe
	opLt
	opLe
	opAdd
	opSub
	opMul
	opDiv
	opMod
)

var opNames = [...]string{"or", "and", "eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div", "mod"}

func (o binOp) String() string { return opNames[o] }

// binaryOp recognises a binary operator keyword (case-sensitive).
func binaryOp(s string) (binOp, int, bool) {
	switch s {
	case "or":
		return opOr, precOr, true
	case "and":
		return opAnd, precAnd, true
	case "eq":
		return opEq, precEq, true
	case "ne":
		return opNe, precEq, true
	case "gt":
		return opGt, precRel, true
	case "ge":
		return opGe, precRel, true
	case "lt":
		return opLt, precRel, true
	case "le":
		return opLe, precRel, true
	case "add":
		return opAdd, precAdd, true
	case "sub":
		return opSub, precAdd, true
	case "mul":
		return opMul, precMul, true
	case "div":
		return opDiv, precMul, true
	case "mod":
		return opMod, precMul, true
	}
	return 0, 0, false
}

// binary builds the node for left op right.
func (p *parser) binary(op binOp, opPos int, l, r pnode) (pnode, error) {
	h := max(l.h, r.h) + 1
	var e pnode
	switch op {
	case opOr, opAnd:
		for _, x := range [2]pnode{l, r} {
			switch x.st {
			case sAny, sNull, sBool:
			default:
				return pnode{}, p.errAt(x.pos, "the operands of '"+op.String()+"' must be booleans, not a "+x.st.String())
			}
		}
		if op == opAnd {
			e = pnode{n: newAnd(l.n, r.n), st: sBool}
		} else {
			e = pnode{n: newOr(l.n, r.n), st: sBool}
		}
	case opEq, opNe, opGt, opGe, opLt, opLe:
		if !canCompare(l.st, r.st) {
			return pnode{}, p.errAt(opPos, "cannot compare a "+l.st.String()+" with a "+r.st.String())
		}
		e = pnode{n: comparison(op, l, r), st: sBool}
	default: // arithmetic
		for _, x := range [2]pnode{l, r} {
			switch x.st {
			case sAny, sNull, sNum:
			default:
				return pnode{}, p.errAt(x.pos, "the operands of '"+op.String()+"' must be numbers, not a "+x.st.String())
			}
		}
		e = pnode{n: &arithNode{op: op, l: l.n, r: r.n}, st: sNum}
	}
	e.pos, e.h = l.pos, h
	return p.checkHeight(e, opPos)
}

// swapped gives the operator for r op l.
func swapped(op binOp) binOp {
	switch op {
	case opGt:
		return opLt
	case opGe:
		return opLe
	case opLt:
		return opGt
	case opLe:
		return opGe
	}
	return op
}

// comparison builds a comparison node, turning "x eq null" and "x ne null"
// (either side) into IS NULL / IS NOT NULL and pre-resolving
// member-versus-literal comparisons.
func comparison(op binOp, l, r pnode) node {
	ll, lIsLit := l.n.(*litNode)
	rl, rIsLit := r.n.(*litNode)
	if op == opEq || op == opNe {
		switch {
		case rIsLit && rl.v.k == kNull:
			return &isNullNode{x: l.n, not: op == opNe}
		case lIsLit && ll.v.k == kNull:
			return &isNullNode{x: r.n, not: op == opNe}
		}
	}
	if m, ok := l.n.(*memberNode); ok && rIsLit {
		return &cmpMemberLit{op: op, m: m, lit: rl.v}
	}
	if m, ok := r.n.(*memberNode); ok && lIsLit {
		return &cmpMemberLit{op: swapped(op), m: m, lit: ll.v, litFirst: true}
	}
	return &cmpNode{op: op, l: l.n, r: r.n}
}
