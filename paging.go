package zumo

import (
	"context"
	"iter"
)

// maxRequestTop caps the $top of each request All sends: the official
// servers reject a larger one (400), whatever the query's Take.
const maxRequestTop = 1000

// ToSlice returns every item the query selects: it pages like All (so
// Take(5000) is asked for 1000 at a time) and stops at Take when given.
// For one request, use Page. It fails like All, returning no items.
func (q Query[T]) ToSlice(ctx context.Context) ([]T, error) {
	var all []T
	for p, err := range q.pages(ctx) {
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = p.Items
		} else {
			all = append(all, p.Items...)
		}
	}
	if all == nil {
		all = []T{}
	}
	return all, nil
}

// All returns an iterator over every item the query selects, page after
// page, honouring Skip and Take (asking for at most 1000 items a request,
// the official servers' limit, however large the Take). Each error is
// yielded once, with a zero item, and ends the iteration.
//
// Where it can, All pages by keyset: the query is ordered by its own
// orderings with id as the last key ($orderby=priority,id), and each page
// after the first asks for the rows after the previous page's last row
// ((priority gt 3) or ((priority eq 3) and (id gt 'x'))) instead of using
// $skip, so rows inserted or deleted while it runs are neither skipped nor
// repeated. That needs an item type with an id field (or map items), and
// orderings (before any on id) on fields whose values can be written back
// as literals: for a struct T, fields of a string, integer, float or
// time.Time type (createdAt and updatedAt are compared as dates); for map
// items, numbers and createdAt/updatedAt. Where a key cannot be used (a
// bool or nested field, a null value on the last row, a map item's other
// strings, a struct without an id), All pages with $skip/$top instead,
// following the server's next link when it is on the same origin and
// table and agrees with the $skip reached (the Node server's links are
// broken and are not followed). A query that selects fields gets id and
// its ordering fields selected too (a map item gets no key it did not
// select; a struct's fields are filled).
//
// All stops after an empty page, or after a page with no next link that
// is shorter than an earlier one, than the $top it asked for, or than 50
// rows (the official servers' page size; they send a next link whenever
// they cut a page short). It never runs for ever: each page's set of ids (or
// its body, for items without usable ids) is remembered (memory grows with
// the number of pages, not of rows); a page seen before is not yielded
// again, and when repeats outnumber the distinct pages, or a server that
// pages by $skip sends the same page twice and ignores $skip when asked
// for its first two rows one at a time, All ends with ErrNoProgress.
func (q Query[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p, err := range q.pages(ctx) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// pages yields the query's non-empty pages, trimmed to Take, until the end
// or the first error.
func (q Query[T]) pages(ctx context.Context) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		pg, err := newPager(q)
		if err != nil {
			yield(nil, err)
			return
		}
		defer pg.close()
		for !pg.done {
			p, err := pg.next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(p.Items) > 0 && !yield(p, nil) {
				return
			}
		}
	}
}
