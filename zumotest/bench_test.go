package zumotest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func benchServer(b *testing.B, n int) *Server {
	rows := make([]any, n)
	for i := range rows {
		rows[i] = map[string]any{
			"id":       fmt.Sprintf("item-%05d", i),
			"text":     fmt.Sprintf("task number %d", i),
			"complete": i%3 == 0,
			"priority": (i * 7919) % 100,
		}
	}
	return NewServer(b, WithTable("todoitem", Seed(rows...)), WithRequestLogLimit(1000))
}

// runClients sends requests from 16 concurrent clients over loopback HTTP
// and reports requests per second; query returns the query of request i.
func runClients(b *testing.B, s *Server, query func(i int64) string) {
	const clients = 16
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	base := s.URL + "/tables/todoitem?"
	var counter atomic.Int64
	// Warm up: open the connections once before timing.
	if res, err := hc.Do(warmRequest(base + query(0))); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, base+query(counter.Add(1)), nil)
			req.Header.Set("ZUMO-API-VERSION", "2.0.0")
			req.Header.Set("Accept", "application/json")
			res, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkFilteredPage reads a filtered, ordered 50-row page of a
// 10,000-row table from 16 concurrent clients.
func BenchmarkFilteredPage(b *testing.B) {
	s := benchServer(b, 10_000)
	q := "$filter=" + url.QueryEscape("(complete eq false)") + "&$orderby=priority&$top=50"
	runClients(b, s, func(int64) string { return q })
}

// BenchmarkFilteredPageUncached is the same page with a different filter
// on every request, so that no cache on either side (zumotest keeps none;
// see BenchmarkOfficialFilteredPageUncached for the official server) can
// answer it.
func BenchmarkFilteredPageUncached(b *testing.B) {
	s := benchServer(b, 10_000)
	runClients(b, s, func(i int64) string {
		return "$filter=" + url.QueryEscape(fmt.Sprintf("((complete eq false) and (priority ne %d))", 1000+i)) + "&$orderby=priority&$top=50"
	})
}

func warmRequest(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	return req
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
