package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// MemoryStore is a Store held in memory: for tests, and for apps that
// want the queue and conflict handling without a file. Nothing survives
// the process. Queries are evaluated in Go with LocalQuery.Match. It is
// safe for concurrent use; transactions are serialised.
type MemoryStore struct {
	mu      sync.RWMutex
	buckets map[string]map[string]memEntry
}

type memEntry struct {
	raw []byte
	row map[string]any // decoded, for rows of tables (nil for records)
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{buckets: map[string]map[string]memEntry{}}
}

// Update runs fn in a transaction, undoing its writes when it fails or
// panics. It fails at once when ctx is done.
func (s *MemoryStore) Update(ctx context.Context, fn func(Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{s: s, write: true}
	done := false
	defer func() {
		if !done || err != nil {
			tx.rollback()
		}
	}()
	err = fn(tx)
	done = true
	return err
}

// View runs fn in a read-only transaction.
func (s *MemoryStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&memTx{s: s})
}

type memUndo struct {
	bucket, key string
	old         memEntry
	had         bool
}

type memTx struct {
	s     *MemoryStore
	write bool
	undo  []memUndo
}

var errReadOnly = errors.New("offline: write in a read-only transaction")

func (t *memTx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.had {
			t.s.buckets[u.bucket][u.key] = u.old
		} else {
			delete(t.s.buckets[u.bucket], u.key)
		}
	}
}

func (t *memTx) Get(bucket, key string) ([]byte, bool, error) {
	e, ok := t.s.buckets[bucket][key]
	return e.raw, ok, nil
}

func (t *memTx) Put(bucket, key string, value []byte) error {
	if !t.write {
		return errReadOnly
	}
	e := memEntry{raw: bytes.Clone(value)}
	if !strings.HasPrefix(bucket, "__") {
		d := json.NewDecoder(bytes.NewReader(value))
		d.UseNumber()
		if err := d.Decode(&e.row); err != nil || e.row == nil {
			return fmt.Errorf("offline: row %s/%s is not a JSON object", bucket, key)
		}
	}
	b := t.s.buckets[bucket]
	if b == nil {
		b = map[string]memEntry{}
		t.s.buckets[bucket] = b
	}
	old, had := b[key]
	t.undo = append(t.undo, memUndo{bucket, key, old, had})
	b[key] = e
	return nil
}

func (t *memTx) Delete(bucket, key string) error {
	if !t.write {
		return errReadOnly
	}
	old, had := t.s.buckets[bucket][key]
	if had {
		t.undo = append(t.undo, memUndo{bucket, key, old, had})
		delete(t.s.buckets[bucket], key)
	}
	return nil
}

func (t *memTx) Scan(bucket, from string, fn func(string, []byte) (bool, error)) error {
	b := t.s.buckets[bucket]
	keys := make([]string, 0, len(b))
	for k := range b {
		if k >= from {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		more, err := fn(k, b[k].raw)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *memTx) Query(bucket string, q *LocalQuery) ([][]byte, int64, error) {
	type hit struct {
		key string
		e   memEntry
	}
	var hits []hit
	for k, e := range t.s.buckets[bucket] {
		ok, err := q.Match(e.row)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			hits = append(hits, hit{k, e})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := q.Compare(a.e.row, b.e.row); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	count := int64(-1)
	if q.Count {
		count = int64(len(hits))
	}
	hits = hits[min(q.Skip, len(hits)):]
	if q.Take >= 0 && q.Take < len(hits) {
		hits = hits[:q.Take]
	}
	rows := make([][]byte, len(hits))
	for i, h := range hits {
		rows[i] = h.e.raw
	}
	return rows, count, nil
}
