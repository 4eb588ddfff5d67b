package zumo

import (
	"context"
	"hash/maphash"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxRequestTop caps the $top of each request All sends: the official
// servers reject a larger one (400), whatever the query's Take.
const maxRequestTop = 1000

// All returns an iterator over every item the query matches, page after
// page, honouring Skip and Take (asking for at most 1000 items a request,
// the official servers' limit, however large the Take). It follows a next
// link when it points at the same table on the same origin and continues
// where this page ended; otherwise (no link, a link on another origin, or
// the broken links the official Node server sends) it asks for the next
// page with $skip/$top against the table URL itself. It stops after an
// empty page, after a page shorter than an earlier one with no link, and
// with ErrNoProgress when a page holds the same items as the one before
// (a server that ignores $skip). A link to another origin is never
// requested. Each error is yielded once, with a zero item, and ends the
// iteration.
//
// Items are told apart by their ids: when the query selects fields
// without "id", All asks for the id too (a map item gets no "id" key it
// did not select; a struct's id field is filled). Where a page has an item
// without a usable id (an item type without an id field, rows sent without
// one, numeric ids beyond 2^53) it compares the pages' bodies instead.
func (q Query[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rq, byIDs, stripID := q, false, false
		if q.t != nil && (q.t.ti.isMap || q.t.ti.id != nil) {
			byIDs = true
			if len(q.sel) > 0 && !slices.ContainsFunc(q.sel, func(f string) bool { return strings.EqualFold(f, "id") }) {
				rq, stripID = q.Select("id"), q.t.ti.isMap
			}
		}
		raw, err := rq.appendQuery(nil, q.skip, q.hasSkip, min(q.top, maxRequestTop), q.hasTop)
		if err != nil {
			yield(zero, err)
			return
		}
		skip, remaining := q.skip, -1
		if q.hasTop {
			remaining = q.top
		}
		if remaining == 0 {
			return
		}
		u := *q.t.url
		u.RawQuery = string(raw)
		cur := &u
		features := q.features()
		// Pages are told apart by their ids; by their bodies when an item
		// has no id (or none that tells items apart).
		h := new(maphash.Hash)
		seed := maphash.MakeSeed()
		var prevKey pageKey
		var prevSum uint64
		prevByIDs := false
		maxSeen := 0
		for page := 0; ; page++ {
			p, sum, err := rq.fetch(ctx, cur, features, h)
			if err != nil {
				yield(zero, err)
				return
			}
			n := len(p.Items)
			if n == 0 {
				return
			}
			key, idsOK := pageKey{}, false
			if byIDs {
				key, idsOK = idSetKey(q.t.ti, p.Items, seed)
			}
			same := page > 0 && sum == prevSum
			if idsOK && prevByIDs {
				same = key == prevKey
			}
			prevKey, prevByIDs = key, idsOK
			if same {
				yield(zero, ErrNoProgress)
				return
			}
			prevSum = sum
			for _, it := range p.Items {
				if stripID {
					deleteID(any(it))
				}
				if !yield(it, nil) {
					return
				}
				if remaining > 0 {
					remaining--
					if remaining == 0 {
						return
					}
				}
			}
			skip += n
			if next := q.usableNext(p.NextLink, cur, skip); next != nil {
				cur = next
				features = append(slices.Clip(q.features()), featLinkHeader)
				maxSeen = max(maxSeen, n)
				continue
			}
			if p.NextLink == "" && n < maxSeen {
				return // shorter than a page the server sent before, and no link: the end
			}
			maxSeen = max(maxSeen, n)
			top, hasTop := min(remaining, maxRequestTop), remaining > 0
			raw, err := rq.appendQuery(nil, skip, true, top, hasTop)
			if err != nil {
				yield(zero, err)
				return
			}
			nu := *q.t.url
			nu.RawQuery = string(raw)
			cur = &nu
			features = q.features()
		}
	}
}

// usableNext returns link resolved against cur when it can be followed as
// it is: same origin and path as the table, and (when it says) the $skip
// this page ended at. Otherwise nil.
func (q Query[T]) usableNext(link string, cur *url.URL, skip int) *url.URL {
	if link == "" {
		return nil
	}
	lu, err := cur.Parse(link)
	if err != nil || !sameOrigin(lu, q.t.url) || lu.EscapedPath() != q.t.url.EscapedPath() {
		return nil
	}
	vals, err := url.ParseQuery(lu.RawQuery)
	if err != nil {
		return nil
	}
	if s := vals.Get("$skip"); s != "" && s != strconv.Itoa(skip) {
		return nil
	}
	if vals.Get("$skip") == "" {
		return nil
	}
	return lu
}
