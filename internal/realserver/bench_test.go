//go:build integration

package realserver_test

// BenchmarkOfficialFilteredPage is zumotest's BenchmarkFilteredPage
// (zumotest/bench_test.go) against the official server: the rows, queries,
// clients and req/s metric of internal/benchload on both sides, so that
// the two numbers compare.

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/zumo-go/zumo/internal/benchload"
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
	rows := benchload.Rows(n)
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

// runClients runs benchload's clients against s and checks the server's
// counters: every request counted, no 401.
func runClients(b *testing.B, s *realserver.Server, query func(i int64) string) {
	if err := s.ResetCounters(context.Background()); err != nil {
		b.Fatal(err)
	}
	benchload.Run(b, s.URL+"tables/todoitem", query)
	b.StopTimer()
	c, err := s.Counters(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if want := (realserver.Counters{Requests: b.N + 1}); c != want {
		b.Errorf("counters %+v, want %+v", c, want)
	}
}

// BenchmarkOfficialFilteredPage reads a filtered, ordered 50-row page of a
// 10,000-row table from 16 concurrent clients (zumotest's
// BenchmarkFilteredPage).
func BenchmarkOfficialFilteredPage(b *testing.B) {
	runClients(b, benchServer(b, 10_000), benchload.RepeatedQuery)
}

// BenchmarkOfficialFilteredPageUncached is zumotest's
// BenchmarkFilteredPageUncached: a different filter on every request.
func BenchmarkOfficialFilteredPageUncached(b *testing.B) {
	runClients(b, benchServer(b, 10_000), benchload.NewFilterQuery)
}
