package zumotest

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// The list path. A query's result is its matching rows (every row passes
// the filter, soft-deleted ones only with __includeDeleted) in $orderby
// order, ties and unordered lists in insertion order. A page needs only the
// first $skip+$top rows of it and the number of matches, so compute keeps
// just those: the best k rows in a bounded heap while the filter runs over
// the table. The result cache keeps what was computed until the next write,
// and serves every later page that it covers.

// cacheEntry is one list result; ready closes when recs/total/err are set,
// so concurrent identical queries compute it once.
type cacheEntry struct {
	ready chan struct{}
	recs  []*record // the first rows of the result, in order
	total int       // the number of matching rows
	err   error
}

// covers reports whether a finished entry answers a query that needs the
// first need rows of the result.
func (e *cacheEntry) covers(need int) bool {
	return e.err != nil || len(e.recs) >= need || len(e.recs) == e.total
}

// errUnfinished is the result of a computation that panicked.
var errUnfinished = errors.New("the query could not be evaluated")

// results returns the first rows of the query's result, at least enough
// for the page of limit rows at $skip (all of them when the result is
// shorter), and the number of matching rows. It takes them from the cache
// when the table has not changed since.
func (s *Server) results(t *table, q *tableQuery, limit int) (recs []*record, total int, err error) {
	key := q.filter + "\x00" + q.orderby
	if q.includeDeleted {
		key += "\x00d"
	}
	// Writers clear the cache under t.mu, so while the read lock is held
	// an entry always describes the current rows.
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := len(t.ordered)
	need := 0 // a $skip past every row needs only the count
	if q.skip < n {
		need = n
		if limit < n-q.skip {
			need = q.skip + limit
		}
	}
	for {
		t.cacheMu.Lock()
		e := t.cache[key]
		t.cacheMu.Unlock()
		k := need
		if e != nil {
			<-e.ready
			if e.covers(need) {
				return e.recs, e.total, e.err
			}
			// Paging on past what was kept: keep twice as much this
			// time, so paging through a result recomputes it rarely.
			k = max(need, min(2*len(e.recs), n))
		}
		ne := &cacheEntry{ready: make(chan struct{})}
		t.cacheMu.Lock()
		if t.cache[key] != e {
			// Another request got there first: use its entry.
			t.cacheMu.Unlock()
			continue
		}
		if t.cache == nil || (e == nil && len(t.cache) >= maxCached) {
			t.cache = map[string]*cacheEntry{}
		}
		t.cache[key] = ne
		t.cacheMu.Unlock()
		func() {
			defer close(ne.ready)
			ne.err = errUnfinished
			ne.recs, ne.total, ne.err = s.compute(t, q, k)
		}()
		return ne.recs, ne.total, ne.err
	}
}

// compute filters the rows and returns the first k of the result, in
// order, and the number of matching rows; t.mu must be held. Every row is
// evaluated, so a filter that fails on any row fails the query.
func (s *Server) compute(t *table, q *tableQuery, k int) ([]*record, int, error) {
	var pf *parsedFilter
	if strings.TrimSpace(q.filter) != "" {
		if pf = s.parsed.filter(q.filter); pf.err != nil {
			return nil, 0, pf.err
		}
	}
	var rk *ranker
	if strings.TrimSpace(q.orderby) != "" {
		po := s.parsed.orderBy(q.orderby)
		if po.err != nil {
			return nil, 0, po.err
		}
		if len(po.keys) > 0 {
			rk = newRanker(t, po.keys, k)
		}
	}
	var (
		cols []column
		vals []any
	)
	if pf != nil {
		cols = make([]column, len(pf.members))
		for j, m := range pf.members {
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
		if !q.includeDeleted {
			if d, _ := deleted.get(t, i).(bool); d {
				continue
			}
		}
		if pf != nil {
			for j := range cols {
				vals[j] = cols[j].get(t, i)
			}
			ok, err := pf.f.MatchValues(vals)
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

// parseCache remembers parsed $filter and $orderby options, so that a
// query repeated after a write (which clears the result cache) is not
// parsed again. Each map is bounded by maxParsed; when one is full an
// arbitrary entry makes room.
type parseCache struct {
	mu      sync.Mutex
	filters map[string]*parsedFilter
	orders  map[string]*parsedOrder
}

// maxParsed bounds each map of a parseCache.
const maxParsed = 256

type parsedFilter struct {
	f       *filterExpr
	members []string // f.Members()
	err     error
}

type parsedOrder struct {
	keys []orderKey
	err  error
}

func (c *parseCache) filter(src string) *parsedFilter {
	c.mu.Lock()
	p, ok := c.filters[src]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = &parsedFilter{}
	if p.f, p.err = parseFilter(src); p.err == nil {
		p.members = p.f.Members()
	}
	c.mu.Lock()
	c.filters = remember(c.filters, src, p)
	c.mu.Unlock()
	return p
}

func (c *parseCache) orderBy(src string) *parsedOrder {
	c.mu.Lock()
	p, ok := c.orders[src]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = &parsedOrder{}
	p.keys, p.err = parseOrderBy(src)
	c.mu.Lock()
	c.orders = remember(c.orders, src, p)
	c.mu.Unlock()
	return p
}

// remember adds k to a bounded map, dropping an arbitrary entry when it is
// full, and returns the map (made when nil).
func remember[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	if _, ok := m[k]; !ok && len(m) >= maxParsed {
		for old := range m {
			delete(m, old)
			break
		}
	}
	m[k] = v
	return m
}
