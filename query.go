package zumo

import (
	"context"
	"fmt"
	"iter"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-querystring/query"
)

// Query is a query on a table: a filter, ordering, paging, projection and
// parameters, run with ToSlice, Page or All. Every method returns a new
// Query and leaves its receiver as it was, so a base query can be shared
// and extended freely, also from many goroutines.
//
// Errors made while building (a bad literal, a "$" parameter, a negative
// Skip, a field name a struct T does not declare: see AllowFields) are kept
// and returned, wrapping ErrInvalidQuery, by the terminal call; nothing is
// sent then.
type Query[T any] struct {
	t       *Table[T]
	filter  node
	order   []orderKey
	skip    int
	hasSkip bool
	top     int
	hasTop  bool
	sel     []string
	total   bool
	deleted bool
	params  []param
	allowed []string // AllowFields
	err     error
}

type orderKey struct {
	field string
	desc  bool
}

type param struct{ k, v string }

// Query returns an empty query on the table: every item, in the server's
// order, a page at a time.
func (t *Table[T]) Query() Query[T] { return Query[T]{t: t} }

// Where returns the table's query filtered by e; see Query.Where.
func (t *Table[T]) Where(e Expr) Query[T] { return t.Query().Where(e) }

// ToSlice returns every item of the table; see Query.ToSlice.
func (t *Table[T]) ToSlice(ctx context.Context) ([]T, error) { return t.Query().ToSlice(ctx) }

// All iterates over every item of the table; see Query.All.
func (t *Table[T]) All(ctx context.Context) iter.Seq2[T, error] { return t.Query().All(ctx) }

func (q Query[T]) withErr(err error) Query[T] {
	if q.err == nil {
		q.err = err
	}
	return q
}

// Where adds a filter. Several Where calls are joined with and.
func (q Query[T]) Where(e Expr) Query[T] {
	n := toNode(e)
	if q.filter != nil {
		n = &binNode{op: "and", l: q.filter, r: n}
	}
	q.filter = n
	return q
}

// OrderBy makes field the primary ascending sort key; keys given before
// become secondary (OrderBy(a).OrderByDescending(b) sorts by b desc, then a).
func (q Query[T]) OrderBy(field string) Query[T] { return q.orderFirst(field, false) }

// OrderByDescending makes field the primary descending sort key.
func (q Query[T]) OrderByDescending(field string) Query[T] { return q.orderFirst(field, true) }

// ThenBy appends field as the next ascending sort key.
func (q Query[T]) ThenBy(field string) Query[T] { return q.orderLast(field, false) }

// ThenByDescending appends field as the next descending sort key.
func (q Query[T]) ThenByDescending(field string) Query[T] { return q.orderLast(field, true) }

func (q Query[T]) orderFirst(field string, desc bool) Query[T] {
	if field == "" {
		return q.withErr(fmt.Errorf("%w: empty order field", ErrInvalidQuery))
	}
	q.order = append([]orderKey{{field, desc}}, q.order...)
	return q
}

func (q Query[T]) orderLast(field string, desc bool) Query[T] {
	if field == "" {
		return q.withErr(fmt.Errorf("%w: empty order field", ErrInvalidQuery))
	}
	q.order = append(slices.Clip(q.order), orderKey{field, desc})
	return q
}

// Skip skips n more items: repeated calls add up.
func (q Query[T]) Skip(n int) Query[T] {
	if n < 0 || n > math.MaxInt-q.skip {
		return q.withErr(fmt.Errorf("%w: Skip(%d) after skipping %d", ErrInvalidQuery, n, q.skip))
	}
	q.skip += n
	q.hasSkip = true
	return q
}

// Take asks for at most n items: repeated calls keep the smallest. The
// server may send fewer (it caps a page, commonly at 50); ToSlice and All
// page on, Page does not.
func (q Query[T]) Take(n int) Query[T] {
	if n < 0 {
		return q.withErr(fmt.Errorf("%w: Take(%d)", ErrInvalidQuery, n))
	}
	if !q.hasTop || n < q.top {
		q.top = n
	}
	q.hasTop = true
	return q
}

// Select asks only for the given fields.
func (q Query[T]) Select(fields ...string) Query[T] {
	for _, f := range fields {
		if f == "" {
			return q.withErr(fmt.Errorf("%w: empty select field", ErrInvalidQuery))
		}
	}
	q.sel = append(slices.Clip(q.sel), fields...)
	return q
}

// AllowFields names columns the table's struct type does not declare, so
// that Where, OrderBy and Select may use them. Without it a field name that
// is not one of the struct's JSON names (nor a system property: id,
// createdAt, updatedAt, version, deleted) is an *UnknownFieldError, since
// the servers answer a misspelt column with no rows rather than an error.
// Untyped (map) tables are not checked.
func (q Query[T]) AllowFields(fields ...string) Query[T] {
	q.allowed = append(slices.Clip(q.allowed), fields...)
	return q
}

// IncludeTotalCount asks the server for the number of items matching the
// filter, before paging ($inlinecount=allpages); Page returns it.
func (q Query[T]) IncludeTotalCount() Query[T] { q.total = true; return q }

// IncludeDeleted includes soft-deleted items.
func (q Query[T]) IncludeDeleted() Query[T] { q.deleted = true; return q }

// Param adds a user parameter, sent after the OData ones in the order
// given. A key starting with "$" is an error (the OData options have their
// own methods).
func (q Query[T]) Param(key, value string) Query[T] {
	if key == "" || strings.HasPrefix(key, "$") {
		return q.withErr(fmt.Errorf("%w: parameter name %q (must be non-empty and not start with $)", ErrInvalidQuery, key))
	}
	q.params = append(slices.Clip(q.params), param{key, value})
	return q
}

// Params adds user parameters from v: a url.Values or map[string]string
// (keys sorted), or a struct encoded with github.com/google/go-querystring
// (`url:"name,omitempty"` tags). Keys starting with "$" are an error.
func (q Query[T]) Params(v any) Query[T] {
	ps, err := paramsOf(v)
	if err != nil {
		return q.withErr(err)
	}
	for _, p := range ps {
		q = q.Param(p.k, p.v)
	}
	return q
}

func paramsOf(v any) ([]param, error) {
	var vals url.Values
	switch x := v.(type) {
	case nil:
		return nil, nil
	case url.Values:
		vals = x
	case map[string]string:
		vals = url.Values{}
		for k, s := range x {
			vals.Set(k, s)
		}
	default:
		var err error
		if vals, err = query.Values(v); err != nil {
			return nil, fmt.Errorf("%w: parameters: %v", ErrInvalidQuery, err)
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ps []param
	for _, k := range keys {
		for _, s := range vals[k] {
			ps = append(ps, param{k, s})
		}
	}
	return ps, nil
}

func (q Query[T]) features() []string {
	f := []string{q.t.feature}
	if len(q.params) > 0 {
		f = append(f, featQueryParams)
	}
	return f
}
