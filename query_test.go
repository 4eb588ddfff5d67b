package zumo

import (
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testTable(t *testing.T) *Table[TodoItem] {
	c, err := NewClient("https://example.azurewebsites.net/")
	require.NoError(t, err)
	return GetTable[TodoItem](c, "todoitem")
}

// decoded returns the query string decoded once, as a server reads it.
func decoded[T any](t *testing.T, q Query[T]) string {
	t.Helper()
	s, err := q.QueryString()
	require.NoError(t, err)
	d, err := url.QueryUnescape(s)
	require.NoError(t, err)
	return d
}

func TestFilterLiterals(t *testing.T) {
	tbl := untypedTable(t) // the names are the literal tests' own
	utc := time.Date(1994, 10, 14, 0, 0, 0, 0, time.UTC)
	plus7 := time.Date(1994, 10, 13, 17, 0, 0, 0, time.FixedZone("", 7*3600))
	type Priority int
	cases := []struct {
		name string
		expr Expr
		want string // decoded $filter
	}{
		{"null", Field("Updated").Eq(nil), "(Updated eq null)"},
		{"true", Field("done").Eq(true), "(done eq true)"},
		{"false", Field("done").Ne(false), "(done ne false)"},
		{"int", Field("Aisle").Eq(2), "(Aisle eq 2)"},
		{"int32", Field("Aisle").Eq(int32(-2)), "(Aisle eq -2)"},
		{"int beyond 32 bits", Field("n").Eq(5000000000), "(n eq 5000000000L)"},
		{"int64", Field("id").Mod(int64(2)).Eq(int64(1)), "((id mod 2L) eq 1L)"},
		{"uint64", Field("n").Eq(uint64(7)), "(n eq 7L)"},
		{"named int", Field("p").Eq(Priority(3)), "(p eq 3)"},
		{"float32", Field("Weight").Gt(float32(1.3)), "(Weight gt 1.3f)"},
		{"float64 integral", Field("WeightInKG").Eq(4.0), "(WeightInKG eq 4.0)"},
		{"float64 fraction", Field("w").Eq(4.25), "(w eq 4.25)"},
		{"float64 exponent", Field("w").Eq(6.02e25), "(w eq 6.02E+25)"},
		{"float64 small", Field("w").Eq(0.00001), "(w eq 1E-05)"},
		{"float64 0.0001", Field("w").Eq(0.0001), "(w eq 0.0001)"},
		{"float64 1e15", Field("w").Eq(1e15), "(w eq 1E+15)"},
		{"float64 1e14", Field("w").Eq(1e14), "(w eq 100000000000000.0)"},
		{"decimal", Field("Price").Gt(Decimal("50")), "(Price gt 50M)"},
		{"decimal fraction", Field("Price").Gt(Decimal("-50.25")), "(Price gt -50.25M)"},
		{"string", Field("Name").Eq("O'Brien"), "(Name eq 'O''Brien')"},
		{"string space", Field("Name").Eq("January 23"), "(Name eq 'January 23')"},
		{"string specials", Field("t").Eq("a&b=c+d#e%f?"), "(t eq 'a&b=c+d#e%f?')"},
		{"string unicode", Field("t").Eq("héllo 世界"), "(t eq 'héllo 世界')"},
		{"datetime", Field("d").Eq(utc), "(d eq datetime'1994-10-14T00:00:00.000Z')"},
		{"datetime wrapper", Field("d").Eq(DateTime(plus7)), "(d eq datetime'1994-10-13T10:00:00.000Z')"},
		{"datetimeoffset", Field("d").Eq(plus7), "(d eq datetimeoffset'1994-10-13T17:00:00.0000000+07:00')"},
		{"datetimeoffset wrapper", Field("d").Eq(DateTimeOffset(utc)), "(d eq datetimeoffset'1994-10-14T00:00:00.0000000+00:00')"},
		{"guid", Field("g").Eq(GUID("0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a69")), "(g eq guid'0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a69')"},
		{"bare bool member", Field("complete"), "complete"},
		{"constant true", Val(true), "true"},
		{"not", Not(Field("complete")), "not(complete)"},
		{"and or", Field("a").Eq(1).And(Field("b").Eq(2).Or(Field("c").Eq(3))), "((a eq 1) and ((b eq 2) or (c eq 3)))"},
		{"And fold", And(Field("a"), Field("b"), Field("c")), "((a and b) and c)"},
		{"arithmetic", Field("p").Add(1).Sub(2).Mul(3).Div(4).Ge(5), "(((((p add 1) sub 2) mul 3) div 4) ge 5)"},
		{"field vs field", Field("a").Lt(Field("b")), "(a lt b)"},
		{"le", Field("a").Le(1), "(a le 1)"},
		{"startswith", StartsWith(Field("text"), "buy"), "startswith(text,'buy')"},
		{"endswith", EndsWith(Field("text"), "milk"), "endswith(text,'milk')"},
		{"contains is substringof", Contains(Field("text"), "ilk"), "substringof('ilk',text)"},
		{"indexof", IndexOf(Field("text"), "m").Eq(0), "(indexof(text,'m') eq 0)"},
		{"replace", Replace(Field("t"), "a", "b").Eq("x"), "(replace(t,'a','b') eq 'x')"},
		{"substring", Substring(Field("t"), 1).Eq("x"), "(substring(t,1) eq 'x')"},
		{"substring len", SubstringLen(Field("t"), 1, 2).Eq("x"), "(substring(t,1,2) eq 'x')"},
		{"concat", Concat(Field("a"), "b").Eq("ab"), "(concat(a,'b') eq 'ab')"},
		{"tolower toupper trim", ToLower(ToUpper(Trim(Field("t")))).Eq("x"), "(tolower(toupper(trim(t))) eq 'x')"},
		{"length", Length(Field("t")).Gt(3), "(length(t) gt 3)"},
		{"floor ceiling round", Floor(Field("a")).Add(Ceiling(Field("b"))).Add(Round(Field("c"))).Eq(3), "(((floor(a) add ceiling(b)) add round(c)) eq 3)"},
		{"date parts", Year(Field("d")).Eq(2024).And(Month(Field("d")).Eq(1)).And(Day(Field("d")).Eq(2)), "(((year(d) eq 2024) and (month(d) eq 1)) and (day(d) eq 2))"},
		{"time parts", Hour(Field("d")).Eq(1).Or(Minute(Field("d")).Eq(2)).Or(Second(Field("d")).Eq(3)), "(((hour(d) eq 1) or (minute(d) eq 2)) or (second(d) eq 3))"},
		{"raw", Raw("text eq 'a b'"), "(text eq 'a b')"},
		{"raw and built", Raw("x eq '100%'").And(Field("y").Eq("z")), "((x eq '100%') and (y eq 'z'))"},
		{"raw or keeps its meaning", Raw("a eq 1 or b eq 2").And(Field("c").Eq(3)), "((a eq 1 or b eq 2) and (c eq 3))"},
		{"in one", Field("id").In("a"), "(id eq 'a')"},
		{"in is a left-nested or-chain", Field("id").In("a", "b", 3), "(((id eq 'a') or (id eq 'b')) or (id eq 3))"},
		{"in nothing matches nothing", Field("id").In(), "(true eq false)"},
		{"in and", Field("n").In(1, 2).And(Field("c")), "(((n eq 1) or (n eq 2)) and c)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, "$filter="+tc.want, decoded(t, tbl.Where(tc.expr)))
		})
	}
}

func TestFilterLiteralEscaping(t *testing.T) {
	// On the wire only the literal is percent-escaped, and the structure
	// keeps its parentheses and quotes; a server decoding once reads the
	// OData back.
	tbl := untypedTable(t)
	s, err := tbl.Where(Field("Name").Eq("January 23")).QueryString()
	require.NoError(t, err)
	assert.Equal(t, "$filter=(Name%20eq%20'January%2023')", s)
	s, err = tbl.Where(Field("d").Eq(time.Date(1994, 10, 13, 17, 0, 0, 0, time.FixedZone("", 7*3600)))).QueryString()
	require.NoError(t, err)
	assert.Equal(t, "$filter=(d%20eq%20datetimeoffset'1994-10-13T17%3A00%3A00.0000000%2B07%3A00')", s)
	s, err = tbl.Where(Field("w").Eq(6.02e25)).QueryString()
	require.NoError(t, err)
	assert.Equal(t, "$filter=(w%20eq%206.02E%2B25)", s, "a + in a number must not read as a space")
}

func TestInvalidLiterals(t *testing.T) {
	tbl := untypedTable(t)
	for name, e := range map[string]Expr{
		"NaN":          Field("w").Eq(math.NaN()),
		"Inf":          Field("w").Eq(math.Inf(1)),
		"bad decimal":  Field("w").Eq(Decimal("1e5")),
		"struct":       Field("w").Eq(struct{}{}),
		"zero Expr":    Field("w").Eq(Expr{}),
		"empty field":  Field("").Eq(1),
		"empty And":    And(),
		"chan literal": Field("w").Eq(make(chan int)),
		"short GUID":   Field("g").Eq(GUID("ID001")),
		"braced GUID":  Field("g").Eq(GUID("{0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a69}")),
		"GUID non-hex": Field("g").Eq(GUID("0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a6z")),
		"GUID quote":   Field("g").Eq(GUID("0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5'69")),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tbl.Where(e).QueryString()
			assert.ErrorIs(t, err, ErrInvalidQuery)
		})
	}
}

func untypedTable(t *testing.T) *JSONTable {
	c, err := NewClient("https://example.azurewebsites.net/")
	require.NoError(t, err)
	return c.Table("todoitem")
}

func TestQueryStringOrderAndOptions(t *testing.T) {
	tbl := untypedTable(t)
	cases := []struct {
		name string
		q    Query[map[string]any]
		want string
	}{
		{"empty", tbl.Query(), ""},
		{"fixed order", tbl.Query().Param("x", "1").IncludeDeleted().IncludeTotalCount().Select("text", "id").
			Take(10).Skip(5).OrderBy("text").Where(Field("complete").Eq(false)),
			"$filter=(complete eq false)&$orderby=text&$skip=5&$top=10&$select=text,id&$inlinecount=allpages&x=1&__includeDeleted=true"},
		{"later OrderBy is primary", tbl.Query().OrderBy("a").OrderByDescending("b"), "$orderby=b desc,a"},
		{"ThenBy appends", tbl.Query().OrderBy("a").ThenByDescending("b").ThenBy("c"), "$orderby=a,b desc,c"},
		{"skips add up", tbl.Query().Skip(5).Skip(10), "$skip=15"},
		{"smallest take wins", tbl.Query().Take(10).Take(3).Take(7), "$top=3"},
		{"zero written", tbl.Query().Skip(0).Take(0), "$skip=0&$top=0"},
		{"wheres are and-ed", tbl.Query().Where(Field("a").Eq(1)).Where(Field("b").Eq(2)), "$filter=((a eq 1) and (b eq 2))"},
		{"params in given order", tbl.Query().Param("z", "1").Param("a", "2 3&4"), "z=1&a=2 3&4"},
		{"params from struct", tbl.Query().Params(struct {
			Mode string `url:"mode"`
			N    int    `url:"n,omitempty"`
		}{Mode: "fast"}), "mode=fast"},
		{"params from values sorted", tbl.Query().Params(url.Values{"b": {"2"}, "a": {"1"}}), "a=1&b=2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, decoded(t, tc.q))
		})
	}
}

func TestQueryErrors(t *testing.T) {
	tbl := testTable(t)
	for name, q := range map[string]Query[TodoItem]{
		"dollar param":  tbl.Query().Param("$top", "5"),
		"dollar params": tbl.Query().Params(map[string]string{"$filter": "x"}),
		"empty param":   tbl.Query().Param("", "5"),
		"negative skip": tbl.Query().Skip(-1),
		"negative take": tbl.Query().Take(-1),
		"empty order":   tbl.Query().OrderBy(""),
		"empty select":  tbl.Query().Select(""),
		"no table":      Query[TodoItem]{},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := q.QueryString()
			assert.ErrorIs(t, err, ErrInvalidQuery)
		})
	}
}

func TestQueryIsImmutable(t *testing.T) {
	tbl := untypedTable(t)
	base := tbl.Query().Where(Field("a").Eq(1)).OrderBy("x").Select("a").Param("p", "1").Take(10).Skip(1)
	// Extend the base twice; neither extension may show in the other or in base.
	q1 := base.ThenBy("y").Select("b").Param("q", "1").Where(Field("b").Eq(2)).Skip(1).Take(5)
	q2 := base.ThenBy("z").Select("c").Param("r", "1")
	assert.Equal(t, "$filter=(a eq 1)&$orderby=x&$skip=1&$top=10&$select=a&p=1", decoded(t, base))
	assert.Equal(t, "$filter=((a eq 1) and (b eq 2))&$orderby=x,y&$skip=2&$top=5&$select=a,b&p=1&q=1", decoded(t, q1))
	assert.Equal(t, "$filter=(a eq 1)&$orderby=x,z&$skip=1&$top=10&$select=a,c&p=1&r=1", decoded(t, q2))
}

func TestFormatFloat(t *testing.T) {
	cases := []struct {
		f    float64
		bits int
		want string
	}{
		{0, 64, "0"}, {1, 64, "1"}, {-1.5, 64, "-1.5"}, {123456.789, 64, "123456.789"},
		{1e-4, 64, "0.0001"}, {1.5e-5, 64, "1.5E-05"}, {1e21, 64, "1E+21"}, {1.2345678901234567e20, 64, "1.2345678901234567E+20"},
		{999999999999999, 64, "999999999999999"}, {1e15, 64, "1E+15"}, {1e-300, 64, "1E-300"},
		{1234567890123456, 64, "1234567890123456"}, {12345678901234567, 64, "12345678901234568"}, {1.2345678901234566e17, 64, "1.2345678901234566E+17"},
		{16777216, 32, "16777216"}, {123456789, 32, "1.2345679E+08"}, {1.234568e9, 32, "1.234568E+09"},
		{1.3, 32, "1.3"}, {1e7, 32, "1E+07"}, {1234567, 32, "1234567"},
	}
	for _, tc := range cases {
		got, err := formatFloat(tc.f, tc.bits)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%v/%d", tc.f, tc.bits)
	}
}

func TestExprString(t *testing.T) {
	assert.Equal(t, "(Name eq 'O%27%27Brien')", Field("Name").Eq("O'Brien").String())
	assert.Contains(t, Field("w").Eq(math.NaN()).String(), "<invalid")
}

func BenchmarkQueryString(b *testing.B) {
	c, _ := NewClient("https://example.azurewebsites.net/")
	tbl := GetTable[TodoItem](c, "todoitem")
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	q := tbl.Where(And(
		Field("complete").Eq(false),
		Field("priority").Ge(2),
		StartsWith(Field("text"), "buy"),
		Field("createdAt").Gt(since),
		Field("price").Lt(Decimal("10.5")),
	)).AllowFields("price").OrderByDescending("priority").ThenBy("text").Skip(100).Take(50).Select("id", "text", "priority")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.QueryString(); err != nil {
			b.Fatal(err)
		}
	}
}

// On legacy Mobile Services a struct that names its system properties
// without "__" has them renamed in queries as in bodies; a struct that
// uses the "__" names, and an untyped table, send the names as written.
func TestLegacyQueryNames(t *testing.T) {
	type bare struct {
		ID        string `json:"id"`
		Text      string `json:"text"`
		CreatedAt string `json:"createdAt"`
		Version   string `json:"version"`
	}
	type prefixed struct {
		ID        string `json:"id"`
		CreatedAt string `json:"__createdAt"`
	}
	c, err := NewClient("https://app.example/", WithLegacyMobileServices("key-1234"))
	require.NoError(t, err)
	where := Or(Field("createdAt").Gt(1), Field("text").Eq("a"), Year(Field("updatedAt")).Eq(2024))
	tests := []struct {
		name string
		qs   func() (string, error)
		want string
	}{
		{"bare struct", func() (string, error) {
			return GetTable[bare](c, "t").Where(where).OrderBy("version").ThenBy("text").Select("text", "createdAt").QueryString()
		}, "$filter=(((__createdAt gt 1) or (text eq 'a')) or (year(__updatedAt) eq 2024))&$orderby=__version,text&$select=text,__createdAt&__systemproperties=__createdAt,__version"},
		{"prefixed struct", func() (string, error) {
			return GetTable[prefixed](c, "t").Where(Field("__createdAt").Gt(1)).OrderBy("__createdAt").QueryString()
		}, "$filter=(__createdAt gt 1)&$orderby=__createdAt&__systemproperties=__createdAt"},
		{"untyped", func() (string, error) {
			return c.Table("t").Where(Field("createdAt").Gt(1)).OrderBy("version").QueryString()
		}, "$filter=(createdAt gt 1)&$orderby=version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs, err := tt.qs()
			require.NoError(t, err)
			got, err := url.QueryUnescape(qs)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	// Mobile Apps: never renamed.
	apps, err := NewClient("https://app.example/")
	require.NoError(t, err)
	qs, err := GetTable[bare](apps, "t").Query().OrderBy("createdAt").QueryString()
	require.NoError(t, err)
	assert.Equal(t, "$orderby=createdAt", qs)
}

// A struct table checks every field name its queries write: a typo is an
// error naming the nearest known name, not a silent empty result.
func TestFieldNamesChecked(t *testing.T) {
	tbl := testTable(t)
	type Embedded struct {
		Tag string `json:"tag"`
	}
	type withEmbedded struct {
		Embedded
		ID     string `json:"id"`
		Hidden string `json:"-"`
		Plain  int
	}
	c, err := NewClient("https://example.azurewebsites.net/")
	require.NoError(t, err)
	emb := GetTable[withEmbedded](c, "t")
	tests := []struct {
		name    string
		qs      func() (string, error)
		field   string // "" when the query is fine
		nearest string
	}{
		{"declared names", func() (string, error) {
			return tbl.Where(Field("priority").Gt(1).And(Field("text").Eq("a"))).OrderBy("complete").Select("text").QueryString()
		}, "", ""},
		{"system properties", func() (string, error) {
			return tbl.Where(Field("deleted").Eq(false)).OrderBy("updatedAt").Select("id", "__version").QueryString()
		}, "", ""},
		{"any letter case, as servers match columns", func() (string, error) {
			return tbl.Where(Field("Priority").Gt(1)).QueryString()
		}, "", ""},
		{"typo in a filter", func() (string, error) { return tbl.Where(Field("prioirty").Gt(1)).QueryString() }, "prioirty", "priority"},
		{"typo inside a function", func() (string, error) { return tbl.Where(StartsWith(Field("txt"), "a")).QueryString() }, "txt", "text"},
		{"typo in an ordering", func() (string, error) { return tbl.Query().ThenByDescending("updatedat2").QueryString() }, "updatedat2", "updatedAt"},
		{"typo in a selection", func() (string, error) { return tbl.Query().Select("text", "compelte").QueryString() }, "compelte", "complete"},
		{"allowed explicitly", func() (string, error) {
			return tbl.Query().AllowFields("extra").Where(Field("extra").Eq(1)).OrderBy("extra").Select("extra").QueryString()
		}, "", ""},
		{"member path checked by its first segment", func() (string, error) {
			return tbl.Where(Field("txt/len").Eq(1)).QueryString()
		}, "txt/len", "text"},
		{"raw text is not read", func() (string, error) { return tbl.Where(Raw("nothing eq 1")).QueryString() }, "", ""},
		{"embedded and untagged fields", func() (string, error) {
			return emb.Where(Field("tag").Eq("a").And(Field("Plain").Eq(1))).QueryString()
		}, "", ""},
		{"a field tagged - is not a column", func() (string, error) { return emb.Where(Field("Hidden").Eq("a")).QueryString() }, "Hidden", "id"},
		{"untyped tables are not checked", func() (string, error) {
			return c.Table("t").Where(Field("anything").Eq(1)).OrderBy("else").QueryString()
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.qs()
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			var fe *UnknownFieldError
			require.ErrorAs(t, err, &fe)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			assert.Equal(t, tt.field, fe.Field)
			assert.Equal(t, tt.nearest, fe.Nearest)
			assert.Contains(t, err.Error(), tt.field)
			assert.Contains(t, err.Error(), tt.nearest)
		})
	}
}

// Nothing is sent for a query with an unknown field.
func TestUnknownFieldSendsNothing(t *testing.T) {
	c, _, _, requests := setup(t)
	_, err := GetTable[TodoItem](c, "todoitem").Where(Field("prioirty").Gt(1)).ToSlice(t.Context())
	assert.ErrorIs(t, err, ErrInvalidQuery)
	assert.Zero(t, requests.Load())
}
