package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zumo-go/zumo/zumotest"
)

// The benchmarks run the real binary, built once per test process.
var built struct {
	once sync.Once
	path string
	err  error
}

func zumoBinary(b *testing.B) string { return buildZumo(b) }

// buildZumo builds the real binary once per test process.
func buildZumo(b testing.TB) string {
	b.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "zumo-bench")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "zumo")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if built.err != nil {
		b.Fatal(built.err)
	}
	return built.path
}

// BenchmarkHelpColdStart starts the binary for "zumo --help": a new process
// each time, from exec to exit (the goal is < 50 ms).
func BenchmarkHelpColdStart(b *testing.B) {
	bin := zumoBinary(b)
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "--help")
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start")
}

// BenchmarkListAll runs "zumo table list --all -o json" over a table of 10,000
// and of 100,000 rows (pages of 1,000) and reports the process's peak
// resident memory: streaming keeps it bounded by a page, so the two sizes
// should need about the same.
func BenchmarkListAll(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the peak memory from /proc")
	}
	bin := zumoBinary(b)
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			srv := zumotest.New(zumotest.WithTable("todoitem", zumotest.PageSize(1000)))
			srv.Start()
			defer srv.Close()
			seedRows(b, srv, n)
			var maxRSS int64
			var rows int64
			b.ResetTimer()
			for b.Loop() {
				cmd := exec.Command(bin, "--app", srv.URL, "table", "list", "todoitem", "--all", "-o", "json")
				lc := &lineCounter{}
				cmd.Stdout = lc
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				hwm := watchHWM(cmd.Process.Pid)
				err := cmd.Wait()
				maxRSS = max(maxRSS, <-hwm)
				if err != nil {
					b.Fatalf("%v: %s", err, stderr.Bytes())
				}
				if lc.lines != n {
					b.Fatalf("%d rows printed, want %d", lc.lines, n)
				}
				rows += int64(lc.lines)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(maxRSS)/1024, "peak-rss-MiB")
			if maxRSS == 0 {
				b.Fatal("no peak memory read from /proc")
			}
		})
	}
}

// watchHWM samples the peak resident memory (VmHWM, KiB) of a running
// process from /proc every 2 ms until it exits, and sends the last value.
// (The rusage of a child is no use here: Linux carries the parent's peak
// over into a child that the Go runtime starts with vfork.)
func watchHWM(pid int) <-chan int64 {
	ch := make(chan int64, 1)
	go func() {
		var last int64
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				break
			}
			i := bytes.Index(b, []byte("VmHWM:"))
			if i < 0 {
				break // a zombie: it has exited
			}
			var kib int64
			fmt.Sscanf(string(b[i+len("VmHWM:"):]), "%d", &kib)
			last = max(last, kib)
			time.Sleep(2 * time.Millisecond)
		}
		ch <- last
	}()
	return ch
}

type lineCounter struct{ lines int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// seedRows fills todoitem with the rows internal/realserver's benchmarks
// seed the Node server with.
func seedRows(b *testing.B, srv *zumotest.Server, n int) {
	b.Helper()
	rows := make([]any, n)
	for i := range rows {
		rows[i] = map[string]any{
			"id":       fmt.Sprintf("item-%06d", i),
			"text":     fmt.Sprintf("task number %d", i),
			"complete": i%3 == 0,
			"priority": (i * 7919) % 100,
		}
	}
	if err := srv.Seed("todoitem", rows...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServeFilteredPageUncached is internal/realserver's
// BenchmarkOfficialFilteredPageUncached against the zumo serve process:
// 10,000 rows, 16 concurrent clients over loopback, a different filter on
// every request, so that the two are the same workload side by side.
func BenchmarkServeFilteredPageUncached(b *testing.B) {
	bin := zumoBinary(b)
	dir := b.TempDir()
	data := filepath.Join(dir, "data.json")
	src := zumotest.New(zumotest.WithTable("todoitem"))
	seedRows(b, src, 10_000)
	var snap bytes.Buffer
	if err := src.Snapshot(&snap); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(data, snap.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	urlFile := filepath.Join(dir, "url")
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--url-file", urlFile, "--quiet")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Signal(os.Interrupt); <-done }()
	base := waitFor(urlFile, done)
	if base == "" {
		b.Fatalf("zumo serve did not start: %s", logs.Bytes())
	}
	// The query and the 16 clients mirror the root module's
	// internal/benchload, which the Node side of the comparison uses; this
	// module may not import another module's internal packages, so keep the
	// two in step by hand.
	query := func(i int64) string {
		return "$filter=" + url.QueryEscape(fmt.Sprintf("((complete eq false) and (priority ne %d))", 1000+i)) + "&$orderby=priority&$top=50"
	}
	const clients = 16
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get := func(i int64) error {
		req, _ := http.NewRequest(http.MethodGet, base+"/tables/todoitem?"+query(i), nil)
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
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
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
