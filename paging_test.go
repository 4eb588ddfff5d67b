package zumo

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type row struct {
	ID string `json:"id"`
	N  int    `json:"n"`
}

// pagedTable serves n rows capped at pageSize, with a Link header made by
// link (nil for none).
func pagedTable(t *testing.T, mux *http.ServeMux, n, pageSize int, link func(r *http.Request, skip, top int) string) *atomic.Int64 {
	calls := new(atomic.Int64)
	mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		skip := startOf(r)
		top := pageSize
		if s := q.Get("$top"); s != "" {
			top, _ = strconv.Atoi(s)
			if top == 0 {
				top = pageSize // as the official servers read $top=0
			}
		}
		top = min(top, pageSize)
		var out []row
		for i := skip; i < n && len(out) < top; i++ {
			out = append(out, row{ID: fmt.Sprintf("r%05d", i), N: i})
		}
		if out == nil {
			out = []row{}
		}
		if link != nil {
			if l := link(r, skip+len(out), top); l != "" {
				w.Header().Set("Link", l)
			}
		}
		if q.Get("$inlinecount") == "allpages" {
			writeJSON(w, 200, map[string]any{"results": out, "count": n})
			return
		}
		writeJSON(w, 200, out)
	})
	return calls
}

// idAfter finds the keyset condition on id that All writes.
var idAfter = regexp.MustCompile(`\(id gt 'r(\d+)'\)`)

// startOf is the index of the first row a request asks for, for tables
// whose row i has id r%05d (or r%03d) and rows in id order: past the keyset
// boundary on id, then $skip.
func startOf(r *http.Request) int {
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("$skip"))
	if m := idAfter.FindStringSubmatch(q.Get("$filter")); m != nil {
		n, _ := strconv.Atoi(m[1])
		skip += n + 1
	}
	return skip
}

// plainRow has no id field: All pages it by $skip.
type plainRow struct {
	N int `json:"n"`
}

func collect[T any](t *testing.T, q Query[T]) ([]T, error) {
	var got []T
	for it, err := range q.All(context.Background()) {
		if err != nil {
			return got, err
		}
		got = append(got, it)
	}
	return got, nil
}

func assertRows[T row | plainRow](t *testing.T, got []T, from, n int) {
	t.Helper()
	require.Len(t, got, n)
	for i, r := range got {
		var v int
		switch x := any(r).(type) {
		case row:
			v = x.N
		case plainRow:
			v = x.N
		}
		if v != from+i {
			t.Fatalf("row %d is %d, want %d", i, v, from+i)
		}
	}
}

func TestAllFollowsCorrectLinks(t *testing.T) {
	c, mux, srv, _ := setup(t)
	var linked atomic.Int64
	calls := pagedTable(t, mux, 120, 50, func(r *http.Request, next, top int) string {
		if strings.Contains(r.Header.Get("X-ZUMO-FEATURES"), "LH") {
			linked.Add(1)
		}
		if next >= 120 {
			return ""
		}
		return fmt.Sprintf("<%s/tables/rows?$orderby=n&$skip=%d&$top=%d>; rel=next", srv.URL, next, top)
	})
	got, err := collect(t, GetTable[plainRow](c, "rows").Query().OrderBy("n")) // no id: $skip paging
	require.NoError(t, err)
	assertRows(t, got, 0, 120)
	assert.Equal(t, int64(3), calls.Load(), "50 + 50 + 20, no extra request: the last page has no link")
	assert.Equal(t, int64(2), linked.Load(), "pages read by following a link say LH")
}

func TestAllCopesWithTheNodeServersBrokenLinks(t *testing.T) {
	// azure-mobile-apps 4.0.2: no port, path "/", no angle brackets, and a
	// link even after a full last page.
	c, mux, _, _ := setup(t)
	calls := pagedTable(t, mux, 100, 50, func(r *http.Request, next, top int) string {
		return fmt.Sprintf("http://127.0.0.1/?%%24top=%d&%%24skip=%d; rel=next", top, next)
	})
	got, err := collect(t, GetTable[row](c, "rows").Query().OrderBy("n"))
	require.NoError(t, err)
	assertRows(t, got, 0, 100)
	assert.Equal(t, int64(3), calls.Load(), "two full pages and the empty one the broken link points at")
}

func TestAllWithoutLinksStopsOnShortPage(t *testing.T) {
	c, mux, _, _ := setup(t)
	calls := pagedTable(t, mux, 130, 50, nil)
	got, err := collect(t, GetTable[row](c, "rows").Query())
	require.NoError(t, err)
	assertRows(t, got, 0, 130)
	assert.Equal(t, int64(3), calls.Load())
}

func TestAllHonoursSkipAndTake(t *testing.T) {
	c, mux, _, _ := setup(t)
	pagedTable(t, mux, 500, 50, func(r *http.Request, next, top int) string {
		return fmt.Sprintf("http://127.0.0.1/?%%24top=%d&%%24skip=%d; rel=next", top, next)
	})
	got, err := collect(t, GetTable[row](c, "rows").Query().Skip(10).Take(120))
	require.NoError(t, err)
	assertRows(t, got, 10, 120)

	got, err = collect(t, GetTable[row](c, "rows").Query().Take(0))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestAllNeverFollowsALinkToAnotherOrigin(t *testing.T) {
	var evil atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evil.Add(1)
		writeJSON(w, 200, []row{{ID: "evil", N: -1}})
	}))
	defer other.Close()
	c, mux, _, _ := setup(t)
	pagedTable(t, mux, 75, 50, func(r *http.Request, next, top int) string {
		if next >= 75 {
			return ""
		}
		return fmt.Sprintf("<%s/tables/rows?$skip=%d&$top=%d>; rel=next", other.URL, next, top)
	})
	got, err := collect(t, GetTable[row](c, "rows").Query())
	require.NoError(t, err)
	assertRows(t, got, 0, 75)
	plain, err := collect(t, GetTable[plainRow](c, "rows").Query())
	require.NoError(t, err)
	assertRows(t, plain, 0, 75)
	assert.Zero(t, evil.Load(), "the other origin must never be asked, by keyset or by $skip paging")
}

// A server that ignores $skip and $filter sends the same page for ever:
// by keyset the repeat is passed over once (data may have moved) and the
// second ends it; by $skip two one-row requests show $skip is ignored.
func TestAllStopsOnAServerThatIgnoresSkip(t *testing.T) {
	tests := []struct {
		name      string
		all       func(c *Client) ([]int, error)
		wantCalls int64
	}{
		{"keyset", func(c *Client) ([]int, error) {
			got, err := collect(t, GetTable[row](c, "rows").Query())
			return nsOf(got), err
		}, 3},
		{"$skip", func(c *Client) ([]int, error) {
			got, err := collect(t, GetTable[plainRow](c, "rows").Query())
			return nsOf(got), err
		}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, srv, _ := setup(t)
			var calls atomic.Int64
			mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Link", fmt.Sprintf("<%s/tables/rows?$skip=50>; rel=next", srv.URL))
				page := make([]row, 50)
				for i := range page {
					page[i] = row{ID: fmt.Sprintf("r%05d", i), N: i}
				}
				writeJSON(w, 200, page)
			})
			got, err := tt.all(c)
			assert.ErrorIs(t, err, ErrNoProgress)
			assert.Len(t, got, 50, "every row once")
			assert.Equal(t, tt.wantCalls, calls.Load())
		})
	}
}

func nsOf[T row | plainRow](items []T) []int {
	out := make([]int, len(items))
	for i, it := range items {
		switch x := any(it).(type) {
		case row:
			out[i] = x.N
		case plainRow:
			out[i] = x.N
		}
	}
	return out
}

func TestAllStopsWhenTheConsumerStops(t *testing.T) {
	c, mux, _, _ := setup(t)
	calls := pagedTable(t, mux, 500, 50, nil)
	n := 0
	for _, err := range GetTable[row](c, "rows").All(context.Background()) {
		require.NoError(t, err)
		n++
		if n == 60 {
			break
		}
	}
	assert.Equal(t, 60, n)
	assert.Equal(t, int64(2), calls.Load())
}

func TestAllYieldsErrorsOnce(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"boom"}`, 500)
	})
	var errs int
	for _, err := range GetTable[row](c, "rows").All(context.Background()) {
		assert.Error(t, err)
		errs++
	}
	assert.Equal(t, 1, errs)
}

func TestPageTotalCountAndEnvelope(t *testing.T) {
	c, mux, _, _ := setup(t)
	pagedTable(t, mux, 75, 50, nil)
	p, err := GetTable[row](c, "rows").Query().IncludeTotalCount().Take(10).Page(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(75), p.TotalCount)
	assert.Len(t, p.Items, 10)
	p, err = GetTable[row](c, "rows").Query().Page(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(-1), p.TotalCount)

	mux.HandleFunc("GET /tables/weird", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"count": 1})
	})
	_, err = GetTable[row](c, "weird").ToSlice(context.Background())
	assert.ErrorIs(t, err, ErrInvalidResponse)
}

func TestNextLinkParsing(t *testing.T) {
	cases := map[string]string{
		`<https://h/tables/t?$skip=50>; rel=next`:              "https://h/tables/t?$skip=50",
		`https://h/tables/t?$skip=50; rel=next`:                "https://h/tables/t?$skip=50",
		`<https://h/a>; rel="prev", <https://h/b>; rel="next"`: "https://h/b",
		`<https://h/a,b>; rel="next last"`:                     "https://h/a,b",
		`<https://h/a>; rel=prev`:                              "",
		``:                                                     "",
		`; rel=next`:                                           "",
		`http://127.0.0.1/?%24top=50&%24skip=50; rel=next`:     "http://127.0.0.1/?%24top=50&%24skip=50",
	}
	for in, want := range cases {
		assert.Equal(t, want, nextLink([]string{in}), in)
	}
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://h/tables/t?$skip=50>; rel=next`)
	f.Add(`http://127.0.0.1/?%24top=50&%24skip=50; rel=next`)
	f.Add(`<a>;rel="next",<b>;rel=prev`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = nextLink([]string{s})
	})
}

func TestAllCapsEachRequestsTop(t *testing.T) {
	c, mux, _, _ := setup(t)
	var tops []string
	mux.HandleFunc("GET /tables/big", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tops = append(tops, q.Get("$top"))
		top, _ := strconv.Atoi(q.Get("$top"))
		if top > 1000 {
			http.Error(w, "$top too large", 400) // as the official Node server does
			return
		}
		skip := startOf(r)
		page := []row{}
		for i := skip; i < skip+top && i < 2500; i++ {
			page = append(page, row{ID: fmt.Sprintf("r%05d", i), N: i})
		}
		writeJSON(w, 200, page)
	})
	got, err := collect(t, GetTable[row](c, "big").Query().Take(5000))
	require.NoError(t, err)
	assertRows(t, got, 0, 2500)
	assert.Equal(t, []string{"1000", "1000", "1000"}, tops, "1000 + 1000 + a short 500: the end, no fourth request")
}

func TestTakeZeroReturnsNoItemsButTheCount(t *testing.T) {
	c, mux, _, _ := setup(t)
	pagedTable(t, mux, 75, 50, nil) // $top=0 → a page of 50, as the official servers answer
	p, err := GetTable[row](c, "rows").Query().Take(0).IncludeTotalCount().Page(context.Background())
	require.NoError(t, err)
	assert.Empty(t, p.Items)
	assert.Equal(t, int64(75), p.TotalCount)
	items, err := GetTable[row](c, "rows").Query().Take(3).ToSlice(context.Background())
	require.NoError(t, err)
	assert.Len(t, items, 3)
}
