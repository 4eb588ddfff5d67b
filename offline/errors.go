package offline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zumo-go/zumo"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrPendingOperations is returned by Purge when the table has queued
	// operations and Force was not given.
	ErrPendingOperations = errors.New("offline: the table has pending operations (push them, or purge with Force)")
	// ErrQueue is wrapped by a local write that the operation queue
	// refuses: an insert of a row that already has an operation, or any
	// change to a row whose delete is queued.
	ErrQueue = errors.New("offline: the operation queue refuses this change")
	// ErrPushIncomplete matches a *PushError: operations are still queued
	// after a push.
	ErrPushIncomplete = errors.New("offline: push left operations in the queue")
	// ErrUnsupportedQuery is wrapped by a local query that the store
	// cannot evaluate exactly (such as a member path "a/b" in SQLite).
	ErrUnsupportedQuery = errors.New("offline: query not supported by this store")
	// ErrNewerStore is returned by New for a store written by a newer
	// version of this package, whose records it may misread.
	ErrNewerStore = errors.New("offline: the store was written by a newer version of zumo")
	// ErrNoProgress is returned by Pull when the server answers a page
	// that does not move past the previous one (it ignores the filter).
	ErrNoProgress = errors.New("offline: the server sent a page that does not advance the pull")
	// ErrCorruptStore matches a *CorruptError: a record in the store that
	// this package cannot read.
	ErrCorruptStore = errors.New("offline: a record in the store is corrupt")
)

// CorruptError is a record in the store that this package cannot read:
// damaged by hand, by another program or by a disk. The transaction that
// met it is rolled back and the queue keeps every operation (a push stops
// there, after the operations before it); repairing or deleting the
// record (or the store) is the way out. It matches ErrCorruptStore.
type CorruptError struct {
	// Bucket and Key locate the record: a table name and a row id, or
	// one of the package's own buckets ("__operations", "__opindex",
	// "__config"). Key is "" when the record's own key is what cannot be
	// read (a row without an id).
	Bucket, Key string
	// Err is why it does not decode; it quotes none of the record.
	Err error
}

// Error names the record, never its content.
func (e *CorruptError) Error() string {
	s := fmt.Sprintf("offline: the store's record %s/%s is corrupt", e.Bucket, e.Key)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is matches ErrCorruptStore.
func (e *CorruptError) Is(target error) bool { return target == ErrCorruptStore }

// Unwrap returns Err.
func (e *CorruptError) Unwrap() error { return e.Err }

func corrupt(bucket, key string, err error) error {
	return &CorruptError{Bucket: bucket, Key: key, Err: err}
}

// Local reads of a missing row fail with an error matching
// zumo.ErrNotFound, and bad queries with one matching zumo.ErrInvalidQuery,
// as on the online table.
func notFound(table, id string) error {
	return fmt.Errorf("offline: %s/%s: %w", table, id, zumo.ErrNotFound)
}

func invalidQuery(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{zumo.ErrInvalidQuery}, a...)...)
}

// OperationError is one queued operation that a push could not complete;
// it stays in the queue. Err is the server's answer (a *zumo.Error, or for
// conflicts *zumo.ConflictError / *zumo.PreconditionFailedError of
// map[string]any), so errors.Is(err, zumo.ErrPreconditionFailed) and
// errors.As work through it.
type OperationError struct {
	// Table and ID name the row.
	Table, ID string
	// Kind is the queued operation.
	Kind OpKind
	// Conflict is set when the server reported a conflict (409 or 412)
	// that no resolver settled.
	Conflict *Conflict
	// Err is why the operation failed.
	Err error
}

// Error says which operation failed and why; it holds no row data.
func (e *OperationError) Error() string {
	return fmt.Sprintf("offline: push %s %s/%s: %v", e.Kind, e.Table, e.ID, e.Err)
}

// Unwrap returns Err.
func (e *OperationError) Unwrap() error { return e.Err }

// PushError is returned by Push (and by Pull, for the push it starts with)
// when operations are left in the queue: Failed lists those the server
// refused, Err is why the push stopped early (a network error, a 401 the
// client could not recover from, a 5xx, a cancelled context), nil when
// it went through the queue. Nothing is lost either way. It matches
// ErrPushIncomplete, and errors.Is/As reach Err and every OperationError.
type PushError struct {
	// Failed are the operations the server refused, in queue order.
	Failed []*OperationError
	// Err stopped the push before the end of the queue; nil if it did not.
	Err error
}

// Error summarises the push.
func (e *PushError) Error() string {
	var parts []string
	if e.Err != nil {
		parts = append(parts, "stopped: "+e.Err.Error())
	}
	if n := len(e.Failed); n > 0 {
		s := fmt.Sprintf("%d operation(s) failed", n)
		if n == 1 {
			s += ": " + e.Failed[0].Error()
		}
		parts = append(parts, s)
	}
	return "offline: push incomplete: " + strings.Join(parts, "; ")
}

// Is matches ErrPushIncomplete.
func (e *PushError) Is(target error) bool { return target == ErrPushIncomplete }

// Unwrap returns Err and the failed operations.
func (e *PushError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	for _, f := range e.Failed {
		errs = append(errs, f)
	}
	return errs
}
