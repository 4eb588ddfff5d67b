package odata

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProtocolExamples(t *testing.T) {
	// Every $filter example of docs/protocol.md §4, decoded once.
	row := sampleRow()
	cases := []struct {
		filter string
		row    map[string]any
		want   bool
	}{
		{"(Updated eq null)", row, true},
		{"(Aisle eq 2)", row, true},
		{"((id mod 2L) eq 1L)", map[string]any{"id": 7.0}, true},
		{"((id mod 2L) eq 1L)", map[string]any{"id": int64(8)}, false},
		{"(Weight gt 1.3f)", row, true},
		{"(WeightInKG eq 4.0)", row, true},
		{"(Big lt 6.02E+25)", row, true},
		{"(Price gt 50M)", row, true},
		{"(Name eq 'O''Brien')", row, true},
		{"(Month eq 'January 23')", row, true},
		{"(createdAt gt datetime'1994-10-14T00:00:00.000Z')", row, true},
		{"(createdAt gt datetimeoffset'1994-10-13T17:00:00.0000000+07:00')", row, true},
		{"(when eq datetimeoffset'1994-10-13T17:00:00.0000000+07:00')",
			map[string]any{"when": time.Date(1994, 10, 13, 10, 0, 0, 0, time.UTC)}, true},
		{"(when eq datetime'1994-10-14T00:00:00.000Z')",
			map[string]any{"when": time.Date(1994, 10, 14, 0, 0, 0, 0, time.UTC)}, true},
		{"(id eq guid'" + strings.ToLower(testGUID) + "')", row, true},
		{"not(complete)", row, true},
		{"complete", row, false},
		{"done", row, true},
		{"true", row, true},
		{"false", row, false},
		{"startswith(text,'Buy')", row, true},
		{"endswith(text,'milk')", row, true},
		{"substringof('y m',text)", row, true},
		{"(indexof(text,'milk') eq 4)", row, true},
		{"(replace(text,'milk','eggs') eq 'Buy eggs')", row, true},
		{"(substring(text,4) eq 'milk')", row, true},
		{"(substring(text,0,3) eq 'Buy')", row, true},
		{"(concat(text,'!') eq 'Buy milk!')", row, true},
		{"(tolower(text) eq 'buy milk')", row, true},
		{"(toupper(text) eq 'BUY MILK')", row, true},
		{"(trim(spaces) eq 'pad')", row, true},
		{"(length(text) eq 8)", row, true},
		{"(floor(price) eq 9)", row, true},
		{"(ceiling(price) eq 10)", row, true},
		{"(round(price) eq 10)", row, true},
		{"(year(createdAt) eq 2024)", row, true},
		{"(month(createdAt) eq 3)", row, true},
		{"(day(createdAt) eq 4)", row, true},
		{"(hour(createdAt) eq 5)", row, true},
		{"(minute(createdAt) eq 6)", row, true},
		{"(second(createdAt) eq 7)", row, true},
		// Incremental pull.
		{"(updatedAt ge datetimeoffset'1970-01-01T00:00:00.0000000+00:00')",
			map[string]any{"updatedAt": created}, true},
		// A typical generated query.
		{"((complete eq false) and (priority ge 2))", row, true},
		{"(((complete eq false) and (priority ge 2)) and startswith(text,'Buy'))", row, true},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, c.row))
		})
	}
}

func TestOperators(t *testing.T) {
	row := sampleRow()
	cases := []struct {
		filter string
		want   bool
	}{
		{"priority eq 2", true},
		{"priority ne 2", false},
		{"priority ne 3", true},
		{"priority gt 1", true},
		{"priority gt 2", false},
		{"priority ge 2", true},
		{"priority ge 2.5", false},
		{"priority lt 3", true},
		{"priority lt 2", false},
		{"priority le 2", true},
		{"priority le 1.99", false},
		{"2 lt priority", false},
		{"3 gt priority", true},
		{"(priority add 1) eq 3", true},
		{"(priority sub 1) eq 1", true},
		{"(priority mul 3) eq 6", true},
		{"(priority div 4) eq 0.5", true}, // priority is a double: no truncation
		{"(7 div 2) eq 3", true},          // int div int truncates, as in SQL
		{"(-7 div 2) eq -3", true},
		{"(7 mod 3) eq 1", true},
		{"(-7 mod 3) eq -1", true},
		{"(7.5 mod 2) eq 1.5", true},
		{"-priority eq -2", true},
		{"- priority eq -2", true},
		{"-(priority) lt 0", true},
		{"neg lt -2", true},
		{"-neg eq 2.5", true},
		{"true and true", true},
		{"true and false", false},
		{"false or true", true},
		{"false or false", false},
		{"not false", true},
		{"not(true)", false},
		{"not not true", true},
		{"not (priority eq 3)", true},
		{"text eq 'Buy milk'", true},
		{"text ne 'buy milk'", true}, // case-sensitive
		{"text gt 'Buy'", true},
		{"text lt 'a'", true}, // ordinal: 'B' < 'a'
		{"text ge 'Buy milk'", true},
		{"text le 'Buy milj'", false},
		{"complete eq false", true},
		{"complete lt done", true}, // false < true
		{"complete eq 0", true},    // a bit column
		{"done eq 1", true},
		{"done gt 0", true},
		{"  ( priority   eq\t2 )\n", true},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestPrecedence(t *testing.T) {
	cases := []struct{ filter, tree string }{
		{"a or b and c", "(or a (and b c))"},
		{"a and b or c", "(or (and a b) c)"},
		{"a or b or c", "(or (or a b) c)"},
		{"a eq 1 or b eq 2", "(or (eq a 1) (eq b 2))"},
		{"a eq 1 and b ne 2", "(and (eq a 1) (ne b 2))"},
		{"a lt 1 eq b gt 2", "(eq (lt a 1) (gt b 2))"},
		{"a add 1 gt b", "(gt (add a 1) b)"},
		{"a add b mul c eq d", "(eq (add a (mul b c)) d)"},
		{"a mul b add c eq d", "(eq (add (mul a b) c) d)"},
		{"a sub b sub c eq d", "(eq (sub (sub a b) c) d)"},
		{"a div b mod c eq d", "(eq (mod (div a b) c) d)"},
		{"(a add b) mul c eq d", "(eq (mul (add a b) c) d)"},
		{"-a add b eq c", "(eq (add (- a) b) c)"},
		{"-a mul -2 eq c", "(eq (mul (- a) -2) c)"},
		{"- 2 eq a", "(eq -2 a)"},
		{"not a and b", "(and (not a) b)"},
		{"not(a) or b", "(or (not a) b)"},
		{"not (a or b)", "(not (or a b))"},
		{"not a eq b", "(eq (not a) b)"},
		{"not not a", "(not (not a))"},
		{"a eq null", "(isnull a)"},
		{"null eq a", "(isnull a)"},
		{"a ne null", "(isnotnull a)"},
		{"(a add 1) eq null", "(isnull (add a 1))"},
		{"a gt null", "(gt a null)"},
		{"2 lt a", "(lt 2 a)"}, // evaluated as (gt a 2)
		{"2 ge a", "(ge 2 a)"},
		{"a eq b", "(eq a b)"},
		{"a/b/c eq 'x'", `(eq a/b/c "x")`},
		{"startswith(tolower(a),'x') and length(b) gt 2", `(and (startswith (tolower a) "x") (gt (length b) 2))`},
		{"substring(a,1 add 1,2) eq 'x'", `(eq (substring a (add 1 1) 2) "x")`},
		{"((((a))))", "a"},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.tree, tree(t, c.filter))
		})
	}
}

func TestLiterals(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) string {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC).Format(time.RFC3339Nano)
	}
	cases := []struct{ lit, want string }{
		{"null", "null"},
		{"true", "true"},
		{"false", "false"},
		{"2", "2"},
		{"-2", "-2"},
		{"0", "0"},
		{"2L", "2"},
		{"2l", "2"},
		{"-9223372036854775808L", "-9223372036854775808"},
		{"9223372036854775807", "9223372036854775807"},
		{"9223372036854775808", "9.223372036854776e+18d"}, // too big for a long: a double
		{"1.3f", "1.3d"},
		{"2F", "2d"},
		{"4.0", "4d"},
		{"6.02E+25", "6.02e+25d"},
		{"1e-5", "1e-05d"},
		{"1E5", "100000d"},
		{"2.5d", "2.5d"},
		{"1e-400", "0d"}, // underflow
		{"50M", "50"},
		{"50.5m", "50.5d"},
		{"-50.5M", "-50.5d"},
		{"'abc'", `"abc"`},
		{"''", `""`},
		{"'O''Brien'", `"O'Brien"`},
		{"''''", `"'"`},
		{"'a''''b'", `"a''b"`},
		{"'January 23'", `"January 23"`},
		{"'héllo'", `"héllo"`},
		{"datetime'1994-10-14T00:00:00.000Z'", utc(1994, 10, 14, 0, 0, 0, 0)},
		{"datetime'1994-10-14T00:00:00'", utc(1994, 10, 14, 0, 0, 0, 0)},
		{"datetime'1994-10-14T01:02'", utc(1994, 10, 14, 1, 2, 0, 0)},
		{"datetime'1994-10-14T01:02:03.1234567'", utc(1994, 10, 14, 1, 2, 3, 123456700)},
		{"datetimeoffset'1994-10-13T17:00:00.0000000+07:00'", utc(1994, 10, 13, 10, 0, 0, 0)},
		{"datetimeoffset'1994-10-13T17:00:00-02:30'", utc(1994, 10, 13, 19, 30, 0, 0)},
		{"datetimeoffset'1994-10-13T17:00:00Z'", utc(1994, 10, 13, 17, 0, 0, 0)},
		{"guid'" + testGUID + "'", "guid:" + testGUID},
		{"time'PT13H20M'", "13h20m0s"},
		{"time'P1DT2.5S'", "24h0m2.5s"},
		{"time'-PT1M'", "-1m0s"},
		{"time'13:20:05'", "13h20m5s"},
		{"time'13:20'", "13h20m0s"},
	}
	for _, c := range cases {
		t.Run(c.lit, func(t *testing.T) {
			f := mustParse(t, "x eq "+c.lit)
			var got string
			switch n := f.root.(type) {
			case *cmpMemberLit:
				got = litString(n.lit)
			case *isNullNode:
				got = "null"
			default:
				t.Fatalf("unexpected node %T", n)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

func TestNullSemantics(t *testing.T) {
	row := sampleRow() // "nothing" is nil, "missing" is absent
	cases := []struct {
		filter string
		want   bool
	}{
		{"nothing eq null", true},
		{"missing eq null", true},
		{"null eq missing", true},
		{"nothing ne null", false},
		{"text ne null", true},
		{"null ne text", true},
		{"text eq null", false},
		{"obj ne null", true}, // a map is not null
		{"list eq null", false},
		{"null eq null", true},
		{"null ne null", false},
		{"(missing add 1) eq null", true},
		{"(priority add null) eq null", true},
		{"tolower(missing) eq null", true},
		// Any other comparison with null is null: neither it nor its
		// negation matches.
		{"missing eq 1", false},
		{"not(missing eq 1)", false},
		{"missing ne 1", false},
		{"not(missing ne 1)", false},
		{"missing gt 1", false},
		{"not(missing gt 1)", false},
		{"missing lt 1", false},
		{"priority gt null", false},
		{"not(priority gt null)", false},
		{"missing eq nothing", false}, // null = null is null, not true
		{"(missing add 1) gt 0", false},
		{"(-missing) lt 0", false},
		{"startswith(missing,'a')", false},
		{"not startswith(missing,'a')", false},
		{"year(missing) eq 2024", false},
		// Bare null members and not(null).
		{"missing", false},
		{"not missing", false},
		{"not(null)", false},
		{"null", false},
		// Three-valued and/or.
		{"missing and true", false},
		{"true and missing", false},
		{"not(missing and true)", false}, // null
		{"not(missing and false)", true}, // false
		{"not(false and missing)", true},
		{"missing or true", true},
		{"true or missing", true},
		{"missing or false", false},
		{"not(missing or false)", false}, // null
		{"(missing eq 1) or (priority eq 2)", true},
		{"(missing eq 1) and (priority eq 2)", false},
		// Paths.
		{"obj/x eq 1", true},
		{"obj/y/z eq 'deep'", true},
		{"obj/q eq null", true},
		{"obj/x/z eq null", true}, // through a non-map
		{"text/x eq null", true},
		{"a/b eq 'slash key'", true}, // the literal key wins
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestMixedNumericKinds(t *testing.T) {
	row := sampleRow()
	cases := []struct {
		filter string
		want   bool
	}{
		{"priority eq 2L", true},
		{"priority eq 2M", true},
		{"priority eq 2.0", true},
		{"priority eq 2.0f", true},
		{"priority eq 2d", true},
		{"prioInt eq 2", true},
		{"prioInt eq 2.0", true},
		{"prioInt eq 2.5", false},
		{"prioInt lt 2.5", true},
		{"prioInt gt 1.5M", true},
		{"prioInt eq priority", true},
		{"count eq 3", true},
		{"count eq 3.0", true},
		{"count gt prioInt", true},
		{"jn eq 5", true},
		{"jn eq 5.0", true},
		{"jn gt priority", true},
		{"jf eq 2.5", true},
		{"jf eq 2.5M", true},
		{"jf gt 2", true},
		{"jbig eq 9223372036854775807L", true},
		{"jbig gt 9223372036854775806L", true},
		{"big eq 9007199254740993L", true},
		{"big gt 9007199254740992.0", true}, // exact int/float comparison
		{"big ne 9007199254740992.0", true},
		{"price lt 10.5M", true},
		{"price eq 9.99", true},
		{"price eq 9.99M", true},
		{"(prioInt add 0.5) eq 2.5", true},
		{"(prioInt mul 2L) eq 4", true},
		{"(count mod 2) eq 1", true},
		{"(jn div 2) eq 2", true}, // json.Number integer: integer division
		{"(jf mul 2) eq 5", true},
		{"(price add jn) gt 14.9", true},
		{"round(2.5) eq 3", true},
		{"round(-2.5) eq -3", true}, // half away from zero
		{"round(2.4) eq 2", true},
		{"round(-2.4) eq -2", true},
		{"floor(-2.5) eq -3", true},
		{"ceiling(-2.5) eq -2", true},
		{"floor(7) eq 7", true},
		{"round(jf) eq 3", true},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestDates(t *testing.T) {
	row := sampleRow() // createdAt 2024-03-04T05:06:07.89Z
	cases := []struct {
		filter string
		want   bool
	}{
		{"createdAt eq datetime'2024-03-04T05:06:07.890Z'", true},
		{"createdAt eq datetime'2024-03-04T05:06:07.89'", true}, // no offset: UTC
		{"createdAt eq datetimeoffset'2024-03-04T12:06:07.8900000+07:00'", true},
		{"createdAt eq datetimeoffset'2024-03-04T05:06:07.8900000+00:00'", true},
		{"createdAt gt datetimeoffset'2024-03-04T12:06:07.8800000+07:00'", true},
		{"createdAt lt datetime'2024-03-04T05:06:07.891Z'", true},
		{"createdAt ge datetime'2024-03-04T05:06:07.890Z'", true},
		{"createdAt ne datetime'2024-03-04T05:06:07.890Z'", false},
		{"createdAt gt datetime'2024-03-04T05:06:07Z'", true},
		{"datetime'2024-01-01T00:00:00Z' lt createdAt", true},
		{"datetime'2024-01-01T00:00:00Z' eq datetimeoffset'2024-01-01T01:00:00+01:00'", true},
		// Another location, same instant.
		{"dateLocal eq datetime'2024-03-04T05:06:07.890Z'", true},
		{"hour(dateLocal) eq 5", true}, // UTC
		// Strings holding dates.
		{"dateStr eq datetime'2024-03-04T05:06:07.890Z'", true},
		{"dateStr eq datetimeoffset'2024-03-04T06:06:07.89+01:00'", true},
		{"dateStr gt datetime'2024-01-01T00:00:00Z'", true},
		{"datetime'2024-01-01T00:00:00Z' lt dateStr", true},
		{"year(dateStr) eq 2024", true},
		{"notDate eq datetime'2024-03-04T05:06:07.890Z'", false},
		{"notDate ne datetime'2024-03-04T05:06:07.890Z'", true},
		{"notDate gt datetime'2024-03-04T05:06:07.890Z'", false},
		{"notDate lt datetime'2024-03-04T05:06:07.890Z'", false},
		// Functions.
		{"year(createdAt) eq 2024 and month(createdAt) eq 3 and day(createdAt) eq 4", true},
		{"second(datetime'2024-03-04T05:06:59.999Z') eq 59", true},
		{"hour(datetimeoffset'2024-03-04T23:30:00-02:00') eq 1", true},
		{"day(datetimeoffset'2024-03-04T23:30:00-02:00') eq 5", true},
		// Durations.
		{"dur eq time'PT1H30M'", true},
		{"dur gt time'01:00:00'", true},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestGUIDs(t *testing.T) {
	row := sampleRow()
	lower := strings.ToLower(testGUID)
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{"id eq guid'" + lower + "'", true},
		{"id eq guid'" + testGUID + "'", true},
		{"guid'" + lower + "' eq id", true},
		{"id ne guid'" + lower + "'", false},
		{"id eq guid'00000000-0000-0000-0000-000000000000'", false},
		{"id gt guid'00000000-0000-0000-0000-000000000000'", true},
		{"id eq '" + testGUID + "'", true},
		{"id eq '" + lower + "'", false}, // string vs string is case-sensitive
		{"guid'" + testGUID + "' eq guid'" + lower + "'", true},
	} {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestFunctions(t *testing.T) {
	row := sampleRow()
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{"startswith(text,'Buy')", true},
		{"startswith(text,'buy')", false},
		{"startswith(text,'')", true},
		{"startswith('Buy','Buy milk')", false},
		{"endswith(text,'milk')", true},
		{"endswith(text,'Milk')", false},
		{"substringof('milk',text)", true},
		{"substringof(text,'milk')", false}, // argument order matters
		{"substringof('',text)", true},
		{"indexof(text,'Buy') eq 0", true},
		{"indexof(text,'milk') eq 4", true},
		{"indexof(text,'cheese') eq -1", true},
		{"indexof(unicode,'wörld') eq 6", true}, // characters, not bytes
		{"replace(text,' ','_') eq 'Buy_milk'", true},
		{"replace(text,'','x') eq 'Buy milk'", true},
		{"replace('aaa','a','bb') eq 'bbbbbb'", true},
		{"substring(text,0) eq 'Buy milk'", true},
		{"substring(text,4) eq 'milk'", true},
		{"substring(text,8) eq ''", true},
		{"substring(text,100) eq ''", true},
		{"substring(text,4,2) eq 'mi'", true},
		{"substring(text,4,100) eq 'milk'", true},
		{"substring(text,0,0) eq ''", true},
		{"substring(text,-1,3) eq 'Bu'", true}, // like SQL SUBSTRING(s, 0, 3)
		{"substring(unicode,1,4) eq 'éllo'", true},
		{"substring(text,4.0,2) eq 'mi'", true},
		{"concat(text,' now') eq 'Buy milk now'", true},
		{"concat(concat('a','b'),'c') eq 'abc'", true},
		{"tolower(text) eq 'buy milk'", true},
		{"toupper(unicode) eq 'HÉLLO WÖRLD'", true},
		{"trim(spaces) eq 'pad'", true},
		{"trim(text) eq text", true},
		{"length(text) eq 8", true},
		{"length(unicode) eq 11", true},
		{"length('') eq 0", true},
		{"length(concat(text,text)) eq 16", true},
		{"floor(price) eq 9", true},
		{"ceiling(price) eq 10", true},
		{"round(price) eq 10", true},
		{"round(1.5) eq 2", true},
		{"round(0.5) eq 1", true},
		{"round(-0.5) eq -1", true},
		{"floor(jf) eq 2", true},
		{"year(createdAt) eq 2024", true},
		{"month(createdAt) eq 3", true},
		{"day(createdAt) eq 4", true},
		{"hour(createdAt) eq 5", true},
		{"minute(createdAt) eq 6", true},
		{"second(createdAt) eq 7", true},
		{"startswith(id,'8C0D')", true}, // a string column
		{"startswith(tolower(text),'buy') and endswith(toupper(text),'MILK')", true},
	} {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestTypeMismatch(t *testing.T) {
	row := sampleRow()
	// eq/ne between unrelated kinds: never equal.
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{"text eq 5", false},
		{"text ne 5", true},
		{"priority eq 'two'", false},
		{"priority ne 'two'", true},
		{"complete eq 'false'", false},
		{"createdAt eq 5", false},
		{"text eq createdAt", false},
		{"dur eq 5", false},
		{"text eq true", false},
	} {
		t.Run(c.filter, func(t *testing.T) {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row))
		})
	}
}

func TestEvalErrors(t *testing.T) {
	row := sampleRow()
	for _, c := range []struct{ filter, msg string }{
		{"(complete add 1) eq 1", "must be numbers, not a boolean"},
		{"(complete mul done) eq 1", "must be numbers"},
		{"(text add 1) eq 1", "not a string"},
		{"(createdAt sub 1) eq 1", "not a datetime"},
		{"-text eq 1", "'-' must be a number"},
		{"text gt 5", "cannot compare a string with a number using 'gt'"},
		{"createdAt lt 5", "cannot compare"},
		{"text and true", "must be booleans, not a string"},
		{"priority or true", "must be booleans, not a number"},
		{"not text", "'not' must be a boolean"},
		{"text", "evaluated to a string"},
		{"priority", "evaluated to a number"},
		{"obj eq 1", "unsupported value (object)"},
		{"list eq 1", "unsupported value (array)"},
		{"obj gt 1", "unsupported"},
		{"(obj add 1) eq 1", "unsupported"},
		{"startswith(obj,'a')", "unsupported"},
		{"obj", "unsupported"},
		{"startswith(priority,'a')", "argument 1 of startswith must be a string, not a number"},
		{"substringof('a',priority)", "argument 2 of substringof"},
		{"length(complete) eq 1", "must be a string, not a boolean"},
		{"floor(text) eq 1", "must be a number, not a string"},
		{"year(priority) eq 1", "must be a datetime, not a number"},
		{"year(notDate) eq 1", "not a date-time"},
		{"substring(text,1.5) eq ''", "must be an integer"},
		{"substring(text,1,-1) eq ''", "must not be negative"},
		{"(priority div zero) eq 1", "division by zero"},
		{"(prioInt div 0) eq 1", "division by zero"},
		{"(prioInt mod 0L) eq 1", "division by zero"},
		{"(priority mod 0) eq 1", "division by zero"},
		{"(9223372036854775807L add 1) gt 0", "overflow"},
		{"(-9223372036854775807L sub 2) gt 0", "overflow"},
		{"(9223372036854775807L mul 2) gt 0", "overflow"},
		{"(-9223372036854775808L div -1) gt 0", "overflow"},
		{"-(-9223372036854775808L) gt 0", "overflow"},
		{"(1e308 mul 10) gt 0", "overflow"},
		{"(true and (text add 1) eq 1)", "not a string"},
	} {
		t.Run(c.filter, func(t *testing.T) {
			f := mustParse(t, c.filter)
			ok, err := f.Match(row)
			require.Error(t, err)
			assert.False(t, ok)
			var ee *EvalError
			require.True(t, errors.As(err, &ee), "%T", err)
			assert.Contains(t, ee.Msg, c.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "cannot evaluate $filter: "))
			checkMatchValues(t, f, row)
		})
	}
	// Short-circuit: the right side is not evaluated when the left decides.
	assert.False(t, mustMatch(t, "false and (text add 1) eq 1", row))
	assert.True(t, mustMatch(t, "true or (text add 1) eq 1", row))
	// Overflow-free edge cases.
	assert.True(t, mustMatch(t, "(-9223372036854775808L mod -1) eq 0", row))
	assert.True(t, mustMatch(t, "(-4611686018427387904L mul 2) eq -9223372036854775808L", row))
}

func TestSyntaxErrors(t *testing.T) {
	for _, c := range []struct {
		src string
		pos int
		msg string
	}{
		{"", 0, "empty filter"},
		{"   ", 3, "empty filter"},
		{"(a eq 1", 7, "missing ')'"},
		{"a eq 1)", 6, "unbalanced ')'"},
		{"a eq", 4, "unexpected end of input"},
		{"a eq eq 1", 5, `found the operator "eq"`},
		{"a EQ 1", 2, `expected an operator, found "EQ"`},
		{"a eq 1 b", 7, `expected an operator, found "b"`},
		{"a eq 'abc", 5, "unterminated string"},
		{"a eq 'O'Brien'", 8, `unsupported literal type "Brien"`},
		{"a eq 1.", 5, "expected digits after '.'"},
		{"a eq 1e+", 5, "digits in exponent"},
		{"a eq 12abc", 5, "invalid number"},
		{"a eq 2.5L", 5, "long literal"},
		{"a eq 99999999999999999999L", 5, "out of range"},
		{"a eq 1e999", 5, "out of range"},
		{"a eq datetime'yesterday'", 5, "invalid datetime literal"},
		{"a eq datetimeoffset'2024-13-01T00:00:00Z'", 5, "invalid datetimeoffset"},
		{"a eq guid'1234'", 5, "invalid guid"},
		{"a eq time'PT'", 5, "invalid time"},
		{"a eq X'0F'", 5, `unsupported literal type "X"`},
		{"a eq @b", 5, "unexpected character '@'"},
		{"a eq 1 and", 10, "unexpected end of input"},
		{"a/ eq 1", 2, "expected a name after '/'"},
		{"a//b eq 1", 2, "expected a name after '/'"},
		{"a eq 1 and b eq 2)", 17, "unbalanced"},
		{"foo(a) eq 1", 0, `unknown function "foo"`},
		{"Startswith(a,'b')", 0, "unknown function"},
		{"startswith(a)", 0, "startswith takes 2 arguments"},
		{"startswith(a,'b','c')", 17, "takes 2 arguments"},
		{"substring(a) eq 'x'", 0, "takes 2 or 3 arguments"},
		{"length() eq 1", 0, "length takes 1 argument"},
		{"startswith(a 'b')", 13, "expected ',' or ')'"},
		{"startswith(a,", 13, "unexpected end of input"},
		{"startswith(a,'b'", 16, "missing ')'"},
		{"startswith(1,'b')", 11, "argument 1 of startswith must be a string, not a number"},
		{"year('x') eq 1 and floor('x') eq 1", 25, "argument 1 of floor must be a number"},
		{"(true add 1) eq 2", 1, "must be numbers, not a boolean"},
		{"('a' eq 1)", 5, "cannot compare a string with a number"},
		{"1 and true", 0, "must be booleans, not a number"},
		{"not 'a'", 4, "'not' must be a boolean"},
		{"-'a' eq 1", 1, "'-' must be a number"},
		{"1", 0, "must be a boolean expression"},
		{"(a add 1)", 0, "must be a boolean expression"},
		{"tolower(a)", 0, "must be a boolean expression"},
		{"a eq ,", 5, "expected an operand, found ','"},
		{"()", 1, "expected an operand, found ')'"},
		{"a eq *", 5, "expected an operand, found '*'"},
		{"a eq \xff", 5, "invalid UTF-8"},
	} {
		t.Run(c.src, func(t *testing.T) {
			f, err := ParseFilter(c.src)
			require.Error(t, err)
			assert.Nil(t, f)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "%T", err)
			assert.Equal(t, c.pos, se.Pos, "error: %v", err)
			assert.Contains(t, se.Msg, c.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid $filter at position "), err.Error())
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	_, err := ParseFilter("(priority ge 2) and (text eq 'a' xor done)")
	require.Error(t, err)
	assert.Equal(t, `invalid $filter at position 33: expected an operator or ')', found "xor" near "xor done)"`, err.Error())

	_, err = ParseFilter("a eq")
	require.Error(t, err)
	assert.Equal(t, "invalid $filter at position 4: unexpected end of input, expected an operand", err.Error())

	// Long excerpts are cut, never inside a UTF-8 sequence.
	_, err = ParseFilter("a eq 1 x" + strings.Repeat("é", 40))
	require.Error(t, err)
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.LessOrEqual(t, len(se.Near), maxExcerpt+len("…"))
	assert.True(t, strings.HasSuffix(se.Near, "…"))
	assert.NotContains(t, err.Error(), `\x`)
}

func TestLimits(t *testing.T) {
	// 100k opening parentheses: an error, not a stack overflow.
	_, err := ParseFilter(strings.Repeat("(", 100_000))
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "longer than")

	deep := strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1)
	_, err = ParseFilter(deep)
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nested deeper")
	assert.Equal(t, MaxDepth, se.Pos)

	_, err = ParseFilter(strings.Repeat("not ", MaxDepth+1) + "a")
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nested deeper")

	_, err = ParseFilter(strings.Repeat("-", MaxDepth+1) + "a eq 1")
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nested deeper")

	// A flat chain builds a tall tree: also capped.
	_, err = ParseFilter("a eq 1" + strings.Repeat(" or a eq 1", MaxDepth+1))
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Msg, "nested deeper")

	_, err = ParseFilter("a eq '" + strings.Repeat("x", MaxLength) + "'")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, MaxLength, se.Pos)

	// A client-style fully parenthesised chain of 500 clauses is fine.
	var b strings.Builder
	b.WriteString(strings.Repeat("(", 499))
	b.WriteString("(id eq '0')")
	for i := 1; i < 500; i++ {
		b.WriteString(" or (id eq '")
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString("'))")
	}
	f := mustParse(t, b.String())
	ok, err := f.Match(map[string]any{"id": "z"})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = f.Match(map[string]any{"id": "0"})
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestFilterString(t *testing.T) {
	f := mustParse(t, "a eq 1")
	assert.Equal(t, "a eq 1", f.String())
}

func TestConcurrentMatch(t *testing.T) {
	f := mustParse(t, benchFilter)
	row := benchRow()
	done := make(chan bool)
	for range 4 {
		go func() {
			for range 100 {
				ok, err := f.Match(row)
				if err != nil || !ok {
					done <- false
					return
				}
			}
			done <- true
		}()
	}
	for range 4 {
		assert.True(t, <-done)
	}
}

func TestJSONDecodedRows(t *testing.T) {
	// Rows as a server stores them after decoding JSON, with and without
	// UseNumber.
	const doc = `{"id":"1","complete":false,"priority":3,"price":9.5,"tags":["a"],"when":"2024-05-06T07:08:09.000Z","nested":{"k":"v"}}`
	var plain map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &plain))
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var numbers map[string]any
	require.NoError(t, dec.Decode(&numbers))
	for _, row := range []map[string]any{plain, numbers} {
		for _, c := range []struct {
			filter string
			want   bool
		}{
			{"(priority eq 3)", true},
			{"((priority mod 2) eq 1)", true},
			{"(price gt 9.25M)", true},
			{"(complete eq false)", true},
			{"(when gt datetimeoffset'2024-05-06T00:00:00.0000000+00:00')", true},
			{"(nested/k eq 'v')", true},
			{"(tags ne null)", true},
		} {
			assert.Equal(t, c.want, mustMatch(t, c.filter, row), c.filter)
		}
	}
}

func TestMatchValues(t *testing.T) {
	f := mustParse(t, "((a eq 1) and (b/c eq 'x')) or ((a gt 5) and not(d eq null))")
	assert.Equal(t, []string{"a", "b/c", "d"}, f.Members())
	// The slice is the caller's.
	f.Members()[0] = "z"
	assert.Equal(t, "a", f.Members()[0])

	for _, c := range []struct {
		vals []any
		want bool
	}{
		{[]any{int64(1), "x", nil}, true},
		{[]any{1.0, "x", nil}, true},
		{[]any{int64(1), "y", nil}, false},
		{[]any{int64(6), nil, false}, true},
		{[]any{int64(6), nil, nil}, false},
		{[]any{nil, nil, nil}, false},
	} {
		ok, err := f.MatchValues(c.vals)
		require.NoError(t, err)
		assert.Equal(t, c.want, ok, "%v", c.vals)
	}
	// A path member is the value given for it: nothing is walked.
	ok, err := mustParse(t, "b/c eq 'x'").MatchValues([]any{map[string]any{"c": "x"}})
	require.Error(t, err)
	assert.False(t, ok)

	// A nil row map has every member null.
	ok, err = mustParse(t, "a eq null").Match(nil)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = mustParse(t, "a eq 1").Match(nil)
	require.NoError(t, err)
	assert.False(t, ok)

	// Filters without members.
	ok, err = mustParse(t, "true").MatchValues(nil)
	require.NoError(t, err)
	assert.True(t, ok)

	// Evaluation errors are those of Match.
	_, err = mustParse(t, "text gt 5").MatchValues([]any{"a"})
	require.EqualError(t, err, "cannot evaluate $filter: cannot compare a string with a number using 'gt'")

	assert.Panics(t, func() { _, _ = f.MatchValues([]any{1}) })

	// Every sample row member, through Match and MatchValues alike.
	row := sampleRow()
	for name := range row {
		for _, src := range []string{name + " eq null", name + " ne 2", name + " lt 'm'", name + " ge datetime'2024-01-01T00:00:00Z'", "not(" + name + ")"} {
			if f, err := ParseFilter(src); err == nil {
				checkMatchValues(t, f, row)
			}
		}
	}
}
