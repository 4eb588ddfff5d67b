package zumotest

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The list path. A query's result is its matching rows (every row passes
// the filter, soft-deleted ones only with __includeDeleted) in $orderby
// order, ties and unordered lists in insertion order. A page needs only the
// first $skip+$top rows of it and the number of matches, so compute keeps
// just those: the best k rows in a bounded heap while the filter runs over
// the table's column store. Both are there for the uncached goal of
// docs/benchmarks.md (ten times the official server's requests per second
// with a new filter on every request): measured with
// BenchmarkFilteredPageHandler, a full sort over the column store cost
// about ten times the CPU per request, and a plain filter over row maps
// with a full sort about eighty times, either of which misses that goal.
// There is no result cache: the uncached path alone meets both goals.

// results returns the first rows of the query's result, enough for the
// page of limit rows at $skip (all of them when the result is shorter),
// and the number of matching rows.
func (s *Server) results(t *table, q *tableQuery, limit int) (recs []*record, total int, err error) {
	var f *filterExpr
	if strings.TrimSpace(q.filter) != "" {
		if f, err = parseFilter(q.filter); err != nil {
			return nil, 0, err
		}
	}
	var keys []orderKey
	if strings.TrimSpace(q.orderby) != "" {
		if keys, err = parseOrderBy(q.orderby); err != nil {
			return nil, 0, err
		}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	k := 0 // a $skip past every row needs only the count
	if n := len(t.ordered); q.skip < n {
		k = q.skip + min(limit, n-q.skip)
	}
	return t.compute(f, keys, q.includeDeleted, k)
}

// compute filters the rows and returns the first k of the result, in
// order, and the number of matching rows; t.mu must be held. Every row is
// evaluated, so a filter that fails on any row fails the query.
func (t *table) compute(f *filterExpr, keys []orderKey, withDeleted bool, k int) ([]*record, int, error) {
	var rk *ranker
	if len(keys) > 0 {
		rk = newRanker(t, keys, k)
	}
	var (
		cols []column
		vals []any
	)
	if f != nil {
		members := f.Members()
		cols = make([]column, len(members))
		for j, m := range members {
			cols[j] = t.column(m)
		}
		vals = make([]any, len(cols))
	}
	var out []*record
	if rk == nil {
		out = make([]*record, 0, min(k, len(t.ordered)))
	}
	total := 0
	deleted := t.column(t.names.deleted)
	for i := range t.ordered {
		if !withDeleted {
			if d, _ := deleted.get(t, i).(bool); d {
				continue
			}
		}
		if f != nil {
			for j := range cols {
				vals[j] = cols[j].get(t, i)
			}
			ok, err := f.MatchValues(vals)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				continue
			}
		}
		total++
		switch {
		case rk != nil:
			rk.add(i)
		case len(out) < k:
			out = append(out, t.ordered[i])
		}
	}
	if rk != nil {
		out = rk.result()
	}
	return out, total, nil
}

// sortKey is one $orderby value of a row, typed so that the common cases
// compare without going through compareValues.
type sortKey struct {
	class keyClass
	i, n  int64   // bool (0/1), int64; time: Unix seconds and nanoseconds
	f     float64 // float64 (never NaN)
	s     string
	v     any // the value itself, for compareValues
}

type keyClass uint8

const (
	keyNull keyClass = iota
	keyBool
	keyInt
	keyFloat
	keyStr
	keyTime
	keyOther // NaN, json.Number and anything else: compareValues decides
)

func makeKey(v any) sortKey {
	switch x := v.(type) {
	case nil:
		return sortKey{}
	case bool:
		k := sortKey{class: keyBool, v: v}
		if x {
			k.i = 1
		}
		return k
	case int64:
		return sortKey{class: keyInt, i: x, v: v}
	case float64:
		if x == x {
			return sortKey{class: keyFloat, f: x, v: v}
		}
	case string:
		return sortKey{class: keyStr, s: x, v: v}
	case time.Time:
		return sortKey{class: keyTime, i: x.Unix(), n: int64(x.Nanosecond()), v: v}
	}
	return sortKey{class: keyOther, v: v}
}

// compareKeys orders two values as compareValues does.
func compareKeys(a, b *sortKey) int {
	if a.class == b.class {
		switch a.class {
		case keyNull:
			return 0
		case keyBool, keyInt:
			return cmp.Compare(a.i, b.i)
		case keyFloat:
			return cmp.Compare(a.f, b.f)
		case keyStr:
			return strings.Compare(a.s, b.s)
		case keyTime:
			if c := cmp.Compare(a.i, b.i); c != 0 {
				return c
			}
			return cmp.Compare(a.n, b.n)
		}
	}
	return compareValues(a.v, b.v)
}

// compareFirst is compareKeys(makeKey(v), b), faster for the common cases.
func compareFirst(v any, b *sortKey) int {
	switch x := v.(type) {
	case int64:
		if b.class == keyInt {
			return cmp.Compare(x, b.i)
		}
	case string:
		if b.class == keyStr {
			return strings.Compare(x, b.s)
		}
	}
	a := makeKey(v)
	return compareKeys(&a, b)
}

// ranker keeps the first k rows, in $orderby order, of the rows added to
// it. Until it has k rows it only collects them; from then on they form a
// max-heap (the row that sorts last at the root), so a new row costs one
// comparison unless it displaces the root.
type ranker struct {
	t    *table
	cols []column
	desc []bool
	k    int

	recs []*record // the kept rows, in no order
	keys []sortKey // their keys: len(cols) per row, as in recs
	heap []int32   // indexes into recs, a max-heap once len(recs) == k
	cand []sortKey // the keys of the row being added
}

func newRanker(t *table, keys []orderKey, k int) *ranker {
	r := &ranker{
		t:    t,
		cols: make([]column, len(keys)),
		desc: make([]bool, len(keys)),
		k:    k,
		cand: make([]sortKey, len(keys)),
	}
	for i, key := range keys {
		r.cols[i] = t.column(key.Field)
		r.desc[i] = key.Desc
	}
	return r
}

// compare orders two rows by their keys, then by insertion order.
func (r *ranker) compare(ka []sortKey, a *record, kb []sortKey, b *record) int {
	for i := range ka {
		if c := compareKeys(&ka[i], &kb[i]); c != 0 {
			if r.desc[i] {
				return -c
			}
			return c
		}
	}
	return cmp.Compare(a.seq, b.seq)
}

// keysOf returns the keys of kept row i.
func (r *ranker) keysOf(i int32) []sortKey {
	n := len(r.cols)
	return r.keys[int(i)*n : int(i)*n+n]
}

// cmpAt compares kept rows i and j.
func (r *ranker) cmpAt(i, j int32) int {
	return r.compare(r.keysOf(i), r.recs[i], r.keysOf(j), r.recs[j])
}

// add offers row i of the table.
func (r *ranker) add(i int) {
	if r.k == 0 {
		return
	}
	t := r.t
	v0 := r.cols[0].get(t, i)
	if len(r.recs) == r.k {
		// Most rows sort after the root on the first key: reject them
		// before extracting any key.
		root := r.heap[0]
		c := compareFirst(v0, &r.keysOf(root)[0])
		if r.desc[0] {
			c = -c
		}
		if c > 0 || (c == 0 && len(r.cols) == 1 && t.ordered[i].seq > r.recs[root].seq) {
			return
		}
	}
	rec := t.ordered[i]
	r.cand[0] = makeKey(v0)
	for j := 1; j < len(r.cols); j++ {
		r.cand[j] = makeKey(r.cols[j].get(t, i))
	}
	if len(r.recs) < r.k {
		r.heap = append(r.heap, int32(len(r.recs)))
		r.recs = append(r.recs, rec)
		r.keys = append(r.keys, r.cand...)
		if len(r.recs) == r.k {
			for j := len(r.heap)/2 - 1; j >= 0; j-- {
				r.down(j)
			}
		}
		return
	}
	root := r.heap[0]
	if r.compare(r.cand, rec, r.keysOf(root), r.recs[root]) >= 0 {
		return // sorts after every kept row
	}
	r.recs[root] = rec
	copy(r.keysOf(root), r.cand)
	r.down(0)
}

// down restores the heap below position i.
func (r *ranker) down(i int) {
	h := r.heap
	for {
		big := i
		if l := 2*i + 1; l < len(h) && r.cmpAt(h[l], h[big]) > 0 {
			big = l
		}
		if rt := 2*i + 2; rt < len(h) && r.cmpAt(h[rt], h[big]) > 0 {
			big = rt
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// result returns the kept rows in order.
func (r *ranker) result() []*record {
	slices.SortFunc(r.heap, r.cmpAt)
	out := make([]*record, len(r.heap))
	for i, j := range r.heap {
		out[i] = r.recs[j]
	}
	return out
}
