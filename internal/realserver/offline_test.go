//go:build integration

package realserver_test

// The offline package against the official server: pushed inserts,
// updates and deletes land; 412 conflicts under each resolver; a 10,000-row
// incremental pull; 120 rows sharing one updatedAt arrive exactly once in
// 50-row pages; a soft delete removes the local row; a pull without
// changes is one request.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/internal/realserver"
	"github.com/zumo-go/zumo/offline"
)

func offlineTable(t *testing.T, s *realserver.Server, opts ...offline.Option) (*offline.SyncContext, *offline.Table[TodoItem]) {
	t.Helper()
	sc, err := offline.New(newSDK(t, s), offline.NewMemoryStore(), opts...)
	require.NoError(t, err)
	return sc, offline.GetTable[TodoItem](sc, "todoitem")
}

func TestOfflinePushReachesTheServer(t *testing.T) {
	ctx := context.Background()
	s := realserver.StartForTest(t, realserver.Options{})
	online := zumo.GetTable[TodoItem](newSDK(t, s), "todoitem")
	seeded, err := online.Insert(ctx, TodoItem{ID: "keep", Text: "server row", Priority: 1})
	require.NoError(t, err)
	_, err = online.Insert(ctx, TodoItem{ID: "drop", Text: "to delete"})
	require.NoError(t, err)

	sc, tbl := offlineTable(t, s)
	_, err = tbl.Pull(ctx, "all", tbl.Query())
	require.NoError(t, err)
	_, err = tbl.Insert(ctx, TodoItem{ID: "new", Text: "made offline", Priority: 7})
	require.NoError(t, err)
	local, err := tbl.Lookup(ctx, "keep")
	require.NoError(t, err)
	local.Text = "edited offline"
	_, err = tbl.Update(ctx, local)
	require.NoError(t, err)
	require.NoError(t, tbl.Delete(ctx, TodoItem{ID: "drop"}))

	res, err := sc.Push(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Pushed)

	got, err := online.Lookup(ctx, "new")
	require.NoError(t, err)
	assert.Equal(t, "made offline", got.Text)
	got, err = online.Lookup(ctx, "keep")
	require.NoError(t, err)
	assert.Equal(t, "edited offline", got.Text)
	assert.NotEqual(t, seeded.Version, got.Version)
	_, err = online.Lookup(ctx, "drop")
	assert.ErrorIs(t, err, zumo.ErrNotFound)
	mine, err := tbl.Lookup(ctx, "keep")
	require.NoError(t, err)
	assert.Equal(t, got.Version, mine.Version, "the local row holds the server's copy")
}

func TestOfflineConflictsUnderEachResolver(t *testing.T) {
	ctx := context.Background()
	s := realserver.StartForTest(t, realserver.Options{})
	merge := offline.Merge(func(_ context.Context, client, server TodoItem) (TodoItem, error) {
		client.Text += "+" + server.Text
		return client, nil
	})
	cases := []struct {
		name       string
		resolver   offline.Resolver
		wantServer string
		queued     bool
	}{
		{"none", nil, "theirs", true},
		{"server wins", offline.ServerWins, "theirs", false},
		{"client wins", offline.ClientWins, "mine", false},
		{"merge", merge, "mine+theirs", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("conflict-%d", i)
			online := zumo.GetTable[TodoItem](newSDK(t, s), "todoitem")
			_, err := online.Insert(ctx, TodoItem{ID: id, Text: "original"})
			require.NoError(t, err)
			sc, tbl := offlineTable(t, s, offline.WithResolver(tc.resolver))
			_, err = tbl.Pull(ctx, id, tbl.Where(zumo.Field("id").Eq(id)))
			require.NoError(t, err)

			cur, err := online.Lookup(ctx, id)
			require.NoError(t, err)
			cur.Text = "theirs"
			_, err = online.Update(ctx, cur)
			require.NoError(t, err)
			local, err := tbl.Lookup(ctx, id)
			require.NoError(t, err)
			local.Text = "mine"
			_, err = tbl.Update(ctx, local)
			require.NoError(t, err)

			_, err = sc.Push(ctx)
			if tc.queued {
				assert.ErrorIs(t, err, zumo.ErrPreconditionFailed, "the server answered 412")
				ops, perr := sc.PendingOperations(ctx)
				require.NoError(t, perr)
				assert.Len(t, ops, 1)
			} else {
				require.NoError(t, err)
			}
			got, err := online.Lookup(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, tc.wantServer, got.Text)
		})
	}
}

func TestOfflinePullIncremental(t *testing.T) {
	ctx := context.Background()
	s := realserver.StartForTest(t, realserver.Options{})
	const n = 10_000
	items := make([]TodoItem, n)
	for i := range items {
		items[i] = TodoItem{ID: fmt.Sprintf("bulk-%05d", i), Text: "bulk", Priority: i % 10}
	}
	require.NoError(t, s.Seed(ctx, "todoitem", items))
	_, tbl := offlineTable(t, s)
	res, err := tbl.Pull(ctx, "bulk", tbl.Where(zumo.Field("text").Eq("bulk")))
	require.NoError(t, err)
	assert.Equal(t, n, res.Rows)
	all, err := tbl.Query().Take(n + 1).ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, all, n)

	// A change and a soft delete on the server, then an incremental pull.
	online := zumo.GetTable[TodoItem](newSDK(t, s), "todoitem")
	cur, err := online.Lookup(ctx, "bulk-00042")
	require.NoError(t, err)
	cur.Priority = 99
	_, err = online.Update(ctx, cur)
	require.NoError(t, err)
	gone, err := online.Lookup(ctx, "bulk-00043")
	require.NoError(t, err)
	_, err = online.Delete(ctx, gone)
	require.NoError(t, err)

	res, err = tbl.Pull(ctx, "bulk", tbl.Where(zumo.Field("text").Eq("bulk")))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Rows, "only the changed rows")
	assert.Equal(t, 1, res.Deleted)
	got, err := tbl.Lookup(ctx, "bulk-00042")
	require.NoError(t, err)
	assert.Equal(t, 99, got.Priority)
	_, err = tbl.Lookup(ctx, "bulk-00043")
	assert.ErrorIs(t, err, zumo.ErrNotFound, "the server's soft delete removed the local row")

	require.NoError(t, s.ResetCounters(ctx))
	res, err = tbl.Pull(ctx, "bulk", tbl.Where(zumo.Field("text").Eq("bulk")))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Requests)
	assert.Equal(t, 1, counters(t, s).Requests, "a pull with no changes is one request")
}

func TestOfflinePullSharedUpdatedAt(t *testing.T) {
	ctx := context.Background()
	s := realserver.StartForTest(t, realserver.Options{})
	at := time.Date(2024, 3, 4, 5, 6, 7, 890e6, time.UTC)
	items := make([]map[string]any, 120)
	for i := range items {
		items[i] = map[string]any{"id": fmt.Sprintf("same-%03d", i), "text": "same", "updatedAt": at.Format("2006-01-02T15:04:05.000Z")} // as the provider writes dates
	}
	require.NoError(t, s.Seed(ctx, "todoitem", items))
	online := zumo.GetTable[TodoItem](newSDK(t, s), "todoitem")
	check, err := online.Where(zumo.Field("text").Eq("same")).Take(1000).ToSlice(ctx)
	require.NoError(t, err)
	require.Len(t, check, 120)
	for _, it := range check {
		require.True(t, it.UpdatedAt.Equal(at), "precondition: the seed kept one updatedAt (%v)", it.UpdatedAt)
	}

	_, tbl := offlineTable(t, s, offline.WithPageSize(50))
	res, err := tbl.Pull(ctx, "same", tbl.Where(zumo.Field("text").Eq("same")))
	require.NoError(t, err)
	assert.Equal(t, 120, res.Rows, "every row exactly once")
	assert.Equal(t, 4, res.Requests, "three pages and the empty one")
	all, err := tbl.ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 120)
}
