//go:build !unix

package cache

import "os"

// openReadFlags opens an entry for reading.
const openReadFlags = os.O_RDONLY

// syncDir does nothing: this platform offers no way to sync a directory
// through package os, so a Save is durable once its file is synced and the
// rename is as durable as the file system makes it.
func syncDir(string) error { return nil }
