package sqlitestore_test

import (
	"github.com/stretchr/testify/assert"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/offlinetest"
	"github.com/zumo-go/zumo/offline/sqlitestore"
)

func openTemp(t *testing.T, opts ...sqlitestore.Option) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSuite(t *testing.T) {
	offlinetest.Run(t, func(t *testing.T) offline.Store { return openTemp(t) })
}

func TestOpenPaths(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?b.db", "c#d.db", "e%20f.db", "ü 😀.db"} {
		p := filepath.Join(dir, name)
		s, err := sqlitestore.Open(p)
		require.NoError(t, err, name)
		require.NoError(t, s.Close())
		_, err = os.Stat(p)
		assert.NoError(t, err, "the file is where it was asked for: %s", name)
	}
}
