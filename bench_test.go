package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchPage is the 50-row page the request benchmarks read.
func benchPage() []TodoItem {
	page := make([]TodoItem, 50)
	for i := range page {
		page[i] = TodoItem{ID: fmt.Sprintf("id-%03d", i), Text: fmt.Sprintf("item number %d", i), Priority: i % 5,
			Version: "AAAAAAAAB9E=", CreatedAt: "2024-01-02T03:04:05.678Z", UpdatedAt: "2024-01-02T03:04:05.678Z"}
	}
	return page
}

// pageServer serves a pre-encoded 50-row page for every GET.
func pageServer(b *testing.B) *httptest.Server {
	body, _ := json.Marshal(benchPage())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchQuery is the query of the request benchmarks; handPath is the same
// request's path and query string as a hand-written client sends it.
func benchQuery(c *Client) Query[TodoItem] {
	return GetTable[TodoItem](c, "todoitem").Where(Field("complete").Eq(false)).OrderBy("priority").Take(50)
}

const handPath = "/tables/todoitem?$filter=(complete%20eq%20false)&$orderby=priority&$top=50"

var errShortPage = errors.New("not a 50-row page")

// readPage reads the benchmark page through q.
func readPage(ctx context.Context, q Query[TodoItem]) error {
	items, err := q.ToSlice(ctx)
	if err == nil && len(items) != 50 {
		err = errShortPage
	}
	return err
}

// readPageByHand is the same request written by hand with net/http and
// encoding/json — the same URL and the same protocol headers
// (docs/protocol.md §3) — the baseline the client is measured against.
func readPageByHand(ctx context.Context, hc *http.Client, url, ua string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	// The same request: the headers the protocol asks for on every call.
	req.Header.Set("Accept", "application/json")
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	req.Header.Set("X-ZUMO-INSTALLATION-ID", "0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a69")
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X-ZUMO-VERSION", ua)
	req.Header.Set("X-ZUMO-FEATURES", "TT")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	var items []TodoItem
	err = json.NewDecoder(resp.Body).Decode(&items)
	// Read to the end, as a careful hand-written client does, so that the
	// connection goes back to the pool.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && len(items) != 50 {
		err = errShortPage
	}
	return err
}

// BenchmarkToSlice reads a 50-row page through the whole client: query
// string, headers, handler chain with the auth handler, decoding.
func BenchmarkToSlice(b *testing.B) {
	srv := pageServer(b)
	c, err := NewClient(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	q := benchQuery(c)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := readPage(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequestOverhead sends BenchmarkToSlice's and
// BenchmarkHandWritten's requests in pairs, alternating which goes first,
// and reports the ratio of their summed times with each side's ns/op.
// Run one after the other, the two benchmarks meet different moments of
// a loopback's and a scheduler's noise (their ratio moved from 0.9 to 1.3
// between rounds on a quiet 2-core machine); in pairs, both sides meet
// the same, and the ratio holds to about ±0.01.
func BenchmarkRequestOverhead(b *testing.B) {
	srv := pageServer(b)
	c, err := NewClient(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	q := benchQuery(c)
	hc := &http.Client{}
	url, ua := srv.URL+handPath, sdkHeader()
	ctx := context.Background()
	sdk := func() error { return readPage(ctx, q) }
	hand := func() error { return readPageByHand(ctx, hc, url, ua) }
	var zumoTime, handTime time.Duration
	for i := 0; b.Loop(); i++ {
		first, second := sdk, hand
		firstTime, secondTime := &zumoTime, &handTime
		if i%2 == 1 {
			first, second = hand, sdk
			firstTime, secondTime = &handTime, &zumoTime
		}
		t0 := time.Now()
		if err := first(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := second(); err != nil {
			b.Fatal(err)
		}
		*firstTime += t1.Sub(t0)
		*secondTime += time.Since(t1)
	}
	b.ReportMetric(float64(zumoTime)/float64(handTime), "ratio")
	b.ReportMetric(float64(zumoTime)/float64(b.N), "zumo-ns/op")
	b.ReportMetric(float64(handTime)/float64(b.N), "hand-ns/op")
}

// BenchmarkHandWritten is BenchmarkToSlice's request written by hand.
func BenchmarkHandWritten(b *testing.B) {
	srv := pageServer(b)
	hc := &http.Client{}
	url, ua := srv.URL+handPath, sdkHeader()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := readPageByHand(ctx, hc, url, ua); err != nil {
			b.Fatal(err)
		}
	}
}
