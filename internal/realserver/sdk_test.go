//go:build integration

package realserver_test

// The zumo SDK against the official azure-mobile-apps server: typed and
// untyped tables, every query feature the server supports on sqlite, paging
// past its broken Link headers, and custom APIs. Every scenario checks the
// server's own counters, not only the absence of an error.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/internal/realserver"
)

// TodoItem is the typed item of the todoitem table (server.js declares its
// columns text, complete, priority, due and category).
type TodoItem struct {
	ID        string     `json:"id,omitempty"`
	Text      string     `json:"text"`
	Complete  bool       `json:"complete"`
	Priority  int        `json:"priority"`
	Category  string     `json:"category,omitempty"`
	Due       *time.Time `json:"due,omitempty"`
	Version   string     `json:"version,omitempty"`
	CreatedAt time.Time  `json:"createdAt,omitzero"`
	UpdatedAt time.Time  `json:"updatedAt,omitzero"`
	Deleted   bool       `json:"deleted,omitempty"`
}

// newSDK returns a zumo client for s.
func newSDK(t testing.TB, s *realserver.Server, opts ...zumo.Option) *zumo.Client {
	t.Helper()
	c, err := zumo.NewClient(s.URL, opts...)
	require.NoError(t, err)
	return c
}

// counters reads the server's counters.
func counters(t testing.TB, s *realserver.Server) realserver.Counters {
	t.Helper()
	c, err := s.Counters(context.Background())
	require.NoError(t, err)
	return c
}

// resetCounters zeroes the server's counters.
func resetCounters(t testing.TB, s *realserver.Server) {
	t.Helper()
	require.NoError(t, s.ResetCounters(context.Background()))
}

// expectCounters checks the counters since the last reset.
func expectCounters(t testing.TB, s *realserver.Server, want realserver.Counters, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, want, counters(t, s), msgAndArgs...)
}

// requests is Counters with only Requests set: the common expectation of
// an anonymous scenario (no login, no refresh, no 401).
func requests(n int) realserver.Counters { return realserver.Counters{Requests: n} }

// statusOf returns the HTTP status of a *zumo.Error in err, 0 for nil and
// -1 for another error.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	var ze *zumo.Error
	if errors.As(err, &ze) {
		return ze.StatusCode
	}
	return -1
}

// parallel runs f(i) for i in [0,n) on up to workers goroutines and returns
// the errors, in index order (nil for success).
func parallel(n, workers int, f func(i int) error) []error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

// noErrors fails the test for the first non-nil error.
func noErrors(t testing.TB, errs []error) {
	t.Helper()
	for i, err := range errs {
		require.NoError(t, err, "operation %d", i)
	}
}

// seedTodos inserts items through the SDK's untyped table, 16 at a time.
func seedTodos(t testing.TB, c *zumo.Client, items []map[string]any) {
	t.Helper()
	tbl := c.Table("todoitem")
	ctx := context.Background()
	noErrors(t, parallel(len(items), 16, func(i int) error {
		_, err := tbl.Insert(ctx, items[i])
		return err
	}))
}

// ---------------------------------------------------------------------------
// 1. CRUD

func TestSDKTypedCRUD(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	todos := zumo.GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	// Insert without an id: the server makes one and fills the system
	// properties; the version is the strong ETag's.
	resetCounters(t, s)
	before := time.Now().Add(-time.Minute)
	ins, err := todos.Insert(ctx, TodoItem{Text: "buy milk", Priority: 3})
	require.NoError(t, err)
	require.NotEmpty(t, ins.ID, "server-made id")
	assert.Equal(t, "buy milk", ins.Text)
	assert.Equal(t, 3, ins.Priority)
	assert.Equal(t, "MQ==", ins.Version, "sqlite's first version, from the ETag")
	assert.True(t, ins.CreatedAt.After(before), "createdAt %v", ins.CreatedAt)
	assert.True(t, ins.UpdatedAt.After(before), "updatedAt %v", ins.UpdatedAt)
	assert.False(t, ins.Deleted)
	expectCounters(t, s, requests(1))

	// Lookup.
	resetCounters(t, s)
	got, err := todos.Lookup(ctx, ins.ID)
	require.NoError(t, err)
	assert.Equal(t, ins, got)
	expectCounters(t, s, requests(1))

	// Update with If-Match → a new version.
	resetCounters(t, s)
	upd := got
	upd.Complete = true
	upd.Text = "buy oat milk"
	upd, err = todos.Update(ctx, upd)
	require.NoError(t, err)
	assert.True(t, upd.Complete)
	assert.Equal(t, "buy oat milk", upd.Text)
	assert.NotEqual(t, ins.Version, upd.Version)
	assert.NotEmpty(t, upd.Version)
	assert.False(t, upd.UpdatedAt.Before(ins.UpdatedAt))
	assert.Equal(t, ins.CreatedAt, upd.CreatedAt)
	expectCounters(t, s, requests(1))

	// Stale update → 412 with the server's item and version, nothing changed.
	resetCounters(t, s)
	stale := got // still has the first version
	stale.Text = "lost update"
	_, err = todos.Update(ctx, stale)
	var pf *zumo.PreconditionFailedError[TodoItem]
	require.ErrorAs(t, err, &pf)
	assert.ErrorIs(t, err, zumo.ErrPreconditionFailed)
	require.True(t, pf.HasItem)
	assert.Equal(t, upd.Version, pf.Item.Version)
	assert.Equal(t, "buy oat milk", pf.Item.Text)
	assert.Equal(t, ins.ID, pf.Item.ID)
	assert.Equal(t, 412, pf.Err.StatusCode)
	// Resolving with the server's version succeeds.
	stale.Version = pf.Item.Version
	resolved, err := todos.Update(ctx, stale)
	require.NoError(t, err)
	assert.Equal(t, "lost update", resolved.Text)
	expectCounters(t, s, requests(2))

	// Stale delete → 412 as well.
	resetCounters(t, s)
	_, err = todos.Delete(ctx, upd) // upd's version is stale now
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, resolved.Version, pf.Item.Version)
	expectCounters(t, s, requests(1))

	// Duplicate insert → 409 with the request item echoed back.
	resetCounters(t, s)
	_, err = todos.Insert(ctx, TodoItem{ID: ins.ID, Text: "duplicate"})
	var ce *zumo.ConflictError[TodoItem]
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, zumo.ErrConflict)
	require.True(t, ce.HasItem)
	assert.False(t, ce.ServerCopy, "an echo of the request is not the server's copy")
	assert.Equal(t, "duplicate", ce.Item.Text, "the official server echoes the request item")
	assert.Equal(t, ins.ID, ce.Item.ID)
	expectCounters(t, s, requests(1))

	// Delete, then the lookup is a 404; IncludeDeleted lists it; undelete
	// brings it back.
	resetCounters(t, s)
	gone, err := todos.Delete(ctx, resolved)
	require.NoError(t, err)
	assert.True(t, gone.Deleted, "Delete returns the server's final copy")
	assert.NotEqual(t, resolved.Version, gone.Version)
	_, err = todos.Lookup(ctx, ins.ID)
	require.ErrorIs(t, err, zumo.ErrNotFound)
	assert.Equal(t, 404, statusOf(err))
	byID := todos.Where(zumo.Field("id").Eq(ins.ID))
	l, err := byID.ToSlice(ctx)
	require.NoError(t, err)
	assert.Empty(t, l, "deleted rows are hidden")
	l, err = byID.IncludeDeleted().ToSlice(ctx)
	require.NoError(t, err)
	require.Len(t, l, 1)
	assert.True(t, l[0].Deleted)
	assert.Equal(t, "lost update", l[0].Text)
	assert.Equal(t, gone.Version, l[0].Version)
	und, err := todos.Undelete(ctx, gone) // the value in hand
	require.NoError(t, err)
	assert.False(t, und.Deleted)
	assert.NotEqual(t, l[0].Version, und.Version)
	back, err := todos.Lookup(ctx, ins.ID)
	require.NoError(t, err)
	assert.Equal(t, und.Version, back.Version)
	assert.False(t, back.Deleted)
	// 6: ToSlice pages, but a page under 50 rows with no next link is the
	// last (the server links every page it cuts short), so the one-row
	// IncludeDeleted listing is one request.
	expectCounters(t, s, requests(6))

	// Undelete with a stale version → 412.
	resetCounters(t, s)
	_, err = todos.Undelete(ctx, l[0])
	require.ErrorAs(t, err, &pf)
	expectCounters(t, s, requests(1))

	// Refresh returns the server's copy.
	resetCounters(t, s)
	ref, err := todos.Refresh(ctx, TodoItem{ID: ins.ID})
	require.NoError(t, err)
	assert.Equal(t, back, ref)
	expectCounters(t, s, requests(1))
}

func TestSDKOddIDs(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	todos := zumo.GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	ids := []string{
		"with/slash",
		"with?question=mark&amp",
		"with#hash",
		"all/of?them#together",
		"spaces and %25 percent",
		"ünïcødé-日本語-🙂",
		"plus+sign;semi,colon",
	}
	resetCounters(t, s)
	for _, id := range ids {
		ins, err := todos.Insert(ctx, TodoItem{ID: id, Text: "text of " + id})
		require.NoError(t, err, "insert %q", id)
		assert.Equal(t, id, ins.ID)

		got, err := todos.Lookup(ctx, id)
		require.NoError(t, err, "lookup %q", id)
		assert.Equal(t, id, got.ID)
		assert.Equal(t, "text of "+id, got.Text)

		got.Priority = 9
		up, err := todos.Update(ctx, got)
		require.NoError(t, err, "update %q", id)
		assert.Equal(t, 9, up.Priority)

		l, err := todos.Where(zumo.Field("id").Eq(id)).ToSlice(ctx)
		require.NoError(t, err, "query %q", id)
		require.Len(t, l, 1, "query %q", id)
		assert.Equal(t, id, l[0].ID)

		_, err = todos.Delete(ctx, up)
		require.NoError(t, err, "delete %q", id)
		_, err = todos.Lookup(ctx, id)
		assert.ErrorIs(t, err, zumo.ErrNotFound, "lookup of deleted %q", id)
		_, err = todos.Undelete(ctx, TodoItem{ID: id})
		require.NoError(t, err, "undelete %q", id)
	}
	expectCounters(t, s, requests(7*len(ids)))
}

func TestSDKUntypedTable(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	tbl := c.Table("todoitem")
	ctx := context.Background()

	resetCounters(t, s)
	ins, err := tbl.Insert(ctx, map[string]any{"text": "untyped", "priority": 7, "complete": false, "extra": "dynamic"})
	require.NoError(t, err)
	id, _ := ins["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, "MQ==", ins["version"])
	assert.Equal(t, 7.0, ins["priority"])
	assert.Equal(t, "dynamic", ins["extra"], "dynamic schema adds the column")
	for _, k := range []string{"createdAt", "updatedAt", "deleted"} {
		assert.Contains(t, ins, k)
	}

	got, err := tbl.Lookup(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, ins, got)

	got["complete"] = true
	up, err := tbl.Update(ctx, got)
	require.NoError(t, err)
	assert.Equal(t, true, up["complete"])
	assert.NotEqual(t, ins["version"], up["version"])

	// Stale version → 412 with the server's map.
	_, err = tbl.Update(ctx, ins)
	var pf *zumo.PreconditionFailedError[map[string]any]
	require.ErrorAs(t, err, &pf)
	assert.Equal(t, up["version"], pf.Item["version"])

	// A map without system properties is sent without If-Match.
	_, err = tbl.Update(ctx, map[string]any{"id": id, "text": "no version"})
	require.NoError(t, err)

	_, err = tbl.Insert(ctx, map[string]any{"id": id, "text": "dup"})
	var ce *zumo.ConflictError[map[string]any]
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "dup", ce.Item["text"])

	gone, err := tbl.Delete(ctx, map[string]any{"id": id})
	require.NoError(t, err)
	assert.Equal(t, true, gone["deleted"])
	_, err = tbl.Lookup(ctx, id)
	assert.ErrorIs(t, err, zumo.ErrNotFound)
	und, err := tbl.Undelete(ctx, map[string]any{"id": id})
	require.NoError(t, err)
	assert.Equal(t, false, und["deleted"])
	assert.Equal(t, "no version", und["text"])
	expectCounters(t, s, requests(9))
}

// ---------------------------------------------------------------------------
// 2. Queries

// queryRow is the seed of the query tests.
type queryRow struct {
	id       string
	text     string
	complete bool
	priority int
	due      *time.Time
}

func queryRows() []queryRow {
	day := func(d int) *time.Time {
		t := time.Date(2024, 3, d, 12, 0, 0, 0, time.UTC)
		return &t
	}
	return []queryRow{
		{"q00", "Alpha", false, 1, day(1)},
		{"q01", "beta", true, 2, day(2)},
		{"q02", "Gamma", false, 3, nil},
		{"q03", "delta", true, 1, day(4)},
		{"q04", "EPSILON", false, 5, day(5)},
		{"q05", "zeta", false, 2, nil},
		{"q06", "O'Brien", true, 8, day(7)},
		{"q07", "ünïcødé 日本", false, 3, day(8)},
		{"q08", "a b&c=d", true, 9, day(9)},
		{"q09", "eta", false, 0, day(10)},
	}
}

func TestSDKQueries(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	todos := zumo.GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	cat := newID("query")
	rows := queryRows()
	items := make([]map[string]any, len(rows))
	for i, r := range rows {
		items[i] = map[string]any{"id": r.id, "text": r.text, "complete": r.complete, "priority": r.priority, "category": cat}
		if r.due != nil {
			items[i]["due"] = r.due.Format("2006-01-02T15:04:05.000Z")
		}
	}
	seedTodos(t, c, items)
	// A deleted row and rows of another category that no query may return.
	seedTodos(t, c, []map[string]any{{"id": "other", "text": "Alpha", "priority": 1, "category": "other"}})
	_, err := todos.Insert(ctx, TodoItem{ID: "gone", Text: "Alpha", Priority: 1, Category: cat})
	require.NoError(t, err)
	_, err = todos.Delete(ctx, TodoItem{ID: "gone"})
	require.NoError(t, err)

	base := todos.Where(zumo.Field("category").Eq(cat))
	byID := func(ids ...string) []string { return ids }
	ids := func(l []TodoItem) []string {
		out := make([]string, len(l))
		for i, it := range l {
			out[i] = it.ID
		}
		return out
	}
	where := func(pred func(queryRow) bool) []string {
		var out []string
		for _, r := range rows {
			if pred(r) {
				out = append(out, r.id)
			}
		}
		return out
	}
	march := func(d int) time.Time { return time.Date(2024, 3, d, 12, 0, 0, 0, time.UTC) }
	plus7 := time.FixedZone("+07", 7*3600)

	filters := []struct {
		name  string
		expr  zumo.Expr
		want  []string
		order bool // compare in order (the query has $orderby)
	}{
		{"eq", zumo.Field("priority").Eq(2), where(func(r queryRow) bool { return r.priority == 2 }), false},
		{"ne", zumo.Field("priority").Ne(2), where(func(r queryRow) bool { return r.priority != 2 }), false},
		{"gt", zumo.Field("priority").Gt(3), where(func(r queryRow) bool { return r.priority > 3 }), false},
		{"ge", zumo.Field("priority").Ge(3), where(func(r queryRow) bool { return r.priority >= 3 }), false},
		{"lt", zumo.Field("priority").Lt(2), where(func(r queryRow) bool { return r.priority < 2 }), false},
		{"le", zumo.Field("priority").Le(2), where(func(r queryRow) bool { return r.priority <= 2 }), false},
		{"float literal", zumo.Field("priority").Gt(2.5), where(func(r queryRow) bool { return float64(r.priority) > 2.5 }), false},
		{"int64 literal", zumo.Field("priority").Eq(int64(3)), where(func(r queryRow) bool { return r.priority == 3 }), false},
		{"and", zumo.Field("complete").Eq(false).And(zumo.Field("priority").Ge(3)), where(func(r queryRow) bool { return !r.complete && r.priority >= 3 }), false},
		{"or", zumo.Or(zumo.Field("priority").Eq(0), zumo.Field("priority").Eq(9)), where(func(r queryRow) bool { return r.priority == 0 || r.priority == 9 }), false},
		{"not", zumo.Not(zumo.Field("priority").Lt(5)), where(func(r queryRow) bool { return !(r.priority < 5) }), false},
		{"bare bool", zumo.Field("complete"), where(func(r queryRow) bool { return r.complete }), false},
		{"not bool", zumo.Not(zumo.Field("complete")), where(func(r queryRow) bool { return !r.complete }), false},
		{"bool eq true", zumo.Field("complete").Eq(true), where(func(r queryRow) bool { return r.complete }), false},
		{"null", zumo.Field("due").Eq(nil), where(func(r queryRow) bool { return r.due == nil }), false},
		{"not null", zumo.Field("due").Ne(nil), where(func(r queryRow) bool { return r.due != nil }), false},
		{"add", zumo.Field("priority").Add(1).Gt(3), where(func(r queryRow) bool { return r.priority+1 > 3 }), false},
		{"sub", zumo.Field("priority").Sub(1).Eq(0), where(func(r queryRow) bool { return r.priority-1 == 0 }), false},
		{"mul", zumo.Field("priority").Mul(2).Eq(4), where(func(r queryRow) bool { return r.priority*2 == 4 }), false},
		{"tolower", zumo.ToLower(zumo.Field("text")).Eq("alpha"), byID("q00"), false},
		{"toupper", zumo.ToUpper(zumo.Field("text")).Eq("EPSILON"), byID("q04"), false},
		{"quote in string", zumo.Field("text").Eq("O'Brien"), byID("q06"), false},
		{"unicode string", zumo.Field("text").Eq("ünïcødé 日本"), byID("q07"), false},
		{"url characters in string", zumo.Field("text").Eq("a b&c=d"), byID("q08"), false},
		{"datetime", zumo.Field("due").Gt(march(5)), where(func(r queryRow) bool { return r.due != nil && r.due.After(march(5)) }), false},
		{"datetime eq", zumo.Field("due").Eq(march(4)), byID("q03"), false},
		{"datetimeoffset", zumo.Field("due").Le(zumo.DateTimeOffset(march(4).In(plus7))), where(func(r queryRow) bool { return r.due != nil && !r.due.After(march(4)) }), false},
		{"createdAt datetimeoffset", zumo.Field("createdAt").Gt(zumo.DateTimeOffset(time.Now().Add(-time.Hour).In(plus7))), where(func(queryRow) bool { return true }), false},
		{"raw", zumo.Raw("((priority ge 8) and (complete eq true))"), byID("q06", "q08"), false},
	}
	resetCounters(t, s)
	for _, f := range filters {
		got, err := base.Where(f.expr).ToSlice(ctx)
		require.NoError(t, err, "%s", f.name)
		g := ids(got)
		if !f.order {
			sort.Strings(g)
		}
		assert.Equal(t, f.want, g, "%s: %s", f.name, f.expr)
	}
	expectCounters(t, s, requests(len(filters)))

	// Ordering, several keys, paging, projection, counts, parameters.
	sorted := func(less func(a, b queryRow) int) []string {
		rs := slices.Clone(rows)
		slices.SortStableFunc(rs, less)
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.id
		}
		return out
	}
	cmpBool := func(a, b bool) int {
		switch {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	}
	byPrioThenID := sorted(func(a, b queryRow) int {
		if a.priority != b.priority {
			return a.priority - b.priority
		}
		return strings.Compare(a.id, b.id)
	})
	resetCounters(t, s)
	orders := []struct {
		name string
		q    zumo.Query[TodoItem]
		want []string
	}{
		{"priority, id", base.OrderBy("priority").ThenBy("id"), byPrioThenID},
		{"priority desc, id desc", base.OrderByDescending("priority").ThenByDescending("id"), reversed(byPrioThenID)},
		{"complete, priority desc, id", base.OrderBy("complete").ThenByDescending("priority").ThenBy("id"), sorted(func(a, b queryRow) int {
			if c := cmpBool(a.complete, b.complete); c != 0 {
				return c
			}
			if a.priority != b.priority {
				return b.priority - a.priority
			}
			return strings.Compare(a.id, b.id)
		})},
		// A later OrderBy becomes the primary key.
		{"OrderBy(id).OrderBy(priority)", base.OrderBy("id").OrderBy("priority"), byPrioThenID},
		{"skip/take", base.OrderBy("priority").ThenBy("id").Skip(2).Take(3), byPrioThenID[2:5]},
		{"skips add up", base.OrderBy("priority").ThenBy("id").Skip(1).Skip(2).Take(3), byPrioThenID[3:6]},
		{"smallest take wins", base.OrderBy("priority").ThenBy("id").Take(6).Take(2), byPrioThenID[:2]},
		{"skip past the end", base.OrderBy("id").Skip(50), []string{}},
		// The server reads $top=0 as "a default page"; Take is the caller's
		// limit all the same, and ToSlice sends nothing for it.
		{"take 0 is nothing", base.OrderBy("priority").ThenBy("id").Take(0), []string{}},
	}
	for _, o := range orders {
		got, err := o.q.ToSlice(ctx)
		require.NoError(t, err, "%s", o.name)
		assert.Equal(t, o.want, nonNil(ids(got)), "%s", o.name)
	}
	expectCounters(t, s, requests(len(orders)-1), "one request each, none for Take(0)")

	// Select: only the listed columns come back.
	resetCounters(t, s)
	sel, err := base.OrderBy("id").Select("id", "text").ToSlice(ctx)
	require.NoError(t, err)
	require.Len(t, sel, len(rows))
	for i, it := range sel {
		assert.Equal(t, TodoItem{ID: rows[i].id, Text: rows[i].text}, it)
	}
	raw, err := c.Table("todoitem").Where(zumo.Field("id").Eq("q01")).Select("text", "priority").ToSlice(ctx)
	require.NoError(t, err)
	require.Len(t, raw, 1)
	assert.Equal(t, map[string]any{"text": "beta", "priority": 2.0}, raw[0])
	expectCounters(t, s, requests(2))

	// IncludeTotalCount: the count before paging.
	resetCounters(t, s)
	p, err := base.Where(zumo.Field("complete").Eq(false)).OrderBy("priority").ThenBy("id").Take(2).IncludeTotalCount().Page(ctx)
	require.NoError(t, err)
	wantOpen := where(func(r queryRow) bool { return !r.complete })
	assert.EqualValues(t, len(wantOpen), p.TotalCount)
	require.Len(t, p.Items, 2)
	assert.Equal(t, "q09", p.Items[0].ID) // priority 0
	assert.Equal(t, "q00", p.Items[1].ID) // priority 1
	assert.NotEmpty(t, p.NextLink, "a full page gets a (broken) next link")
	p, err = base.Take(3).Page(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, -1, p.TotalCount, "no count asked")
	// IncludeDeleted with the count: the deleted row counts too.
	p, err = base.IncludeDeleted().IncludeTotalCount().Page(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, len(rows)+1, p.TotalCount)
	assert.Len(t, p.Items, len(rows)+1)
	expectCounters(t, s, requests(3))

	// User parameters are sent (and ignored by the server), and kept in the
	// server's Link.
	resetCounters(t, s)
	p, err = base.OrderBy("id").Param("mode", "a b&c").Param("lang", "ünï").Take(2).Page(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"q00", "q01"}, ids(p.Items))
	lu, err := url.Parse(p.NextLink)
	require.NoError(t, err, "link %q", p.NextLink)
	assert.Equal(t, "a b&c", lu.Query().Get("mode"))
	assert.Equal(t, "ünï", lu.Query().Get("lang"))
	params, err := base.Params(map[string]string{"x": "1", "y": "2"}).ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, params, len(rows))
	// A "$" user parameter is refused before anything is sent.
	_, err = base.Param("$top", "1").ToSlice(ctx)
	assert.ErrorIs(t, err, zumo.ErrInvalidQuery)
	expectCounters(t, s, requests(2))

	// Unknown columns match nothing on the server, so the SDK refuses a name
	// the struct does not declare (nothing sent) unless AllowFields names
	// it; a filter the server cannot parse is its 500.
	resetCounters(t, s)
	_, err = base.Where(zumo.Field("nosuchcolumn").Eq(1)).ToSlice(ctx)
	var unknown *zumo.UnknownFieldError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "nosuchcolumn", unknown.Field)
	none, err := base.AllowFields("nosuchcolumn").Where(zumo.Field("nosuchcolumn").Eq(1)).ToSlice(ctx)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = base.Where(zumo.Raw("(text eq")).ToSlice(ctx)
	assert.Equal(t, 500, statusOf(err), "%v", err)
	expectCounters(t, s, requests(2))
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestSDKPagingPastBrokenLinks reads 1,234 rows with All, which must page
// with $skip against the table URL because every next link the server sends
// points at "http://127.0.0.1/" (no port, path "/").
func TestSDKPagingPastBrokenLinks(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	todos := zumo.GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	const n = 1234
	cat := newID("paging")
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"id": fmt.Sprintf("p%05d", i), "text": fmt.Sprintf("row %d", i), "priority": i, "complete": i%2 == 1, "category": cat}
	}
	// One transaction for the lot (inserting them one by one through the
	// SDK is what TestSDKQueries does).
	require.NoError(t, s.Seed(ctx, "todoitem", items))
	// Rows of another category interleave with ours in the table.
	require.NoError(t, s.Seed(ctx, "todoitem", []map[string]any{{"id": "x1", "category": "x", "priority": -1}, {"id": "x2", "category": "x", "priority": 5000}}))
	// The seeded rows are ordinary rows: system properties filled in.
	first, err := todos.Lookup(ctx, "p00000")
	require.NoError(t, err)
	assert.Equal(t, "MQ==", first.Version)
	assert.False(t, first.CreatedAt.IsZero())
	assert.True(t, first.Complete == false && first.Priority == 0 && first.Category == cat)
	odd, err := todos.Lookup(ctx, "p00001")
	require.NoError(t, err)
	assert.True(t, odd.Complete, "booleans are stored as the provider stores them")

	q := todos.Where(zumo.Field("category").Eq(cat)).OrderBy("priority")
	want := func(from, to int) []string {
		out := make([]string, 0, to-from)
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("p%05d", i))
		}
		return out
	}
	collect := func(q zumo.Query[TodoItem]) []string {
		t.Helper()
		var out []string
		for it, err := range q.All(ctx) {
			require.NoError(t, err)
			out = append(out, it.ID)
		}
		return out
	}

	cases := []struct {
		name     string
		q        zumo.Query[TodoItem]
		want     []string
		requests int
	}{
		// 24 full pages of 50 (each with a broken link) and a short one.
		{"no take: pages of 50", q, want(0, n), 25},
		// $top=1000, then $top=234.
		{"take more than 1000", q.Take(1100), want(0, 1100), 2},
		{"take all", q.Take(n), want(0, n), 2},
		// $top=1000 then $top=1000 → 234 rows, shorter: the end.
		{"take beyond the end", q.Take(5000), want(0, n), 2},
		{"skip and take", q.Skip(10).Take(1100), want(10, 1110), 2},
		{"take within a page", q.Skip(7).Take(30), want(7, 37), 1},
		{"descending", todos.Where(zumo.Field("category").Eq(cat)).OrderByDescending("priority").Take(60), reversed(want(n-60, n)), 1},
		// 1234 = 24*50 + 34; with a filter of 617 odd rows: 12 full pages and 17.
		{"filtered", q.Where(zumo.Field("complete")), nil, 13},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resetCounters(t, s)
			got := collect(tc.q)
			if tc.want == nil {
				var w []string
				for i := 1; i < n; i += 2 {
					w = append(w, fmt.Sprintf("p%05d", i))
				}
				tc.want = w
			}
			assert.Equal(t, len(tc.want), len(got))
			assert.Equal(t, tc.want, got, "every row exactly once, in order")
			expectCounters(t, s, requests(tc.requests))
		})
	}

	// A full last page gets a link to an empty page: 100 rows in pages of 50
	// take three requests, the last one answering [].
	t.Run("full last page", func(t *testing.T) {
		resetCounters(t, s)
		got := collect(q.Where(zumo.Field("priority").Lt(100)))
		assert.Equal(t, want(0, 100), got)
		expectCounters(t, s, requests(3))
	})

	// ToSlice sends one request: $top=1000 gives 1000 rows (no cap at the
	// page size), $top=1001 is the server's 400.
	// One request: the server's own page rules.
	t.Run("one request", func(t *testing.T) {
		resetCounters(t, s)
		p, err := q.Take(1000).Page(ctx)
		require.NoError(t, err)
		assert.Len(t, p.Items, 1000)
		p, err = q.Take(55).Page(ctx)
		require.NoError(t, err)
		assert.Len(t, p.Items, 55, "$top above the page size is not capped")
		p, err = q.Page(ctx)
		require.NoError(t, err)
		assert.Len(t, p.Items, 50, "no $top: the page size")
		_, err = q.Take(1001).Page(ctx)
		assert.Equal(t, 400, statusOf(err), "%v", err)
		expectCounters(t, s, requests(4))
	})

	// ToSlice reads every row the query selects, bounded by Take, asking for
	// at most 1000 a request.
	t.Run("ToSlice", func(t *testing.T) {
		resetCounters(t, s)
		got, err := q.ToSlice(ctx)
		require.NoError(t, err)
		assert.Len(t, got, n, "every row, not the first page")
		expectCounters(t, s, requests(25), "24 full pages of 50 and a short one")
		resetCounters(t, s)
		got, err = q.Take(1001).ToSlice(ctx)
		require.NoError(t, err, "not the server's 400 for $top=1001")
		assert.Len(t, got, 1001)
		expectCounters(t, s, requests(2), "$top=1000, then $top=1")
	})

	// Page by page by hand, with IncludeTotalCount.
	t.Run("Page", func(t *testing.T) {
		resetCounters(t, s)
		var got []string
		for skip := 0; ; skip += 500 {
			p, err := q.Skip(skip).Take(500).IncludeTotalCount().Page(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, n, p.TotalCount)
			for _, it := range p.Items {
				got = append(got, it.ID)
			}
			if len(p.Items) < 500 {
				assert.Empty(t, p.NextLink, "a short page has no link")
				break
			}
			assert.True(t, strings.HasPrefix(p.NextLink, "http://127.0.0.1/?"), "broken link %q", p.NextLink)
		}
		assert.Equal(t, want(0, n), got)
		expectCounters(t, s, requests(3))
	})
}

// ---------------------------------------------------------------------------
// 3. Custom APIs

type echoReply struct {
	Method  string            `json:"method"`
	Query   map[string]any    `json:"query"`
	Body    any               `json:"body"`
	Headers map[string]string `json:"headers"`
	UserID  *string           `json:"userId"`
}

func TestSDKCustomAPIs(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newSDK(t, s)
	ctx := context.Background()
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	features := func(h map[string]string) []string { return strings.Split(h["x-zumo-features"], ",") }

	t.Run("InvokeAPI typed", func(t *testing.T) {
		resetCounters(t, s)
		for _, m := range methods {
			var body any
			if m != "GET" && m != "DELETE" {
				body = map[string]any{"n": 1, "$odd": "ok", "text": "ünï"}
			}
			r, err := zumo.InvokeAPI[echoReply](ctx, c, "echo", body,
				zumo.WithMethod(m),
				zumo.WithParam("$a", "1"), zumo.WithParam("b", "two & three"),
				zumo.WithParams(map[string]string{"$top": "5", "c": "ç"}),
				zumo.WithHeader("If-Match", `"v1"`))
			require.NoError(t, err, m)
			assert.Equal(t, m, r.Method)
			assert.Equal(t, map[string]any{"$a": "1", "b": "two & three", "$top": "5", "c": "ç"}, r.Query, m)
			if body != nil {
				assert.Equal(t, map[string]any{"n": 1.0, "$odd": "ok", "text": "ünï"}, r.Body, m)
			}
			assert.Equal(t, `"v1"`, r.Headers["if-match"])
			assert.Equal(t, "2.0.0", r.Headers["zumo-api-version"])
			assert.Equal(t, c.InstallationID(), r.Headers["x-zumo-installation-id"])
			assert.Contains(t, r.Headers["user-agent"], "lang=Go")
			assert.Contains(t, r.Headers["x-zumo-version"], "version="+zumo.Version)
			assert.Contains(t, features(r.Headers), "AT", m)
			assert.Contains(t, features(r.Headers), "QS", m)
			assert.Nil(t, r.UserID)
		}
		expectCounters(t, s, requests(len(methods)))
	})

	t.Run("InvokeAPI raw JSON", func(t *testing.T) {
		resetCounters(t, s)
		for _, m := range methods {
			var body json.RawMessage
			if m != "GET" && m != "DELETE" {
				body = json.RawMessage(`{"list":[1,2,3],"nested":{"k":"v"}}`)
			}
			var send any
			if body != nil {
				send = body
			}
			raw, err := zumo.InvokeAPI[json.RawMessage](ctx, c, "echo", send, zumo.WithMethod(m), zumo.WithParam("$filter", "x eq 1"))
			require.NoError(t, err, m)
			var r echoReply
			require.NoError(t, json.Unmarshal(raw, &r))
			assert.Equal(t, m, r.Method)
			assert.Equal(t, map[string]any{"$filter": "x eq 1"}, r.Query)
			if body != nil {
				assert.Equal(t, map[string]any{"list": []any{1.0, 2.0, 3.0}, "nested": map[string]any{"k": "v"}}, r.Body)
				assert.Contains(t, features(r.Headers), "AJ", m)
				assert.Contains(t, r.Headers["content-type"], "application/json")
			}
		}
		expectCounters(t, s, requests(len(methods)))
	})

	t.Run("InvokeAPIRaw", func(t *testing.T) {
		resetCounters(t, s)
		for _, m := range methods {
			var body io.Reader
			if m != "GET" && m != "DELETE" {
				body = strings.NewReader("plain words, ünï")
			}
			resp, err := c.InvokeAPIRaw(ctx, "echo", body, "text/plain; charset=utf-8", zumo.WithMethod(m), zumo.WithParam("k", "v"))
			require.NoError(t, err, m)
			raw, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			var r echoReply
			require.NoError(t, json.Unmarshal(raw, &r), "%s", raw)
			assert.Equal(t, m, r.Method)
			assert.Equal(t, map[string]any{"k": "v"}, r.Query)
			if body != nil {
				assert.Equal(t, "plain words, ünï", r.Body, m)
				assert.Contains(t, features(r.Headers), "AG", m)
			}
		}
		expectCounters(t, s, requests(len(methods)))
	})

	t.Run("errors", func(t *testing.T) {
		resetCounters(t, s)
		_, err := zumo.InvokeAPI[echoReply](ctx, c, "status", nil, zumo.WithMethod("GET"), zumo.WithParam("code", "418"), zumo.WithParam("message", "teapot"))
		var ze *zumo.Error
		require.ErrorAs(t, err, &ze)
		assert.Equal(t, 418, ze.StatusCode)
		assert.Equal(t, "teapot", ze.Message)
		assert.Equal(t, "GET", ze.Method)
		// 204: an empty answer is the zero value.
		r, err := zumo.InvokeAPI[echoReply](ctx, c, "status", nil, zumo.WithParam("code", "204"))
		require.NoError(t, err)
		assert.Equal(t, echoReply{}, r)
		raw, err := zumo.InvokeAPI[json.RawMessage](ctx, c, "status", nil, zumo.WithParam("code", "204"))
		require.NoError(t, err)
		assert.Nil(t, raw)
		// An authenticated API without a user: 401.
		_, err = zumo.InvokeAPI[json.RawMessage](ctx, c, "secret", nil, zumo.WithMethod("GET"))
		assert.ErrorIs(t, err, zumo.ErrUnauthorized)
		// An unknown API: Express's HTML 404.
		_, err = zumo.InvokeAPI[json.RawMessage](ctx, c, "nosuchapi", nil)
		assert.ErrorIs(t, err, zumo.ErrNotFound)
		expectCounters(t, s, realserver.Counters{Requests: 5, Unauthorized: 1})
	})
}
