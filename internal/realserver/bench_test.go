//go:build integration

package realserver_test

// BenchmarkOfficialFilteredPage is zumotest's BenchmarkFilteredPage
// (zumotest/bench_test.go) against the official server: the same 10,000
// rows, the same query, the same 16 concurrent loopback HTTP clients and
// the same req/s metric, so that the two numbers compare.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zumo-go/zumo/internal/realserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopBenchServers()
	os.Exit(code)
}

// Benchmark functions run once per b.N tried, and a server with 10,000 rows
// takes seconds to start and fill: one is kept for the whole test binary
// and stopped by TestMain.
var benchServers struct {
	sync.Mutex
	m map[int]*realserver.Server // by row count
}

func stopBenchServers() {
	benchServers.Lock()
	defer benchServers.Unlock()
	for _, s := range benchServers.m {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	benchServers.m = nil
}

// benchServer returns the official server holding n todoitem rows, the rows
// of zumotest's benchServer.
func benchServer(b *testing.B, n int) *realserver.Server {
	b.Helper()
	benchServers.Lock()
	defer benchServers.Unlock()
	if s := benchServers.m[n]; s != nil {
		return s
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	skipOrFail := func(what string, err error) {
		if realserver.Required() {
			b.Fatalf("realserver: %s failed (CI=true or %s=1, so this is not skipped): %v", what, realserver.RequiredEnv, err)
		}
		b.Skipf("realserver: %s failed, skipping: %v", what, err)
	}
	if err := realserver.Install(ctx); err != nil {
		skipOrFail("install", err)
	}
	s, err := realserver.Start(ctx, realserver.Options{})
	if err != nil {
		skipOrFail("start", err)
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{
			"id":       fmt.Sprintf("item-%05d", i),
			"text":     fmt.Sprintf("task number %d", i),
			"complete": i%3 == 0,
			"priority": (i * 7919) % 100,
		}
	}
	// One transaction (POST /seed/todoitem), not 10,000 inserts.
	if err := s.Seed(ctx, "todoitem", rows); err != nil {
		_ = s.Stop()
		b.Fatal(err)
	}
	if benchServers.m == nil {
		benchServers.m = map[int]*realserver.Server{}
	}
	benchServers.m[n] = s
	return s
}

// runClients is zumotest's runClients against s: 16 concurrent clients over
// loopback HTTP, requests per second reported. It also checks the server's
// counters: every request counted, no 401.
func runClients(b *testing.B, s *realserver.Server, query func(i int64) string) {
	const clients = 16
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	base := s.URL + "tables/todoitem?"
	var counter atomic.Int64
	if err := s.ResetCounters(context.Background()); err != nil {
		b.Fatal(err)
	}
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
	b.StopTimer()
	c, err := s.Counters(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if want := (realserver.Counters{Requests: b.N + 1}); c != want {
		b.Errorf("counters %+v, want %+v", c, want)
	}
}

func warmRequest(u string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	return req
}

// BenchmarkOfficialFilteredPage reads a filtered, ordered 50-row page of a
// 10,000-row table from 16 concurrent clients (zumotest's
// BenchmarkFilteredPage).
func BenchmarkOfficialFilteredPage(b *testing.B) {
	s := benchServer(b, 10_000)
	q := "$filter=" + url.QueryEscape("(complete eq false)") + "&$orderby=priority&$top=50"
	runClients(b, s, func(int64) string { return q })
}

// BenchmarkOfficialFilteredPageUncached is zumotest's
// BenchmarkFilteredPageUncached: a different filter on every request, which
// defeats zumotest's result cache (the official server has none).
func BenchmarkOfficialFilteredPageUncached(b *testing.B) {
	s := benchServer(b, 10_000)
	runClients(b, s, func(i int64) string {
		return "$filter=" + url.QueryEscape(fmt.Sprintf("((complete eq false) and (priority ne %d))", 1000+i)) + "&$orderby=priority&$top=50"
	})
}
