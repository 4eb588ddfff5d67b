package offline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/zumo-go/zumo"
)

// Query is a local query on a Table, built with the online query builder's
// methods and zumo.Expr filters. It is immutable: each method returns a
// new Query. Its OData text is the one the online table would send, and
// it is evaluated locally with the meaning the service gives it.
type Query[T any] struct {
	t *Table[T]
	q zumo.Query[T]
}

// Query returns a query for every row of the table.
func (t *Table[T]) Query() Query[T] { return Query[T]{t: t, q: t.online.Query()} }

// Where returns a query for the rows matching e.
func (t *Table[T]) Where(e zumo.Expr) Query[T] { return t.Query().Where(e) }

// ToSlice returns every row of the table.
func (t *Table[T]) ToSlice(ctx context.Context) ([]T, error) { return t.Query().ToSlice(ctx) }

// Where adds a filter; several are joined with and.
func (q Query[T]) Where(e zumo.Expr) Query[T] { q.q = q.q.Where(e); return q }

// OrderBy makes field the primary ascending sort key (see zumo.Query).
func (q Query[T]) OrderBy(field string) Query[T] { q.q = q.q.OrderBy(field); return q }

// OrderByDescending makes field the primary descending sort key.
func (q Query[T]) OrderByDescending(field string) Query[T] {
	q.q = q.q.OrderByDescending(field)
	return q
}

// ThenBy adds field as the last ascending sort key.
func (q Query[T]) ThenBy(field string) Query[T] { q.q = q.q.ThenBy(field); return q }

// ThenByDescending adds field as the last descending sort key.
func (q Query[T]) ThenByDescending(field string) Query[T] {
	q.q = q.q.ThenByDescending(field)
	return q
}

// Skip leaves out the first n matching rows.
func (q Query[T]) Skip(n int) Query[T] { q.q = q.q.Skip(n); return q }

// Take returns at most n rows.
func (q Query[T]) Take(n int) Query[T] { q.q = q.q.Take(n); return q }

// Select keeps only the named columns of each row.
func (q Query[T]) Select(fields ...string) Query[T] { q.q = q.q.Select(fields...); return q }

// IncludeTotalCount makes Page report the number of matching rows.
func (q Query[T]) IncludeTotalCount() Query[T] { q.q = q.q.IncludeTotalCount(); return q }

// String returns the query's OData query string (what the online table
// would send), or the query's error.
func (q Query[T]) String() string {
	s, err := q.q.QueryString()
	if err != nil {
		return "<invalid: " + err.Error() + ">"
	}
	return s
}

// ToSlice returns the rows the query selects, in its order (rows that
// tie are in id order). It fails with an error matching
// zumo.ErrInvalidQuery for a query that cannot be parsed, one wrapping
// ErrUnsupportedQuery for one the store cannot evaluate exactly, or the
// store's error.
func (q Query[T]) ToSlice(ctx context.Context) ([]T, error) {
	p, err := q.Page(ctx)
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

// Page is ToSlice with the total count (when IncludeTotalCount was asked
// for; else -1). NextLink is always empty.
func (q Query[T]) Page(ctx context.Context) (*zumo.Page[T], error) {
	if q.t == nil {
		return nil, invalidQuery("query without a table (use Table.Query)")
	}
	if q.t.err != nil {
		return nil, q.t.err
	}
	lq, sel, err := q.local()
	if err != nil {
		return nil, err
	}
	var rows [][]byte
	var count int64
	err = q.t.sc.s.View(ctx, func(tx Tx) error {
		rows, count, err = tx.Query(q.t.name, lq)
		return err
	})
	if err != nil {
		return nil, err
	}
	p := &zumo.Page[T]{Items: make([]T, 0, len(rows)), TotalCount: count}
	for _, r := range rows {
		if len(sel) > 0 {
			if r, err = project(q.t.name, r, sel); err != nil {
				return nil, err
			}
		}
		v, err := decodeItem[T](r)
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}

func (q Query[T]) local() (*LocalQuery, []string, error) {
	qs, err := q.q.QueryString()
	if err != nil {
		return nil, nil, err
	}
	return parseLocalQuery(qs)
}

// project keeps the selected members of a row of table ("*" keeps all).
func project(table string, row []byte, sel []string) ([]byte, error) {
	obj, err := decodeStored(table, "", row)
	if err != nil {
		return nil, err
	}
	out := object{}
	for _, f := range sel {
		if f == "*" {
			return row, nil
		}
		if v, ok := obj[f]; ok {
			out[f] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	return b, nil
}
