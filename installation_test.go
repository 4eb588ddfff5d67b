package zumo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstallationIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "installation-id")
	id, err := InstallationIDFile(path)
	require.NoError(t, err)
	assert.True(t, validGUID(id), id)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	if os.PathSeparator == '/' {
		assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	}
	again, err := InstallationIDFile(path)
	require.NoError(t, err)
	assert.Equal(t, id, again, "made once, then read")

	c, err := NewClient("https://app.example/", WithInstallationID(id))
	require.NoError(t, err)
	assert.Equal(t, id, c.InstallationID())

	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".zumo-install-*"))
	assert.Empty(t, leftovers)
}

func TestInstallationIDFileInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "installation-id")
	require.NoError(t, os.WriteFile(path, []byte("not a guid\n"), 0o600))
	_, err := InstallationIDFile(path)
	assert.ErrorIs(t, err, ErrInvalidInstallationID)
	b, _ := os.ReadFile(path)
	assert.Equal(t, "not a guid\n", string(b), "left as it was")

	// A directory where the file should be.
	dir := filepath.Join(t.TempDir(), "id")
	require.NoError(t, os.Mkdir(dir, 0o700))
	_, err = InstallationIDFile(dir)
	var pe *fs.PathError
	assert.ErrorAs(t, err, &pe)
}

// Many callers at once, as many processes starting together: one id.
func TestInstallationIDFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "installation-id")
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := InstallationIDFile(path)
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
}

// On a file system without hard links the file is created exclusively.
func TestInstallationIDFileWithoutHardLinks(t *testing.T) {
	noLinks := func(string, string) error { return &os.LinkError{Op: "link", Err: errors.ErrUnsupported} }
	path := filepath.Join(t.TempDir(), "installation-id")
	id, err := installationIDFile(path, noLinks)
	require.NoError(t, err)
	assert.True(t, validGUID(id))
	again, err := installationIDFile(path, noLinks)
	require.NoError(t, err)
	assert.Equal(t, id, again)
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".zumo-install-*"))
	assert.Empty(t, leftovers)
}
