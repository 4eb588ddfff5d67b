// Package cache provides stores for the logged-in user: implementations of
// auth.Store that keep a user between requests (Memory) or between runs of
// a program (File), so that a restart needs no new login.
//
// # Which store
//
// Use NewMemory for tests, for short-lived programs, and for a server that
// logs in at start-up anyway: nothing outlives the process and nothing
// touches the disk. Use NewFile for command-line tools and desktop programs
// that should stay logged in across runs; DefaultDir names the conventional
// directory. For a fleet of service instances that should log in once for
// all of them, use the Redis store in the nested module
// github.com/zumo-go/zumo/cache/rediscache (a module of its own, so that
// programs that do not use it never download a Redis client).
//
// Both stores are safe for concurrent use by many goroutines, and a File
// store is also safe for several processes sharing one directory. Keys come
// from auth.Key, one per app and identity; two keys never see each other's
// entry.
//
// # File format
//
// A File store keeps one file per key, named by the hex SHA-256 of the key
// with ".json" appended, so any key is a safe file name. The directory is
// made with mode 0700 and every file is written with mode 0600: the file
// holds the token in the clear, protected by the file system only. A file
// holds one JSON object:
//
//	{"v":1,"key":"zumo|https://app.example|alice","user":{"userId":"sid:…","authenticationToken":"…"},"savedAt":"2025-01-02T03:04:05Z"}
//
// v is the format version (1 is the only one); key is the full key, which
// Load checks so that a file saved under another key (a hash collision, a
// file copied between directories) is never taken for this key's user;
// user is auth.User's JSON form; savedAt is when the entry was written, for
// people reading the file. Unknown fields are ignored.
//
// A Save writes a temporary file (".zumo-*.tmp") in the same directory,
// syncs it and renames it over the entry, so a reader in any process sees
// the whole old entry or the whole new one. A process killed in the middle
// of a Save can leave a temporary file behind (mode 0600, holding a token);
// it is never read, and deleting it is safe.
//
// An entry that cannot be used (unreadable, truncated, not JSON, another
// version, another key, no token, larger than the size limit) makes Load
// fail with a *CorruptEntryError, which wraps auth.ErrCorruptEntry: the
// caller treats it as no user and logs in, and the next Save replaces the
// file. Load never deletes it. No error from this package contains a token.
package cache
