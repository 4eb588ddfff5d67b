package offline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/zumo-go/zumo"
)

// Bucket names of the sync context's own records.
const (
	bucketOps    = "__operations" // queue: %020d sequence → opRecord JSON
	bucketOpIdx  = "__opindex"    // table "/" id → sequence of the row's operation
	bucketConfig = "__config"     // "format", "seq", "delta/<table>/<query id>"
)

// formatVersion is the layout of the records above. A store with a larger
// one was written by a newer zumo.
const formatVersion = 1

// SyncContext ties a client to a local store: the tables got with
// GetTable read and write the store, and Push and Pull exchange the
// changes with the service. It is safe for concurrent use. Pushes and
// pulls run one at a time (a pull pushes its table first); local writes
// made during a push are queued after the operations it is sending.
type SyncContext struct {
	c    *zumo.Client
	s    Store
	opts options
	// sync serialises Push, Pull and Purge.
	sync sync.Mutex
}

// New returns a sync context on client and store. It fails when either is
// nil, when the store cannot be read, and with ErrNewerStore when the
// store was written by a newer version of this package.
func New(client *zumo.Client, store Store, opts ...Option) (*SyncContext, error) {
	if client == nil || store == nil {
		return nil, errors.New("offline: New needs a client and a store")
	}
	sc := &SyncContext{c: client, s: store, opts: options{pageSize: 1000, parallel: 1}}
	for _, o := range opts {
		o(&sc.opts)
	}
	err := store.Update(context.Background(), func(tx Tx) error {
		v, ok, err := tx.Get(bucketConfig, "format")
		if err != nil {
			return err
		}
		if !ok {
			return tx.Put(bucketConfig, "format", []byte(strconv.Itoa(formatVersion)))
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return corrupt(bucketConfig, "format", errors.New("not a number"))
		}
		if n > formatVersion {
			return fmt.Errorf("%w (format %d; this version reads up to %d)", ErrNewerStore, n, formatVersion)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sc, nil
}

// Operation is a queued local change, as PendingOperations lists it.
type Operation struct {
	// Table and ID name the row.
	Table, ID string
	// Kind is what will be sent.
	Kind OpKind
	// Attempted reports an insert that a push sent without learning the
	// outcome (the answer was lost); the next push resends it safely.
	// (Updates and deletes are resent safely too, without the mark.)
	Attempted bool
}

// PendingOperations returns the queued operations in queue order. It fails
// only when the store cannot be read.
func (sc *SyncContext) PendingOperations(ctx context.Context) ([]Operation, error) {
	var ops []Operation
	err := sc.s.View(ctx, func(tx Tx) error {
		return scanOps(tx, func(op *opRecord) error {
			ops = append(ops, Operation{Table: op.Table, ID: op.ItemID, Kind: op.Kind, Attempted: op.Attempted})
			return nil
		})
	})
	return ops, err
}

func (sc *SyncContext) progress(p Progress) {
	if sc.opts.progress != nil {
		sc.opts.progress(p)
	}
}
