package sqlitestore_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
	"github.com/zumo-go/zumo/zumotest"
)

type benchRow struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Priority  int    `json:"priority"`
	Complete  bool   `json:"complete"`
	Version   string `json:"version,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

func benchSeed(rows int) []any {
	seed := make([]any, rows)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range seed {
		seed[i] = map[string]any{"id": fmt.Sprintf("%08d", i), "text": "buy milk and bread", "priority": i % 100,
			"complete": i%2 == 0, "updatedAt": at.Add(time.Duration(i/10) * time.Millisecond)}
	}
	return seed
}

func benchServer(b *testing.B, rows int) *zumotest.Server {
	return zumotest.NewServer(b, zumotest.WithTable("items", zumotest.Seed(benchSeed(rows)...)))
}

// TestBenchServerHelper is the server process of BenchmarkPull, so that
// the heap measured is the client's alone: it serves rows until its
// standard input closes.
func TestBenchServerHelper(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("ZUMO_BENCH_SERVER_ROWS"))
	if rows == 0 {
		t.Skip("helper process for BenchmarkPull")
	}
	srv := zumotest.New(zumotest.WithTable("items", zumotest.Seed(benchSeed(rows)...)))
	srv.Start()
	defer srv.Close()
	if d, _ := time.ParseDuration(os.Getenv("ZUMO_BENCH_SERVER_LATENCY")); d > 0 {
		srv.AddFault(zumotest.Fault{Latency: d, Count: -1})
	}
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// serverProcess starts TestBenchServerHelper, which adds latency to every
// request, and returns its URL.
func serverProcess(b *testing.B, rows int, latency time.Duration) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ZUMO_BENCH_SERVER_ROWS="+strconv.Itoa(rows), "ZUMO_BENCH_SERVER_LATENCY="+latency.String())
	in, err := cmd.StdinPipe()
	require.NoError(b, err)
	out, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(b, err)
	return strings.TrimSpace(line)
}

// heapPeak samples the live heap until stop is called, and returns the
// peak above the heap when it started.
func heapPeak() (stop func() float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
					peak.Store(ms.HeapInuse - base)
				}
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak.Load()) / (1 << 20)
	}
}

// BenchmarkPull pulls every row into a new SQLite file: through the sync
// table (offline), and with a hand-written loop of keyset requests, each
// page inserted in one transaction with a prepared statement (hand).
func BenchmarkPull(b *testing.B) {
	const rows, page = 100_000, 1000
	srvURL := serverProcess(b, rows, 0)
	ctx := context.Background()
	b.Run("side=offline", func(b *testing.B) {
		var peak float64
		for b.Loop() {
			b.StopTimer()
			s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "pull.db"))
			require.NoError(b, err)
			c, err := zumo.NewClient(srvURL)
			require.NoError(b, err)
			sc, err := offline.New(c, s, offline.WithPageSize(page))
			require.NoError(b, err)
			tbl := offline.GetTable[benchRow](sc, "items")
			stop := heapPeak()
			b.StartTimer()
			res, err := tbl.Pull(ctx, "all", tbl.Query())
			b.StopTimer()
			peak = max(peak, stop())
			require.NoError(b, err)
			require.Equal(b, rows, res.Rows)
			require.NoError(b, s.Close())
			b.StartTimer()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(peak, "peak-heap-MiB")
	})
	b.Run("side=hand", func(b *testing.B) {
		var peak float64
		for b.Loop() {
			b.StopTimer()
			db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "hand.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
			require.NoError(b, err)
			db.SetMaxOpenConns(1)
			_, err = db.Exec("CREATE TABLE items (id TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
			require.NoError(b, err)
			stop := heapPeak()
			b.StartTimer()
			n := handPull(b, db, srvURL, page)
			b.StopTimer()
			peak = max(peak, stop())
			require.Equal(b, rows, n)
			require.NoError(b, db.Close())
			b.StartTimer()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(peak, "peak-heap-MiB")
	})
}

// handPull is the baseline: the same keyset requests, the rows decoded
// for their id and updatedAt and stored as their JSON text.
func handPull(b *testing.B, db *sql.DB, base string, page int) int {
	total := 0
	var lastAt, lastID string
	for {
		q := url.Values{"$orderby": {"updatedAt,id"}, "$top": {fmt.Sprint(page)}, "__includeDeleted": {"true"}}
		if lastID != "" {
			q.Set("$filter", fmt.Sprintf("(updatedAt gt datetimeoffset'%s') or ((updatedAt eq datetimeoffset'%s') and (id gt '%s'))", lastAt, lastAt, lastID))
		}
		req, err := http.NewRequest(http.MethodGet, base+"/tables/items?"+q.Encode(), nil)
		require.NoError(b, err)
		req.Header.Set("ZUMO-API-VERSION", "2.0.0")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		var items []json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&items)
		resp.Body.Close()
		require.NoError(b, err)
		if len(items) == 0 {
			return total
		}
		tx, err := db.Begin()
		require.NoError(b, err)
		st, err := tx.Prepare("INSERT OR REPLACE INTO items (id, v) VALUES (?, ?)")
		require.NoError(b, err)
		for _, it := range items {
			var key struct {
				ID        string `json:"id"`
				UpdatedAt string `json:"updatedAt"`
			}
			require.NoError(b, json.Unmarshal(it, &key))
			_, err := st.Exec(key.ID, string(it))
			require.NoError(b, err)
			lastAt, lastID = key.UpdatedAt, key.ID
		}
		require.NoError(b, tx.Commit())
		total += len(items)
	}
}

// BenchmarkPush pushes 10,000 queued updates to a server (its own
// process) that adds 5 ms to every request, one at a time and four at a
// time.
func BenchmarkPush(b *testing.B) {
	const rows = 10_000
	ctx := context.Background()
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("parallel=%d", par), func(b *testing.B) {
			srvURL := serverProcess(b, rows, 5*time.Millisecond)
			for b.Loop() {
				b.StopTimer()
				s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "push.db"))
				require.NoError(b, err)
				c, err := zumo.NewClient(srvURL)
				require.NoError(b, err)
				sc, err := offline.New(c, s, offline.WithParallelPush(par))
				require.NoError(b, err)
				tbl := offline.GetTable[benchRow](sc, "items")
				_, err = tbl.Pull(ctx, "all", tbl.Query())
				require.NoError(b, err)
				all, err := tbl.ToSlice(ctx)
				require.NoError(b, err)
				for _, r := range all {
					r.Text = "edited"
					_, err := tbl.Update(ctx, r)
					require.NoError(b, err)
				}
				b.StartTimer()
				res, err := sc.Push(ctx)
				b.StopTimer()
				require.NoError(b, err)
				require.Equal(b, rows, res.Pushed)
				require.NoError(b, s.Close())
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkLocalQuery is a local query by a field over 100,000 rows
// (about 1,000 match; the first 50 in id order are returned), with an
// index on the field's JSON expression and without one.
func BenchmarkLocalQuery(b *testing.B) {
	const rows = 100_000
	ctx := context.Background()
	for _, indexed := range []bool{true, false} {
		b.Run(fmt.Sprintf("index=%v", indexed), func(b *testing.B) {
			var opts []sqlitestore.Option
			if indexed {
				opts = append(opts, sqlitestore.WithIndex("items", "priority"))
			}
			s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "query.db"), opts...)
			require.NoError(b, err)
			defer s.Close()
			require.NoError(b, s.Update(ctx, func(tx offline.Tx) error {
				for i := range rows {
					v, _ := json.Marshal(benchRow{ID: fmt.Sprintf("%08d", i), Text: "buy milk", Priority: i % 100, Complete: i%2 == 0})
					if err := tx.Put("items", fmt.Sprintf("%08d", i), v); err != nil {
						return err
					}
				}
				return nil
			}))
			c, err := zumo.NewClient("http://127.0.0.1:1/")
			require.NoError(b, err)
			sc, err := offline.New(c, s)
			require.NoError(b, err)
			tbl := offline.GetTable[benchRow](sc, "items")
			i := 0
			for b.Loop() {
				got, err := tbl.Where(zumo.Field("priority").Eq(i % 100)).Take(50).ToSlice(ctx)
				if err != nil || len(got) != 50 {
					b.Fatalf("got %d rows, %v", len(got), err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
}

// BenchmarkNoChangePull is an incremental pull when nothing changed: the
// requests it sends.
func BenchmarkNoChangePull(b *testing.B) {
	ctx := context.Background()
	srv := benchServer(b, 1000)
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "nochange.db"))
	require.NoError(b, err)
	defer s.Close()
	c, err := zumo.NewClient(srv.URL)
	require.NoError(b, err)
	sc, err := offline.New(c, s)
	require.NoError(b, err)
	tbl := offline.GetTable[benchRow](sc, "items")
	_, err = tbl.Pull(ctx, "all", tbl.Query())
	require.NoError(b, err)
	// The server's counter, not its request log: the log keeps only the
	// last 10,000 requests, fewer than a long run sends.
	before := srv.Stats().Requests
	for b.Loop() {
		res, err := tbl.Pull(ctx, "all", tbl.Query())
		if err != nil || res.Rows != 0 {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(srv.Stats().Requests-before)/float64(b.N), "requests/pull")
}
