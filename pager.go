package zumo

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// pager is where a query's paging has got to: the cursor (a keyset
// boundary and a $skip past it, or a next link), what Take still allows,
// and the pages seen so far.
type pager[T any] struct {
	q, rq     Query[T]   // the caller's query; the one sent (keys selected and ordered)
	keys      []orderKey // keyset keys, ending with id; nil: $skip paging
	strip     []string   // map keys selected for paging only
	after     *Expr      // the rows after the last boundary; nil: from the start
	skip      int        // $skip past after (the caller's Skip before a boundary)
	hasSkip   bool
	link      *url.URL // a next link to follow ($skip paging only)
	remaining int      // what Take still allows; -1: no Take
	maxSeen   int      // the longest page so far
	asked     int      // the $top of the last request; 0: none
	done      bool

	byIDs               bool             // pages are told apart by their ids when they have them
	seed                maphash.Seed     // for the id-set fingerprints
	hash                maphash.Hash     // of the last body
	body                *bytes.Buffer    // the last body, when the keys need raw values; else nil
	seen                map[pageMark]int // fingerprint → page number
	pages, repeats      int              // pages read; pages that repeated an earlier one
	probed, ignoresSkip bool             // the $skip probe ran; its answer
}

// minPageSize is the smallest page a server is taken to cut a read to
// without saying so in a next link: the official servers' default.
const minPageSize = 50

// pageMark is a page's fingerprint: its id set, or its body's hash when an
// item has no usable id.
type pageMark struct {
	pageKey
	byBody bool
}

func newPager[T any](q Query[T]) (*pager[T], error) {
	if q.t == nil || q.hasTop && q.top == 0 {
		// Nothing to fetch (or no table): report the query's errors all the same.
		if _, err := q.appendQuery(nil, 0, false, 0, false); err != nil {
			return nil, err
		}
	}
	pg := &pager[T]{q: q, rq: q, skip: q.skip, hasSkip: q.hasSkip, remaining: -1,
		seed: maphash.MakeSeed(), seen: map[pageMark]int{}}
	if q.hasTop {
		pg.remaining = q.top
	}
	pg.done = pg.remaining == 0
	ti := q.t.ti
	pg.byIDs = ti.isMap || ti.id != nil
	pg.keys = q.keysetKeys()
	if pg.keys != nil && !slices.ContainsFunc(q.order, isIDKey) {
		pg.rq.order = append(slices.Clip(q.order), orderKey{field: "id"})
	}
	if len(q.sel) > 0 && pg.byIDs {
		need := []string{"id"}
		for _, k := range pg.keys {
			need = append(need, k.field)
		}
		for _, f := range need {
			if !slices.ContainsFunc(pg.rq.sel, func(s string) bool { return strings.EqualFold(s, f) }) {
				pg.rq = pg.rq.Select(f)
				if ti.isMap {
					pg.strip = append(pg.strip, f)
				}
			}
		}
	}
	if slices.ContainsFunc(pg.keys, func(k orderKey) bool { return !isIDKey(k) }) {
		pg.body = bodies.Get().(*bytes.Buffer) // null values are only seen in the body
	}
	return pg, nil
}

// bodies recycles the buffers pagers keep the last body in.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// close gives back what the pager holds.
func (pg *pager[T]) close() {
	if pg.body != nil && pg.body.Cap() <= 4<<20 {
		pg.body.Reset()
		bodies.Put(pg.body)
	}
	pg.body = nil
}

// Write hashes b and, when the keys need it, keeps it: the pager is the
// tee of the body being read.
func (pg *pager[T]) Write(b []byte) (int, error) {
	_, _ = pg.hash.Write(b)
	if pg.body != nil {
		pg.body.Write(b)
	}
	return len(b), nil
}

func isIDKey(k orderKey) bool { return strings.EqualFold(k.field, "id") }

// request returns the query to send next: the one sent, past the boundary.
func (pg *pager[T]) request() Query[T] {
	if pg.after != nil {
		return pg.rq.Where(*pg.after)
	}
	return pg.rq
}

// next reads the next page. Its items are those to yield: none when the
// page repeats one read before.
func (pg *pager[T]) next(ctx context.Context) (*Page[T], error) {
	u, features := pg.link, pg.q.features()
	if u != nil {
		features = append(features, featLinkHeader)
	} else {
		raw, err := pg.request().appendQuery(nil, pg.skip, pg.hasSkip, min(pg.remaining, maxRequestTop), pg.remaining >= 0)
		if err != nil {
			return nil, err
		}
		u = new(url.URL)
		*u = *pg.q.t.url
		u.RawQuery = string(raw)
	}
	usedSkip := pg.link != nil || pg.hasSkip
	pg.asked = 0
	if pg.link == nil && pg.remaining > 0 {
		pg.asked = min(pg.remaining, maxRequestTop)
	}
	pg.link = nil
	pg.hash.Reset()
	if pg.body != nil {
		pg.body.Reset()
	}
	p, err := pg.rq.fetch(ctx, u, features, pg)
	if err != nil {
		return nil, err
	}
	n := len(p.Items)
	if n == 0 {
		pg.done = true
		return p, nil
	}
	// The first page cannot repeat one; a page that fills Take is the
	// last: neither needs a fingerprint.
	if pg.pages > 0 || pg.remaining < 0 || n < pg.remaining {
		mark := pg.mark(p.Items)
		if first, repeated := pg.seen[mark]; repeated {
			pg.repeats++
			if err := pg.judgeRepeat(ctx, first, usedSkip); err != nil {
				return nil, err
			}
			pg.pages++
			pg.advance(p, u)
			p.Items = nil // yielded before
			return p, nil
		}
		pg.seen[mark] = pg.pages
	}
	pg.pages++
	if pg.remaining >= 0 {
		p.Items = p.Items[:min(n, pg.remaining):min(n, pg.remaining)]
		pg.remaining -= len(p.Items)
		pg.done = pg.remaining == 0
	}
	if !pg.done {
		pg.advance(p, u)
	}
	for _, it := range p.Items {
		deleteKeys(any(it), pg.strip)
	}
	return p, nil
}

// advance moves the cursor past page p, read from u, and decides whether
// it was the last.
func (pg *pager[T]) advance(p *Page[T], u *url.URL) {
	n := len(p.Items)
	if p.NextLink == "" && (n < pg.maxSeen || n < pg.asked || n < minPageSize) {
		// No link, and shorter than a page the server sent before, than
		// the $top asked for, or than any server cuts a page to: the end.
		// (The official servers send a next link whenever they cut a page
		// short, at 50 rows unless configured.)
		pg.done = true
	}
	pg.maxSeen = max(pg.maxSeen, n)
	if pg.keys != nil {
		if after, ok := pg.boundary(&p.Items[n-1]); ok {
			pg.after, pg.skip, pg.hasSkip = &after, 0, false
			return
		}
	}
	pg.skip, pg.hasSkip = pg.skip+n, true
	if pg.keys == nil {
		pg.link = pg.usableNext(p.NextLink, u)
	}
}

// mark fingerprints a page: by its ids, by its body when an item has none.
func (pg *pager[T]) mark(items []T) pageMark {
	if pg.byIDs {
		if k, ok := idSetKey(pg.q.t.ti, items, pg.seed); ok {
			return pageMark{pageKey: k}
		}
	}
	return pageMark{pageKey: pageKey{n: len(items), sum: pg.hash.Sum64()}, byBody: true}
}

// judgeRepeat decides whether a page that repeats page first may be
// passed over. Data that moved between two requests explains a repeat now
// and then; a server that ignores $skip, or cycles, repeats for ever.
func (pg *pager[T]) judgeRepeat(ctx context.Context, first int, usedSkip bool) error {
	if pg.repeats > len(pg.seen) {
		return fmt.Errorf("%w: page %d repeats page %d, and %d of %d pages were repeats", ErrNoProgress, pg.pages+1, first+1, pg.repeats, pg.pages+1)
	}
	if !usedSkip {
		return nil
	}
	if !pg.probed {
		ignores, err := pg.probeSkip(ctx)
		if err != nil {
			return err
		}
		pg.probed, pg.ignoresSkip = true, ignores
	}
	if pg.ignoresSkip {
		return fmt.Errorf("%w: page %d repeats page %d, and the server ignores $skip ($skip=0 and $skip=1 give the same row)", ErrNoProgress, pg.pages+1, first+1)
	}
	return nil
}

// probeSkip asks for the first two rows past the boundary, one request
// each: a server that honours $skip sends two different rows, one that
// ignores it sends the same row twice.
func (pg *pager[T]) probeSkip(ctx context.Context) (ignores bool, err error) {
	var marks [2]pageMark
	for i := range marks {
		raw, err := pg.request().appendQuery(nil, i, true, 1, true)
		if err != nil {
			return false, err
		}
		u := *pg.q.t.url
		u.RawQuery = string(raw)
		pg.hash.Reset()
		p, err := pg.rq.fetch(ctx, &u, pg.q.features(), &pg.hash)
		if err != nil {
			return false, err
		}
		if len(p.Items) == 0 {
			return false, nil
		}
		marks[i] = pg.mark(p.Items[:1])
	}
	return marks[0] == marks[1], nil
}

// usableNext returns link resolved against cur when it can be followed as
// it is: same origin and path as the table, and the $skip this page ended
// at. Otherwise nil (the Node server's links have neither).
func (pg *pager[T]) usableNext(link string, cur *url.URL) *url.URL {
	if link == "" {
		return nil
	}
	t := pg.q.t
	lu, err := cur.Parse(link)
	if err != nil || !sameOrigin(lu, t.url) || lu.EscapedPath() != t.url.EscapedPath() {
		return nil
	}
	vals, err := url.ParseQuery(lu.RawQuery)
	if err != nil || vals.Get("$skip") != strconv.Itoa(pg.skip) {
		return nil
	}
	return lu
}
