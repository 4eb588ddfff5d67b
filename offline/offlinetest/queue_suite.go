package offlinetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// synced pulls a seeded server row "s1" so that the local table has a
// row known to the server.
func synced(t *testing.T, open Opener) *env {
	t.Helper()
	e := newEnv(t, open, []zumotest.Option{zumotest.WithClock(Ticker()), zumotest.WithTable("items", zumotest.SoftDelete(),
		zumotest.Seed(map[string]any{"id": "s1", "text": "seeded", "priority": 1}))})
	_, err := e.tbl.Pull(context.Background(), "all", e.tbl.Query())
	require.NoError(t, err)
	return e
}

func testQueue(t *testing.T, open Opener) {
	ctx := context.Background()
	type step struct {
		do  string // insert, update, delete (of row "n1", or "s1" when synced)
		err error  // wanted error (errors.Is), nil for success
	}
	cases := []struct {
		name   string
		synced bool
		steps  []step
		want   []offline.OpKind
	}{
		{"insert", false, []step{{"insert", nil}}, []offline.OpKind{offline.OpInsert}},
		{"insert+update is insert", false, []step{{"insert", nil}, {"update", nil}, {"update", nil}}, []offline.OpKind{offline.OpInsert}},
		{"insert+delete is nothing", false, []step{{"insert", nil}, {"update", nil}, {"delete", nil}}, nil},
		{"update+update is update", true, []step{{"update", nil}, {"update", nil}}, []offline.OpKind{offline.OpUpdate}},
		{"update+delete is delete", true, []step{{"update", nil}, {"delete", nil}}, []offline.OpKind{offline.OpDelete}},
		{"delete", true, []step{{"delete", nil}}, []offline.OpKind{offline.OpDelete}},
		{"insert after insert", false, []step{{"insert", nil}, {"insert", offline.ErrQueue}}, []offline.OpKind{offline.OpInsert}},
		{"insert after update", true, []step{{"update", nil}, {"insert", offline.ErrQueue}}, []offline.OpKind{offline.OpUpdate}},
		{"insert after delete", true, []step{{"delete", nil}, {"insert", offline.ErrQueue}}, []offline.OpKind{offline.OpDelete}},
		{"update after delete", true, []step{{"delete", nil}, {"update", zumo.ErrNotFound}}, []offline.OpKind{offline.OpDelete}},
		{"insert of a synced row", true, []step{{"insert", zumo.ErrConflict}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			id := "n1"
			if tc.synced {
				e, id = synced(t, open), "s1"
			} else {
				e = newEnv(t, open, nil)
			}
			before := len(e.srv.Requests())
			for i, s := range tc.steps {
				var err error
				item := Item{ID: id, Text: s.do, Priority: i}
				switch s.do {
				case "insert":
					_, err = e.tbl.Insert(ctx, item)
				case "update":
					_, err = e.tbl.Update(ctx, item)
				case "delete":
					err = e.tbl.Delete(ctx, item)
				}
				if s.err == nil {
					require.NoError(t, err, "step %d", i)
				} else {
					require.ErrorIs(t, err, s.err, "step %d", i)
				}
			}
			var kinds []offline.OpKind
			for _, op := range pending(t, e.sc) {
				assert.Equal(t, id, op.ID)
				kinds = append(kinds, op.Kind)
			}
			assert.Equal(t, tc.want, kinds)
			assert.Len(t, e.srv.Requests(), before, "local writes send nothing")
		})
	}
	t.Run("operations keep their order and rows their values", func(t *testing.T) {
		e := newEnv(t, open, nil)
		for _, id := range []string{"c", "a", "b"} {
			_, err := e.tbl.Insert(ctx, Item{ID: id, Text: "t" + id})
			require.NoError(t, err)
		}
		_, err := e.tbl.Update(ctx, Item{ID: "c", Text: "changed"})
		require.NoError(t, err)
		var ids []string
		for _, op := range pending(t, e.sc) {
			ids = append(ids, op.ID)
		}
		assert.Equal(t, []string{"c", "a", "b"}, ids)
		got, err := e.tbl.Lookup(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, "changed", got.Text)
	})
	t.Run("an insert without id gets a GUID", func(t *testing.T) {
		e := newEnv(t, open, nil)
		got, err := e.tbl.Insert(ctx, Item{Text: "x"})
		require.NoError(t, err)
		assert.Len(t, got.ID, 36)
		_, err = e.tbl.Lookup(ctx, got.ID)
		assert.NoError(t, err)
	})
	t.Run("bad ids and names write nothing", func(t *testing.T) {
		e := newEnv(t, open, nil)
		for _, id := range []string{"a\x00b", "..", string(make([]byte, 300)), strings.Repeat("😀", 128)} { // 256 UTF-16 units
			_, err := e.tbl.Insert(ctx, Item{ID: id})
			assert.ErrorIs(t, err, zumo.ErrInvalidID, "%q", id)
		}
		_, err := offline.GetTable[Item](e.sc, "__operations").Insert(ctx, Item{})
		assert.Error(t, err)
		_, err = e.tbl.Lookup(ctx, "missing")
		assert.ErrorIs(t, err, zumo.ErrNotFound)
		assert.Empty(t, pending(t, e.sc))
	})
	t.Run("ids with / ? # and unicode", func(t *testing.T) {
		e := newEnv(t, open, nil)
		for _, id := range []string{"a/b", "q?x=1", "h#1", "ünï😀"} {
			_, err := e.tbl.Insert(ctx, Item{ID: id, Text: id})
			require.NoError(t, err)
		}
		_, err := e.sc.Push(ctx)
		require.NoError(t, err)
		for _, id := range []string{"a/b", "q?x=1", "h#1", "ünï😀"} {
			row, ok := serverRow(e.srv, id)
			require.True(t, ok, id)
			assert.Equal(t, id, row["text"])
		}
	})
}
