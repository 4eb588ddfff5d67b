package odata

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilterSQL(t *testing.T) {
	cases := []struct {
		filter string
		sql    string
		args   []any
	}{
		{"n gt 1", `(json_extract(d, '$."n"') > ?)`, []any{int64(1)}},
		{"name eq 'it''s' and done", `((json_extract(d, '$."name"') = ?) AND json_extract(d, '$."done"'))`, []any{"it's"}},
		{"x eq null or not (y ne null)", `((json_extract(d, '$."x"') IS NULL) OR (NOT (json_extract(d, '$."y"') IS NOT NULL)))`, nil},
		{"startswith(s,'a')", `(instr(json_extract(d, '$."s"'), ?) = 1)`, []any{"a"}},
		{"length(s) eq 2", `(zumo_call(?, ?, json_extract(d, '$."s"')) = ?)`, []any{"length", "", int64(2)}},
		{"when gt datetime'2024-01-01T00:00:00Z'", `zumo_cmp(?, ?, json_extract(d, '$."when"'), ?, ?)`, []any{"gt", "", "t", "2024-01-01T00:00:00Z"}},
		{"tolower(s) eq 'a'", `(zumo_call(?, ?, json_extract(d, '$."s"')) = ?)`, []any{"tolower", "", "a"}},
		{"n add 1.5 eq -2", `((json_extract(d, '$."n"') + ?) = ?)`, []any{1.5, int64(-2)}},
	}
	for _, tc := range cases {
		f, err := ParseFilter(tc.filter)
		require.NoError(t, err)
		sql, args, err := f.SQL("d")
		require.NoError(t, err, tc.filter)
		assert.Equal(t, tc.sql, sql, tc.filter)
		assert.Equal(t, tc.args, args, tc.filter)
	}
	for _, bad := range []string{"a/b eq 1", "n mod 2 eq 0"} {
		f, err := ParseFilter(bad)
		require.NoError(t, err)
		_, _, err = f.SQL("d")
		var u *UnsupportedError
		assert.ErrorAs(t, err, &u, bad)
	}
	_, err := OrderSQL([]OrderKey{{Field: "a/b"}}, "d")
	assert.Error(t, err)
	o, err := OrderSQL([]OrderKey{{Field: "a"}, {Field: "b", Desc: true}}, "d")
	require.NoError(t, err)
	assert.Equal(t, `json_extract(d, '$."a"'), json_extract(d, '$."b"') DESC`, o)
}

func TestSQLFunc(t *testing.T) {
	cases := []struct {
		name string
		args []any
		want any
		err  bool
	}{
		{SQLCompareFunc, []any{"gt", "", "2024-01-02T00:00:00+01:00", "t", "2024-01-01T22:00:00Z"}, int64(1), false},
		{SQLCompareFunc, []any{"eq", "", "not a date", "t", "2024-01-01T22:00:00Z"}, int64(0), false},
		{SQLCompareFunc, []any{"ne", "", "not a date", "t", "2024-01-01T22:00:00Z"}, int64(1), false},
		{SQLCompareFunc, []any{"eq", "", nil, "t", "2024-01-01T22:00:00Z"}, nil, false},
		{SQLCompareFunc, []any{"gt", "", int64(3), "t", "2024-01-01T22:00:00Z"}, nil, true},
		{SQLCompareFunc, []any{"eq", "", "ABCDEF00-0000-0000-0000-000000000000", "g", "abcdef00-0000-0000-0000-000000000000"}, int64(1), false},
		{SQLCallFunc, []any{"tolower", "", "ÄB"}, "äb", false},
		{SQLCallFunc, []any{"year", "", "2024-03-04T05:06:07Z"}, int64(2024), false},
		{SQLCallFunc, []any{"year", "", "nope"}, nil, true},
		{SQLCallFunc, []any{"substring", "", "hello", "", int64(1), "", int64(2)}, "el", false},
		{SQLCallFunc, []any{"nosuch", "", "x"}, nil, true},
		{"other", nil, nil, true},
	}
	for _, tc := range cases {
		got, err := SQLFunc(tc.name, tc.args)
		if tc.err {
			assert.Error(t, err, "%v", tc.args)
			continue
		}
		require.NoError(t, err, "%v", tc.args)
		assert.Equal(t, tc.want, got, "%v", tc.args)
	}
}

func TestSQLOrderCompare(t *testing.T) {
	ordered := []any{nil, int64(-1), false, 0.5, true, "1", "A", "a", "ä", map[string]any{"x": 1}}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, SQLOrderCompare(ordered[i], ordered[j]), "%v vs %v", ordered[i], ordered[j])
		}
	}
}
