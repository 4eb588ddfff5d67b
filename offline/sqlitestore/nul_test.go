package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
)

// TestNULInStrings pins that strings holding U+0000, in the rows or in the
// filter, give the memory store's answer. SQLite's C string functions stop
// at the first NUL, so the compiled SQL must not lean on them.
func TestNULInStrings(t *testing.T) {
	type row struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	rows := []row{
		{"1", "a\x00b"}, {"2", "\x00"}, {"3", "ab"}, {"4", "a"},
		{"5", "a\x00"}, {"6", "b\x00a"}, {"7", ""}, {"8", "A\x00B"},
	}
	ctx := context.Background()
	open := func(s offline.Store) *offline.Table[row] {
		sc, err := offline.New(newClient(t), s)
		require.NoError(t, err)
		tbl := offline.GetTable[row](sc, "rows")
		for _, r := range rows {
			_, err := tbl.Insert(ctx, r)
			require.NoError(t, err)
		}
		return tbl
	}
	db, err := sqlitestore.Open(filepath.Join(t.TempDir(), "nul.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	sqlTbl, memTbl := open(db), open(offline.NewMemoryStore())

	for _, filter := range []string{
		"endswith(name,'\x00')",
		"endswith(name,'\x00b')",
		"startswith(name,'a\x00')",
		"startswith(name,'\x00')",
		"substringof('\x00', name)",
		"substringof('\x00a', name)",
		"length(name) eq 3",
		"length(name) eq 1",
		"name eq 'a\x00b'",
		"name eq 'a'",
		"name gt 'a'",
		"name lt 'a\x00'",
		"tolower(name) eq 'a\x00b'",
		"toupper(name) eq 'B\x00A'",
		"indexof(name,'b') eq 2",
		"substring(name,1) eq '\x00b'",
		"concat(name,'x') eq 'a\x00x'",
		"trim(name) eq '\x00'",
		"replace(name,'\x00','-') eq 'a-b'",
	} {
		t.Run(filter, func(t *testing.T) {
			want, err := memTbl.Where(zumo.Raw(filter)).OrderBy("name").ToSlice(ctx)
			require.NoError(t, err)
			got, err := sqlTbl.Where(zumo.Raw(filter)).OrderBy("name").ToSlice(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	t.Run("order", func(t *testing.T) {
		want, err := memTbl.Query().OrderByDescending("name").ToSlice(ctx)
		require.NoError(t, err)
		got, err := sqlTbl.Query().OrderByDescending("name").ToSlice(ctx)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}
