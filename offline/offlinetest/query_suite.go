package offlinetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
)

// Row is the query corpus's row type: every JSON kind, nulls included.
type Row struct {
	ID    string   `json:"id"`
	Name  *string  `json:"name"`
	N     *int64   `json:"n"`
	F     *float64 `json:"f"`
	Flag  *bool    `json:"flag"`
	When  *string  `json:"when"`
	Group string   `json:"group"`
}

// CorpusRows are the rows the query corpus runs over.
func CorpusRows() []Row {
	s := func(v string) *string { return &v }
	i := func(v int64) *int64 { return &v }
	f := func(v float64) *float64 { return &v }
	b := func(v bool) *bool { return &v }
	return []Row{
		{ID: "a", Name: s("Milk"), N: i(1), F: f(1.5), Flag: b(true), When: s("2024-01-01T00:00:00.000Z"), Group: "x"},
		{ID: "b", Name: s("milk"), N: i(2), F: f(-0.5), Flag: b(false), When: s("2024-01-01T00:00:00.001Z"), Group: "x"},
		{ID: "c", Name: s("Ärger über"), N: i(-3), F: f(2), Flag: nil, When: s("2023-12-31T23:59:59.999+01:00"), Group: "y"},
		{ID: "d", Name: nil, N: nil, F: nil, Flag: b(true), When: nil, Group: "y"},
		{ID: "e", Name: s(""), N: i(9007199254740993), F: f(1e300), Flag: b(false), When: s("not a date"), Group: "z"},
		{ID: "f", Name: s("  padded  "), N: i(0), F: f(0), Flag: b(true), When: s("2025-06-30T12:00:00Z"), Group: "z"},
		{ID: "g", Name: s("it's"), N: i(2), F: f(2.0000001), Flag: b(false), When: s("2024-02-29T00:00:00.000Z"), Group: "x"},
	}
}

// Corpus is the filters the stores must agree on.
func Corpus() []zumo.Expr {
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return []zumo.Expr{
		zumo.Field("n").Gt(1),
		zumo.Field("n").Eq(nil),
		zumo.Field("n").Ne(nil),
		zumo.Field("n").Ne(2),
		zumo.Field("f").Le(1.5),
		zumo.Field("f").Gt(zumo.Field("n")),
		zumo.Field("n").Add(1).Eq(3),
		zumo.Field("n").Mul(2).Gt(zumo.Field("f")),
		zumo.Field("n").Div(2).Eq(1),
		zumo.Field("flag"),
		zumo.Field("flag").Eq(true),
		zumo.Not(zumo.Field("flag")),
		zumo.Field("flag").Eq(1),
		zumo.Field("name").Eq("milk"),
		zumo.Field("name").Gt("M"),
		zumo.StartsWith(zumo.Field("name"), "Mi"),
		zumo.EndsWith(zumo.Field("name"), "lk"),
		zumo.Contains(zumo.Field("name"), "il"),
		zumo.ToLower(zumo.Field("name")).Eq("milk"),
		zumo.ToUpper(zumo.Field("name")).Eq("ÄRGER ÜBER"),
		zumo.Length(zumo.Field("name")).Gt(4),
		zumo.IndexOf(zumo.Field("name"), "lk").Eq(2),
		zumo.Trim(zumo.Field("name")).Eq("padded"),
		zumo.Concat(zumo.Field("name"), "!").Eq("milk!"),
		zumo.Substring(zumo.Field("name"), 1).Eq("ilk"),
		zumo.Replace(zumo.Field("name"), "i", "a").Eq("Malk"),
		zumo.Field("name").Eq("it's"),
		zumo.Field("when").Gt(day),
		zumo.Field("when").Eq(day),
		zumo.Field("when").Ne(zumo.DateTimeOffset(day)),
		zumo.Field("when").Le(day),
		zumo.Year(zumo.Field("when")).Eq(2024),
		zumo.Field("group").Eq("x").And(zumo.Field("n").Gt(1)),
		zumo.Field("group").Eq("z").Or(zumo.Field("flag").Eq(nil)),
		zumo.Not(zumo.Field("n").Gt(1).Or(zumo.Field("name").Eq(nil))),
		zumo.Field("n").Sub(zumo.Field("n")).Eq(0),
		zumo.Raw("n ge -3 and f lt 2"),
	}
}

func testQueries(t *testing.T, open Opener) {
	ctx := context.Background()
	e := newEnv(t, open, nil)
	ref := newEnvOn(t, e.srv, e.c, offline.NewMemoryStore())
	tbl := offline.GetTable[Row](e.sc, "rows")
	refTbl := offline.GetTable[Row](ref.sc, "rows")
	for _, r := range CorpusRows() {
		_, err := tbl.Insert(ctx, r)
		require.NoError(t, err)
		_, err = refTbl.Insert(ctx, r)
		require.NoError(t, err)
	}
	ids := func(rows []Row) []string {
		out := []string{}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	t.Run("corpus agrees with the reference evaluator", func(t *testing.T) {
		for _, f := range Corpus() {
			got, err := tbl.Where(f).ToSlice(ctx)
			want, werr := refTbl.Where(f).ToSlice(ctx)
			if werr != nil {
				assert.Error(t, err, "%s: the reference fails (%v)", f, werr)
				continue
			}
			if assert.NoError(t, err, f.String()) {
				assert.Equal(t, ids(want), ids(got), f.String())
			}
		}
	})
	t.Run("known answers", func(t *testing.T) {
		cases := []struct {
			q    offline.Query[Row]
			want []string
		}{
			{tbl.Where(zumo.Field("n").Gt(1)), []string{"b", "e", "g"}},
			{tbl.Where(zumo.ToLower(zumo.Field("name")).Eq("milk")), []string{"a", "b"}},
			{tbl.Where(zumo.Field("when").Gt(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))), []string{"b", "f", "g"}},
			{tbl.Query().OrderBy("n").Take(3), []string{"d", "c", "f"}},
			{tbl.Query().OrderByDescending("name").ThenBy("id").Skip(1).Take(2), []string{"b", "g"}},
			{tbl.Query().OrderBy("group").ThenByDescending("n"), []string{"b", "g", "a", "c", "d", "e", "f"}},
		}
		for _, tc := range cases {
			got, err := tc.q.ToSlice(ctx)
			require.NoError(t, err, tc.q.String())
			assert.Equal(t, tc.want, ids(got), tc.q.String())
		}
	})
	t.Run("count and select", func(t *testing.T) {
		p, err := tbl.Where(zumo.Field("group").Eq("x")).IncludeTotalCount().Take(1).Select("id", "group").Page(ctx)
		require.NoError(t, err)
		assert.EqualValues(t, 3, p.TotalCount)
		require.Len(t, p.Items, 1)
		assert.Nil(t, p.Items[0].Name, "not selected")
		assert.Equal(t, "x", p.Items[0].Group)
	})
	t.Run("bad filters are query errors", func(t *testing.T) {
		_, err := tbl.Where(zumo.Raw("n eq")).ToSlice(ctx)
		assert.ErrorIs(t, err, zumo.ErrInvalidQuery)
	})
	t.Run("orders agree", func(t *testing.T) {
		for _, f := range []string{"id", "name", "n", "f", "flag", "when", "group"} {
			for _, desc := range []bool{false, true} {
				q, rq := tbl.Query().OrderBy(f), refTbl.Query().OrderBy(f)
				if desc {
					q, rq = tbl.Query().OrderByDescending(f), refTbl.Query().OrderByDescending(f)
				}
				got, err := q.ToSlice(ctx)
				require.NoError(t, err)
				want, err := rq.ToSlice(ctx)
				require.NoError(t, err)
				assert.Equal(t, ids(want), ids(got), fmt.Sprint(f, desc))
			}
		}
	})
}
