package offline

import "context"

// Store is where a SyncContext keeps its rows, its operation queue and its
// delta tokens: named buckets of keys and values, read and written in
// transactions. NewMemoryStore is one; the nested module
// github.com/zumo-go/zumo/offline/sqlitestore is the one for real use.
//
// A SyncContext writes a row and the operation queued for it in one Update,
// and a pulled page with its delta token in one Update, so a store whose
// transactions are atomic (all of fn's writes or none, even when the
// process dies) keeps the queue and the rows consistent. Implementations
// must be safe for concurrent use.
type Store interface {
	// Update runs fn in a read-write transaction, committed when fn
	// returns nil and rolled back when it returns an error (which Update
	// returns) or panics.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// state; writes fail.
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is a transaction on a Store. Bucket and key names are any UTF-8
// strings without NUL. Buckets whose names start with "__" hold the sync
// context's own records; the others hold one table's rows, keyed by id,
// each a JSON object, and are the ones Query reads. A Tx is used by one
// goroutine and only inside the function it was passed to. Values it
// returns must not be modified; they stay valid after the transaction.
type Tx interface {
	// Get returns the value of key in bucket; ok is false when there is
	// none (a missing bucket is empty).
	Get(bucket, key string) (value []byte, ok bool, err error)
	// Put sets key in bucket to value, creating the bucket if needed.
	Put(bucket, key string, value []byte) error
	// Delete removes key from bucket; a missing key is not an error.
	Delete(bucket, key string) error
	// Scan calls fn for each key of bucket that is >= from, in ascending
	// byte order, until fn returns false or an error (which Scan returns).
	Scan(bucket, from string, fn func(key string, value []byte) (more bool, err error)) error
	// Query returns the JSON objects of bucket that q selects, in q's
	// order, and, when q.Count is set, how many match q's filter before
	// Skip and Take (else -1). A filter the store cannot evaluate exactly
	// is an error wrapping ErrUnsupportedQuery, never a different answer.
	Query(bucket string, q *LocalQuery) (rows [][]byte, count int64, err error)
}
