// Package sqlitestore is an offline.Store in one SQLite file, on
// modernc.org/sqlite (pure Go: builds with CGO_ENABLED=0 and
// cross-compiles).
//
//	store, err := sqlitestore.Open("todo.db", sqlitestore.WithIndex("todoitem", "complete"))
//	defer store.Close()
//	sc, err := offline.New(client, store)
//
// Each bucket is a table of (key, JSON value); rows of a sync table are
// queried with SQLite's JSON functions, filters compiled by
// offline.LocalQuery.SQL. WithIndex adds an index on a column's JSON
// expression, which filters and orderings on that column use.
//
// Transactions are SQLite transactions in WAL mode: a process killed at
// any point (SIGKILL, a crash) leaves the file with every committed
// transaction and none of the one in flight. With the default
// synchronous=NORMAL a power loss may lose the last commits but never
// corrupts the file; WithSynchronousFull trades speed for durability
// across power loss too.
//
// The file's schema is versioned (SQLite's user_version). Open migrates an
// older file, and refuses a newer one with ErrNewerSchema.
//
// A Store is safe for concurrent use; its transactions run one at a time.
package sqlitestore
