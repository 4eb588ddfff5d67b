package zumo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-querystring/query"
)

// Query is a query on a table: a filter, ordering, paging, projection and
// parameters, run with ToSlice, Page or All. Every method returns a new
// Query and leaves its receiver as it was, so a base query can be shared
// and extended freely, also from many goroutines.
//
// Errors made while building (a bad literal, a "$" parameter, a negative
// Skip) are kept and returned, wrapping ErrInvalidQuery, by the terminal
// call; nothing is sent then.
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

// ToSlice runs the table's empty query: the first page of items. It fails
// like Query.ToSlice.
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
// server may send fewer (it caps a page, commonly at 50); All pages on.
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

// QueryString returns the query string the query sends (without "?"), or
// the query's error. Its order is fixed: $filter, $orderby, $skip, $top,
// $select, $inlinecount, user parameters, __includeDeleted (and, on legacy
// Mobile Services, __systemproperties).
func (q Query[T]) QueryString() (string, error) {
	b, err := q.appendQuery(nil, q.skip, q.hasSkip, q.top, q.hasTop)
	return string(b), err
}

func (q Query[T]) appendQuery(dst []byte, skip int, hasSkip bool, top int, hasTop bool) ([]byte, error) {
	if q.t == nil {
		return dst, fmt.Errorf("%w: query without a table (use Table.Query)", ErrInvalidQuery)
	}
	if q.t.err != nil {
		return dst, q.t.err
	}
	if q.err != nil {
		return dst, q.err
	}
	sep := func() {
		if len(dst) > 0 {
			dst = append(dst, '&')
		}
	}
	field := func(f string) string { return f }
	if q.t.legacyBare {
		field = legacyName
	}
	if q.filter != nil {
		sep()
		dst = append(dst, "$filter="...)
		start := len(dst)
		var err error
		filter := q.filter
		if q.t.legacyBare {
			filter = renameFields(filter, legacyName)
		}
		if dst, err = filter.appendTo(dst); err != nil {
			return dst, err
		}
		// Structural characters that are not query-safe (spaces above
		// all) are escaped; the literals are already.
		dst = escapeTail(dst, start)
	}
	if len(q.order) > 0 {
		sep()
		dst = append(dst, "$orderby="...)
		for i, o := range q.order {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEscaped(dst, field(o.field), rawSafe)
			if o.desc {
				dst = append(dst, "%20desc"...)
			}
		}
	}
	if hasSkip {
		sep()
		dst = strconv.AppendInt(append(dst, "$skip="...), int64(skip), 10)
	}
	if hasTop {
		sep()
		dst = strconv.AppendInt(append(dst, "$top="...), int64(top), 10)
	}
	if len(q.sel) > 0 {
		sep()
		dst = append(dst, "$select="...)
		for i, f := range q.sel {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEscaped(dst, field(f), rawSafe)
		}
	}
	if q.total {
		sep()
		dst = append(dst, "$inlinecount=allpages"...)
	}
	for _, p := range q.params {
		sep()
		dst = appendEscaped(dst, p.k, unreserved)
		dst = append(dst, '=')
		dst = appendEscaped(dst, p.v, unreserved)
	}
	if q.deleted {
		sep()
		dst = append(dst, "__includeDeleted=true"...)
	}
	if q.t.sysQuery != "" {
		sep()
		dst = append(dst, "__systemproperties="...)
		dst = appendEscaped(dst, q.t.sysQuery, unreserved)
	}
	return dst, nil
}

// escapeTail escapes, in place from start, the bytes that are not
// filterSafe.
func escapeTail(dst []byte, start int) []byte {
	for i := start; i < len(dst); i++ {
		if !filterSafe(dst[i]) {
			tail := append([]byte(nil), dst[i:]...)
			return appendEscaped(dst[:i], string(tail), filterSafe)
		}
	}
	return dst
}

func (q Query[T]) features() []string {
	f := []string{q.t.feature}
	if len(q.params) > 0 {
		f = append(f, featQueryParams)
	}
	return f
}

// Page is one page of a query's results.
type Page[T any] struct {
	// Items are the page's items.
	Items []T
	// TotalCount is the number of items matching the filter before
	// paging, when the query asked for it (IncludeTotalCount); else -1.
	TotalCount int64
	// NextLink is the rel=next target of the response's Link header, as
	// the server sent it ("" when none). Official servers send broken
	// ones; All knows how to page without trusting it.
	NextLink string
}

// ToSlice sends the query (one request) and returns the items of the page
// the server answers with. The server may cap the page (commonly at 50);
// use All for every item. It fails with the query's error, *Error,
// *ResponseError or the transport's error.
func (q Query[T]) ToSlice(ctx context.Context) ([]T, error) {
	p, err := q.Page(ctx)
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}

// Page sends the query (one request) and returns the page with its total
// count and next link. It never returns more items than Take asked for,
// even from a server that sends more ($top=0 reads as "a default page" on
// the official servers; Take(0).IncludeTotalCount() is the way to ask for
// the count alone). It fails like ToSlice.
func (q Query[T]) Page(ctx context.Context) (*Page[T], error) {
	rq, err := q.appendQuery(nil, q.skip, q.hasSkip, q.top, q.hasTop)
	if err != nil {
		return nil, err
	}
	u := *q.t.url
	u.RawQuery = string(rq)
	p, _, err := q.fetch(ctx, &u, q.features(), nil)
	if err != nil {
		return nil, err
	}
	if q.hasTop && len(p.Items) > q.top {
		// Servers read $top=0 as "a default page" (and some ignore $top):
		// Take is the caller's limit, so it holds here too.
		p.Items = p.Items[:q.top:q.top]
	}
	return p, nil
}

// readers recycles the buffered readers pages are decoded through.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// maxRequestTop caps the $top of each request All sends: the official
// servers reject a larger one (400), whatever the query's Take.
const maxRequestTop = 1000

// envelope is the {"results":[…],"count":N} answer to $inlinecount.
type envelope[T any] struct {
	Results *[]T   `json:"results"`
	Count   *int64 `json:"count"`
}

// fetch gets one page. When h is not nil the body is also hashed into it.
func (q Query[T]) fetch(ctx context.Context, u *url.URL, features []string, h *maphash.Hash) (*Page[T], uint64, error) {
	c := q.t.c
	req, err := c.newRequest(ctx, &call{method: http.MethodGet, url: u, features: features})
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, 0, err
	}
	page := &Page[T]{TotalCount: -1, NextLink: nextLink(resp.Header.Values("Link"))}
	defer closeBody(resp)
	lb := &limitedBody{r: resp.Body, left: c.maxBody, limit: c.maxBody}
	var body io.Reader = lb
	if h != nil {
		h.Reset()
		body = io.TeeReader(body, h)
	}
	if c.legacy && !q.t.ti.isMap && !q.t.ti.prefix {
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, 0, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
		mapped, err := legacyNames(raw)
		if err != nil {
			return nil, 0, c.responseError(req, resp, "not JSON", err)
		}
		body = strings.NewReader(string(mapped))
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); readers.Put(br) }()
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return nil, 0, c.responseError(req, resp, "empty body", nil)
	}
	if err != nil {
		return nil, 0, c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	dec := json.NewDecoder(br)
	switch first {
	case '[':
		if err := dec.Decode(&page.Items); err != nil {
			return nil, 0, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
	case '{':
		var env envelope[T]
		if err := dec.Decode(&env); err != nil {
			return nil, 0, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
		if env.Results == nil {
			return nil, 0, c.responseError(req, resp, `an object without "results"`, nil)
		}
		page.Items = *env.Results
		if env.Count != nil {
			page.TotalCount = *env.Count
		}
	default:
		return nil, 0, c.responseError(req, resp, "not a JSON array or object", nil)
	}
	// Nothing but white space may follow (reading to the end also hashes
	// the whole body).
	if err := onlySpaceLeft(dec, br); err != nil {
		return nil, 0, c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	var sum uint64
	if h != nil {
		sum = h.Sum64()
	}
	return page, sum, nil
}

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
