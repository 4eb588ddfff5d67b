package offline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/offline"
)

// FuzzStoredRecords overwrites one of the package's own records with any
// bytes and drives the public API over the damaged store. Nothing panics,
// PendingOperations (a plain read) fails only with a *CorruptError, and
// every *CorruptError names one of the records that were there (damage to
// one may surface at another that no longer agrees with it).
func FuzzStoredRecords(f *testing.F) {
	records := [][2]string{
		{"__operations", "00000000000000000002"},
		{"__operations", "00000000000000000009"},
		{"__opindex", "items/a"},
		{"__opindex", "items/b"},
		{"__config", "seq"},
		{"__config", "delta/items/all"},
		{"__config", "format"},
	}
	for i, v := range []string{
		`{not json`,
		`{"seq":2,"table":"items","itemId":"a","kind":2,"version":1}`,
		`{"seq":2,"table":"items","itemId":"a","kind":3,"version":1}`,
		`{"seq":2,"table":"items","itemId":"a/b?c#d","kind":3,"version":1,"item":{"id":"a"}}`,
		`{"seq":9,"table":"items","itemId":"z","kind":1,"version":1}`,
		`2`,
		`-1`,
		`{"updatedAt":"2024-01-01T00:00:00Z","id":"a"}`,
		`99`,
	} {
		f.Add(uint8(i), []byte(v))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, which uint8, value []byte) {
		rec := records[int(which)%len(records)]
		c, store, sc, tbl := damageFixture(t, true)
		require.NoError(t, store.Update(ctx, func(tx offline.Tx) error { return tx.Put(rec[0], rec[1], value) }))

		known := map[[2]string]bool{{"items", "a"}: true, {"items", "b"}: true}
		for _, r := range records {
			known[r] = true
		}
		names := func(call string, err error) {
			t.Helper()
			var ce *offline.CorruptError
			if errors.As(err, &ce) && !known[[2]string{ce.Bucket, ce.Key}] {
				t.Fatalf("%s: %v names %s/%s, which is not a record of the store", call, err, ce.Bucket, ce.Key)
			}
		}
		_, err := offline.New(c, store)
		names("New", err)
		_, err = sc.PendingOperations(ctx)
		if err != nil && !errors.Is(err, offline.ErrCorruptStore) {
			t.Fatalf("PendingOperations: %v is not a *CorruptError", err)
		}
		names("PendingOperations", err)
		_, err = tbl.Insert(ctx, map[string]any{"id": "b", "text": "new"})
		names("Insert", err)
		_, err = tbl.Update(ctx, map[string]any{"id": "a", "text": "z"})
		names("Update", err)
		_, err = sc.Push(ctx)
		names("Push", err)
		_, err = tbl.Pull(ctx, "all", tbl.Query())
		names("Pull", err)
		err = tbl.Delete(ctx, map[string]any{"id": "a"})
		names("Delete", err)
		_, err = tbl.ToSlice(ctx)
		names("ToSlice", err)
		_, err = sc.Push(ctx)
		names("Push", err)
	})
}
