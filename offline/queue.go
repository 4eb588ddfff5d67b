package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// OpKind is the kind of a queued operation.
type OpKind int

// The operation kinds.
const (
	OpInsert OpKind = iota + 1
	OpUpdate
	OpDelete
)

// String returns "insert", "update" or "delete".
func (k OpKind) String() string {
	switch k {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// opRecord is one queued operation. Inserts and updates send the row as
// it is in the store when pushed; a delete keeps the deleted row (for its
// version) in Item.
type opRecord struct {
	Seq    int64  `json:"seq"`
	Table  string `json:"table"`
	ItemID string `json:"itemId"`
	Kind   OpKind `json:"kind"`
	// Attempted: a push sent it and did not record the outcome.
	Attempted bool `json:"attempted,omitempty"`
	// Version counts the changes collapsed into it, so a push that sent
	// an older state knows not to remove it.
	Version int64           `json:"version"`
	Item    json.RawMessage `json:"item,omitempty"`
}

func seqKey(seq int64) string { return fmt.Sprintf("%020d", seq) }

func idxKey(table, id string) string { return table + "/" + id }

func getOp(tx Tx, seq int64) (*opRecord, error) {
	v, ok, err := tx.Get(bucketOps, seqKey(seq))
	if err != nil || !ok {
		return nil, err
	}
	return decodeOp(seqKey(seq), v)
}

// decodeOp reads the queued operation stored under key: a *CorruptError
// unless it is one this package could have written there.
func decodeOp(key string, v []byte) (*opRecord, error) {
	op := new(opRecord)
	if err := json.Unmarshal(v, op); err != nil {
		return nil, corrupt(bucketOps, key, errors.New("not a queued operation"))
	}
	switch {
	case seqKey(op.Seq) != key:
		return nil, corrupt(bucketOps, key, errors.New("its sequence number is not its key"))
	case op.Kind < OpInsert || op.Kind > OpDelete:
		return nil, corrupt(bucketOps, key, fmt.Errorf("unknown kind %d", op.Kind))
	case op.Table == "" || op.ItemID == "":
		return nil, corrupt(bucketOps, key, errors.New("it names no row"))
	case op.Kind == OpDelete && len(op.Item) == 0:
		return nil, corrupt(bucketOps, key, errors.New("a delete without the deleted row"))
	}
	return op, nil
}

// opFor returns the queued operation of a row, nil when there is none.
func opFor(tx Tx, table, id string) (*opRecord, error) {
	v, ok, err := tx.Get(bucketOpIdx, idxKey(table, id))
	if err != nil || !ok {
		return nil, err
	}
	seq, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return nil, corrupt(bucketOpIdx, idxKey(table, id), errors.New("not a sequence number"))
	}
	op, err := getOp(tx, seq)
	switch {
	case err != nil:
		return nil, err
	case op == nil:
		return nil, corrupt(bucketOpIdx, idxKey(table, id), errors.New("it names a missing operation"))
	case op.Table != table || op.ItemID != id:
		return nil, corrupt(bucketOpIdx, idxKey(table, id), errors.New("it names another row's operation"))
	}
	return op, nil
}

func putOp(tx Tx, op *opRecord) error {
	b, err := json.Marshal(op)
	if err != nil {
		return err
	}
	if err := tx.Put(bucketOps, seqKey(op.Seq), b); err != nil {
		return err
	}
	return tx.Put(bucketOpIdx, idxKey(op.Table, op.ItemID), []byte(strconv.FormatInt(op.Seq, 10)))
}

func removeOp(tx Tx, op *opRecord) error {
	if err := tx.Delete(bucketOps, seqKey(op.Seq)); err != nil {
		return err
	}
	return tx.Delete(bucketOpIdx, idxKey(op.Table, op.ItemID))
}

func scanOps(tx Tx, fn func(*opRecord) error) error {
	return tx.Scan(bucketOps, "", func(k string, v []byte) (bool, error) {
		op, err := decodeOp(k, v)
		if err != nil {
			return false, err
		}
		return true, fn(op)
	})
}

// enqueue records a local change of a row, collapsing it into the row's
// queued operation as the official clients do:
//
//	insert + update → insert         update + update → update
//	insert + delete → nothing (or delete, once the insert was sent)
//	update + delete → delete
//	insert after insert or update, anything after delete → ErrQueue
//
// item is the deleted row for a delete, else unused.
func enqueue(tx Tx, table, id string, kind OpKind, item json.RawMessage) error {
	op, err := opFor(tx, table, id)
	if err != nil {
		return err
	}
	if op == nil {
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		op = &opRecord{Seq: seq, Table: table, ItemID: id, Kind: kind, Version: 1}
		if kind == OpDelete {
			op.Item = item
		}
		return putOp(tx, op)
	}
	refuse := func() error {
		return fmt.Errorf("%w: %s %s/%s with a queued %s", ErrQueue, kind, table, id, op.Kind)
	}
	switch {
	case op.Kind == OpDelete || kind == OpInsert:
		return refuse()
	case kind == OpUpdate: // after an insert or an update: still that
	case op.Kind == OpInsert && !op.Attempted: // delete of an unsent insert
		return removeOp(tx, op)
	default: // delete after an update, or after an insert that was sent
		op.Kind = OpDelete
		op.Item = item
	}
	op.Version++
	return putOp(tx, op)
}

func nextSeq(tx Tx) (int64, error) {
	var n int64
	v, ok, err := tx.Get(bucketConfig, "seq")
	if err != nil {
		return 0, err
	}
	if ok {
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil || n < 0 {
			return 0, corrupt(bucketConfig, "seq", errors.New("not a sequence number"))
		}
	}
	n++
	if _, taken, err := tx.Get(bucketOps, seqKey(n)); err != nil {
		return 0, err
	} else if taken {
		// The record is behind the queue (lost, or restored from an
		// older copy): go on after the last queued operation rather
		// than overwrite one.
		err := tx.Scan(bucketOps, "", func(k string, _ []byte) (bool, error) {
			if s, err := strconv.ParseInt(k, 10, 64); err == nil && s >= n {
				n = s + 1
			}
			return true, nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, tx.Put(bucketConfig, "seq", []byte(strconv.FormatInt(n, 10)))
}
