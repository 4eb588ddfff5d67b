package offline_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// A store whose records were damaged (by hand, by a bug, by a disk) gives
// a *CorruptError naming the record, never a panic, and a push loses
// nothing: once the record is repaired, the queued update goes through.
func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		bucket, key string
		value       string
		// which calls fail, all with a *CorruptError for bucket/key
		insert, update, push, pull, pending bool
	}{
		{name: "operation", bucket: "__operations", key: "00000000000000000002", value: "{not json",
			update: true, push: true, pull: true, pending: true},
		{name: "operation index", bucket: "__opindex", key: "items/a", value: "oops", update: true},
		{name: "operation index to nothing", bucket: "__opindex", key: "items/a", value: "99", update: true},
		{name: "delta token", bucket: "__config", key: "delta/items/all", value: "[1,2]", pull: true},
		{name: "sequence", bucket: "__config", key: "seq", value: "two", insert: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, store, sc, tbl := damageFixture(t, true)
			var good []byte
			put := func(v []byte) {
				require.NoError(t, store.Update(ctx, func(tx offline.Tx) error {
					if good == nil {
						good, _, _ = tx.Get(tc.bucket, tc.key)
					}
					return tx.Put(tc.bucket, tc.key, v)
				}))
			}
			put([]byte(tc.value))

			check := func(call string, fails bool, err error) {
				t.Helper()
				if !fails {
					assert.NoError(t, err, call)
					return
				}
				if !assert.ErrorIs(t, err, offline.ErrCorruptStore, call) {
					return
				}
				var ce *offline.CorruptError
				if assert.ErrorAs(t, err, &ce, call) {
					assert.Equal(t, tc.bucket, ce.Bucket, call)
					assert.Equal(t, tc.key, ce.Key, call)
				}
				assert.NotContains(t, err.Error(), tc.value, "%s: the message quotes the record", call)
			}
			_, err := tbl.Insert(ctx, map[string]any{"id": "b", "text": "new"})
			check("Insert", tc.insert, err)
			_, err = tbl.Update(ctx, map[string]any{"id": "a", "text": "z"})
			check("Update", tc.update, err)
			_, err = sc.Push(ctx)
			check("Push", tc.push, err)
			_, err = tbl.Pull(ctx, "all", tbl.Query())
			check("Pull", tc.pull, err)
			_, err = sc.PendingOperations(ctx)
			check("PendingOperations", tc.pending, err)
			if tc.name == "operation" || tc.name == "sequence" {
				// The queued update survived the failures: repaired, it is
				// pushed and reaches the server.
				put(good)
				_, err = sc.Push(ctx)
				require.NoError(t, err)
				got, err := c.Table("items").Lookup(ctx, "a")
				require.NoError(t, err)
				want := "z"
				if tc.update {
					want = "y"
				}
				assert.Equal(t, want, got["text"])
			}
		})
	}

	// A sequence record behind the queue (lost, or restored from an older
	// copy) must not hand out a number that a queued operation holds.
	for _, seq := range []string{"", "1"} {
		t.Run("sequence behind the queue "+seq, func(t *testing.T) {
			c, store, sc, tbl := damageFixture(t, false)
			for _, id := range []string{"a", "b"} {
				_, err := tbl.Insert(ctx, map[string]any{"id": id, "text": id})
				require.NoError(t, err)
			}
			require.NoError(t, store.Update(ctx, func(tx offline.Tx) error {
				if seq == "" {
					return tx.Delete("__config", "seq")
				}
				return tx.Put("__config", "seq", []byte(seq))
			}))
			_, err := tbl.Insert(ctx, map[string]any{"id": "c", "text": "c"})
			require.NoError(t, err)
			ops, err := sc.PendingOperations(ctx)
			require.NoError(t, err)
			assert.Len(t, ops, 3)
			_, err = sc.Push(ctx)
			require.NoError(t, err)
			n, err := c.Table("items").Query().IncludeTotalCount().Take(0).Page(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, 3, n.TotalCount)
		})
	}

	t.Run("format", func(t *testing.T) {
		store := offline.NewMemoryStore()
		c, err := zumo.NewClient("http://127.0.0.1:1/")
		require.NoError(t, err)
		_, err = offline.New(c, store)
		require.NoError(t, err)
		require.NoError(t, store.Update(ctx, func(tx offline.Tx) error { return tx.Put("__config", "format", []byte("one")) }))
		_, err = offline.New(c, store)
		var ce *offline.CorruptError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "__config", ce.Bucket)
		assert.Equal(t, "format", ce.Key)
	})
}

// damageFixture is a sync context over a memory store and a fake service
// with the table "items". With synced, the row "a" was inserted, pushed
// and pulled back ("x"), then updated locally ("y"): the queue holds
// operation 2, an update of a.
func damageFixture(t testing.TB, synced bool) (*zumo.Client, *offline.MemoryStore, *offline.SyncContext, *offline.Table[map[string]any]) {
	t.Helper()
	ctx := context.Background()
	srv := zumotest.NewServer(t, zumotest.WithTable("items"))
	c, err := zumo.NewClient(srv.URL)
	require.NoError(t, err)
	store := offline.NewMemoryStore()
	sc, err := offline.New(c, store)
	require.NoError(t, err)
	tbl := offline.GetTable[map[string]any](sc, "items")
	if synced {
		_, err = tbl.Insert(ctx, map[string]any{"id": "a", "text": "x"})
		require.NoError(t, err)
		_, err = tbl.Pull(ctx, "all", tbl.Query())
		require.NoError(t, err)
		_, err = tbl.Update(ctx, map[string]any{"id": "a", "text": "y"})
		require.NoError(t, err)
	}
	return c, store, sc, tbl
}
