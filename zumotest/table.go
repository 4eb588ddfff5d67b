package zumotest

import (
	"slices"
	"sync"
)

// A table's storage: its rows by id and in insertion order, and the
// column store the list scan reads. Writers hold table.mu for writing.

// table is one declared table.
type table struct {
	name string
	cfg  tableConfig

	mu      sync.RWMutex
	rows    map[string]*record
	ordered []*record // insertion order

	// The rows' values as the filter engine sees them (numbers as int64 or
	// float64), by column, for the list scan: cols[slot][i] is the value
	// of the column with that slot in ordered[i], nil when the row lacks
	// it. Columns past maxSlots have no slot: they are in record.extra.
	names *sysNames      // the system columns of the server's generation
	slots map[string]int // column name to slot
	cols  [][]any
}

// System columns have the first slots, in this order.
const (
	slotID = iota
	slotCreatedAt
	slotUpdatedAt
	slotVersion
	slotDeleted
	numSysSlots
)

// maxSlots bounds the columns of a table kept in cols, so that a table
// whose rows have many different columns costs at most maxSlots values
// per row; later columns are looked up in record.extra.
const maxSlots = 64

func newTable(name string, cfg tableConfig, names *sysNames) *table {
	t := &table{name: name, cfg: cfg, rows: map[string]*record{}, names: names}
	t.resetColumns()
	return t
}

// resetColumns empties the columns and forgets the user columns' slots;
// t.mu must be held for writing (or t not yet shared).
func (t *table) resetColumns() {
	t.slots = map[string]int{
		"id":              slotID,
		t.names.createdAt: slotCreatedAt,
		t.names.updatedAt: slotUpdatedAt,
		t.names.version:   slotVersion,
		t.names.deleted:   slotDeleted,
	}
	t.cols = make([][]any, numSysSlots)
}

// values returns rec's values by slot (a row of cols) and sets rec.extra,
// giving new columns a slot while there are fewer than maxSlots; t.mu must
// be held for writing.
func (t *table) values(rec *record) []any {
	for k := range rec.data {
		if _, ok := t.slots[k]; !ok && len(t.slots) < maxSlots {
			t.slots[k] = len(t.slots)
			t.cols = append(t.cols, make([]any, len(t.ordered)))
		}
	}
	vals := make([]any, len(t.cols))
	rec.extra = nil
	for k, v := range rec.data {
		if i, ok := t.slots[k]; ok {
			vals[i] = matchValue(v)
			continue
		}
		if rec.extra == nil {
			rec.extra = map[string]any{}
		}
		rec.extra[k] = matchValue(v)
	}
	// The system columns win over a user column of the same name (which
	// the write paths do not let through anyway).
	vals[slotID] = rec.id
	vals[slotCreatedAt] = rec.createdAt
	vals[slotUpdatedAt] = rec.updatedAt
	vals[slotVersion] = rec.version
	vals[slotDeleted] = rec.deleted
	return vals
}

// column is where a list scan finds one column's values.
type column struct {
	slot  bool
	vals  []any  // by row, when the column has a slot
	extra string // else the record.extra key, or "" when no row has it
}

// column returns where the column name lives; t.mu must be held.
func (t *table) column(name string) column {
	if i, ok := t.slots[name]; ok {
		return column{slot: true, vals: t.cols[i]}
	}
	if len(t.slots) < maxSlots {
		return column{} // no row has it
	}
	return column{extra: name}
}

// get returns the value of the column in t.ordered[i], nil when the row
// lacks it.
func (c *column) get(t *table, i int) any {
	switch {
	case c.slot:
		return c.vals[i]
	case c.extra == "":
		return nil
	}
	return t.ordered[i].extra[c.extra]
}

// maxBody is the largest request body a table accepts.
const maxBody = 4 << 20

// put stores rec, replacing the row with the same id; t.mu must be held.
func (t *table) put(rec *record) {
	vals := t.values(rec)
	i := len(t.ordered)
	if old, ok := t.rows[rec.id]; ok {
		i = slices.Index(t.ordered, old)
		t.ordered[i] = rec
	} else {
		t.ordered = append(t.ordered, rec)
		for s := range t.cols {
			t.cols[s] = append(t.cols[s], nil)
		}
	}
	for s, v := range vals {
		t.cols[s][i] = v
	}
	t.rows[rec.id] = rec
}

// remove deletes the row with id; t.mu must be held. It moves the later
// rows of ordered and of every column.
func (t *table) remove(id string) {
	old, ok := t.rows[id]
	if !ok {
		return
	}
	delete(t.rows, id)
	if i := slices.Index(t.ordered, old); i >= 0 {
		t.ordered = slices.Delete(t.ordered, i, i+1)
		for s := range t.cols {
			t.cols[s] = slices.Delete(t.cols[s], i, i+1)
		}
	}
}

// current returns the live row with id, hiding soft-deleted rows.
func (t *table) current(id string) *record {
	rec := t.rows[id]
	if rec == nil || rec.deleted {
		return nil
	}
	return rec
}
