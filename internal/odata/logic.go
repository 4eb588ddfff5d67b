package odata

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
