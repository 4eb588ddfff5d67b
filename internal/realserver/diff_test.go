//go:build integration

package realserver_test

// Differential tests: the same operations, through the SDK, against the
// official server and against zumotest configured the same way. Rows
// (without the values that legitimately differ: versions, timestamps,
// generated ids), their order, total counts, status codes and request
// counts must agree. What is allowed to differ is listed in zumotest's
// package documentation ("Differences from the official Node server") and
// pinned by TestDiffDocumentedDifferences, so that the list stays true.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/internal/realserver"
	"github.com/zumo-go/zumo/zumotest"
)

// backend is one side of a differential test.
type backend struct {
	name   string
	url    string
	reset  func(t testing.TB)
	counts func(t testing.TB) (requests, unauthorized, logins int)
	// seed inserts rows in bulk, outside the SDK (for large data sets).
	seed func(t testing.TB, table string, rows []map[string]any)
	// rotate invalidates every token issued so far.
	rotate func(t testing.TB)
}

func realBackend(t testing.TB) backend {
	s := realserver.StartForTest(t, realserver.Options{})
	return backend{
		name:  "official",
		url:   s.URL,
		reset: func(t testing.TB) { resetCounters(t, s) },
		counts: func(t testing.TB) (int, int, int) {
			c := counters(t, s)
			return c.Requests, c.Unauthorized, c.Logins
		},
		seed: func(t testing.TB, table string, rows []map[string]any) {
			require.NoError(t, s.Seed(context.Background(), table, rows))
		},
		rotate: func(t testing.TB) { require.NoError(t, s.Restart(context.Background(), "")) },
	}
}

// fakeBackend is zumotest set up like server.js: todoitem anonymous with
// soft delete, secretitem authenticated with soft delete, the custom login's
// users with the same user ids.
func fakeBackend(t testing.TB) backend {
	srv := zumotest.NewServer(t,
		zumotest.WithTable("todoitem", zumotest.SoftDelete()),
		zumotest.WithTable("secretitem", zumotest.SoftDelete(), zumotest.Authenticated()),
		zumotest.WithUser("custom", realserver.DefaultUsername, realserver.DefaultPassword, realserver.UserID(realserver.DefaultUsername)),
		zumotest.WithUser("custom", realserver.OtherUsername, realserver.OtherPassword, realserver.UserID(realserver.OtherUsername)),
	)
	return backend{
		name:  "zumotest",
		url:   srv.URL,
		reset: func(testing.TB) { srv.Reset() },
		counts: func(testing.TB) (int, int, int) {
			st := srv.Stats()
			return st.Requests, st.Unauthorized, st.Logins
		},
		seed: func(t testing.TB, table string, rows []map[string]any) {
			items := make([]any, len(rows))
			for i, r := range rows {
				items[i] = r
			}
			require.NoError(t, srv.Seed(table, items...))
		},
		rotate: func(testing.TB) { srv.RotateKey() },
	}
}

// step is what one operation showed.
type step struct {
	Name         string
	Status       int              // 0: success; else the HTTP status (-1: another error)
	Rows         []map[string]any // normalized
	Count        int64            // Page.TotalCount, or -1
	Requests     int
	Unauthorized int
	Logins       int
}

type recorder struct {
	t     testing.TB
	b     backend
	steps []step
}

// result is what an operation returns for the transcript.
type result struct {
	rows    []map[string]any
	count   int64
	ordered bool // rows are in a defined order; else they are sorted by id
	genID   bool // ids were made by the server: compare them as "<generated>"
}

func (r *recorder) do(name string, f func() (result, error)) {
	r.t.Helper()
	r.b.reset(r.t)
	res, err := f()
	st := step{Name: name, Status: statusOf(err), Count: -1}
	if err == nil {
		st.Count = res.count
	}
	// The item a 409 or 412 carries is part of the answer.
	var ce *zumo.ConflictError[map[string]any]
	var pf *zumo.PreconditionFailedError[map[string]any]
	switch {
	case errors.As(err, &ce) && ce.HasItem:
		res.rows = []map[string]any{ce.Item}
	case errors.As(err, &pf) && pf.HasItem:
		res.rows = []map[string]any{pf.Item}
	}
	if st.Status == -1 {
		st.Name += ": " + err.Error()
	}
	for _, row := range res.rows {
		st.Rows = append(st.Rows, normalize(row, res.genID))
	}
	if !res.ordered {
		sort.SliceStable(st.Rows, func(i, j int) bool { return fmt.Sprint(st.Rows[i]["id"]) < fmt.Sprint(st.Rows[j]["id"]) })
	}
	st.Requests, st.Unauthorized, st.Logins = r.b.counts(r.t)
	r.steps = append(r.steps, st)
}

// normalize drops what legitimately differs between two servers.
func normalize(row map[string]any, genID bool) map[string]any {
	out := maps.Clone(row)
	delete(out, "version")
	delete(out, "createdAt")
	delete(out, "updatedAt")
	if id, ok := out["id"].(string); ok && (genID || guid.MatchString(id)) {
		out["id"] = "<generated>"
	}
	return out
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// String renders a step one row a line, for readable diffs.
func (s step) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nstatus=%d count=%d requests=%d unauthorized=%d logins=%d rows=%d\n",
		s.Name, s.Status, s.Count, s.Requests, s.Unauthorized, s.Logins, len(s.Rows))
	for _, r := range s.Rows {
		j, _ := json.Marshal(r)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func rowsOf(l []map[string]any, err error) (result, error) {
	return result{rows: l, count: -1}, err
}

func orderedRows(l []map[string]any, err error) (result, error) {
	return result{rows: l, count: -1, ordered: true}, err
}

// noRow keeps only the error of a call that also returns a row.
func noRow(_ map[string]any, err error) (result, error) { return rowsOf(nil, err) }

func oneRow(m map[string]any, err error) (result, error) {
	if err != nil {
		return result{count: -1}, err
	}
	return result{rows: []map[string]any{m}, count: -1}, nil
}

func pageOf(p *zumo.Page[map[string]any], err error) (result, error) {
	if err != nil {
		return result{count: -1}, err
	}
	return result{rows: p.Items, count: p.TotalCount, ordered: true}, nil
}

func allOf(q zumo.Query[map[string]any]) (result, error) {
	var l []map[string]any
	for it, err := range q.All(context.Background()) {
		if err != nil {
			return result{count: -1}, err
		}
		l = append(l, it)
	}
	return result{rows: l, count: -1, ordered: true}, nil
}

// diffRow is a todoitem row with every declared column, so that both
// servers return the same keys (the official server returns declared
// columns an insert did not set as null; zumotest has no schema).
func diffRow(id, text string, complete bool, priority int, due string, category string) map[string]any {
	row := map[string]any{"text": text, "complete": complete, "priority": priority, "due": nil, "category": category}
	if id != "" {
		row["id"] = id
	}
	if due != "" {
		row["due"] = due
	}
	return row
}

// diffRows are the rows of the query part of the scenario.
func diffRows() []map[string]any {
	texts := []string{"Alpha", "beta", "Gamma", "delta", "EPSILON", "zeta", "O'Brien", "ünïcødé 日本", "a b&c=d", "eta", "Zulu", "alpha"}
	var rows []map[string]any
	for i := 0; i < 36; i++ {
		due := ""
		if i%4 != 0 {
			due = time.Date(2024, 3, 1+i%28, i%24, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
		}
		rows = append(rows, diffRow(fmt.Sprintf("d%02d", i), texts[i%len(texts)], i%3 == 0, (i*7)%10, due, []string{"red", "green", "blue"}[i%3]))
	}
	return rows
}

// scenario runs the operations of the differential test on one backend.
func scenario(t *testing.T, b backend) []step {
	ctx := context.Background()
	c, err := zumo.NewClient(b.url)
	require.NoError(t, err)
	tbl := c.Table("todoitem")
	r := &recorder{t: t, b: b}

	// --- writes
	rows := diffRows()
	for _, row := range rows {
		_, err := tbl.Insert(ctx, row)
		require.NoError(t, err, "%s: insert", b.name)
	}
	r.do("duplicate insert", func() (result, error) { return oneRow(tbl.Insert(ctx, diffRow("d01", "dup", true, 5, "", "x"))) })
	r.do("insert with system properties (stripped by the SDK)", func() (result, error) {
		row := diffRow("sys", "sys", false, 0, "", "none")
		row["createdAt"], row["updatedAt"], row["deleted"], row["version"] = "2000-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z", true, "AAAA"
		return oneRow(tbl.Insert(ctx, row))
	})
	r.do("insert odd id", func() (result, error) {
		return oneRow(tbl.Insert(ctx, diffRow("a/b?c#d ünï", "odd", false, 0, "", "none")))
	})
	r.do("lookup odd id", func() (result, error) { return oneRow(tbl.Lookup(ctx, "a/b?c#d ünï")) })
	r.do("lookup", func() (result, error) { return oneRow(tbl.Lookup(ctx, "d02")) })
	r.do("lookup missing", func() (result, error) { return oneRow(tbl.Lookup(ctx, "nope")) })

	cur, err := tbl.Lookup(ctx, "d03")
	require.NoError(t, err)
	upd := maps.Clone(cur)
	upd["text"], upd["priority"] = "updated", 42
	r.do("update with If-Match", func() (result, error) { return oneRow(tbl.Update(ctx, upd)) })
	r.do("update with a stale version", func() (result, error) {
		stale := maps.Clone(cur)
		stale["text"] = "stale"
		return oneRow(tbl.Update(ctx, stale))
	})
	r.do("partial update without version", func() (result, error) {
		return oneRow(tbl.Update(ctx, map[string]any{"id": "d03", "complete": true}))
	})
	r.do("update missing", func() (result, error) { return oneRow(tbl.Update(ctx, map[string]any{"id": "nope", "text": "x"})) })
	r.do("delete with a stale version", func() (result, error) { return noRow(tbl.Delete(ctx, cur)) })
	r.do("delete", func() (result, error) { return noRow(tbl.Delete(ctx, map[string]any{"id": "d03"})) })
	r.do("lookup deleted", func() (result, error) { return oneRow(tbl.Lookup(ctx, "d03")) })
	r.do("update deleted", func() (result, error) { return oneRow(tbl.Update(ctx, map[string]any{"id": "d03", "text": "x"})) })
	r.do("delete deleted", func() (result, error) { return noRow(tbl.Delete(ctx, map[string]any{"id": "d03"})) })
	r.do("duplicate insert of a deleted id", func() (result, error) { return oneRow(tbl.Insert(ctx, diffRow("d03", "again", false, 0, "", "x"))) })
	byID := tbl.Where(zumo.Field("id").Eq("d03"))
	r.do("list hides deleted", func() (result, error) { return rowsOf(byID.ToSlice(ctx)) })
	r.do("IncludeDeleted", func() (result, error) { return rowsOf(byID.IncludeDeleted().ToSlice(ctx)) })
	for _, v := range []string{"", "false", "0", "true"} {
		r.do("__includeDeleted="+v, func() (result, error) { return rowsOf(byID.Param("__includeDeleted", v).ToSlice(ctx)) })
	}
	r.do("count with deleted", func() (result, error) {
		return pageOf(tbl.Query().IncludeDeleted().IncludeTotalCount().Take(1).OrderBy("id").Page(ctx))
	})
	r.do("undelete", func() (result, error) { return oneRow(tbl.Undelete(ctx, map[string]any{"id": "d03"})) })
	r.do("undelete missing", func() (result, error) { return oneRow(tbl.Undelete(ctx, map[string]any{"id": "nope"})) })
	r.do("lookup undeleted", func() (result, error) { return oneRow(tbl.Lookup(ctx, "d03")) })
	_, err = tbl.Delete(ctx, map[string]any{"id": "d05"})
	require.NoError(t, err)

	// --- queries (the rows d00…d35, d03 updated, d05 deleted, and a few more)
	march := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	plus7 := time.FixedZone("+07", 7*3600)
	f := func(name string, e zumo.Expr) {
		r.do("filter "+name, func() (result, error) { return rowsOf(tbl.Where(e).ToSlice(ctx)) })
	}
	f("eq", zumo.Field("priority").Eq(4))
	f("ne", zumo.Field("category").Ne("red"))
	f("gt", zumo.Field("priority").Gt(6))
	f("ge", zumo.Field("priority").Ge(6))
	f("lt", zumo.Field("priority").Lt(2))
	f("le", zumo.Field("priority").Le(2))
	f("float", zumo.Field("priority").Gt(4.5))
	f("float32", zumo.Field("priority").Lt(float32(1.5)))
	f("int64", zumo.Field("priority").Eq(int64(7)))
	f("decimal", zumo.Field("priority").Ge(zumo.Decimal("8.5")))
	f("and", zumo.Field("complete").Eq(false).And(zumo.Field("priority").Ge(5)))
	f("or", zumo.Or(zumo.Field("priority").Eq(0), zumo.Field("category").Eq("blue")))
	f("and/or nested", zumo.And(zumo.Or(zumo.Field("priority").Eq(1), zumo.Field("priority").Eq(2)), zumo.Not(zumo.Field("complete"))))
	f("not", zumo.Not(zumo.Field("priority").Lt(5)))
	f("bare bool", zumo.Field("complete"))
	f("not bool", zumo.Not(zumo.Field("complete")))
	f("bool eq", zumo.Field("complete").Eq(true))
	f("bool ne", zumo.Field("complete").Ne(true))
	f("null", zumo.Field("due").Eq(nil))
	f("not null", zumo.Field("due").Ne(nil))
	f("add", zumo.Field("priority").Add(1).Gt(5))
	f("sub", zumo.Field("priority").Sub(1).Eq(0))
	f("mul", zumo.Field("priority").Mul(2).Eq(8))
	f("div", zumo.Field("priority").Div(4).Ge(2)) // the same with integer or float division
	f("tolower", zumo.ToLower(zumo.Field("text")).Eq("alpha"))
	f("toupper", zumo.ToUpper(zumo.Field("text")).Eq("ZETA"))
	f("quote", zumo.Field("text").Eq("O'Brien"))
	f("unicode", zumo.Field("text").Eq("ünïcødé 日本"))
	f("url characters", zumo.Field("text").Eq("a b&c=d"))
	f("string gt", zumo.Field("text").Gt("beta"))
	f("datetime gt", zumo.Field("due").Gt(march(10)))
	f("datetime le", zumo.Field("due").Le(march(5)))
	f("datetime eq", zumo.Field("due").Eq(time.Date(2024, 3, 2, 1, 0, 0, 0, time.UTC)))
	f("datetimeoffset", zumo.Field("due").Lt(zumo.DateTimeOffset(march(8).In(plus7))))
	f("createdAt", zumo.Field("createdAt").Gt(zumo.DateTimeOffset(time.Now().Add(-time.Hour).In(plus7))))
	f("updatedAt in the future", zumo.Field("updatedAt").Gt(time.Now().Add(time.Hour).UTC()))
	f("deleted eq false", zumo.Field("deleted").Eq(false))
	f("id", zumo.Field("id").Eq("d07"))
	f("unknown column", zumo.Field("nosuch").Eq("x"))
	f("raw", zumo.Raw("((priority ge 8) and (complete eq true))"))

	o := func(name string, q zumo.Query[map[string]any]) {
		r.do("order "+name, func() (result, error) { return orderedRows(q.ToSlice(ctx)) })
	}
	q := tbl.Query()
	o("priority, id", q.OrderBy("priority").ThenBy("id"))
	o("priority desc, id desc", q.OrderByDescending("priority").ThenByDescending("id"))
	o("category, complete desc, priority, id", q.OrderBy("category").ThenByDescending("complete").ThenBy("priority").ThenBy("id"))
	o("text, id", q.OrderBy("text").ThenBy("id"))
	o("due, id (nulls)", q.OrderBy("due").ThenBy("id"))
	o("due desc, id (nulls)", q.OrderByDescending("due").ThenBy("id"))
	o("later OrderBy is primary", q.OrderBy("id").OrderBy("priority"))
	o("skip/take", q.OrderBy("priority").ThenBy("id").Skip(5).Take(7))
	o("skip past the end", q.OrderBy("id").Skip(500))
	o("take 0", q.OrderBy("id").Take(0))
	o("take above the page size", q.OrderBy("id").Take(60))
	o("select", q.OrderBy("id").Select("id", "text", "priority"))
	o("select a system column", q.OrderBy("id").Select("id", "deleted").IncludeDeleted())
	o("filter, order, page", tbl.Where(zumo.Field("complete").Eq(false)).OrderByDescending("priority").ThenBy("id").Skip(3).Take(4))
	o("user parameters", q.OrderBy("id").Param("mode", "x y").Param("lang", "ünï").Take(3))
	r.do("count", func() (result, error) {
		return pageOf(tbl.Where(zumo.Field("complete").Eq(false)).OrderBy("id").Take(5).IncludeTotalCount().Page(ctx))
	})
	r.do("count beyond the rows", func() (result, error) {
		return pageOf(q.OrderBy("id").Skip(1000).IncludeTotalCount().Page(ctx))
	})
	r.do("no count", func() (result, error) { return pageOf(q.OrderBy("id").Take(2).Page(ctx)) })
	r.do("$top above the maximum", func() (result, error) { return rowsOf(q.Take(1001).ToSlice(ctx)) })
	r.do("unknown table", func() (result, error) { return rowsOf(c.Table("nosuchtable").ToSlice(ctx)) })
	r.do("unknown API", func() (result, error) {
		_, err := zumo.InvokeAPI[json.RawMessage](ctx, c, "nosuchapi", nil)
		return result{count: -1}, err
	})

	// Last, so that its random id does not move it around in lists ordered by id.
	r.do("insert without id", func() (result, error) {
		m, err := tbl.Insert(ctx, diffRow("", "server id", false, 1, "", "none"))
		res, err := oneRow(m, err)
		res.genID = true
		return res, err
	})

	// --- paging through 1,234 rows (seeded in bulk, outside the SDK)
	const n = 1234
	big := make([]map[string]any, n)
	for i := range big {
		big[i] = diffRow(fmt.Sprintf("p%05d", i), fmt.Sprint("row ", i), i%2 == 1, i%17, "", "paging")
	}
	b.seed(t, "todoitem", big)
	pq := tbl.Where(zumo.Field("category").Eq("paging")).OrderBy("priority").ThenBy("id")
	r.do("All", func() (result, error) { return allOf(pq) })
	r.do("All with a filter", func() (result, error) { return allOf(pq.Where(zumo.Field("complete"))) })
	r.do("All, Take 1100", func() (result, error) { return allOf(pq.Take(1100)) })
	r.do("All, Take beyond the end", func() (result, error) { return allOf(pq.Take(5000)) })
	r.do("All, Skip and Take", func() (result, error) { return allOf(pq.Skip(10).Take(1100)) })
	r.do("All, full last page", func() (result, error) { return allOf(pq.Where(zumo.Field("id").Lt("p00100"))) })
	r.do("ToSlice, Take 1000", func() (result, error) { return orderedRows(pq.Take(1000).ToSlice(ctx)) })
	r.do("ToSlice, no Take", func() (result, error) { return orderedRows(pq.ToSlice(ctx)) })

	// --- authentication
	anon := zumo.GetTable[SecretItem](c, "secretitem")
	r.do("authenticated table without a token", func() (result, error) { return rowsOf(nil, errOnly(anon.ToSlice(ctx))) })
	lc, err := zumo.NewClient(b.url, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	require.NoError(t, err)
	secrets := lc.Table("secretitem")
	r.do("first request logs in", func() (result, error) {
		return oneRow(secrets.Insert(ctx, map[string]any{"id": "s1", "text": "secret"}))
	})
	r.do("then no login", func() (result, error) { return rowsOf(secrets.ToSlice(ctx)) })
	b.rotate(t)
	r.do("after the key changed: one 401, one login", func() (result, error) { return oneRow(secrets.Lookup(ctx, "s1")) })
	r.do("and the data is kept", func() (result, error) { return rowsOf(secrets.ToSlice(ctx)) })
	bad, err := zumo.NewClient(b.url, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, "wrong")))
	require.NoError(t, err)
	r.do("wrong password", func() (result, error) { return rowsOf(bad.Table("secretitem").ToSlice(ctx)) })
	return r.steps
}

func errOnly[T any](_ T, err error) error { return err }

func TestDiffOfficialVsZumotest(t *testing.T) {
	sameTranscript(t, scenario(t, realBackend(t)), scenario(t, fakeBackend(t)), "zumotest")
}

// sameTranscript asserts that a stand-in (named by who) answered every
// step of the scenario as the official server did.
func sameTranscript(t *testing.T, official, standIn []step, who string) {
	t.Helper()
	require.Equal(t, len(official), len(standIn))
	for i := range official {
		o, f := official[i], standIn[i]
		if o.Name == "wrong password" {
			// The official server counts login attempts, the fake
			// successful logins: compare what both count.
			assert.Equal(t, 1, o.Logins)
			o.Logins = f.Logins
		}
		assert.Equal(t, o.String(), f.String(), "step %d %q: official (expected) vs %s (actual)", i, o.Name, who)
	}
}

// TestDiffDocumentedDifferences pins each difference that zumotest's
// package documentation lists (and that the SDK can observe), on both
// servers: when one goes away, the documentation must change.
func TestDiffDocumentedDifferences(t *testing.T) {
	ctx := context.Background()
	official, fake := realBackend(t), fakeBackend(t)
	type outcome struct {
		status int
		ids    []string
		link   string
	}
	run := func(b backend, f func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error)) outcome {
		c, err := zumo.NewClient(b.url)
		require.NoError(t, err)
		tbl := c.Table("todoitem")
		p, err := f(tbl)
		o := outcome{status: statusOf(err)}
		if err == nil {
			for _, it := range p.Items {
				o.ids = append(o.ids, it["id"].(string))
			}
			o.link = p.NextLink
		}
		return o
	}
	for _, b := range []backend{official, fake} {
		c, err := zumo.NewClient(b.url)
		require.NoError(t, err)
		for _, row := range []map[string]any{
			diffRow("a", "Apple", false, 1, "", "fruit"),
			diffRow("b", "banana", true, 2, "", "fruit"),
			diffRow("c", "cherry", false, 3, "", "fruit"),
			diffRow("d", "ÜBER", false, 5, "", "fruit"),
		} {
			_, err := c.Table("todoitem").Insert(ctx, row)
			require.NoError(t, err)
		}
	}
	where := func(e zumo.Expr) func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error) {
		return func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error) {
			return tbl.Where(e).OrderBy("id").Page(ctx)
		}
	}
	cases := []struct {
		name           string
		f              func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error)
		official, fake outcome
	}{
		{"a $filter that does not parse: 500, not 400", where(zumo.Raw("(text eq")),
			outcome{status: 500}, outcome{status: 400}},
		{"startswith matches nothing on sqlite", where(zumo.StartsWith(zumo.Field("text"), "ban")),
			outcome{}, outcome{ids: []string{"b"}}},
		{"endswith matches nothing on sqlite", where(zumo.EndsWith(zumo.Field("text"), "rry")),
			outcome{}, outcome{ids: []string{"c"}}},
		{"substringof matches nothing on sqlite", where(zumo.Contains(zumo.Field("text"), "nan")),
			outcome{}, outcome{ids: []string{"b"}}},
		{"indexof matches nothing on sqlite", where(zumo.IndexOf(zumo.Field("text"), "a").Eq(1)),
			outcome{}, outcome{ids: []string{"b"}}},
		{"mod matches nothing on sqlite", where(zumo.Field("priority").Mod(2).Eq(1)),
			outcome{}, outcome{ids: []string{"a", "c", "d"}}},
		{"length is a 500 on sqlite", where(zumo.Length(zumo.Field("text")).Eq(5)),
			outcome{status: 500}, outcome{ids: []string{"a"}}},
		{"year is a 500 on sqlite", where(zumo.Year(zumo.Field("createdAt")).Gt(2000)),
			outcome{status: 500}, outcome{ids: []string{"a", "b", "c", "d"}}},
		{"div is float division on the official server (numbers are floats there)", where(zumo.Field("priority").Div(2).Eq(1)),
			outcome{ids: []string{"b"}}, outcome{ids: []string{"b", "c"}}},
		{"tolower/toupper change ASCII letters only on sqlite", where(zumo.ToLower(zumo.Field("text")).Eq("über")),
			outcome{}, outcome{ids: []string{"d"}}},
		{"(nosuch eq null) matches nothing on the official server", where(zumo.Field("nosuch").Eq(nil)),
			outcome{}, outcome{ids: []string{"a", "b", "c", "d"}}},
		{"column names: case-insensitive on sqlite", where(zumo.Field("Priority").Eq(2)),
			outcome{ids: []string{"b"}}, outcome{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.official, run(official, tc.f), "official")
			assert.Equal(t, tc.fake, run(fake, tc.f), "zumotest")
		})
	}

	// The official server has a schema: every row has every column (null
	// when not set), declared or added by dynamic schema; a zumotest row has
	// the properties written to it.
	t.Run("columns", func(t *testing.T) {
		keys := func(b backend) ([]string, []string) {
			c, err := zumo.NewClient(b.url)
			require.NoError(t, err)
			tbl := c.Table("todoitem")
			ins, err := tbl.Insert(ctx, map[string]any{"id": "cols", "text": "only text", "extra": "dynamic"})
			require.NoError(t, err)
			old, err := tbl.Lookup(ctx, "a")
			require.NoError(t, err)
			return slices.Sorted(maps.Keys(ins)), slices.Sorted(maps.Keys(old))
		}
		ins, old := keys(official)
		assert.Equal(t, []string{"category", "complete", "createdAt", "deleted", "due", "extra", "id", "priority", "text", "updatedAt", "version"}, ins)
		assert.Equal(t, ins, old, "official: the new column is null in older rows")
		ins, old = keys(fake)
		assert.Equal(t, []string{"createdAt", "deleted", "extra", "id", "text", "updatedAt", "version"}, ins)
		assert.Equal(t, []string{"category", "complete", "createdAt", "deleted", "due", "id", "priority", "text", "updatedAt", "version"}, old)
	})

	// Link headers: the official server's is broken (no port, path "/", no
	// brackets) and also comes when the client's $top was satisfied;
	// zumotest's is correct and comes only when rows the client asked for
	// remain.
	t.Run("Link", func(t *testing.T) {
		full := func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error) {
			return tbl.Query().OrderBy("id").Take(2).Page(ctx)
		}
		o := run(official, full)
		assert.Equal(t, []string{"a", "b"}, o.ids)
		lu, err := url.Parse(o.link)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", lu.Host)
		assert.Equal(t, "/", lu.Path)
		assert.Equal(t, outcome{ids: []string{"a", "b"}}, run(fake, full), "zumotest: no link, $top=2 was satisfied")

		// A page of the page size: both send a link, in their own form.
		var rows []map[string]any
		for i := 0; i < 60; i++ {
			rows = append(rows, diffRow(fmt.Sprintf("l%02d", i), "link", false, i, "", "link"))
		}
		official.seed(t, "todoitem", rows)
		fake.seed(t, "todoitem", rows)
		page := func(tbl *zumo.JSONTable) (*zumo.Page[map[string]any], error) {
			return tbl.Where(zumo.Field("category").Eq("link")).OrderBy("id").Page(ctx)
		}
		o = run(official, page)
		assert.Len(t, o.ids, 50)
		assert.Equal(t, "http://127.0.0.1/?%24filter=(category%20eq%20'link')&%24orderby=id&%24top=50&%24skip=50", o.link)
		f := run(fake, page)
		assert.Equal(t, o.ids, f.ids)
		fu, err := url.Parse(f.link)
		require.NoError(t, err)
		assert.Equal(t, strings.TrimPrefix(strings.TrimSuffix(fake.url, "/"), "http://"), fu.Host)
		assert.Equal(t, "/tables/todoitem", fu.Path)
		assert.Equal(t, "50", fu.Query().Get("$skip"))
		assert.Equal(t, "(category eq 'link')", fu.Query().Get("$filter"))
	})
}
