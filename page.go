package zumo

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

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

// Page sends the query (one request) and returns the page with its total
// count and next link. It never returns more items than Take asked for,
// even from a server that sends more ($top=0 reads as "a default page" on
// the official servers; Take(0).IncludeTotalCount() is the way to ask for
// the count alone). It is the one-request call: ToSlice and All page on.
// It fails with the query's error, *Error, *ResponseError or the
// transport's error.
func (q Query[T]) Page(ctx context.Context) (*Page[T], error) {
	rq, err := q.appendQuery(nil, q.skip, q.hasSkip, q.top, q.hasTop)
	if err != nil {
		return nil, err
	}
	u := *q.t.url
	u.RawQuery = string(rq)
	p, err := q.fetch(ctx, &u, q.features(), nil)
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

// envelope is the {"results":[…],"count":N} answer to $inlinecount.
type envelope[T any] struct {
	Results *[]T   `json:"results"`
	Count   *int64 `json:"count"`
}

// fetch gets one page. When tee is not nil the whole body, as the server
// sent it, is also written to it.
func (q Query[T]) fetch(ctx context.Context, u *url.URL, features []string, tee io.Writer) (*Page[T], error) {
	c := q.t.c
	req, err := c.newRequest(ctx, &call{method: http.MethodGet, url: u, features: features})
	if err != nil {
		return nil, err
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, err
	}
	page := &Page[T]{TotalCount: -1, NextLink: nextLink(resp.Header.Values("Link"))}
	defer closeBody(resp)
	lb := &limitedBody{r: resp.Body, left: c.maxBody, limit: c.maxBody}
	var body io.Reader = lb
	if tee != nil {
		body = io.TeeReader(body, tee)
	}
	if q.t.legacyBare {
		raw, err := io.ReadAll(body)
		if err != nil {
			return nil, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
		mapped, err := legacyNames(raw)
		if err != nil {
			return nil, c.responseError(req, resp, "not JSON", err)
		}
		body = strings.NewReader(string(mapped))
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); readers.Put(br) }()
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return nil, c.responseError(req, resp, "empty body", nil)
	}
	if err != nil {
		return nil, c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	dec := json.NewDecoder(br)
	switch first {
	case '[':
		if err := dec.Decode(&page.Items); err != nil {
			return nil, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
	case '{':
		var env envelope[T]
		if err := dec.Decode(&env); err != nil {
			return nil, c.responseError(req, resp, describeDecodeErr(err, lb), err)
		}
		if env.Results == nil {
			return nil, c.responseError(req, resp, `an object without "results"`, nil)
		}
		page.Items = *env.Results
		if env.Count != nil {
			page.TotalCount = *env.Count
		}
	default:
		return nil, c.responseError(req, resp, "not a JSON array or object", nil)
	}
	// Nothing but white space may follow (reading to the end also tees
	// the whole body).
	if err := onlySpaceLeft(dec, br); err != nil {
		return nil, c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	return page, nil
}
