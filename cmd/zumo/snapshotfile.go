package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zumo-go/zumo/zumotest"
)

// snapshotFile keeps the emulator's tables in one JSON file (written by
// zumotest's Snapshot). Why a snapshot and not a database: the emulator
// keeps everything in memory anyway; one JSON document is readable,
// diffable and has no dependency. It is written to a temporary file,
// synced and renamed over the old one, so a crash at any instant leaves
// either the old or the new snapshot, never a torn one. Writes are
// batched: after a change the file is written at most every
// flushInterval, and a final time at shutdown, after the last request.
type snapshotFile struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	dirty   bool
	wake    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// flushInterval bounds how long a change waits to reach the file (what a
// kill -9 can lose; SIGINT and SIGTERM lose nothing).
const flushInterval = 200 * time.Millisecond

// load restores the file into srv; a missing file is an empty start.
func (f *snapshotFile) load(srv *zumotest.Server, opts []zumotest.TableOption) error {
	f.wake = make(chan struct{}, 1)
	f.stopped = make(chan struct{})
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		// Written now, so that a path that cannot be written fails at
		// start rather than at the first change.
		var buf bytes.Buffer
		if err := srv.Snapshot(&buf); err != nil {
			return err
		}
		if err := writeFileAtomic(f.path, buf.Bytes()); err != nil {
			return fmt.Errorf("--data %s: %w", f.path, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := srv.Restore(bytes.NewReader(b), opts...); err != nil {
		return fmt.Errorf("--data %s: %w (the file is left as it is)", f.path, err)
	}
	return nil
}

// changed records that the tables changed.
func (f *snapshotFile) changed() {
	f.mu.Lock()
	f.dirty = true
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// stop makes run write a last time and return.
func (f *snapshotFile) stop() { f.once.Do(func() { close(f.stopped) }) }

// run writes the snapshot after changes until stop; it returns the last
// write's error.
func (f *snapshotFile) run(srv *zumotest.Server) error {
	for {
		select {
		case <-f.wake:
		case <-f.stopped:
			return f.flush(srv, true)
		}
		select {
		case <-time.After(flushInterval):
		case <-f.stopped:
		}
		if err := f.flush(srv, false); err != nil {
			// Keep serving; the next change or the shutdown tries again.
			f.log.Error("cannot save the tables; retrying at the next change and at shutdown", "file", f.path, "err", err)
		}
	}
}

// flush writes the snapshot when something changed (always when final,
// so that a new --data file exists after the first clean stop).
func (f *snapshotFile) flush(srv *zumotest.Server, final bool) error {
	f.mu.Lock()
	dirty := f.dirty
	f.dirty = false
	f.mu.Unlock()
	if !dirty && !final {
		return nil
	}
	var buf bytes.Buffer
	if err := srv.Snapshot(&buf); err != nil {
		return err
	}
	if err := writeFileAtomic(f.path, buf.Bytes()); err != nil {
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
		return err
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path, then the directory synced.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
