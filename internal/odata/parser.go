package odata

import (
	"strconv"
	"strings"
)

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
