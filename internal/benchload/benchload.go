// Package benchload is the load of the "fake backend vs the official
// Node.js server" benchmarks: the same rows, queries and 16 concurrent
// loopback HTTP clients for zumotest's BenchmarkFilteredPage* and
// internal/realserver's BenchmarkOfficialFilteredPage*, so that the two
// sides of each ratio in docs/benchmarks.md differ only in the server.
package benchload

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// Clients is how many clients send requests at once.
const Clients = 16

// Rows returns the n todoitem rows both servers hold: ids item-00000…,
// a third of them complete, priorities spread over 0–99.
func Rows(n int) []map[string]any {
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{
			"id":       fmt.Sprintf("item-%05d", i),
			"text":     fmt.Sprintf("task number %d", i),
			"complete": i%3 == 0,
			"priority": (i * 7919) % 100,
		}
	}
	return rows
}

// RepeatedQuery is the query of every request of the repeated-query
// benchmarks: a filtered, ordered 50-row page.
func RepeatedQuery(int64) string {
	return "$filter=" + url.QueryEscape("(complete eq false)") + "&$orderby=priority&$top=50"
}

// NewFilterQuery is the same page with a different filter for each
// request i, which no cache on either side can answer.
func NewFilterQuery(i int64) string {
	return "$filter=" + url.QueryEscape(fmt.Sprintf("((complete eq false) and (priority ne %d))", 1000+i)) + "&$orderby=priority&$top=50"
}

// Run sends b.N GET requests for tableURL+"?"+query(i) from Clients
// concurrent clients over loopback HTTP, after one untimed request that
// opens a connection, and reports requests per second as "req/s". A
// transport error or a status other than 200 fails the benchmark.
func Run(b *testing.B, tableURL string, query func(i int64) string) {
	tr := &http.Transport{MaxIdleConns: Clients * 2, MaxIdleConnsPerHost: Clients * 2}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get := func(i int64) error {
		req, err := http.NewRequest(http.MethodGet, tableURL+"?"+query(i), nil)
		if err != nil {
			return err
		}
		req.Header.Set("ZUMO-API-VERSION", "2.0.0")
		req.Header.Set("Accept", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	if err := get(0); err != nil {
		b.Fatal(err)
	}
	var counter atomic.Int64
	b.SetParallelism((Clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := get(counter.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
