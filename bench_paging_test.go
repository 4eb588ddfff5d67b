package zumo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const pagingRows = 100_000

// bigTable serves pagingRows rows in id order, pageSize at most per page,
// past All's keyset condition on id and $skip, encoding each page as it is
// asked for (the table itself is never in memory).
func bigTable(b *testing.B, pageSize int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		skip, _ := strconv.Atoi(q.Get("$skip"))
		// All's keyset condition: the rows after row-NNNNNN.
		if _, after, ok := strings.Cut(q.Get("$filter"), "(id gt 'row-"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(after, "')"))
			skip += n + 1
		}
		top := pageSize
		if s := q.Get("$top"); s != "" {
			if n, _ := strconv.Atoi(s); n > 0 && n < top {
				top = n
			}
		}
		buf := make([]byte, 0, top*120)
		buf = append(buf, '[')
		for i := skip; i < pagingRows && i < skip+top; i++ {
			if i > skip {
				buf = append(buf, ',')
			}
			buf = fmt.Appendf(buf, `{"id":"row-%06d","text":"item %d","complete":false,"priority":%d,"version":"AAAAAAAAB9E="}`, i, i, i%5)
		}
		buf = append(buf, ']')
		if asked, _ := strconv.Atoi(q.Get("$top")); asked > top && skip+top < pagingRows {
			// Cut short by the page size: announced, as the official servers do.
			w.Header().Set("Link", fmt.Sprintf("%s?$skip=%d; rel=next", r.URL.Path, skip+top))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// heapPeak samples the live heap until stop is called and returns its peak.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func benchPaging(b *testing.B, pageSize int, read func(ctx context.Context, url string) int) {
	srv := bigTable(b, pageSize)
	ctx := context.Background()
	runtime.GC()
	stop := heapPeak()
	start := time.Now()
	rows := 0
	for b.Loop() {
		if n := read(ctx, srv.URL); n != pagingRows {
			b.Fatalf("read %d rows, want %d", n, pagingRows)
		}
		rows += pagingRows
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
}

// BenchmarkAllPaging iterates over 100,000 rows with Query.All.
func BenchmarkAllPaging(b *testing.B) {
	for _, size := range []int{50, 1000} {
		b.Run(fmt.Sprintf("page=%d", size), func(b *testing.B) {
			benchPaging(b, size, func(ctx context.Context, url string) int {
				c, err := NewClient(url)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, err := range GetTable[TodoItem](c, "rows").Query().OrderBy("id").Take(pagingRows).All(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				return n
			})
		})
	}
}

// BenchmarkHandPaging reads the same pages by hand with net/http and
// encoding/json: the baseline for BenchmarkAllPaging.
func BenchmarkHandPaging(b *testing.B) {
	for _, size := range []int{50, 1000} {
		b.Run(fmt.Sprintf("page=%d", size), func(b *testing.B) {
			benchPaging(b, size, func(ctx context.Context, url string) int {
				hc := &http.Client{}
				n := 0
				for skip := 0; ; {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
						fmt.Sprintf("%s/tables/rows?$orderby=id&$skip=%d&$top=%d", url, skip, size), nil)
					req.Header.Set("ZUMO-API-VERSION", "2.0.0")
					resp, err := hc.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					var page []TodoItem
					err = json.NewDecoder(resp.Body).Decode(&page)
					resp.Body.Close()
					if err != nil {
						b.Fatal(err)
					}
					n += len(page)
					skip += len(page)
					if len(page) < size {
						return n
					}
				}
			})
		})
	}
}
