//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// platformCorruptCases are faults only Unix can set up. They stand in for
// "permission denied", which root (as the tests run) never sees: each makes
// the entry exist but be unreadable as a regular file.
func platformCorruptCases(*testing.T) []corruptCase {
	return []corruptCase{
		{name: "FIFO in its place", make: func(t *testing.T, path, _ string) {
			// Without O_NONBLOCK, opening this would block Load forever.
			require.NoError(t, syscall.Mkfifo(path, 0o600))
		}, overwritable: true},
		{name: "symlink loop", make: func(t *testing.T, path, _ string) {
			require.NoError(t, os.Symlink(filepath.Base(path), path))
		}, overwritable: true},
		{name: "symlink to a device", make: func(t *testing.T, path, _ string) {
			require.NoError(t, os.Symlink(os.DevNull, path))
		}, overwritable: true},
		{name: "symlink to a directory", make: func(t *testing.T, path, _ string) {
			require.NoError(t, os.Symlink(filepath.Dir(path), path))
		}, overwritable: true},
	}
}
