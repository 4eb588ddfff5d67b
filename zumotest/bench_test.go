package zumotest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zumo-go/zumo/internal/benchload"
)

func benchServer(b *testing.B, n int) *Server {
	rows := make([]any, n)
	for i, r := range benchload.Rows(n) {
		rows[i] = r
	}
	return NewServer(b, WithTable("todoitem", Seed(rows...)), WithRequestLogLimit(1000))
}

// BenchmarkFilteredPage reads a filtered, ordered 50-row page of a
// 10,000-row table from 16 concurrent clients over loopback HTTP.
func BenchmarkFilteredPage(b *testing.B) {
	benchload.Run(b, benchServer(b, 10_000).URL+"/tables/todoitem", benchload.RepeatedQuery)
}

// BenchmarkFilteredPageUncached is the same page with a different filter
// on every request, so that no cache on either side (zumotest keeps none;
// see BenchmarkOfficialFilteredPageUncached for the official server) can
// answer it.
func BenchmarkFilteredPageUncached(b *testing.B) {
	benchload.Run(b, benchServer(b, 10_000).URL+"/tables/todoitem", benchload.NewFilterQuery)
}

// BenchmarkFilteredPageHandler measures the server's own cost for the
// page of BenchmarkFilteredPage, calling ServeHTTP without a network.
func BenchmarkFilteredPageHandler(b *testing.B) {
	for _, repeated := range []bool{true, false} {
		b.Run(fmt.Sprintf("repeated=%v", repeated), func(b *testing.B) {
			s := benchServer(b, 10_000)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				f := "(complete eq false)"
				if !repeated {
					f = fmt.Sprintf("((complete eq false) and (priority ne %d))", 1000+i)
				}
				r := httptest.NewRequest(http.MethodGet, "/tables/todoitem?$filter="+url.QueryEscape(f)+"&$orderby=priority&$top=50", nil)
				r.Header.Set("ZUMO-API-VERSION", "2.0.0")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkFilteredPageAfterWrite is the page of BenchmarkFilteredPage
// with an update before every read, as in tests that write and query in
// turn. One op is a PATCH and a GET, calling ServeHTTP without a network.
func BenchmarkFilteredPageAfterWrite(b *testing.B) {
	s := benchServer(b, 10_000)
	get := "/tables/todoitem?$filter=" + url.QueryEscape("(complete eq false)") + "&$orderby=priority&$top=50"
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := fmt.Sprintf(`{"priority":%d}`, i%100)
		r := httptest.NewRequest(http.MethodPatch, fmt.Sprintf("/tables/todoitem/item-%05d", (i*7919)%10_000), strings.NewReader(body))
		r.Header.Set("ZUMO-API-VERSION", "2.0.0")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("patch: status %d", w.Code)
		}
		r = httptest.NewRequest(http.MethodGet, get, nil)
		r.Header.Set("ZUMO-API-VERSION", "2.0.0")
		w = httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
