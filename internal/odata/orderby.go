package odata

import "strconv"

// OrderKey is one key of an $orderby option.
type OrderKey struct {
	// Field is the member name, possibly a path such as "a/b".
	Field string
	// Desc is true for "desc"; "asc" and no direction sort ascending.
	Desc bool
}

// ParseOrderBy parses an $orderby option such as "b desc,a asc , c": a
// comma-separated list of member names, each optionally followed by asc or
// desc (lowercase). Only member names are supported, not expressions. An
// empty or blank option gives (nil, nil). On failure it returns nil and a
// *SyntaxError (Param "$orderby") pointing at the offending token.
func ParseOrderBy(src string) ([]OrderKey, error) {
	const param = "$orderby"
	var keys []OrderKey
	err := parseList(param, src, func(p *parser) error {
		t := p.advance()
		if t.kind != tIdent {
			return p.errAt(t.pos, "expected a property name, found "+describe(t))
		}
		if p.peek().kind == tLParen {
			return p.errAt(t.pos, "only property names are supported in $orderby, not function calls")
		}
		k := OrderKey{Field: t.text}
		if d := p.peek(); d.kind == tIdent {
			switch d.text {
			case "asc":
			case "desc":
				k.Desc = true
			default:
				return p.errAt(d.pos, "expected asc, desc or ',', found "+describe(d))
			}
			p.advance()
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// ParseSelect parses a $select option such as "a,b, c": a comma-separated
// list of member names, or "*" (which may be mixed with names). Duplicates
// are dropped, keeping the first occurrence. An empty or blank option gives
// (nil, nil). On failure it returns nil and a *SyntaxError (Param
// "$select") pointing at the offending token.
func ParseSelect(src string) ([]string, error) {
	const param = "$select"
	var fields []string
	seen := map[string]bool{}
	err := parseList(param, src, func(p *parser) error {
		t := p.advance()
		if t.kind != tIdent && t.kind != tStar {
			return p.errAt(t.pos, "expected a property name or '*', found "+describe(t))
		}
		if !seen[t.text] {
			seen[t.text] = true
			fields = append(fields, t.text)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// parseList parses item (',' item)* with item parsed by one.
func parseList(param, src string, one func(*parser) error) error {
	if len(src) > MaxLength {
		return newSyntaxError(param, src, MaxLength, param+" longer than "+strconv.Itoa(MaxLength)+" bytes")
	}
	toks, err := lex(param, src)
	if err != nil {
		return err
	}
	p := &parser{param: param, src: src, toks: toks}
	if p.peek().kind == tEOF {
		return nil
	}
	for {
		if err := one(p); err != nil {
			return err
		}
		t := p.advance()
		switch t.kind {
		case tEOF:
			return nil
		case tComma:
			continue
		}
		return p.errAt(t.pos, "expected ',' or end of input, found "+describe(t))
	}
}
