package offline

import (
	"context"
	"strings"
)

// PurgeOption configures Purge.
type PurgeOption func(*purgeOptions)

type purgeOptions struct{ force bool }

// Force makes Purge drop the table's queued operations (they are never
// sent) instead of refusing.
func Force() PurgeOption { return func(o *purgeOptions) { o.force = true } }

// Purge removes the local rows q selects and resets every delta token of
// the table (the next pulls start over, so purged rows come back if the
// server still has them). It refuses with ErrPendingOperations while the
// table has queued operations, unless Force is given. It fails like
// Query.ToSlice otherwise; nothing is removed then.
func (t *Table[T]) Purge(ctx context.Context, q Query[T], opts ...PurgeOption) error {
	if t.err != nil {
		return t.err
	}
	if q.t == nil || q.t.name != t.name {
		return invalidQuery("the query is not this table's (use Table.Query or Table.Where)")
	}
	var po purgeOptions
	for _, o := range opts {
		o(&po)
	}
	lq, _, err := q.local()
	if err != nil {
		return err
	}
	t.sc.sync.Lock()
	defer t.sc.sync.Unlock()
	return t.sc.s.Update(ctx, func(tx Tx) error {
		var ops []*opRecord
		err := scanOps(tx, func(op *opRecord) error {
			if op.Table == t.name {
				ops = append(ops, op)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(ops) > 0 && !po.force {
			return ErrPendingOperations
		}
		for _, op := range ops {
			if err := removeOp(tx, op); err != nil {
				return err
			}
		}
		rows, _, err := tx.Query(t.name, lq)
		if err != nil {
			return err
		}
		for _, r := range rows {
			obj, err := decodeStored(t.name, "", r)
			if err != nil {
				return err
			}
			if id, ok := obj.id(); ok {
				if err := tx.Delete(t.name, id); err != nil {
					return err
				}
			}
		}
		prefix := deltaKey(t.name, "")
		var keys []string
		err = tx.Scan(bucketConfig, prefix, func(k string, _ []byte) (bool, error) {
			if !strings.HasPrefix(k, prefix) {
				return false, nil
			}
			keys = append(keys, k)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(bucketConfig, k); err != nil {
				return err
			}
		}
		return nil
	})
}
