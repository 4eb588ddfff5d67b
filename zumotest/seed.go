package zumotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zumo-go/zumo/internal/wire"
)

// Seeding and inspecting tables from Go: Seed, Rows, Row and Truncate.

// Seed inserts rows into a table at run time, with the rules of the Seed
// table option. It fails (inserting none of the rows after the bad one)
// when the table does not exist or a row is invalid or has a duplicate id.
func (s *Server) Seed(tableName string, rows ...any) error {
	t := s.table(tableName)
	if t == nil {
		return fmt.Errorf("zumotest: no table %q", tableName)
	}
	for _, row := range rows {
		if err := s.seedRow(t, row); err != nil {
			return fmt.Errorf("zumotest: seed %q: %w", tableName, err)
		}
	}
	return nil
}

func (s *Server) seedRow(t *table, row any) error {
	var raw []byte
	switch v := row.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		raw = b
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return errors.New(strings.Replace(err.Error(), "the request body", "the row", 1))
	}
	id, ok := idFromBody(obj)
	if !ok {
		return errors.New("the id must be a string")
	}
	if id == "" {
		id = wire.NewGUID()
	}
	n := s.names()
	now := s.now()
	rec := &record{id: id, createdAt: now, updatedAt: now, version: s.newVersion(), seq: s.seq.Add(1)}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{n.createdAt, &rec.createdAt}, {n.updatedAt, &rec.updatedAt}} {
		switch v := obj[d.name].(type) {
		case nil:
		case string:
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			if !tm.IsZero() {
				*d.dst = tm.UTC().Truncate(time.Millisecond)
			}
		default:
			return fmt.Errorf("%s must be an RFC 3339 string", d.name)
		}
	}
	switch v := obj[n.deleted].(type) {
	case nil:
	case bool:
		rec.deleted = v
	default:
		return fmt.Errorf("%s must be a boolean", n.deleted)
	}
	data := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "id", n.createdAt, n.updatedAt, n.version, n.deleted:
			continue
		}
		data[k] = v
	}
	if err := checkScalars(data); err != nil {
		return err
	}
	rec.data = data
	s.finish(rec)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.rows[id]; dup {
		return fmt.Errorf("duplicate id %q", id)
	}
	t.put(rec)
	return nil
}

// Rows returns a snapshot of a table in insertion order, soft-deleted rows
// included, each row with every system column and decoded the way
// encoding/json decodes the wire form (numbers float64, dates strings).
// It fails when the table does not exist.
func (s *Server) Rows(tableName string) ([]map[string]any, error) {
	t := s.table(tableName)
	if t == nil {
		return nil, fmt.Errorf("zumotest: no table %q", tableName)
	}
	t.mu.RLock()
	recs := append([]*record(nil), t.ordered...)
	t.mu.RUnlock()
	out := make([]map[string]any, len(recs))
	for i, rec := range recs {
		out[i] = s.wireRow(rec)
	}
	return out, nil
}

// Row returns one row like Rows does (soft-deleted included); ok is false
// when the table or the row does not exist.
func (s *Server) Row(tableName, id string) (row map[string]any, ok bool) {
	t := s.table(tableName)
	if t == nil {
		return nil, false
	}
	t.mu.RLock()
	rec := t.rows[id]
	t.mu.RUnlock()
	if rec == nil {
		return nil, false
	}
	return s.wireRow(rec), true
}

// Truncate removes every row of a table. It fails when the table does not
// exist.
func (s *Server) Truncate(tableName string) error {
	t := s.table(tableName)
	if t == nil {
		return fmt.Errorf("zumotest: no table %q", tableName)
	}
	t.mu.Lock()
	t.rows = map[string]*record{}
	t.ordered = nil
	t.resetColumns()
	t.mu.Unlock()
	return nil
}
