package offlinetest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

func testPush(t *testing.T, open Opener) {
	ctx := context.Background()
	t.Run("insert update delete reach the server", func(t *testing.T) {
		e := synced(t, open)
		_, err := e.tbl.Insert(ctx, Item{ID: "n1", Text: "new", Priority: 3})
		require.NoError(t, err)
		_, err = e.tbl.Update(ctx, Item{ID: "s1", Text: "edited", Priority: 2})
		require.NoError(t, err)
		_, err = e.tbl.Insert(ctx, Item{ID: "n2", Text: "gone"})
		require.NoError(t, err)
		require.NoError(t, e.tbl.Delete(ctx, Item{ID: "n2"}))
		res, err := e.sc.Push(ctx)
		require.NoError(t, err)
		assert.Equal(t, 2, res.Pushed)
		assert.Empty(t, pending(t, e.sc))

		row, ok := serverRow(e.srv, "n1")
		require.True(t, ok)
		assert.Equal(t, "new", row["text"])
		row, ok = serverRow(e.srv, "s1")
		require.True(t, ok)
		assert.Equal(t, "edited", row["text"])
		_, ok = serverRow(e.srv, "n2")
		assert.False(t, ok, "an insert deleted before the push never reaches the server")

		local, err := e.tbl.Lookup(ctx, "s1")
		require.NoError(t, err)
		assert.Equal(t, row["version"], local.Version, "the local row holds the server's copy")
		for _, r := range e.srv.Requests() {
			if r.Method == http.MethodPatch {
				assert.NotEmpty(t, r.Header.Get("If-Match"), "updates carry the stored version")
			}
			if r.Method == http.MethodPost {
				assert.NotContains(t, string(r.Body), "version", "inserts carry no system properties")
			}
		}

		require.NoError(t, e.tbl.Delete(ctx, local))
		_, err = e.sc.Push(ctx)
		require.NoError(t, err)
		_, ok = serverRow(e.srv, "s1")
		assert.False(t, ok)
	})
	t.Run("a stopped push loses nothing", func(t *testing.T) {
		cases := []struct {
			name  string
			fault zumotest.Fault
		}{
			{"dropped connection", zumotest.Fault{Drop: true}},
			{"503 with Retry-After", zumotest.Fault{Status: 503, Header: http.Header{"Retry-After": {"1"}}}},
			{"401", zumotest.Fault{Status: 401}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, open, nil)
				for _, id := range []string{"a", "b", "c"} {
					_, err := e.tbl.Insert(ctx, Item{ID: id, Text: id})
					require.NoError(t, err)
				}
				f := tc.fault
				f.Method = http.MethodPost
				_, err := e.tbl.Push(ctx)
				require.NoError(t, err)
				for _, id := range []string{"d", "e"} {
					_, err := e.tbl.Insert(ctx, Item{ID: id, Text: id})
					require.NoError(t, err)
				}
				e.srv.AddFault(f)
				res, err := e.sc.Push(ctx)
				var pe *offline.PushError
				require.ErrorAs(t, err, &pe)
				assert.ErrorIs(t, err, offline.ErrPushIncomplete)
				assert.NotNil(t, pe.Err, "the push stopped")
				assert.Zero(t, res.Pushed)
				assert.Len(t, pending(t, e.sc), 2, "both operations still queued")
				res, err = e.sc.Push(ctx)
				require.NoError(t, err)
				assert.Equal(t, 2, res.Pushed)
				rows, err := e.srv.Rows("items")
				require.NoError(t, err)
				assert.Len(t, rows, 5)
			})
		}
	})
	t.Run("a refused operation is reported and the rest go on", func(t *testing.T) {
		e := newEnv(t, open, nil)
		for _, id := range []string{"a", "b"} {
			_, err := e.tbl.Insert(ctx, Item{ID: id, Text: id})
			require.NoError(t, err)
		}
		e.srv.AddFault(zumotest.Fault{Method: http.MethodPost, Status: 400, Body: `{"error":"bad row"}`})
		res, err := e.sc.Push(ctx)
		var oe *offline.OperationError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "a", oe.ID)
		assert.Equal(t, offline.OpInsert, oe.Kind)
		var ze *zumo.Error
		require.ErrorAs(t, err, &ze)
		assert.Equal(t, 400, ze.StatusCode)
		assert.Equal(t, 1, res.Pushed)
		ops := pending(t, e.sc)
		require.Len(t, ops, 1)
		assert.Equal(t, "a", ops[0].ID)
	})
	t.Run("parallel push", func(t *testing.T) {
		var mu sync.Mutex
		var progress []offline.Progress
		e := newEnv(t, open, nil, offline.WithParallelPush(4), offline.WithProgress(func(p offline.Progress) {
			mu.Lock()
			progress = append(progress, p)
			mu.Unlock()
		}))
		for i := range 40 {
			_, err := e.tbl.Insert(ctx, Item{Text: "row", Priority: i})
			require.NoError(t, err)
		}
		res, err := e.sc.Push(ctx)
		require.NoError(t, err)
		assert.Equal(t, 40, res.Pushed)
		rows, err := e.srv.Rows("items")
		require.NoError(t, err)
		assert.Len(t, rows, 40)
		require.Len(t, progress, 40)
		assert.Equal(t, 40, progress[39].Operations)
		assert.Equal(t, 40, progress[39].Total)
		assert.Positive(t, progress[39].Bytes)
	})
	t.Run("a change made while its row is being pushed is kept", func(t *testing.T) {
		var e *env
		var once sync.Once
		hook := func(r *http.Request) {
			if r.Method == http.MethodPatch {
				once.Do(func() {
					_, err := e.tbl.Update(context.Background(), Item{ID: "s1", Text: "second", Priority: 9})
					assert.NoError(t, err)
				})
			}
		}
		base := synced(t, open)
		c, err := zumo.NewClient(base.srv.URL, zumo.WithHTTPClient(&http.Client{Transport: hookRT{base.srv.Client().Transport, hook}}))
		require.NoError(t, err)
		e = newEnvOn(t, base.srv, c, base.store)
		_, err = e.tbl.Update(ctx, Item{ID: "s1", Text: "first"})
		require.NoError(t, err)
		_, err = e.sc.Push(ctx)
		require.NoError(t, err)
		row, _ := serverRow(e.srv, "s1")
		assert.Equal(t, "first", row["text"])
		ops := pending(t, e.sc)
		require.Len(t, ops, 1, "the second change waits for the next push")
		assert.Equal(t, offline.OpUpdate, ops[0].Kind)
		_, err = e.sc.Push(ctx)
		require.NoError(t, err, "sent with the version the first push got")
		row, _ = serverRow(e.srv, "s1")
		assert.Equal(t, "second", row["text"])
		assert.Empty(t, pending(t, e.sc))
	})
	t.Run("cancelled", func(t *testing.T) {
		e := newEnv(t, open, nil)
		_, err := e.tbl.Insert(ctx, Item{ID: "a"})
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = e.sc.Push(cctx)
		assert.True(t, errors.Is(err, context.Canceled))
		assert.Len(t, pending(t, e.sc), 1)
	})
}

// hookRT calls hook with each request before sending it.
type hookRT struct {
	next http.RoundTripper
	hook func(*http.Request)
}

func (h hookRT) RoundTrip(r *http.Request) (*http.Response, error) {
	h.hook(r)
	return h.next.RoundTrip(r)
}
