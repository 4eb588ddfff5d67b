package zumo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// pageServer serves a pre-encoded 50-row page for every GET.
func pageServer(b *testing.B) *httptest.Server {
	page := make([]TodoItem, 50)
	for i := range page {
		page[i] = TodoItem{ID: fmt.Sprintf("id-%03d", i), Text: fmt.Sprintf("item number %d", i), Priority: i % 5,
			Version: "AAAAAAAAB9E=", CreatedAt: "2024-01-02T03:04:05.678Z", UpdatedAt: "2024-01-02T03:04:05.678Z"}
	}
	body, _ := json.Marshal(page)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkToSlice reads a 50-row page through the whole client: query
// string, headers, handler chain with the auth handler, decoding.
func BenchmarkToSlice(b *testing.B) {
	srv := pageServer(b)
	c, err := NewClient(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	q := GetTable[TodoItem](c, "todoitem").Where(Field("complete").Eq(false)).OrderBy("priority").Take(50)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		items, err := q.ToSlice(ctx)
		if err != nil || len(items) != 50 {
			b.Fatal(err, len(items))
		}
	}
}

// BenchmarkHandWritten is the same request written by hand with net/http
// and encoding/json — the same URL and the same protocol headers (docs/protocol.md
// §3) — the baseline ToSlice is measured against.
func BenchmarkHandWritten(b *testing.B) {
	srv := pageServer(b)
	hc := &http.Client{}
	url := srv.URL + "/tables/todoitem?$filter=(complete%20eq%20false)&$orderby=priority&$top=50"
	ua := sdkHeader()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
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
			b.Fatal(err)
		}
		var items []TodoItem
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		if err != nil || len(items) != 50 {
			b.Fatal(err, len(items))
		}
	}
}
