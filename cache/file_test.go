package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

func newFileStore(t *testing.T, opts ...FileOption) *File {
	t.Helper()
	s, err := NewFile(t.TempDir(), opts...)
	require.NoError(t, err)
	return s
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func requireNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	for _, n := range dirNames(t, dir) {
		require.True(t, strings.HasSuffix(n, entrySuffix) && !strings.HasPrefix(n, "."),
			"unexpected file %q left in the store", n)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "nested", "store")
	s, err := NewFile(dir)
	require.NoError(t, err)

	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, fs.FileMode(0o700), fi.Mode().Perm(), "store directory mode")

	key := auth.Key("https://app.example", "alice")
	require.NoError(t, s.Save(ctx, key, testUser(t, "sid:1")))
	fi, err = os.Stat(s.path(key))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "entry file mode")

	// A loosened entry is replaced by a new 0600 file on the next Save.
	require.NoError(t, os.Chmod(s.path(key), 0o644))
	require.NoError(t, s.Save(ctx, key, testUser(t, "sid:2")))
	fi, err = os.Stat(s.path(key))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm(), "entry file mode after resave")

	// An existing directory's mode is left alone.
	loose := filepath.Join(t.TempDir(), "loose")
	require.NoError(t, os.Mkdir(loose, 0o755))
	require.NoError(t, os.Chmod(loose, 0o755))
	_, err = NewFile(loose)
	require.NoError(t, err)
	fi, err = os.Stat(loose)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), fi.Mode().Perm())
}

func TestFileFormat(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	key := auth.Key("https://app.example", "alice")
	u := testUser(t, "sid:1")
	before := time.Now().Add(-time.Second)
	require.NoError(t, s.Save(ctx, key, u))

	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:]) + ".json"
	assert.Equal(t, []string{name}, dirNames(t, s.Dir()))

	raw, err := os.ReadFile(filepath.Join(s.Dir(), name))
	require.NoError(t, err)
	var e struct {
		V       int               `json:"v"`
		Key     string            `json:"key"`
		User    map[string]string `json:"user"`
		SavedAt time.Time         `json:"savedAt"`
	}
	require.NoError(t, json.Unmarshal(raw, &e))
	assert.Equal(t, 1, e.V)
	assert.Equal(t, key, e.Key)
	assert.Equal(t, map[string]string{"userId": "sid:1", "authenticationToken": u.Token()}, e.User)
	assert.False(t, e.SavedAt.Before(before), "savedAt %v", e.SavedAt)
	assert.Equal(t, time.UTC, e.SavedAt.Location())
}

func TestFileNoTempFilesLeft(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	key := auth.Key("https://app.example", "alice")
	for i := range 20 {
		require.NoError(t, s.Save(ctx, key, testUser(t, "sid:"+string(rune('a'+i)))))
	}
	assert.Len(t, dirNames(t, s.Dir()), 1)
	requireNoTempFiles(t, s.Dir())

	// A Save whose rename fails (a directory holds the entry's place)
	// removes its temporary file.
	blocked := auth.Key("https://app.example", "blocked")
	require.NoError(t, os.MkdirAll(filepath.Join(s.path(blocked), "child"), 0o700))
	err := s.Save(ctx, blocked, testUser(t, "sid:x"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "sekrit")
	assert.Len(t, dirNames(t, s.Dir()), 2)
	requireNoTempFiles(t, s.Dir())
}

func TestFileSaveRejects(t *testing.T) {
	ctx := context.Background()
	key := auth.Key("https://app.example", "alice")
	tests := []struct {
		name    string
		opts    []FileOption
		key     string
		user    *auth.User
		invalid bool // the error wraps auth.ErrInvalidUser
	}{
		{name: "entry over the size limit", opts: []FileOption{WithMaxEntrySize(100)}, key: key, user: testUser(t, "sid:1")},
		{name: "key not UTF-8", key: "zumo|\xff|alice", user: testUser(t, "sid:1")},
		{name: "token not UTF-8", key: key, user: auth.NewUser("sid:1", "sekrit\xfe"), invalid: true},
		{name: "id not UTF-8", key: key, user: auth.NewUser("sid:\xfe", "sekrit"), invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFileStore(t, tc.opts...)
			err := s.Save(ctx, tc.key, tc.user)
			require.Error(t, err)
			if tc.invalid {
				require.ErrorIs(t, err, auth.ErrInvalidUser)
			}
			assert.NotContains(t, err.Error(), tc.user.Token())
			assert.Empty(t, dirNames(t, s.Dir()), "a rejected Save writes nothing")
		})
	}
}

func TestFileMaxEntrySizeOption(t *testing.T) {
	ctx := context.Background()
	key := auth.Key("https://app.example", "alice")
	u := testUser(t, "sid:1")
	data, err := encodeEntry(key, u, time.Now())
	require.NoError(t, err)
	n := int64(len(data))

	for _, tc := range []struct {
		name  string
		limit int64
		ok    bool
	}{
		{"exactly the entry size", n, true},
		{"one byte short", n - 1, false},
		{"zero means default", 0, true},
		{"negative means default", -5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFileStore(t, WithMaxEntrySize(tc.limit), nil)
			// Write the file directly so that Load's limit is what is tested.
			require.NoError(t, os.WriteFile(s.path(key), data, 0o600))
			got, err := s.Load(ctx, key)
			if tc.ok {
				require.NoError(t, err)
				requireSameUser(t, u, got)
			} else {
				require.ErrorIs(t, err, auth.ErrCorruptEntry)
				require.Nil(t, got)
			}
		})
	}
}

// corruptCase puts something unusable where key's entry belongs.
type corruptCase struct {
	name string
	opts []FileOption
	// make writes the bad entry at path (for key).
	make func(t *testing.T, path, key string)
	// overwritable: a Save replaces it without a Clear first.
	overwritable bool
	// stuck: not even Clear can remove it (the store never deletes more
	// than one file).
	stuck bool
}

func writeBytes(b []byte) func(t *testing.T, path, key string) {
	return func(t *testing.T, path, _ string) {
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
}

// writeEntry writes an entry built from fields; "$KEY" in a string value
// is replaced by the key being loaded.
func writeEntry(fields map[string]any) func(t *testing.T, path, key string) {
	return func(t *testing.T, path, key string) {
		b, err := json.Marshal(fields)
		require.NoError(t, err)
		b = bytes.ReplaceAll(b, []byte("$KEY"), []byte(key))
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
}

const corruptToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sekrit-signature-in-a-corrupt-file"

func goodUserJSON() map[string]any {
	return map[string]any{"userId": "sid:1", "authenticationToken": corruptToken}
}

func commonCorruptCases(t *testing.T) []corruptCase {
	valid := func(key string) []byte {
		b, err := encodeEntry(key, auth.NewUser("sid:1", corruptToken), time.Now())
		require.NoError(t, err)
		return b
	}
	huge := func(limit int) func(t *testing.T, path, key string) {
		return func(t *testing.T, path, key string) {
			// A valid entry padded with whitespace past the limit: only the
			// size makes it unusable.
			b := append(bytes.Repeat([]byte(" "), limit), valid(key)...)
			require.NoError(t, os.WriteFile(path, b, 0o600))
		}
	}
	return []corruptCase{
		{name: "empty file", make: writeBytes(nil), overwritable: true},
		{name: "whitespace", make: writeBytes([]byte(" \n\t")), overwritable: true},
		{name: "truncated JSON", make: func(t *testing.T, path, key string) {
			b := valid(key)
			require.NoError(t, os.WriteFile(path, b[:len(b)-20], 0o600))
		}, overwritable: true},
		{name: "truncated after the first byte", make: func(t *testing.T, path, key string) {
			require.NoError(t, os.WriteFile(path, valid(key)[:1], 0o600))
		}, overwritable: true},
		{name: "null", make: writeBytes([]byte("null")), overwritable: true},
		{name: "array", make: writeBytes([]byte(`[1,2]`)), overwritable: true},
		{name: "string", make: writeBytes([]byte(`"` + corruptToken + `"`)), overwritable: true},
		{name: "not JSON", make: writeBytes([]byte("userId=sid:1 token=" + corruptToken)), overwritable: true},
		{name: "binary garbage", make: writeBytes([]byte{0, 0xff, 0xfe, '{', 1, 2, 3}), overwritable: true},
		{name: "trailing garbage", make: func(t *testing.T, path, key string) {
			require.NoError(t, os.WriteFile(path, append(valid(key), []byte("}"+corruptToken)...), 0o600))
		}, overwritable: true},
		{name: "two objects", make: func(t *testing.T, path, key string) {
			require.NoError(t, os.WriteFile(path, append(valid(key), valid(key)...), 0o600))
		}, overwritable: true},
		{name: "wrong version", make: writeEntry(map[string]any{"v": 2, "key": "$KEY", "user": goodUserJSON()}), overwritable: true},
		{name: "version zero", make: writeEntry(map[string]any{"v": 0, "key": "$KEY", "user": goodUserJSON()}), overwritable: true},
		{name: "version missing", make: writeEntry(map[string]any{"key": "$KEY", "user": goodUserJSON()}), overwritable: true},
		{name: "version a string", make: writeEntry(map[string]any{"v": "1", "key": "$KEY", "user": goodUserJSON()}), overwritable: true},
		{name: "version fractional", make: writeEntry(map[string]any{"v": 1.5, "key": "$KEY", "user": goodUserJSON()}), overwritable: true},
		{name: "wrong key", make: writeEntry(map[string]any{"v": 1, "key": auth.Key("https://app.example", "mallory"), "user": goodUserJSON()}), overwritable: true},
		{name: "key missing", make: writeEntry(map[string]any{"v": 1, "user": goodUserJSON()}), overwritable: true},
		{name: "key null", make: writeEntry(map[string]any{"v": 1, "key": nil, "user": goodUserJSON()}), overwritable: true},
		{name: "user missing", make: writeEntry(map[string]any{"v": 1, "key": "$KEY"}), overwritable: true},
		{name: "user null", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": nil}), overwritable: true},
		{name: "user a string", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": corruptToken}), overwritable: true},
		{name: "token missing", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": map[string]any{"userId": "sid:1"}}), overwritable: true},
		{name: "token empty", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": map[string]any{"userId": "sid:1", "authenticationToken": ""}}), overwritable: true},
		{name: "token a number", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": map[string]any{"userId": "sid:1", "authenticationToken": 7}}), overwritable: true},
		{name: "user id missing", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": map[string]any{"authenticationToken": corruptToken}}), overwritable: true},
		{name: "savedAt malformed", make: writeEntry(map[string]any{"v": 1, "key": "$KEY", "user": goodUserJSON(), "savedAt": corruptToken}), overwritable: true},
		{name: "huge file", make: huge(DefaultMaxEntrySize), overwritable: true},
		{name: "over a custom limit", opts: []FileOption{WithMaxEntrySize(512)}, make: huge(512), overwritable: true},
		{name: "directory in its place", make: func(t *testing.T, path, _ string) {
			require.NoError(t, os.Mkdir(path, 0o700))
		}},
		{name: "non-empty directory in its place", make: func(t *testing.T, path, _ string) {
			require.NoError(t, os.MkdirAll(filepath.Join(path, "child"), 0o700))
		}, stuck: true},
	}
}

func TestFileLoadCorrupt(t *testing.T) {
	ctx := context.Background()
	key := auth.Key("https://app.example", "alice")
	cases := append(commonCorruptCases(t), platformCorruptCases(t)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newFileStore(t, tc.opts...)
			path := s.path(key)
			tc.make(t, path, key)

			u, err := s.Load(ctx, key)
			require.Nil(t, u, "never a partly read user")
			require.ErrorIs(t, err, auth.ErrCorruptEntry)
			require.NotErrorIs(t, err, auth.ErrNoUser)
			var ce *CorruptEntryError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, path, ce.Entry)
			require.Error(t, ce.Err, "the fault is named")
			msg := err.Error()
			assert.Contains(t, msg, path)
			for _, secret := range []string{corruptToken, "sekrit", "eyJ"} {
				assert.NotContains(t, msg, secret, "the error holds the file's contents")
			}
			t.Log(msg)

			// Load leaves the file where it is.
			_, err = os.Lstat(path)
			require.NoError(t, err, "Load removed the corrupt entry")

			// Another key is unaffected.
			other := auth.Key("https://app.example", "bob")
			require.NoError(t, s.Save(ctx, other, testUser(t, "sid:bob")))
			_, err = s.Load(ctx, other)
			require.NoError(t, err)

			// The next Save replaces it (after a Clear, when a Save cannot).
			fresh := testUser(t, "sid:fresh")
			if tc.stuck {
				require.Error(t, s.Save(ctx, key, fresh))
				require.Error(t, s.Clear(ctx, key))
				requireNoTempFiles(t, s.Dir())
				return
			}
			if !tc.overwritable {
				require.Error(t, s.Save(ctx, key, fresh))
				require.NoError(t, s.Clear(ctx, key))
			}
			require.NoError(t, s.Save(ctx, key, fresh))
			got, err := s.Load(ctx, key)
			require.NoError(t, err)
			requireSameUser(t, fresh, got)
			requireNoTempFiles(t, s.Dir())
		})
	}
}

func TestFileClearCorrupt(t *testing.T) {
	ctx := context.Background()
	s := newFileStore(t)
	key := auth.Key("https://app.example", "alice")
	require.NoError(t, os.WriteFile(s.path(key), []byte("garbage"), 0o600))
	require.NoError(t, s.Clear(ctx, key))
	_, err := s.Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)
}

func TestFileSharedDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, err := NewFile(dir)
	require.NoError(t, err)
	b, err := NewFile(dir)
	require.NoError(t, err)
	key := auth.Key("https://app.example", "alice")
	u := testUser(t, "sid:1")
	require.NoError(t, a.Save(ctx, key, u))
	got, err := b.Load(ctx, key)
	require.NoError(t, err)
	requireSameUser(t, u, got)
	require.NoError(t, b.Clear(ctx, key))
	_, err = a.Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)
}

func TestFileDirectoryRemoved(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := NewFile(dir)
	require.NoError(t, err)
	key := auth.Key("https://app.example", "alice")
	require.NoError(t, s.Save(ctx, key, testUser(t, "sid:1")))
	require.NoError(t, os.RemoveAll(dir))

	_, err = s.Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)
	require.NoError(t, s.Clear(ctx, key))

	u := testUser(t, "sid:2")
	require.NoError(t, s.Save(ctx, key, u), "Save makes the directory again")
	got, err := s.Load(ctx, key)
	require.NoError(t, err)
	requireSameUser(t, u, got)
}

func TestNewFileErrors(t *testing.T) {
	tmp := t.TempDir()
	regular := filepath.Join(tmp, "regular")
	require.NoError(t, os.WriteFile(regular, nil, 0o600))
	for _, tc := range []struct {
		name, dir string
	}{
		{"empty name", ""},
		{"a regular file", regular},
		{"under a regular file", filepath.Join(regular, "store")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewFile(tc.dir)
			require.Error(t, err)
			assert.Nil(t, s)
		})
	}
}

func TestNewFileRelativeDir(t *testing.T) {
	tmp := t.TempDir()
	t.Chdir(tmp)
	s, err := NewFile("store")
	require.NoError(t, err)
	want, err := filepath.Abs("store")
	require.NoError(t, err)
	assert.Equal(t, want, s.Dir())
	assert.True(t, filepath.IsAbs(s.Dir()))
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "xdg"))
	base, err := os.UserCacheDir()
	require.NoError(t, err)
	got, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(base, "zumo"), got)

	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && runtime.GOOS != "ios" && runtime.GOOS != "plan9" {
		// On the XDG platforms, with neither variable set there is no
		// cache directory.
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "")
		_, err = DefaultDir()
		require.Error(t, err)
	}
}

func TestCorruptEntryError(t *testing.T) {
	inner := errors.New("boom")
	err := error(&CorruptEntryError{Entry: "/x/y.json", Err: inner})
	assert.ErrorIs(t, err, auth.ErrCorruptEntry)
	assert.ErrorIs(t, err, inner)
	assert.Equal(t, "cache: unreadable user entry /x/y.json: boom", err.Error())

	bare := error(&CorruptEntryError{Entry: "/x/y.json"})
	assert.ErrorIs(t, bare, auth.ErrCorruptEntry)
	var ce *CorruptEntryError
	assert.ErrorAs(t, bare, &ce)
	var pe *fs.PathError
	assert.False(t, errors.As(bare, &pe))
	assert.Equal(t, "cache: unreadable user entry /x/y.json", bare.Error())
}

// A writer that crashed between writing and renaming left a temporary
// file holding a token: the next NewFile removes it once it is old, and
// leaves a fresh one (another process may be writing it now) alone.
func TestNewFileRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, ".zumo-123.tmp")
	fresh := filepath.Join(dir, ".zumo-456.tmp")
	other := filepath.Join(dir, "notes.tmp")
	for _, p := range []string{old, fresh, other} {
		require.NoError(t, os.WriteFile(p, []byte(`{"token":"secret"}`), 0o600))
	}
	past := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(old, past, past))
	require.NoError(t, os.Chtimes(other, past, past))
	_, err := NewFile(dir)
	require.NoError(t, err)
	assert.NoFileExists(t, old)
	assert.FileExists(t, fresh)
	assert.FileExists(t, other, "only the store's own temporary files")
}
