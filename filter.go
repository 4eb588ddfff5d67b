package zumo

import "fmt"

// Expr is an OData expression for Query.Where: a field, a literal, an
// operation or a function call. Build one with Field, Val and the functions
// of this package, then combine with its methods:
//
//	zumo.Field("complete").Eq(false).And(zumo.Field("priority").Ge(2))
//	zumo.StartsWith(zumo.Field("text"), "buy")
//
// Every binary operation is written fully parenthesised, as the official
// clients write it: ((complete eq false) and (priority ge 2)). An Expr is
// immutable and safe to share. A value that cannot be written (an
// unsupported Go type, NaN) is reported by the query that uses it, as an
// error wrapping ErrInvalidQuery.
type Expr struct{ n node }

type node interface {
	appendTo(dst []byte) ([]byte, error)
}

type fieldNode string

func (f fieldNode) appendTo(dst []byte) ([]byte, error) {
	if f == "" {
		return dst, fmt.Errorf("%w: empty field name", ErrInvalidQuery)
	}
	return appendEscaped(dst, string(f), rawSafe), nil
}

type litNode struct {
	text string
	err  error
}

func (l litNode) appendTo(dst []byte) ([]byte, error) { return append(dst, l.text...), l.err }

type rawNode string

func (r rawNode) appendTo(dst []byte) ([]byte, error) {
	dst = appendEscaped(append(dst, '('), string(r), rawSafe)
	return append(dst, ')'), nil
}

type binNode struct {
	op   string
	l, r node
}

func (b *binNode) appendTo(dst []byte) ([]byte, error) {
	dst = append(dst, '(')
	dst, err := b.l.appendTo(dst)
	if err != nil {
		return dst, err
	}
	dst = append(dst, ' ')
	dst = append(dst, b.op...)
	dst = append(dst, ' ')
	if dst, err = b.r.appendTo(dst); err != nil {
		return dst, err
	}
	return append(dst, ')'), nil
}

type callNode struct {
	name string
	args []node
}

func (c *callNode) appendTo(dst []byte) ([]byte, error) {
	dst = append(dst, c.name...)
	dst = append(dst, '(')
	var err error
	for i, a := range c.args {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = a.appendTo(dst); err != nil {
			return dst, err
		}
	}
	return append(dst, ')'), nil
}

var errZeroExpr = fmt.Errorf("%w: zero Expr (use Field, Val or a function to build one)", ErrInvalidQuery)

// toNode turns an Expr or a Go value (a literal) into a node.
func toNode(v any) node {
	switch x := v.(type) {
	case Expr:
		if x.n == nil {
			return litNode{err: errZeroExpr}
		}
		return x.n
	case *Expr:
		if x == nil || x.n == nil {
			return litNode{err: errZeroExpr}
		}
		return x.n
	}
	s, err := formatLiteral(v)
	return litNode{text: s, err: err}
}

// Field refers to a column (a member) by its JSON name. A boolean field
// alone is a filter: Where(Field("complete")). On a struct table the name
// must be one of the struct's JSON names or a system property, else the
// query fails with *UnknownFieldError (see Query.AllowFields). On legacy Mobile Services a
// typed table whose struct names its system properties without "__" has
// them renamed (Field("createdAt") is sent as __createdAt), as in OrderBy
// and Select.
func Field(name string) Expr { return Expr{fieldNode(name)} }

// Val is the literal v, written as docs/protocol.md §4 says: nil as null;
// bools; int, int8…int32, uint8, uint16 plain (an int beyond 32 bits with
// L); int64, uint, uint32, uint64 with L; float32 with f; float64 with .0
// when it has neither "." nor "E"; Decimal with M; strings quoted, every '
// doubled, percent-escaped; time.Time in UTC as datetime'…', in another
// location (or as DateTimeOffset) as datetimeoffset'…'; GUID as guid'…'.
func Val(v any) Expr { return Expr{toNode(v)} }

// Raw is OData filter text written by hand, the escape hatch for what the
// builder cannot express. It is written in parentheses, as the JS client
// writes it, so that combined with other conditions it keeps its meaning:
// Raw("a eq 1 or b eq 2").And(Field("c").Eq(3)) is
// ((a eq 1 or b eq 2) and (c eq 3)). It is escaped for the URL, so write
// it unescaped: Raw("text eq 'a b'"). Its field names are not checked.
func Raw(odata string) Expr { return Expr{rawNode(odata)} }

func (e Expr) bin(op string, v any) Expr { return Expr{&binNode{op: op, l: toNode(e), r: toNode(v)}} }

// Eq is (e eq v); v is an Expr or a Go value (see Val). So are the
// operands of every method below.
func (e Expr) Eq(v any) Expr { return e.bin("eq", v) }

// Ne is (e ne v).
func (e Expr) Ne(v any) Expr { return e.bin("ne", v) }

// Gt is (e gt v).
func (e Expr) Gt(v any) Expr { return e.bin("gt", v) }

// Ge is (e ge v).
func (e Expr) Ge(v any) Expr { return e.bin("ge", v) }

// Lt is (e lt v).
func (e Expr) Lt(v any) Expr { return e.bin("lt", v) }

// Le is (e le v).
func (e Expr) Le(v any) Expr { return e.bin("le", v) }

// Add is (e add v).
func (e Expr) Add(v any) Expr { return e.bin("add", v) }

// Sub is (e sub v).
func (e Expr) Sub(v any) Expr { return e.bin("sub", v) }

// Mul is (e mul v).
func (e Expr) Mul(v any) Expr { return e.bin("mul", v) }

// Div is (e div v).
func (e Expr) Div(v any) Expr { return e.bin("div", v) }

// Mod is (e mod v).
func (e Expr) Mod(v any) Expr { return e.bin("mod", v) }

// And is (e and v).
func (e Expr) And(v any) Expr { return e.bin("and", v) }

// Or is (e or v).
func (e Expr) Or(v any) Expr { return e.bin("or", v) }

// In is true when e equals one of values, written as the official clients
// write it: a left-nested or-chain of eq, (((e eq a) or (e eq b)) or (e eq c)).
// With no values it matches nothing and is written (true eq false), as the
// JS client does (the .NET client drops the filter, matching every row).
// Each value is an Expr or a Go value (see Val); pass a slice's elements,
// not the slice.
func (e Expr) In(values ...any) Expr {
	if len(values) == 0 {
		return Expr{&binNode{op: "eq", l: litNode{text: "true"}, r: litNode{text: "false"}}}
	}
	acc := e.Eq(values[0])
	for _, v := range values[1:] {
		acc = acc.Or(e.Eq(v))
	}
	return acc
}

// Not is not(e).
func Not(e any) Expr { return Expr{&callNode{name: "not", args: []node{toNode(e)}}} }

// And joins its operands with and, left to right: And(a, b, c) is
// ((a and b) and c). With one operand it is that operand; with none, an
// invalid Expr.
func And(es ...Expr) Expr { return fold("and", es) }

// Or joins its operands with or, left to right, like And.
func Or(es ...Expr) Expr { return fold("or", es) }

func fold(op string, es []Expr) Expr {
	if len(es) == 0 {
		return Expr{litNode{err: fmt.Errorf("%w: %s of nothing", ErrInvalidQuery, op)}}
	}
	acc := es[0]
	for _, e := range es[1:] {
		acc = acc.bin(op, e)
	}
	return acc
}

func fn(name string, args ...any) Expr {
	ns := make([]node, len(args))
	for i, a := range args {
		ns[i] = toNode(a)
	}
	return Expr{&callNode{name: name, args: ns}}
}

// StartsWith is startswith(x,prefix). Arguments of every function are
// Exprs or Go values (see Val).
func StartsWith(x, prefix any) Expr { return fn("startswith", x, prefix) }

// EndsWith is endswith(x,suffix).
func EndsWith(x, suffix any) Expr { return fn("endswith", x, suffix) }

// Contains is substringof(sub,x): true when x contains sub. Note that
// OData v3's argument order is the reverse of this function's.
func Contains(x, sub any) Expr { return fn("substringof", sub, x) }

// IndexOf is indexof(x,sub): the 0-based position of sub in x, or -1.
func IndexOf(x, sub any) Expr { return fn("indexof", x, sub) }

// Replace is replace(x,find,with).
func Replace(x, find, with any) Expr { return fn("replace", x, find, with) }

// Substring is substring(x,start).
func Substring(x, start any) Expr { return fn("substring", x, start) }

// SubstringLen is substring(x,start,length).
func SubstringLen(x, start, length any) Expr { return fn("substring", x, start, length) }

// Concat is concat(a,b).
func Concat(a, b any) Expr { return fn("concat", a, b) }

// ToLower is tolower(x).
func ToLower(x any) Expr { return fn("tolower", x) }

// ToUpper is toupper(x).
func ToUpper(x any) Expr { return fn("toupper", x) }

// Trim is trim(x).
func Trim(x any) Expr { return fn("trim", x) }

// Length is length(x).
func Length(x any) Expr { return fn("length", x) }

// Floor is floor(x).
func Floor(x any) Expr { return fn("floor", x) }

// Ceiling is ceiling(x).
func Ceiling(x any) Expr { return fn("ceiling", x) }

// Round is round(x).
func Round(x any) Expr { return fn("round", x) }

// Year is year(x).
func Year(x any) Expr { return fn("year", x) }

// Month is month(x).
func Month(x any) Expr { return fn("month", x) }

// Day is day(x).
func Day(x any) Expr { return fn("day", x) }

// Hour is hour(x).
func Hour(x any) Expr { return fn("hour", x) }

// Minute is minute(x).
func Minute(x any) Expr { return fn("minute", x) }

// Second is second(x).
func Second(x any) Expr { return fn("second", x) }

// String returns the expression as it is written into $filter (literals
// percent-escaped as the official clients escape them); an invalid
// expression gives "<invalid: …>".
func (e Expr) String() string {
	b, err := toNode(e).appendTo(nil)
	if err != nil {
		return "<invalid: " + err.Error() + ">"
	}
	return string(b)
}

// renameFields returns n with every field name passed through rename (raw
// filter text is left as it is).
func renameFields(n node, rename func(string) string) node {
	switch x := n.(type) {
	case fieldNode:
		return fieldNode(rename(string(x)))
	case *binNode:
		return &binNode{op: x.op, l: renameFields(x.l, rename), r: renameFields(x.r, rename)}
	case *callNode:
		args := make([]node, len(x.args))
		for i, a := range x.args {
			args[i] = renameFields(a, rename)
		}
		return &callNode{name: x.name, args: args}
	}
	return n
}
