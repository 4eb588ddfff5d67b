package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary `go test -bench` output to parse: it must not
// panic, must keep one result per benchmark line (a line of four or more
// fields whose first starts with "Benchmark"), and must name each result
// without the -GOMAXPROCS suffix.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"goos: linux\nBenchmarkToSlice-2 \t 12345\t 187256 ns/op\t 59286 B/op\t 367 allocs/op\nPASS\n",
		"BenchmarkAllPaging/page=50-2  3  12.5 rows/s  3.85 peak-heap-MiB\r\n",
		"BenchmarkBroken-2  FAIL\nBenchmark-x 1 2 ns/op\nBenchmarkA-b-16 1 NaN ns/op 1e400 B/op\n",
		"BenchmarkOdd 1 2 ns/op 3\nBenchmark\u00a0X 1 2 u\n\n\n",
		"--- FAIL: BenchmarkX\n    x_test.go:1: BenchmarkY 1 2 ns/op\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := 0
		for _, line := range strings.Split(s, "\n") {
			if fs := strings.Fields(line); len(fs) >= 4 && strings.HasPrefix(fs[0], "Benchmark") {
				want++
			}
		}
		got := 0
		for name, rs := range parse(s) {
			if !strings.HasPrefix(name, "Benchmark") {
				t.Fatalf("result named %q", name)
			}
			for _, r := range rs {
				if r.name != name {
					t.Fatalf("result %q filed under %q", r.name, name)
				}
			}
			got += len(rs)
		}
		if got != want {
			t.Fatalf("parse kept %d results from %d benchmark lines in %q", got, want, s)
		}
	})
}

// A line longer than bufio.Scanner's 64 KiB limit (a benchmark's log
// output, say) must not hide the benchmark lines after it.
func TestParseAfterLongLine(t *testing.T) {
	out := "goos: linux\n" + strings.Repeat("x", 100<<10) + "\nBenchmarkToSlice-2  10  5 ns/op\n"
	res := parse(out)
	require.Len(t, res["BenchmarkToSlice"], 1)
	assert.Equal(t, map[string]float64{"ns/op": 5}, res["BenchmarkToSlice"][0].metrics)
}
