package offline

import (
	"encoding/json"
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
	op := new(opRecord)
	if err := json.Unmarshal(v, op); err != nil {
		return nil, fmt.Errorf("offline: queued operation %d is corrupt: %w", seq, err)
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
		return nil, fmt.Errorf("offline: operation index of %s/%s is corrupt", table, id)
	}
	op, err := getOp(tx, seq)
	if err == nil && op == nil {
		return nil, fmt.Errorf("offline: operation index of %s/%s names a missing operation", table, id)
	}
	return op, err
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
		op := new(opRecord)
		if err := json.Unmarshal(v, op); err != nil {
			return false, fmt.Errorf("offline: queued operation %s is corrupt: %w", k, err)
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
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return 0, fmt.Errorf("offline: the store's sequence record %q is corrupt", v)
		}
	}
	n++
	return n, tx.Put(bucketConfig, "seq", []byte(strconv.FormatInt(n, 10)))
}
