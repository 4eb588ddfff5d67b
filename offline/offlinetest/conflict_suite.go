package offlinetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

func testConflicts(t *testing.T, open Opener) {
	ctx := context.Background()
	merge := offline.Merge(func(_ context.Context, client, server Item) (Item, error) {
		client.Text = client.Text + "+" + server.Text
		return client, nil
	})
	cases := []struct {
		name     string
		resolver offline.Resolver
		local    string // update or delete
		// wanted server text ("" = row gone), local text ("" = row gone),
		// and whether the operation stays queued
		server, localAfter string
		queued             bool
	}{
		{"no resolver keeps the update", nil, "update", "theirs", "mine", true},
		{"server wins an update", offline.ServerWins, "update", "theirs", "theirs", false},
		{"client wins an update", offline.ClientWins, "update", "mine", "mine", false},
		{"merge", merge, "update", "mine+theirs", "mine+theirs", false},
		{"server wins a delete", offline.ServerWins, "delete", "theirs", "theirs", false},
		{"client wins a delete", offline.ClientWins, "delete", "", "", false},
		{"postpone", func(context.Context, *offline.Conflict) (offline.Resolution, error) { return offline.Postpone(), nil }, "update", "theirs", "mine", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := synced(t, open)
			e = newEnvOn(t, e.srv, e.c, e.store, offline.WithResolver(tc.resolver))
			// Someone else changes the row on the server.
			online := zumo.GetTable[Item](e.c, "items")
			cur, err := online.Lookup(ctx, "s1")
			require.NoError(t, err)
			cur.Text = "theirs"
			_, err = online.Update(ctx, cur)
			require.NoError(t, err)

			if tc.local == "update" {
				_, err = e.tbl.Update(ctx, Item{ID: "s1", Text: "mine"})
			} else {
				err = e.tbl.Delete(ctx, Item{ID: "s1"})
			}
			require.NoError(t, err)
			res, err := e.sc.Push(ctx)
			if tc.queued {
				var oe *offline.OperationError
				require.ErrorAs(t, err, &oe)
				require.NotNil(t, oe.Conflict)
				assert.ErrorIs(t, err, zumo.ErrPreconditionFailed)
				var pf *zumo.PreconditionFailedError[map[string]any]
				assert.ErrorAs(t, err, &pf)
				var server Item
				require.NoError(t, json.Unmarshal(oe.Conflict.Server, &server))
				assert.Equal(t, "theirs", server.Text)
				assert.Len(t, pending(t, e.sc), 1)
			} else {
				require.NoError(t, err)
				assert.Equal(t, 1, res.Resolved)
				assert.Empty(t, pending(t, e.sc))
			}
			row, ok := serverRow(e.srv, "s1")
			if tc.server == "" {
				assert.False(t, ok)
			} else {
				require.True(t, ok)
				assert.Equal(t, tc.server, row["text"])
			}
			local, err := e.tbl.Lookup(ctx, "s1")
			if tc.localAfter == "" {
				assert.ErrorIs(t, err, zumo.ErrNotFound)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.localAfter, local.Text)
				if !tc.queued {
					assert.Equal(t, row["version"], local.Version)
				}
			}
		})
	}
	t.Run("an insert whose id the server has", func(t *testing.T) {
		e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items",
			zumotest.Seed(map[string]any{"id": "x", "text": "theirs"}))}, offline.WithResolver(offline.ClientWins))
		_, err := e.tbl.Insert(ctx, Item{ID: "x", Text: "mine"})
		require.NoError(t, err)
		_, err = e.sc.Push(ctx)
		require.NoError(t, err)
		row, _ := serverRow(e.srv, "x")
		assert.Equal(t, "mine", row["text"], "client wins: the insert became an update")
	})
	t.Run("a resolver error keeps the operation", func(t *testing.T) {
		e := synced(t, open)
		e = newEnvOn(t, e.srv, e.c, e.store, offline.WithResolver(func(context.Context, *offline.Conflict) (offline.Resolution, error) {
			return offline.TakeClient(), assert.AnError
		}))
		online := zumo.GetTable[Item](e.c, "items")
		cur, err := online.Lookup(ctx, "s1")
		require.NoError(t, err)
		_, err = online.Update(ctx, cur)
		require.NoError(t, err)
		_, err = e.tbl.Update(ctx, Item{ID: "s1", Text: "mine"})
		require.NoError(t, err)
		_, err = e.sc.Push(ctx)
		assert.ErrorIs(t, err, assert.AnError)
		assert.Len(t, pending(t, e.sc), 1)
	})
}
