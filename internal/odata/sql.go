package odata

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// UnsupportedError reports a filter or ordering that cannot be compiled to
// SQL with exactly the meaning Match gives it.
type UnsupportedError struct {
	// What names the construct, such as "member path a/b".
	What string
}

// Error returns "cannot compile $filter to SQL: " followed by What.
func (e *UnsupportedError) Error() string { return "cannot compile $filter to SQL: " + e.What }

// The names of the scalar functions compiled SQL calls. A SQL store
// registers them (see SQLFunc) before it runs the SQL.
const (
	// SQLCompareFunc(op, kindA, a, kindB, b) is a comparison evaluated by
	// Match's rules: 1, 0 or NULL; an error where Match fails.
	SQLCompareFunc = "zumo_cmp"
	// SQLCallFunc(name, kind1, arg1, …) is an OData function evaluated by
	// Match's rules.
	SQLCallFunc = "zumo_call"
)

// Kind codes of a function argument in SQLCompareFunc and SQLCallFunc: a
// SQL value as it is, or a literal the SQL value stands for.
const (
	sqlKindValue = ""
	sqlKindTime  = "t" // RFC 3339 text with nanoseconds
	sqlKindGUID  = "g"
	sqlKindDur   = "d" // integer nanoseconds
)

// SQL compiles the filter to a SQLite boolean expression over rows that
// are JSON objects held in the column col (an identifier, used as given).
// Members are read with json_extract(col, '$."name"'), so an index on the
// same expression serves the comparison. Where SQLite's own operators
// would not give Match's answer (datetimes, GUIDs, case mapping, …) the
// SQL calls SQLCompareFunc or SQLCallFunc, which the store must register
// with SQLFunc. It fails with *UnsupportedError for member paths ("a/b")
// and operators whose SQLite meaning differs (mod).
//
// For a row holding values of the kinds JSON gives (null, boolean, number,
// string), the expression is true exactly when Match reports true, unless
// Match fails on the row (a type error), in which case SQLite may pick a
// truth value instead of failing.
func (f *Filter) SQL(col string) (string, []any, error) {
	c := &sqlCompiler{col: col}
	if err := c.node(f.root); err != nil {
		return "", nil, err
	}
	return c.b.String(), c.args, nil
}

// OrderSQL compiles an ordering to a SQLite ORDER BY list over JSON
// objects in col: SQLite's order (null first, then numbers and booleans by
// value, then strings byte-wise, then everything else as JSON text), the
// one the offline memory store sorts by. Member paths are unsupported.
func OrderSQL(keys []OrderKey, col string) (string, error) {
	var b strings.Builder
	for i, k := range keys {
		if strings.Contains(k.Field, "/") {
			return "", &UnsupportedError{What: "member path " + k.Field + " in $orderby"}
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(memberSQL(col, k.Field))
		if k.Desc {
			b.WriteString(" DESC")
		}
	}
	return b.String(), nil
}

// MemberSQL is the SQL expression compiled filters and orderings use to
// read member name from the JSON object in col: an index on exactly this
// expression serves them.
func MemberSQL(col, name string) string { return memberSQL(col, name) }

func memberSQL(col, name string) string {
	return "json_extract(" + col + ", '$.\"" + strings.ReplaceAll(name, "'", "''") + "\"')"
}

type sqlCompiler struct {
	col  string
	b    strings.Builder
	args []any
}

func (c *sqlCompiler) w(s string) { c.b.WriteString(s) }

func (c *sqlCompiler) arg(v any) {
	c.args = append(c.args, v)
	c.w("?")
}

// litArg writes a literal as the (kind, value) pair the Go functions take.
func (c *sqlCompiler) litArg(v value) error {
	switch v.k {
	case kTime:
		c.arg(sqlKindTime)
		c.w(", ")
		c.arg(v.t.Format(time.RFC3339Nano))
		return nil
	case kGuid:
		c.arg(sqlKindGUID)
		c.w(", ")
		c.arg(v.s)
		return nil
	case kDur:
		c.arg(sqlKindDur)
		c.w(", ")
		c.arg(v.i)
		return nil
	}
	c.arg(sqlKindValue)
	c.w(", ")
	return c.plainLit(v)
}

// plainLit writes a literal SQLite holds as one of its own values.
func (c *sqlCompiler) plainLit(v value) error {
	switch v.k {
	case kNull:
		c.w("NULL")
	case kBool, kInt:
		c.arg(v.i)
	case kFloat:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return &UnsupportedError{What: "the literal " + strconv.FormatFloat(v.f, 'g', -1, 64)}
		}
		c.arg(v.f)
	case kStr:
		c.arg(v.s)
	default:
		return &UnsupportedError{What: "a " + v.k.String() + " literal here"}
	}
	return nil
}

// special reports whether a literal needs the Go functions to compare.
func special(n node) bool {
	l, ok := n.(*litNode)
	return ok && (l.v.k == kTime || l.v.k == kGuid || l.v.k == kDur)
}

// operand writes n as a (kind, value) argument of the Go functions.
func (c *sqlCompiler) operand(n node) error {
	if special(n) {
		return c.litArg(n.(*litNode).v)
	}
	c.arg(sqlKindValue)
	c.w(", ")
	return c.node(n)
}

func (c *sqlCompiler) node(n node) error {
	switch x := n.(type) {
	case *operand:
		return c.node(x.x)
	case *litNode:
		return c.plainLit(x.v)
	case *memberNode:
		if x.segs != nil {
			return &UnsupportedError{What: "member path " + x.name}
		}
		c.w(memberSQL(c.col, x.name))
	case *notNode:
		c.w("(NOT ")
		if err := c.node(x.x); err != nil {
			return err
		}
		c.w(")")
	case *andNode:
		return c.binary(" AND ", x.l, x.r)
	case *orNode:
		return c.binary(" OR ", x.l, x.r)
	case *isNullNode:
		c.w("(")
		if err := c.node(x.x); err != nil {
			return err
		}
		if x.not {
			c.w(" IS NOT NULL)")
		} else {
			c.w(" IS NULL)")
		}
	case *cmpMemberLit:
		return c.compare(x.op, x.m, &litNode{v: x.lit})
	case *cmpNode:
		return c.compare(x.op, x.l, x.r)
	case *negNode:
		c.w("(-")
		if err := c.node(x.x); err != nil {
			return err
		}
		c.w(")")
	case *arithNode:
		var op string
		switch x.op {
		case opAdd:
			op = " + "
		case opSub:
			op = " - "
		case opMul:
			op = " * "
		case opDiv:
			op = " / "
		default:
			return &UnsupportedError{What: "the operator " + x.op.String()}
		}
		return c.binary(op, x.l, x.r)
	case *callNode:
		return c.call(x)
	default:
		return &UnsupportedError{What: "this expression"}
	}
	return nil
}

func (c *sqlCompiler) binary(op string, l, r node) error {
	c.w("(")
	if err := c.node(l); err != nil {
		return err
	}
	c.w(op)
	if err := c.node(r); err != nil {
		return err
	}
	c.w(")")
	return nil
}

var sqlCmpOps = [...]string{opEq: " = ", opNe: " <> ", opGt: " > ", opGe: " >= ", opLt: " < ", opLe: " <= "}

// compare writes a comparison: SQLite's own operator when both sides are
// SQLite values (its numeric and byte-wise text comparisons are Match's),
// the Go comparison when a datetime, GUID or duration literal is involved.
func (c *sqlCompiler) compare(op binOp, l, r node) error {
	if special(l) || special(r) {
		c.w(SQLCompareFunc + "(")
		c.arg(op.String())
		c.w(", ")
		if err := c.operand(l); err != nil {
			return err
		}
		c.w(", ")
		if err := c.operand(r); err != nil {
			return err
		}
		c.w(")")
		return nil
	}
	return c.binary(sqlCmpOps[op], l, r)
}

func (c *sqlCompiler) call(x *callNode) error {
	args := x.args[:x.n]
	switch x.def.id {
	case fnStartsWith:
		// instr compares bytes over the whole text, U+0000 included, and
		// a prefix is the first place it can match.
		c.w("(instr(")
		if err := c.node(args[0]); err != nil {
			return err
		}
		c.w(", ")
		if err := c.node(args[1]); err != nil {
			return err
		}
		c.w(") = 1)")
		return nil
	case fnSubstringOf:
		c.w("(instr(")
		if err := c.node(args[1]); err != nil {
			return err
		}
		c.w(", ")
		if err := c.node(args[0]); err != nil {
			return err
		}
		c.w(") > 0)")
		return nil
	}
	c.w(SQLCallFunc + "(")
	c.arg(x.def.name)
	for _, a := range args {
		c.w(", ")
		if err := c.operand(a); err != nil {
			return err
		}
	}
	c.w(")")
	return nil
}

// SQLFunc evaluates the Go functions that compiled SQL calls (name is
// SQLCompareFunc or SQLCallFunc) on the SQL values a SQLite driver passes
// (nil, int64, float64, string, []byte). It returns nil, int64, float64 or
// string, and an *EvalError where Match would fail.
func SQLFunc(name string, args []any) (any, error) {
	switch name {
	case SQLCompareFunc:
		if len(args) != 5 {
			return nil, errors.New(name + ": want 5 arguments")
		}
		op, ok := cmpOpByName(args[0])
		if !ok {
			return nil, errors.New(name + ": unknown operator")
		}
		l, err := sqlValue(args[1], args[2])
		if err != nil {
			return nil, err
		}
		r, err := sqlValue(args[3], args[4])
		if err != nil {
			return nil, err
		}
		t, err := compareOp(op, l, r)
		if err != nil {
			return nil, err
		}
		return triSQL(t), nil
	case SQLCallFunc:
		if len(args) < 3 || len(args)%2 != 1 {
			return nil, errors.New(name + ": want a name and (kind, value) pairs")
		}
		fname, _ := args[0].(string)
		def := functions[fname]
		if def == nil || (len(args)-1)/2 < def.minArgs || (len(args)-1)/2 > len(def.args) {
			return nil, errors.New(name + ": unknown function or wrong arity")
		}
		call := &callNode{def: def, n: (len(args) - 1) / 2}
		for i := 0; i < call.n; i++ {
			v, err := sqlValue(args[1+2*i], args[2+2*i])
			if err != nil {
				return nil, err
			}
			call.args[i] = &litNode{v: v}
		}
		v, err := call.eval(env{m: noRow})
		if err != nil {
			return nil, err
		}
		return valueSQL(v)
	}
	return nil, errors.New("odata: no SQL function " + name)
}

func cmpOpByName(x any) (binOp, bool) {
	s, _ := x.(string)
	for op := opEq; op <= opLe; op++ {
		if opNames[op] == s {
			return op, true
		}
	}
	return 0, false
}

// sqlValue turns a (kind, SQL value) pair back into an evaluator value.
func sqlValue(kind, x any) (value, error) {
	k, _ := kind.(string)
	if b, ok := x.([]byte); ok {
		x = string(b)
	}
	switch k {
	case sqlKindValue:
		return fromAny(x), nil
	case sqlKindTime:
		s, _ := x.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nullVal, err
		}
		return value{k: kTime, t: t}, nil
	case sqlKindGUID:
		s, _ := x.(string)
		return value{k: kGuid, s: s}, nil
	case sqlKindDur:
		i, _ := x.(int64)
		return value{k: kDur, i: i}, nil
	}
	return nullVal, errors.New("odata: unknown SQL argument kind " + strconv.Quote(k))
}

func triSQL(t tri) any {
	switch t {
	case triTrue:
		return int64(1)
	case triFalse:
		return int64(0)
	}
	return nil
}

// valueSQL turns a function's result into a SQL value.
func valueSQL(v value) (any, error) {
	switch v.k {
	case kNull:
		return nil, nil
	case kBool, kInt:
		return v.i, nil
	case kFloat:
		return v.f, nil
	case kStr, kGuid:
		return v.s, nil
	}
	return nil, &EvalError{Msg: "a " + v.k.String() + " result cannot be used in SQL"}
}
