package zumo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memTable is a table served in id order, honouring the keyset condition
// on id that All writes, $skip and $top (capped at pageSize). Between two
// requests, beforeNext may change the rows.
type memTable struct {
	mu         sync.Mutex
	ids        []string
	pageSize   int
	queries    []url.Values
	beforeNext func(m *memTable, request int)
}

var anyIDAfter = regexp.MustCompile(`\(id gt '([^']*)'\)`)

func (m *memTable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := r.URL.Query()
	if m.beforeNext != nil {
		m.beforeNext(m, len(m.queries))
	}
	m.queries = append(m.queries, q)
	slices.Sort(m.ids)
	start := 0
	if s := anyIDAfter.FindStringSubmatch(q.Get("$filter")); s != nil {
		start, _ = slices.BinarySearch(m.ids, s[1])
		if start < len(m.ids) && m.ids[start] == s[1] {
			start++
		}
	}
	skip, _ := strconv.Atoi(q.Get("$skip"))
	top := m.pageSize
	if t, err := strconv.Atoi(q.Get("$top")); err == nil && t > 0 {
		top = min(t, m.pageSize)
	}
	out := []row{}
	for i := start + skip; i < len(m.ids) && len(out) < top; i++ {
		n, _ := strconv.Atoi(strings.TrimLeft(m.ids[i], "abcdefghijklmnopqrstuvwxyz"))
		out = append(out, row{ID: m.ids[i], N: n})
	}
	if len(out) == m.pageSize && start+skip+len(out) < len(m.ids) {
		// Cut short by the page size: announced, as the official servers do.
		w.Header().Set("Link", fmt.Sprintf("%s?$skip=%d; rel=next", r.URL.Path, start+skip+len(out)))
	}
	writeJSON(w, 200, out)
}

func newMemTable(n, pageSize int) *memTable {
	m := &memTable{pageSize: pageSize}
	for i := range n {
		m.ids = append(m.ids, fmt.Sprintf("r%05d", i))
	}
	return m
}

// Rows inserted ahead of the cursor between two pages: by keyset every
// row is read exactly once; by $skip a page may repeat the one before,
// which is passed over once the server is seen to honour $skip.
func TestAllWhileRowsAreInsertedAhead(t *testing.T) {
	// Pages of 2; before the second page two rows sort before every other.
	insertAhead := func(m *memTable, request int) {
		if request == 1 {
			m.ids = append(m.ids, "a00001", "a00002")
		}
	}
	t.Run("keyset", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		m := newMemTable(7, 2)
		m.beforeNext = insertAhead
		mux.Handle("GET /tables/rows", m)
		got, err := collect(t, GetTable[row](c, "rows").Query())
		require.NoError(t, err)
		assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, nsOf(got), "every row once, in order")
	})
	t.Run("$skip", func(t *testing.T) {
		c, mux, _, _ := setup(t)
		m := newMemTable(7, 2)
		m.beforeNext = insertAhead
		mux.Handle("GET /tables/rows", m)
		got, err := collect(t, GetTable[plainRow](c, "rows").Query())
		require.NoError(t, err, "the data moved: not an error")
		assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, nsOf(got), "the repeated page is passed over")
		var skips []string
		for _, q := range m.queries {
			skips = append(skips, q.Get("$skip")+"/"+q.Get("$top"))
		}
		assert.Equal(t, []string{"/", "2/", "0/1", "1/1", "4/", "6/", "8/"}, skips,
			"page 2 repeats page 1, so two one-row probes; then on")
	})
}

// A hostile server that ignores $skip and $filter and cycles through a
// few pages: All ends with ErrNoProgress after a bounded number of
// requests, having yielded each distinct row once.
func TestAllEndsOnCyclingServers(t *testing.T) {
	for _, cycle := range []int{1, 2, 3} {
		for _, mode := range []string{"keyset", "$skip"} {
			t.Run(fmt.Sprintf("%d pages, %s", cycle, mode), func(t *testing.T) {
				c, mux, _, requests := setup(t)
				mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
					// A page per request, in turn, whatever was asked.
					p := int(requests.Load()-1) % cycle
					out := make([]row, 50)
					for i := range out {
						out[i] = row{ID: fmt.Sprintf("r%05d", p*50+i), N: p*50 + i}
					}
					writeJSON(w, 200, out)
				})
				var got []int
				var err error
				if mode == "keyset" {
					var rows []row
					rows, err = collect(t, GetTable[row](c, "rows").Query())
					got = nsOf(rows)
				} else {
					var rows []plainRow
					rows, err = collect(t, GetTable[plainRow](c, "rows").Query())
					got = nsOf(rows)
				}
				require.ErrorIs(t, err, ErrNoProgress)
				assert.Len(t, got, 50*cycle)
				slices.Sort(got)
				assert.Len(t, slices.Compact(got), 50*cycle, "no row twice")
				assert.LessOrEqual(t, requests.Load(), int64(2*cycle+3), "bounded by the distinct pages")
			})
		}
	}
}

// The requests All sends after the first page: keyset on the orderings
// and id where the values allow, $skip past the last boundary otherwise.
func TestAllKeysetRequests(t *testing.T) {
	type event struct {
		ID        string  `json:"id"`
		N         int     `json:"n"`
		Score     float64 `json:"score"`
		Done      bool    `json:"done"`
		Name      *string `json:"name"`
		UpdatedAt string  `json:"updatedAt"`
	}
	page := `[{"id":"a","n":1,"score":0.5,"done":false,"name":"x","updatedAt":"2024-01-02T03:04:05.678Z"},` +
		`{"id":"b'c","n":2,"score":1.25,"done":true,"name":null,"updatedAt":"2024-01-02T03:04:05.679Z"}]`
	tests := []struct {
		name        string
		run         func(c *Client) error
		wantOrderBy string
		wantNext    string // the second request's decoded $filter, $skip
	}{
		{"no ordering: id", func(c *Client) error { return drain(GetTable[event](c, "ev").Query()) },
			"id", "(id gt 'b''c') $skip="},
		{"a number and id", func(c *Client) error { return drain(GetTable[event](c, "ev").Query().OrderBy("n")) },
			"n,id", "((n gt 2) or ((n eq 2) and (id gt 'b''c'))) $skip="},
		{"descending takes the nulls", func(c *Client) error { return drain(GetTable[event](c, "ev").Query().OrderByDescending("score")) },
			"score desc,id", "(((score lt 1.25) or (score eq null)) or ((score eq 1.25) and (id gt 'b''c'))) $skip="},
		{"updatedAt is a date", func(c *Client) error { return drain(GetTable[event](c, "ev").Query().OrderBy("updatedAt")) },
			"updatedAt,id", "((updatedAt gt datetimeoffset'2024-01-02T03:04:05.6790000+00:00') or ((updatedAt eq datetimeoffset'2024-01-02T03:04:05.6790000+00:00') and (id gt 'b''c'))) $skip="},
		{"the caller's filter and Skip", func(c *Client) error {
			return drain(GetTable[event](c, "ev").Where(Field("n").Ge(0)).Skip(5))
		}, "id", "((n ge 0) and (id gt 'b''c')) $skip="},
		{"an ordering on id ends the keys", func(c *Client) error {
			return drain(GetTable[event](c, "ev").Query().OrderByDescending("id").ThenBy("n"))
		}, "id desc,n", "((id lt 'b''c') or (id eq null)) $skip="},
		{"a bool ordering: $skip", func(c *Client) error { return drain(GetTable[event](c, "ev").Query().OrderBy("done")) },
			"done", " $skip=2"},
		{"a null on the last row: $skip", func(c *Client) error { return drain(GetTable[event](c, "ev").Query().OrderBy("name")) },
			"name,id", " $skip=2"},
		{"a map's strings may be dates: $skip", func(c *Client) error { return drainMap(c.Table("ev").Query().OrderBy("updatedAt").ThenBy("name")) },
			"updatedAt,name,id", " $skip=2"},
		{"a map's numbers and dates", func(c *Client) error { return drainMap(c.Table("ev").Query().OrderBy("updatedAt").ThenBy("score")) },
			"updatedAt,score,id", "((updatedAt gt datetimeoffset'2024-01-02T03:04:05.6790000+00:00') or ((updatedAt eq datetimeoffset'2024-01-02T03:04:05.6790000+00:00') and ((score gt 1.25) or ((score eq 1.25) and (id gt 'b''c'))))) $skip="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			var queries []url.Values
			mux.HandleFunc("GET /tables/ev", func(w http.ResponseWriter, r *http.Request) {
				queries = append(queries, r.URL.Query())
				if len(queries) > 1 {
					_, _ = w.Write([]byte("[]"))
					return
				}
				w.Header().Set("Link", "http://127.0.0.1/?%24skip=2; rel=next") // cut short, as the Node server says it
				_, _ = w.Write([]byte(page))
			})
			require.NoError(t, tt.run(c))
			require.Len(t, queries, 2)
			assert.Equal(t, tt.wantOrderBy, queries[0].Get("$orderby"))
			assert.Equal(t, tt.wantOrderBy, queries[1].Get("$orderby"))
			assert.Equal(t, tt.wantNext, queries[1].Get("$filter")+" $skip="+queries[1].Get("$skip"))
		})
	}
}

func drain[T any](q Query[T]) error {
	_, err := q.ToSlice(context.Background())
	return err
}

func drainMap(q Query[map[string]any]) error { return drain(q) }

// ToSlice returns every row the query selects, following pages, bounded
// by Take; Page is the one request.
func TestToSliceFollowsPages(t *testing.T) {
	tests := []struct {
		name      string
		rows      int
		q         func(Query[row]) Query[row]
		want      int
		wantTops  []string
		wantCalls int
		pageSize  int // the server's; 0: 50 (1000 for 1000 rows or more)
	}{
		{"54 rows, pages of 50", 54, func(q Query[row]) Query[row] { return q }, 54, []string{"", ""}, 2, 0},
		{"Take stops it", 120, func(q Query[row]) Query[row] { return q.Take(70) }, 70, []string{"70", "20"}, 2, 0},
		{"shorter than asked, no link: the end", 30, func(q Query[row]) Query[row] { return q.Take(40) }, 30, []string{"40"}, 1, 0},
		{"shorter than 50, no link: the end", 30, func(q Query[row]) Query[row] { return q }, 30, []string{""}, 1, 0},
		{"Take(5000) asks 1000 at a time", 2500, func(q Query[row]) Query[row] { return q.Take(5000) }, 2500, []string{"1000", "1000", "1000"}, 3, 0},
		{"pages cut to 20 with a link: followed", 45, func(q Query[row]) Query[row] { return q }, 45, []string{"", "", ""}, 3, 20},
		{"an empty table", 0, func(q Query[row]) Query[row] { return q }, 0, []string{""}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			m := newMemTable(tt.rows, 1000)
			if tt.rows < 1000 {
				m.pageSize = 50
			}
			if tt.pageSize > 0 {
				m.pageSize = tt.pageSize
			}
			mux.Handle("GET /tables/rows", m)
			got, err := tt.q(GetTable[row](c, "rows").Query()).ToSlice(context.Background())
			require.NoError(t, err)
			assert.NotNil(t, got)
			assert.Equal(t, tt.want, len(got))
			var tops []string
			for _, q := range m.queries {
				tops = append(tops, q.Get("$top"))
			}
			assert.Equal(t, tt.wantTops, tops)
			assert.Len(t, m.queries, tt.wantCalls)

			p, err := tt.q(GetTable[row](c, "rows").Query()).Page(context.Background())
			require.NoError(t, err)
			assert.Equal(t, min(tt.want, m.pageSize), len(p.Items), "Page is one request")
		})
	}
}

// The keyset boundary is read from bodies the server sent: any body, and
// any value in it, gives a literal or a clear "cannot", never a panic.
func FuzzKeysetBoundary(f *testing.F) {
	f.Add(`[{"id":"a","n":1},{"id":"b","n":2.5e3}]`, "n")
	f.Add(`{"results":[{"id":"a","updatedAt":"2024-01-02T03:04:05.678Z"}],"count":1}`, "updatedAt")
	f.Add(`[{"id":"a","__updatedAt":"2024-01-02T03:04:05Z"}]`, "updatedAt")
	f.Add(`[{"id":"a","n":null}]`, "n")
	f.Add(`[{"id":"a","s":"it's"}]`, "s")
	f.Add(`[1,2]`, "n")
	f.Add(`[{"n":-0.0}]`, "n")
	f.Add(`[{"n":1e400}]`, "n")
	f.Fuzz(func(t *testing.T, body, field string) {
		obj := lastObject([]byte(body))
		if obj == nil {
			return
		}
		for _, kind := range []keyKindT{keyString, keyNumber, keyDate, keyAny} {
			lit, ok := keyLiteral(kind, field, lookup(obj, field))
			if ok && lit == "" {
				t.Fatalf("kind %d: ok with an empty literal", kind)
			}
		}
	})
}
