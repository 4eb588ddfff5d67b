package offlinetest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/offline"
)

func testStore(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	require.NoError(t, s.Update(ctx, func(tx offline.Tx) error {
		for _, k := range []string{"b", "a", "c", "a/b", "ü"} {
			if err := tx.Put("__records", k, []byte("v"+k)); err != nil {
				return err
			}
		}
		return tx.Put("rows", "r1", []byte(`{"id":"r1","n":1}`))
	}))
	t.Run("scan is ordered and starts at from", func(t *testing.T) {
		var keys []string
		require.NoError(t, s.View(ctx, func(tx offline.Tx) error {
			return tx.Scan("__records", "a/", func(k string, v []byte) (bool, error) {
				assert.Equal(t, "v"+k, string(v))
				keys = append(keys, k)
				return k != "c", nil
			})
		}))
		assert.Equal(t, []string{"a/b", "b", "c"}, keys)
	})
	t.Run("a failed update writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx offline.Tx) error {
			require.NoError(t, tx.Put("__records", "a", []byte("changed")))
			require.NoError(t, tx.Delete("__records", "b"))
			require.NoError(t, tx.Put("__records", "new", []byte("x")))
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.NoError(t, s.View(ctx, func(tx offline.Tx) error {
			v, ok, err := tx.Get("__records", "a")
			assert.True(t, ok)
			assert.Equal(t, "va", string(v))
			_, ok, _ = tx.Get("__records", "b")
			assert.True(t, ok, "deleted key restored")
			_, ok, _ = tx.Get("__records", "new")
			assert.False(t, ok, "new key rolled back")
			return err
		}))
	})
	t.Run("a view cannot write", func(t *testing.T) {
		err := s.View(ctx, func(tx offline.Tx) error { return tx.Put("__records", "z", []byte("z")) })
		assert.Error(t, err)
	})
	t.Run("missing keys and buckets", func(t *testing.T) {
		require.NoError(t, s.View(ctx, func(tx offline.Tx) error {
			_, ok, err := tx.Get("nobucket", "x")
			assert.False(t, ok)
			assert.NoError(t, err)
			n := 0
			assert.NoError(t, tx.Scan("nobucket", "", func(string, []byte) (bool, error) { n++; return true, nil }))
			assert.Zero(t, n)
			return nil
		}))
		assert.NoError(t, s.Update(ctx, func(tx offline.Tx) error { return tx.Delete("nobucket", "x") }))
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		called := false
		err := s.Update(cctx, func(offline.Tx) error { called = true; return nil })
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, called)
	})
}
