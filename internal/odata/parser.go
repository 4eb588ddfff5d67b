package odata

import (
	"strconv"
	"strings"
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

// styp is the static type of an expression, known at parse time.
type styp uint8

const (
	sAny  styp = iota // a member, whose type is only known per row
	sNull             // the null literal
	sBool
	sNum
	sStr
	sGuid
	sTime
	sDur
)

func (t styp) String() string {
	switch t {
	case sNull:
		return "null"
	case sBool:
		return "boolean"
	case sNum:
		return "number"
	case sStr:
		return "string"
	case sGuid:
		return "guid"
	case sTime:
		return "datetime"
	case sDur:
		return "time"
	}
	return "value"
}

func stypOf(k kind) styp {
	switch k {
	case kNull:
		return sNull
	case kBool:
		return sBool
	case kInt, kFloat:
		return sNum
	case kStr:
		return sStr
	case kGuid:
		return sGuid
	case kTime:
		return sTime
	case kDur:
		return sDur
	}
	return sAny
}

// pnode is a node under construction, with what the parser knows about it.
type pnode struct {
	n   node
	pos int  // byte offset where the expression starts
	st  styp // static type
	h   int  // height of the expression tree
}

type parser struct {
	param   string
	src     string
	toks    []token
	i       int
	depth   int
	members []string       // distinct member names, in order of first appearance
	index   map[string]int // member name to its index in members
}

// member returns the index of a member name in p.members, adding it.
func (p *parser) member(name string) int {
	if i, ok := p.index[name]; ok {
		return i
	}
	if p.index == nil {
		p.index = map[string]int{}
	}
	p.index[name] = len(p.members)
	p.members = append(p.members, name)
	return len(p.members) - 1
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, msg string) error {
	return newSyntaxError(p.param, p.src, pos, msg)
}

// describe names a token for error messages.
func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tIdent:
		return strconv.Quote(t.text)
	case tLit:
		if len(t.text) > 20 {
			return "literal"
		}
		return "literal " + t.text
	}
	return "'" + t.text + "'"
}

// ParseFilter parses an OData v3 $filter expression, already URL-decoded
// once as a server receives it. The result must be a boolean expression.
// On failure it returns nil and a *SyntaxError whose Pos is the byte offset
// of the offending token: for malformed input, an unknown function or wrong
// number of arguments, a statically ill-typed expression, input longer than
// MaxLength or nesting deeper than MaxDepth.
func ParseFilter(src string) (*Filter, error) {
	const param = "$filter"
	if len(src) > MaxLength {
		return nil, newSyntaxError(param, src, MaxLength, "filter longer than "+strconv.Itoa(MaxLength)+" bytes")
	}
	toks, err := lex(param, src)
	if err != nil {
		return nil, err
	}
	p := &parser{param: param, src: src, toks: toks}
	if p.peek().kind == tEOF {
		return nil, p.errAt(p.peek().pos, "empty filter")
	}
	e, err := p.expr(precOr)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.errAt(t.pos, "unbalanced ')'")
		}
		return nil, p.errAt(t.pos, "expected an operator, found "+describe(t))
	}
	switch e.st {
	case sAny, sNull, sBool:
	default:
		return nil, p.errAt(e.pos, "the filter must be a boolean expression, not a "+e.st.String())
	}
	f := &Filter{src: src, root: e.n, members: p.members}
	f.pred, _ = e.n.(pred)
	return f, nil
}

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

// expr parses a sequence of binary operations whose operators bind at least
// as tightly as minPrec (precedence climbing; all operators are
// left-associative).
func (p *parser) expr(minPrec int) (pnode, error) {
	left, err := p.unary()
	if err != nil {
		return pnode{}, err
	}
	for {
		t := p.peek()
		if t.kind != tIdent {
			return left, nil
		}
		op, prec, ok := binaryOp(t.text)
		if !ok || prec < minPrec {
			return left, nil
		}
		p.advance()
		right, err := p.expr(prec + 1)
		if err != nil {
			return pnode{}, err
		}
		left, err = p.binary(op, t.pos, left, right)
		if err != nil {
			return pnode{}, err
		}
	}
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(pos, "expression nested deeper than "+strconv.Itoa(MaxDepth))
	}
	return nil
}

// unary parses "-" unary, "not" unary, or a primary expression.
func (p *parser) unary() (pnode, error) {
	t := p.peek()
	if err := p.enter(t.pos); err != nil {
		return pnode{}, err
	}
	defer func() { p.depth-- }()
	switch {
	case t.kind == tMinus:
		p.advance()
		x, err := p.unary()
		if err != nil {
			return pnode{}, err
		}
		return p.negate(t.pos, x)
	case t.kind == tIdent && t.text == "not":
		p.advance()
		x, err := p.unary()
		if err != nil {
			return pnode{}, err
		}
		switch x.st {
		case sAny, sNull, sBool:
		default:
			return pnode{}, p.errAt(x.pos, "the operand of 'not' must be a boolean, not a "+x.st.String())
		}
		return pnode{n: newNot(x.n), pos: t.pos, st: sBool, h: x.h + 1}, nil
	}
	return p.primary()
}

func (p *parser) negate(pos int, x pnode) (pnode, error) {
	switch x.st {
	case sAny, sNull, sNum:
	default:
		return pnode{}, p.errAt(x.pos, "the operand of '-' must be a number, not a "+x.st.String())
	}
	if lit, ok := x.n.(*litNode); ok && lit.v.isNum() {
		v := lit.v
		if v.k == kFloat {
			return pnode{n: &litNode{v: floatVal(-v.f)}, pos: pos, st: sNum, h: 1}, nil
		}
		if v.i != -v.i || v.i == 0 { // not MinInt64
			return pnode{n: &litNode{v: intVal(-v.i)}, pos: pos, st: sNum, h: 1}, nil
		}
	}
	return pnode{n: &negNode{x: x.n}, pos: pos, st: sNum, h: x.h + 1}, nil
}

// primary parses a literal, a member, a function call or a parenthesised
// expression.
func (p *parser) primary() (pnode, error) {
	t := p.advance()
	switch t.kind {
	case tLit:
		return pnode{n: &litNode{v: t.val}, pos: t.pos, st: stypOf(t.val.k), h: 1}, nil
	case tLParen:
		e, err := p.expr(precOr)
		if err != nil {
			return pnode{}, err
		}
		if c := p.peek(); c.kind != tRParen {
			if c.kind == tEOF {
				return pnode{}, p.errAt(c.pos, "missing ')' to close '(' at position "+strconv.Itoa(t.pos))
			}
			return pnode{}, p.errAt(c.pos, "expected an operator or ')', found "+describe(c))
		}
		p.advance()
		e.pos = t.pos
		return e, nil
	case tIdent:
		if _, _, ok := binaryOp(t.text); ok {
			return pnode{}, p.errAt(t.pos, "expected an operand, found the operator "+strconv.Quote(t.text))
		}
		if p.peek().kind == tLParen {
			return p.call(t)
		}
		m := &memberNode{name: t.text, idx: p.member(t.text)}
		if strings.IndexByte(t.text, '/') >= 0 {
			m.segs = strings.Split(t.text, "/")
		}
		return pnode{n: m, pos: t.pos, st: sAny, h: 1}, nil
	case tEOF:
		return pnode{}, p.errAt(t.pos, "unexpected end of input, expected an operand")
	}
	return pnode{}, p.errAt(t.pos, "expected an operand, found "+describe(t))
}

// call parses name(arg,…); the name token has been consumed.
func (p *parser) call(name token) (pnode, error) {
	fd, ok := functions[name.text]
	if !ok {
		return pnode{}, p.errAt(name.pos, "unknown function "+strconv.Quote(name.text))
	}
	open := p.advance() // (
	var args [3]pnode
	n := 0
	h := 0
	if p.peek().kind == tRParen {
		p.advance()
	} else {
		for {
			a, err := p.expr(precOr)
			if err != nil {
				return pnode{}, err
			}
			if n == len(fd.args) {
				return pnode{}, p.errAt(a.pos, fd.arityMsg())
			}
			if !fd.args[n].accepts(a.st) {
				return pnode{}, p.errAt(a.pos, "argument "+strconv.Itoa(n+1)+" of "+fd.name+" must be a "+fd.args[n].String()+", not a "+a.st.String())
			}
			args[n] = a
			n++
			h = max(h, a.h)
			c := p.advance()
			if c.kind == tRParen {
				break
			}
			if c.kind != tComma {
				if c.kind == tEOF {
					return pnode{}, p.errAt(c.pos, "missing ')' to close '(' at position "+strconv.Itoa(open.pos))
				}
				return pnode{}, p.errAt(c.pos, "expected ',' or ')' in the arguments of "+fd.name+", found "+describe(c))
			}
		}
	}
	if n < fd.minArgs {
		return pnode{}, p.errAt(name.pos, fd.arityMsg())
	}
	cn := &callNode{def: fd, n: n}
	for i := 0; i < n; i++ {
		cn.args[i] = args[i].n
	}
	return p.checkHeight(pnode{n: cn, pos: name.pos, st: fd.ret, h: h + 1}, name.pos)
}

func (p *parser) checkHeight(e pnode, pos int) (pnode, error) {
	if e.h > MaxDepth {
		return pnode{}, p.errAt(pos, "expression nested deeper than "+strconv.Itoa(MaxDepth))
	}
	return e, nil
}

// canCompare reports whether values of static types a and b may be compared.
func canCompare(a, b styp) bool {
	if a == sAny || b == sAny || a == sNull || b == sNull || a == b {
		return true
	}
	pair := func(x, y styp) bool { return a == x && b == y || a == y && b == x }
	return pair(sNum, sBool) || pair(sStr, sGuid) || pair(sStr, sTime)
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
