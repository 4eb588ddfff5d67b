package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/zumo-go/zumo/auth"
)

const (
	// DefaultMaxEntrySize is the largest entry file a File store reads or
	// writes unless WithMaxEntrySize says otherwise: 1 MiB, far more than a
	// user id and a token need.
	DefaultMaxEntrySize = 1 << 20

	// entryVersion is the format version this package writes and reads.
	entryVersion = 1
	// entrySuffix ends every entry file name.
	entrySuffix = ".json"
	// tempPattern names the temporary file a Save writes before renaming it
	// over the entry. The leading dot keeps it out of plain listings; the
	// suffix differs from entrySuffix so it is never taken for an entry.
	tempPattern = ".zumo-*.tmp"

	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// File is an auth.Store that keeps each entry in its own JSON file in one
// directory, so that a user stays logged in across runs of a program. It is
// safe for concurrent use, by goroutines and by processes sharing the
// directory: every Save writes a complete temporary file and renames it over
// the entry, so a Load sees the whole old entry or the whole new one, never
// a mix. When two Saves race, the last rename wins.
//
// See the package documentation for the file format.
type File struct {
	dir     string
	maxSize int64
}

var _ auth.Store = (*File)(nil)

// A FileOption configures a File store made by NewFile.
type FileOption func(*fileConfig)

type fileConfig struct {
	maxSize int64
}

// WithMaxEntrySize sets the largest entry file, in bytes, that Load reads
// and Save writes; n <= 0 means DefaultMaxEntrySize. Load reports a larger
// file as corrupt without reading it all, so a huge file cannot exhaust
// memory.
func WithMaxEntrySize(n int64) FileOption {
	return func(c *fileConfig) {
		if n <= 0 {
			n = DefaultMaxEntrySize
		}
		c.maxSize = n
	}
}

// NewFile returns a store that keeps its entries in dir. When dir does not
// exist it is made, with any missing parents, and given mode 0700; the mode
// of an existing directory is left as it is. A relative dir is made
// absolute, so a later change of working directory does not move the store.
//
// NewFile also removes what crashed writers left behind: temporary files
// older than an hour.
//
// NewFile fails when dir is "", when it exists but is not a directory, or
// when it cannot be made or examined; the error wraps the *fs.PathError.
func NewFile(dir string, opts ...FileOption) (*File, error) {
	if dir == "" {
		return nil, errors.New("cache: no directory given for the file store")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: file store directory: %w", err)
	}
	if err := ensureDir(abs); err != nil {
		return nil, err
	}
	cfg := fileConfig{maxSize: DefaultMaxEntrySize}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	removeStaleTemps(abs, time.Now())
	return &File{dir: abs, maxSize: cfg.maxSize}, nil
}

// staleTemp is the age after which a temporary file is a crashed writer's
// leftover (a write takes milliseconds). It holds a token: remove it.
const staleTemp = time.Hour

// removeStaleTemps removes, best effort, the temporary files in dir older
// than staleTemp.
func removeStaleTemps(dir string, now time.Time) {
	names, err := filepath.Glob(filepath.Join(dir, tempPattern))
	if err != nil {
		return
	}
	for _, name := range names {
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > staleTemp {
			_ = os.Remove(name)
		}
	}
}

// ensureDir makes dir (mode 0700) when it is absent and checks that it is a
// directory.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("cache: making file store directory: %w", err)
		}
		// MkdirAll's mode is filtered by the umask; make sure of 0700.
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("cache: making file store directory: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("cache: file store directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("cache: file store directory %s is not a directory", dir)
	}
	return nil
}

// DefaultDir returns the directory a program's file store conventionally
// uses: the "zumo" directory inside os.UserCacheDir. It does not make the
// directory (NewFile does). It fails, with an error wrapping the one from
// os.UserCacheDir, when the user has no cache directory (no $HOME or
// $XDG_CACHE_HOME, say).
func DefaultDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: no default directory: %w", err)
	}
	return filepath.Join(d, "zumo"), nil
}

// Dir returns the absolute directory the store keeps its files in.
func (s *File) Dir() string { return s.dir }

// path returns the entry file for key: the hex SHA-256 of the key, so any
// key, however long or strange, gives a short, safe file name. The full key
// is stored inside the file and checked by Load, so a collision (or a file
// copied in from elsewhere) is reported as corrupt, never as another key's
// user.
func (s *File) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:])+entrySuffix)
}

// Load returns the user saved under key.
//
// It returns auth.ErrNoUser when there is no entry for key, and ctx.Err()
// when ctx is already done. An entry file that exists but cannot be used
// (unreadable, not a regular file, larger than the size limit, not JSON, an
// unknown version, saved under another key, no user id or no token) gives a
// *CorruptEntryError, which wraps auth.ErrCorruptEntry; the caller treats
// the user as absent. Load never returns a partly read user.
//
// Load leaves a corrupt file where it is: deleting it could race a Save by
// another process that has just renamed a good entry into place, and the
// next Save replaces it anyway. Clear removes it.
func (s *File) Load(ctx context.Context, key string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := s.path(key)
	data, err := s.read(path)
	if err != nil {
		return nil, err
	}
	return decodeEntry(path, data, key)
}

// read returns the contents of the entry file at path: auth.ErrNoUser when
// it is absent, a *CorruptEntryError when it cannot be read or is too large.
func (s *File) read(path string) ([]byte, error) {
	// openReadFlags opens without blocking where that matters (a FIFO put
	// where the entry belongs would otherwise block Load forever).
	f, err := os.OpenFile(path, openReadFlags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, auth.ErrNoUser
		}
		return nil, &CorruptEntryError{Entry: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &CorruptEntryError{Entry: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &CorruptEntryError{Entry: path, Err: fmt.Errorf("not a regular file (mode %s)", fi.Mode())}
	}
	if fi.Size() > s.maxSize {
		return nil, &CorruptEntryError{Entry: path, Err: tooLarge(s.maxSize)}
	}
	// The file may have grown since Stat (it is the same inode: a Save
	// renames a new file over it, it never rewrites it, but someone else
	// might); read at most one byte more than the limit.
	data, err := io.ReadAll(io.LimitReader(f, s.maxSize+1))
	if err != nil {
		return nil, &CorruptEntryError{Entry: path, Err: err}
	}
	if int64(len(data)) > s.maxSize {
		return nil, &CorruptEntryError{Entry: path, Err: tooLarge(s.maxSize)}
	}
	return data, nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("larger than the limit of %d bytes", limit)
}

// Save stores u under key, replacing what was there, by writing a new file
// (mode 0600) beside the entry, syncing it to disk and renaming it over the
// entry, then syncing the directory where the platform allows. A failed Save
// leaves the previous entry, if any, untouched and removes its temporary
// file.
//
// Save fails with ctx.Err() when ctx is done before the rename; with an
// error wrapping auth.ErrInvalidUser when u is nil, has no id or no token,
// or its id or token is not valid UTF-8 (JSON could not hold it unchanged);
// with an error when key is not valid UTF-8 or the entry would exceed the
// size limit; and with an error wrapping the *fs.PathError when the file
// cannot be written or renamed. A directory removed since NewFile is made
// again. Errors never contain the token.
//
// On Windows a rename over a file another process is reading at that moment
// can fail with an access-denied error; retrying the Save is safe.
func (s *File) Save(ctx context.Context, key string, u *auth.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckUser(u); err != nil {
		return err
	}
	if !utf8.ValidString(u.ID()) || !utf8.ValidString(u.Token()) {
		return fmt.Errorf("cache: cannot save user: id or token is not valid UTF-8: %w", auth.ErrInvalidUser)
	}
	if !utf8.ValidString(key) {
		return errors.New("cache: cannot save user: key is not valid UTF-8")
	}
	data, err := encodeEntry(key, u, time.Now())
	if err != nil {
		return errors.New("cache: cannot save user: encoding the entry failed")
	}
	if int64(len(data)) > s.maxSize {
		return fmt.Errorf("cache: cannot save user: entry of %d bytes is %s", len(data), tooLarge(s.maxSize))
	}
	if err := s.writeAtomic(ctx, s.path(key), data); err != nil {
		return err
	}
	return nil
}

// writeAtomic puts data at path by way of a synced temporary file in the
// same directory and a rename.
func (s *File) writeAtomic(ctx context.Context, path string, data []byte) error {
	f, err := os.CreateTemp(s.dir, tempPattern)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory went away (a user emptied their cache, say).
		if ensureDir(s.dir) == nil {
			f, err = os.CreateTemp(s.dir, tempPattern)
		}
	}
	if err != nil {
		return fmt.Errorf("cache: saving user: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	// CreateTemp already makes the file 0600; say so explicitly, before any
	// secret is written, rather than rely on it.
	if err := f.Chmod(fileMode); err != nil {
		return fail(fmt.Errorf("cache: saving user: %w", err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("cache: saving user: %w", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("cache: saving user: %w", err))
	}
	if err := f.Close(); err != nil {
		return fail(fmt.Errorf("cache: saving user: %w", err))
	}
	// Last chance to give up: after the rename the Save has happened.
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(fmt.Errorf("cache: saving user: %w", err))
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("cache: user saved but the directory could not be synced: %w", err)
	}
	return nil
}

// Clear removes the entry under key, corrupt or not, and syncs the directory
// where the platform allows. Clearing an absent entry is not an error. Clear
// fails with ctx.Err() when ctx is already done, and with an error wrapping
// the *fs.PathError when the file cannot be removed (a directory in its
// place that is not empty, say).
func (s *File) Clear(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cache: clearing user: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("cache: user cleared but the directory could not be synced: %w", err)
	}
	return nil
}

// entryOut is the entry Save writes.
type entryOut struct {
	V       int        `json:"v"`
	Key     string     `json:"key"`
	User    *auth.User `json:"user"`
	SavedAt time.Time  `json:"savedAt"`
}

// entryIn is the entry Load reads; pointers tell a missing field from a
// zero one.
type entryIn struct {
	V       *int            `json:"v"`
	Key     *string         `json:"key"`
	User    json.RawMessage `json:"user"`
	SavedAt *time.Time      `json:"savedAt"`
}

// encodeEntry returns the file contents for u saved under key at now.
func encodeEntry(key string, u *auth.User, now time.Time) ([]byte, error) {
	b, err := json.Marshal(entryOut{V: entryVersion, Key: key, User: u, SavedAt: now.UTC()})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeEntry reads an entry file's contents, checking it was saved under
// key. It returns the user, or a *CorruptEntryError (wrapping
// auth.ErrCorruptEntry) whose message holds nothing from data.
func decodeEntry(path string, data []byte, key string) (*auth.User, error) {
	corrupt := func(err error) (*auth.User, error) {
		return nil, &CorruptEntryError{Entry: path, Err: err}
	}
	var e entryIn
	if err := json.Unmarshal(data, &e); err != nil {
		return corrupt(jsonFault("entry", err))
	}
	switch {
	case e.V == nil && e.Key == nil && e.User == nil && e.SavedAt == nil && string(bytes.TrimSpace(data)) == "null":
		return corrupt(errors.New("entry is not a JSON object"))
	case e.V == nil:
		return corrupt(errors.New("no format version"))
	case *e.V != entryVersion:
		return corrupt(fmt.Errorf("unsupported format version %d", *e.V))
	case e.Key == nil:
		return corrupt(errors.New("no key"))
	case *e.Key != key:
		return corrupt(errors.New("entry was saved under another key"))
	case len(e.User) == 0 || string(e.User) == "null":
		return corrupt(errors.New("no user"))
	}
	u := new(auth.User)
	if err := u.UnmarshalJSON(e.User); err != nil {
		if errors.Is(err, auth.ErrInvalidUser) {
			return corrupt(errors.New("no user id or no token"))
		}
		return corrupt(jsonFault("user", err))
	}
	return u, nil
}
