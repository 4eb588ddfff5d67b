//go:build unix

package cache

import (
	"errors"
	"os"
	"syscall"
)

// openReadFlags opens an entry for reading without blocking: a FIFO in the
// entry's place then opens at once and is rejected as not a regular file.
// O_NONBLOCK has no effect on reading a regular file.
const openReadFlags = os.O_RDONLY | syscall.O_NONBLOCK

// syncDir flushes dir's entries (a rename or a removal) to disk. File
// systems that cannot sync a directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
