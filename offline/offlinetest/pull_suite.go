package offlinetest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// sameInstant seeds n rows sharing one updatedAt.
func sameInstant(n int) []any {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)
	rows := make([]any, n)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprintf("r%03d", i), "text": "t", "priority": i % 7, "updatedAt": at}
	}
	return rows
}

func listRequests(srv *zumotest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/tables/items" {
			n++
		}
	}
	return n
}

func testPull(t *testing.T, open Opener) {
	ctx := context.Background()
	t.Run("rows sharing one updatedAt arrive exactly once", func(t *testing.T) {
		e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items", zumotest.SoftDelete(),
			zumotest.PageSize(50), zumotest.Seed(sameInstant(120)...))}, offline.WithPageSize(50))
		res, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
		require.NoError(t, err)
		assert.Equal(t, 120, res.Rows, "no row repeated")
		assert.Equal(t, 4, res.Requests, "3 pages and the empty one")
		got, err := e.tbl.ToSlice(ctx)
		require.NoError(t, err)
		assert.Len(t, got, 120, "no row skipped")
		for _, r := range e.srv.Requests() {
			if r.Method == http.MethodGet {
				assert.Equal(t, "updatedAt,id", r.Query.Get("$orderby"))
				assert.Equal(t, "true", r.Query.Get("__includeDeleted"))
				assert.Empty(t, r.Query.Get("$skip"), "keyset paging, not $skip")
			}
		}

		before := listRequests(e.srv)
		res, err = e.tbl.Pull(ctx, "all", e.tbl.Query())
		require.NoError(t, err)
		assert.Equal(t, 1, res.Requests)
		assert.Zero(t, res.Rows)
		assert.Equal(t, before+1, listRequests(e.srv), "a pull with no changes is one request")
	})
	t.Run("incremental changes, deletes and filters", func(t *testing.T) {
		clock := zumotest.NewClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		e := newEnv(t, open, []zumotest.Option{zumotest.WithClock(clock.Now), zumotest.WithTable("items", zumotest.SoftDelete())})
		online := zumo.GetTable[Item](e.c, "items")
		for i := range 10 {
			_, err := online.Insert(ctx, Item{ID: fmt.Sprintf("i%d", i), Text: "v1", Priority: i})
			require.NoError(t, err)
			clock.Advance(time.Millisecond)
		}
		high := e.tbl.Where(zumo.Field("priority").Ge(5))
		res, err := e.tbl.Pull(ctx, "high", high)
		require.NoError(t, err)
		assert.Equal(t, 5, res.Rows)

		cur, err := online.Lookup(ctx, "i7")
		require.NoError(t, err)
		cur.Text = "v2"
		_, err = online.Update(ctx, cur)
		require.NoError(t, err)
		clock.Advance(time.Millisecond)
		cur, err = online.Lookup(ctx, "i8")
		require.NoError(t, err)
		_, err = online.Delete(ctx, cur)
		require.NoError(t, err)

		res, err = e.tbl.Pull(ctx, "high", high)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Rows, "only the changed rows")
		assert.Equal(t, 1, res.Deleted)
		got, err := e.tbl.Lookup(ctx, "i7")
		require.NoError(t, err)
		assert.Equal(t, "v2", got.Text)
		_, err = e.tbl.Lookup(ctx, "i8")
		assert.ErrorIs(t, err, zumo.ErrNotFound, "a soft delete on the server removes the local row")
		rows, err := e.tbl.ToSlice(ctx)
		require.NoError(t, err)
		assert.Len(t, rows, 4)

		res, err = e.tbl.Pull(ctx, "low", e.tbl.Where(zumo.Field("priority").Lt(5)))
		require.NoError(t, err)
		assert.Equal(t, 5, res.Rows, "another query id has its own token")
	})
	t.Run("rows with queued operations are not overwritten", func(t *testing.T) {
		e := synced(t, open)
		online := zumo.GetTable[Item](e.c, "items")
		cur, err := online.Lookup(ctx, "s1")
		require.NoError(t, err)
		cur.Text = "theirs"
		_, err = online.Update(ctx, cur)
		require.NoError(t, err)
		_, err = e.tbl.Update(ctx, Item{ID: "s1", Text: "mine"})
		require.NoError(t, err)
		res, err := e.tbl.Pull(ctx, "all", e.tbl.Query()) // its push meets a 412 (no resolver)
		require.NoError(t, err)
		assert.Equal(t, 1, res.Skipped)
		got, err := e.tbl.Lookup(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, "mine", got.Text)
	})
	t.Run("a pull pushes the table first", func(t *testing.T) {
		e := newEnv(t, open, nil)
		_, err := e.tbl.Insert(ctx, Item{ID: "a", Text: "local"})
		require.NoError(t, err)
		res, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
		require.NoError(t, err)
		assert.Equal(t, 1, res.Rows)
		assert.Empty(t, pending(t, e.sc))
		got, err := e.tbl.Lookup(ctx, "a")
		require.NoError(t, err)
		assert.NotEmpty(t, got.Version)
	})
	t.Run("failures leave the store consistent", func(t *testing.T) {
		cases := []struct {
			name  string
			fault zumotest.Fault
		}{
			{"truncated page", zumotest.Fault{Status: 200, Body: `[{"id":"r000","text":"t"`}},
			{"503 with Retry-After", zumotest.Fault{Status: 503, Header: http.Header{"Retry-After": {"2"}}}},
			{"dropped", zumotest.Fault{Drop: true, Count: -1}}, // Go retries a GET once
			{"row without updatedAt", zumotest.Fault{Status: 200, Body: `[{"id":"zz","text":"t"}]`}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items", zumotest.PageSize(50),
					zumotest.Seed(sameInstant(120)...))}, offline.WithPageSize(50))
				// The first page arrives, the second fails.
				f := tc.fault
				f.Method = http.MethodGet
				n := 0
				e2 := newEnvOn(t, e.srv, e.c, e.store, offline.WithPageSize(50), offline.WithProgress(func(offline.Progress) {
					n++
					if n == 1 {
						e.srv.AddFault(f)
					}
				}))
				_, err := e2.tbl.Pull(ctx, "all", e2.tbl.Query())
				require.Error(t, err)
				e.srv.ClearFaults()
				got, err := e2.tbl.ToSlice(ctx)
				require.NoError(t, err)
				assert.Len(t, got, 50, "the first page stayed stored")
				res, err := e2.tbl.Pull(ctx, "all", e2.tbl.Query())
				require.NoError(t, err)
				assert.Equal(t, 70, res.Rows, "the token matched the stored rows: the rest, once")
				got, err = e2.tbl.ToSlice(ctx)
				require.NoError(t, err)
				assert.Len(t, got, 120)
			})
		}
	})
	t.Run("cancelled between pages", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items", zumotest.PageSize(50),
			zumotest.Seed(sameInstant(120)...))}, offline.WithPageSize(50), offline.WithProgress(func(p offline.Progress) {
			if p.Pages == 2 {
				cancel()
			}
		}))
		_, err := e.tbl.Pull(cctx, "all", e.tbl.Query())
		require.ErrorIs(t, err, context.Canceled)
		res, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
		require.NoError(t, err)
		assert.Equal(t, 20, res.Rows)
	})
	t.Run("filters with characters a URL treats specially", func(t *testing.T) {
		texts := []string{"a+b", "50% off", "it's", "x&y=z", "#1?", "ünï 😀"}
		var seed []any
		for i, s := range texts {
			seed = append(seed, map[string]any{"id": fmt.Sprint("t", i), "text": s})
		}
		e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items", zumotest.Seed(seed...))})
		for i, s := range texts {
			res, err := e.tbl.Pull(ctx, fmt.Sprint("q", i), e.tbl.Where(zumo.Field("text").Eq(s)))
			require.NoError(t, err, s)
			assert.Equal(t, 1, res.Rows, s)
			got, err := e.tbl.Where(zumo.Field("text").Eq(s)).ToSlice(ctx)
			require.NoError(t, err)
			if assert.Len(t, got, 1, s) {
				assert.Equal(t, fmt.Sprint("t", i), got[0].ID)
			}
		}
	})
	t.Run("a server that ignores the filter cannot make a pull loop", func(t *testing.T) {
		e := newEnv(t, open, nil)
		e.srv.AddFault(zumotest.Fault{Method: http.MethodGet, Status: 200, Count: -1,
			Body: `[{"id":"z","text":"same","updatedAt":"2024-01-01T00:00:00.000Z"}]`})
		res, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
		require.ErrorIs(t, err, offline.ErrNoProgress)
		assert.Equal(t, 2, res.Requests)
		assert.Equal(t, 1, res.Rows, "the first page was stored")
	})
	t.Run("legacy Mobile Services rows are not supported", func(t *testing.T) {
		e := newEnv(t, open, nil)
		e.srv.AddFault(zumotest.Fault{Method: http.MethodGet, Status: 200,
			Body: `[{"id":"z","text":"old","__updatedAt":"2024-01-01T00:00:00.000Z"}]`})
		_, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
		assert.ErrorIs(t, err, zumo.ErrNotSupported)
		got, err := e.tbl.ToSlice(ctx)
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("bad queries", func(t *testing.T) {
		e := newEnv(t, open, nil)
		for _, q := range []offline.Query[Item]{e.tbl.Query().OrderBy("text"), e.tbl.Query().Take(3), e.tbl.Query().Skip(1), e.tbl.Query().Select("text")} {
			_, err := e.tbl.Pull(ctx, "q", q)
			assert.ErrorIs(t, err, zumo.ErrInvalidQuery, q.String())
		}
		other := offline.GetTable[Item](e.sc, "other")
		_, err := e.tbl.Pull(ctx, "q", other.Query())
		assert.ErrorIs(t, err, zumo.ErrInvalidQuery)
		assert.Zero(t, listRequests(e.srv))
	})
}

func testPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items", zumotest.Seed(sameInstant(10)...))})
	_, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
	require.NoError(t, err)
	_, err = e.tbl.Insert(ctx, Item{ID: "local"})
	require.NoError(t, err)
	err = e.tbl.Purge(ctx, e.tbl.Query())
	require.ErrorIs(t, err, offline.ErrPendingOperations)
	all, err := e.tbl.ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 11, "a refused purge removes nothing")

	require.NoError(t, e.tbl.Purge(ctx, e.tbl.Where(zumo.Field("priority").Lt(3)), offline.Force()))
	assert.Empty(t, pending(t, e.sc), "Force drops the queue")
	all, err = e.tbl.ToSlice(ctx)
	require.NoError(t, err)
	for _, it := range all {
		assert.GreaterOrEqual(t, it.Priority, 3)
	}
	res, err := e.tbl.Pull(ctx, "all", e.tbl.Query())
	require.NoError(t, err)
	assert.Equal(t, 10, res.Rows, "the token was reset")
	_, ok := serverRow(e.srv, "local")
	assert.False(t, ok, "the dropped insert was never sent")
}
