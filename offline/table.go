package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/internal/wire"
)

// Table is a table of a SyncContext: reads and writes go to the local
// store, writes are queued for Push, and Pull brings the server's changes.
// T is a struct whose JSON names are the table's columns (or
// map[string]any); its id is a string ("id" in JSON), made locally (a
// GUID) when an inserted item has none. System properties (version,
// createdAt, updatedAt, deleted) come from the server: local writes keep
// the stored ones and never set them.
//
// A Table is safe for concurrent use. Local writes fail with
// *zumo.InvalidIDError for an id that cannot be valid, an error matching
// zumo.ErrNotFound for a row that is not there, ErrQueue when the queue
// refuses the change, or the store's error; nothing is written then.
type Table[T any] struct {
	sc     *SyncContext
	name   string
	online *zumo.Table[T]
	err    error
}

// GetTable returns the table name of sc. An invalid name (empty, with
// "/", "?", "#" or a control character, or starting with "__", which the
// store keeps for itself) is reported by every call on the table.
func GetTable[T any](sc *SyncContext, name string) *Table[T] {
	t := &Table[T]{sc: sc, name: name, online: zumo.GetTable[T](sc.c, name)}
	if name == "" || strings.HasPrefix(name, "__") || strings.ContainsAny(name, "/?#") ||
		strings.ContainsFunc(name, unicode.IsControl) || !utf8.ValidString(name) {
		t.err = fmt.Errorf("offline: invalid table name %q", name)
	}
	return t
}

// Name returns the table's name.
func (t *Table[T]) Name() string { return t.name }

// Insert adds item to the local table and queues it for the server. An
// item without an id gets a new GUID. It returns the stored item. A row
// with the same id already stored fails with ErrQueue (when it has a
// queued operation) or an error matching zumo.ErrConflict.
func (t *Table[T]) Insert(ctx context.Context, item T) (T, error) {
	var zero T
	if t.err != nil {
		return zero, t.err
	}
	obj, err := encodeObject(item)
	if err != nil {
		return zero, err
	}
	obj = obj.withoutSystem()
	id, ok := obj.id()
	if !ok {
		if raw, has := obj["id"]; has && string(raw) != `""` && string(raw) != "null" {
			return zero, &zumo.InvalidIDError{ID: string(raw), Reason: "offline tables need string ids"}
		}
		id = wire.NewGUID()
		obj["id"], _ = json.Marshal(id)
	}
	if err := checkID(id); err != nil {
		return zero, err
	}
	row := obj.bytes()
	err = t.sc.s.Update(ctx, func(tx Tx) error {
		if _, exists, err := tx.Get(t.name, id); err != nil {
			return err
		} else if exists {
			if op, err := opFor(tx, t.name, id); err != nil || op != nil {
				return firstErr(err, enqueue(tx, t.name, id, OpInsert, nil))
			}
			return fmt.Errorf("offline: insert %s/%s: %w", t.name, id, zumo.ErrConflict)
		}
		if err := tx.Put(t.name, id, row); err != nil {
			return err
		}
		return enqueue(tx, t.name, id, OpInsert, nil)
	})
	if err != nil {
		return zero, err
	}
	return decodeItem[T](row)
}

// Update replaces the stored row's columns with item's (columns item does
// not have are kept; system properties stay the server's) and queues the
// change. It returns the stored item.
func (t *Table[T]) Update(ctx context.Context, item T) (T, error) {
	var zero T
	obj, id, err := t.itemID(item)
	if err != nil {
		return zero, err
	}
	var row []byte
	err = t.sc.s.Update(ctx, func(tx Tx) error {
		old, ok, err := tx.Get(t.name, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound(t.name, id)
		}
		stored, err := decodeStored(t.name, id, old)
		if err != nil {
			return err
		}
		for k, v := range obj.withoutSystem() {
			stored[k] = v
		}
		row = stored.bytes()
		if err := enqueue(tx, t.name, id, OpUpdate, nil); err != nil {
			return err
		}
		return tx.Put(t.name, id, row)
	})
	if err != nil {
		return zero, err
	}
	return decodeItem[T](row)
}

// Delete removes the row with item's id from the local table and queues
// the delete (sent with the stored version).
func (t *Table[T]) Delete(ctx context.Context, item T) error {
	_, id, err := t.itemID(item)
	if err != nil {
		return err
	}
	return t.sc.s.Update(ctx, func(tx Tx) error {
		old, ok, err := tx.Get(t.name, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound(t.name, id)
		}
		if err := enqueue(tx, t.name, id, OpDelete, old); err != nil {
			return err
		}
		return tx.Delete(t.name, id)
	})
}

// Lookup returns the stored row with the given id, or an error matching
// zumo.ErrNotFound.
func (t *Table[T]) Lookup(ctx context.Context, id string) (T, error) {
	var zero T
	if t.err != nil {
		return zero, t.err
	}
	if err := checkID(id); err != nil {
		return zero, err
	}
	var row []byte
	err := t.sc.s.View(ctx, func(tx Tx) error {
		v, ok, err := tx.Get(t.name, id)
		if err == nil && !ok {
			err = notFound(t.name, id)
		}
		row = v
		return err
	})
	if err != nil {
		return zero, err
	}
	return decodeItem[T](row)
}

func (t *Table[T]) itemID(item T) (object, string, error) {
	if t.err != nil {
		return nil, "", t.err
	}
	obj, err := encodeObject(item)
	if err != nil {
		return nil, "", err
	}
	id, ok := obj.id()
	if !ok {
		return nil, "", &zumo.InvalidIDError{ID: string(obj["id"]), Reason: "no string id"}
	}
	return obj, id, checkID(id)
}

func decodeItem[T any](row []byte) (T, error) {
	var v T
	if err := json.Unmarshal(row, &v); err != nil {
		return v, fmt.Errorf("offline: stored row does not decode as %T: %w", v, err)
	}
	return v, nil
}

// checkID applies the online table's id rules (its checker is not
// exported) before anything is stored.
func checkID(id string) error {
	if reason := wire.IDProblem(id); reason != "" {
		return &zumo.InvalidIDError{ID: id, Reason: reason}
	}
	return nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
