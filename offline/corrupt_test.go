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
// clear errors, never a panic, and a push loses nothing.
func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name          string
		bucket, key   string
		value         string
		push, pull    bool // which calls must fail
		lookup, query bool
		update        bool
	}{
		{"operation", "__operations", "00000000000000000002", "{not json", true, true, false, false, true}, // the update of "a"
		{"operation index", "__opindex", "items/a", "x", false, false, false, false, true},
		{"delta token", "__config", "delta/items/all", "[1,2]", false, true, false, false, false},
		{"format", "__config", "format", "one", false, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := zumotest.NewServer(t, zumotest.WithTable("items"))
			c, err := zumo.NewClient(srv.URL)
			require.NoError(t, err)
			store := offline.NewMemoryStore()
			sc, err := offline.New(c, store)
			require.NoError(t, err)
			tbl := offline.GetTable[map[string]any](sc, "items")
			_, err = tbl.Insert(ctx, map[string]any{"id": "a", "text": "x"})
			require.NoError(t, err)
			_, err = tbl.Pull(ctx, "all", tbl.Query())
			require.NoError(t, err)
			_, err = tbl.Update(ctx, map[string]any{"id": "a", "text": "y"})
			require.NoError(t, err)
			require.NoError(t, store.Update(ctx, func(tx offline.Tx) error { return tx.Put(tc.bucket, tc.key, []byte(tc.value)) }))

			if tc.name == "format" {
				_, err := offline.New(c, store)
				assert.ErrorContains(t, err, "corrupt")
				return
			}
			_, err = tbl.Update(ctx, map[string]any{"id": "a", "text": "z"})
			if tc.update {
				assert.ErrorContains(t, err, "corrupt")
			} else {
				assert.NoError(t, err)
			}
			_, err = sc.Push(ctx)
			if tc.push {
				assert.Error(t, err)
			}
			_, err = tbl.Pull(ctx, "all", tbl.Query())
			if tc.pull {
				assert.Error(t, err)
			}
			_, err = tbl.Lookup(ctx, "a")
			if tc.lookup {
				assert.Error(t, err)
			}
			_, err = tbl.ToSlice(ctx)
			if tc.query {
				assert.Error(t, err)
			}
			_, err = sc.PendingOperations(ctx)
			if tc.name == "operation" {
				assert.ErrorContains(t, err, "corrupt")
			}
		})
	}
}
