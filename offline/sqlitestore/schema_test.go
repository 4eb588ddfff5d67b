package sqlitestore_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
	_ "modernc.org/sqlite"
)

func TestSchema(t *testing.T) {
	ctx := context.Background()
	t.Run("reopening keeps the data", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.db")
		s, err := sqlitestore.Open(p)
		require.NoError(t, err)
		require.NoError(t, s.Update(ctx, func(tx offline.Tx) error { return tx.Put("t", "k", []byte(`{"id":"k"}`)) }))
		require.NoError(t, s.Close())
		s, err = sqlitestore.Open(p)
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.View(ctx, func(tx offline.Tx) error {
			v, ok, err := tx.Get("t", "k")
			assert.True(t, ok)
			assert.JSONEq(t, `{"id":"k"}`, string(v))
			return err
		}))
	})
	t.Run("a newer schema is refused", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.db")
		s, err := sqlitestore.Open(p)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		db, err := sql.Open("sqlite", p)
		require.NoError(t, err)
		_, err = db.Exec("PRAGMA user_version = 99")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		_, err = sqlitestore.Open(p)
		assert.ErrorIs(t, err, sqlitestore.ErrNewerSchema)
	})
	t.Run("a file that is not a database", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.db")
		require.NoError(t, os.WriteFile(p, []byte("this is not sqlite, just text that is long enough to be read as a header....."), 0o600))
		_, err := sqlitestore.Open(p)
		assert.ErrorContains(t, err, "not a database")
	})
	t.Run("an empty database from elsewhere is migrated", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.db")
		db, err := sql.Open("sqlite", p)
		require.NoError(t, err)
		_, err = db.Exec("CREATE TABLE other (x)")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		s, err := sqlitestore.Open(p)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		db, err = sql.Open("sqlite", p)
		require.NoError(t, err)
		defer db.Close()
		var v int
		require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
		assert.Equal(t, sqlitestore.SchemaVersion, v)
	})
	t.Run("an offline format from a newer zumo is refused", func(t *testing.T) {
		s := openTemp(t)
		require.NoError(t, s.Update(ctx, func(tx offline.Tx) error { return tx.Put("__config", "format", []byte("7")) }))
		c := newClient(t)
		_, err := offline.New(c, s)
		assert.ErrorIs(t, err, offline.ErrNewerStore)
	})
	t.Run("unsupported filters are errors", func(t *testing.T) {
		s := openTemp(t)
		sc, err := offline.New(newClient(t), s)
		require.NoError(t, err)
		tbl := offline.GetTable[map[string]any](sc, "t")
		_, err = tbl.Insert(ctx, map[string]any{"id": "a", "n": 3})
		require.NoError(t, err)
		for _, f := range []string{"a/b eq 1", "n mod 2 eq 1"} {
			_, err = tbl.Where(rawExpr(f)).ToSlice(ctx)
			assert.ErrorIs(t, err, offline.ErrUnsupportedQuery, f)
		}
	})
}
