package zumotest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/odata"
)

// listResult is a decoded list response.
type listResult struct {
	status int
	ids    []string
	count  int // -1 without $inlinecount
	link   bool
	err    string
}

// list sends a GET to the handler directly, without a network.
func list(t testing.TB, s *Server, table, query string) listResult {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/tables/"+table+"?"+query, nil)
	r.Header.Set("ZUMO-API-VERSION", "2.0.0")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	res := listResult{status: w.Code, count: -1, link: w.Header().Get("Link") != ""}
	body := w.Body.Bytes()
	if w.Code != http.StatusOK {
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal(body, &e), "%s", body)
		res.err = e.Error
		return res
	}
	var rows []map[string]any
	if len(body) > 0 && body[0] == '{' { // $inlinecount=allpages
		var wrapped struct {
			Results []map[string]any
			Count   int
		}
		require.NoError(t, json.Unmarshal(body, &wrapped), "%s", body)
		rows, res.count = wrapped.Results, wrapped.Count
	} else {
		require.NoError(t, json.Unmarshal(body, &rows), "%s", body)
	}
	res.ids = make([]string, len(rows))
	for i, row := range rows {
		res.ids[i], _ = row["id"].(string)
	}
	return res
}

// listQuery is the part of a list request that the reference implements.
type listQuery struct {
	filter, orderby string
	skip, top       int
	topSet          bool
	inlineCount     bool
	includeDeleted  bool
}

func (q listQuery) String() string {
	v := url.Values{}
	if q.filter != "" {
		v.Set("$filter", q.filter)
	}
	if q.orderby != "" {
		v.Set("$orderby", q.orderby)
	}
	if q.skip > 0 {
		v.Set("$skip", strconv.Itoa(q.skip))
	}
	if q.topSet {
		v.Set("$top", strconv.Itoa(q.top))
	}
	if q.inlineCount {
		v.Set("$inlinecount", "allpages")
	}
	if q.includeDeleted {
		v.Set("__includeDeleted", "true")
	}
	return v.Encode()
}

// reference computes a list response the slow, obvious way from the rows
// as Rows returns them: filter every row, stable-sort the matches, page.
func reference(rows []map[string]any, pageSize int, q listQuery) listResult {
	var (
		f   *odata.Filter
		err error
	)
	if q.filter != "" {
		f, err = odata.ParseFilter(q.filter)
		if err != nil {
			return listResult{status: http.StatusBadRequest, err: err.Error()}
		}
	}
	keys, err := odata.ParseOrderBy(q.orderby)
	if err != nil {
		return listResult{status: http.StatusBadRequest, err: err.Error()}
	}
	var matches []map[string]any
	for _, row := range rows {
		if row["deleted"] == true && !q.includeDeleted {
			continue
		}
		if f != nil {
			ok, err := f.Match(row)
			if err != nil {
				return listResult{status: http.StatusBadRequest, err: err.Error()}
			}
			if !ok {
				continue
			}
		}
		matches = append(matches, row)
	}
	slices.SortStableFunc(matches, func(a, b map[string]any) int {
		for _, k := range keys {
			if c := odata.Compare(a[k.Field], b[k.Field]); c != 0 {
				if k.Desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	res := listResult{status: http.StatusOK, count: -1, ids: []string{}}
	if q.inlineCount {
		res.count = len(matches)
	}
	limit, bounded := pageSize, q.topSet && q.top > 0
	if bounded {
		limit = q.top
	}
	start := min(q.skip, len(matches))
	end := min(start+limit, len(matches))
	for _, m := range matches[start:end] {
		res.ids = append(res.ids, m["id"].(string))
	}
	res.link = !bounded && end < len(matches)
	return res
}

// checkList compares the server's answer to a query with the reference
// on rows, the table's rows as Rows returns them.
func checkList(t *testing.T, s *Server, table string, rows []map[string]any, pageSize int, q listQuery) {
	t.Helper()
	got := list(t, s, table, q.String())
	want := reference(rows, pageSize, q)
	if want.status != http.StatusOK {
		require.Equal(t, want.status, got.status, "%s", q)
		require.Contains(t, got.err, want.err, "%s", q)
		return
	}
	require.Equal(t, http.StatusOK, got.status, "%s: %s", q, got.err)
	require.Equal(t, want.ids, got.ids, "%s", q)
	require.Equal(t, want.count, got.count, "%s", q)
	require.Equal(t, want.link, got.link, "%s", q)
}

// randomRow returns a row with columns of varied and mixed types; some are
// missing or null.
func randomRow(rng *rand.Rand, id string) map[string]any {
	row := map[string]any{"id": id}
	maybe := func(name string, v func() any) {
		switch rng.IntN(6) {
		case 0: // missing
		case 1:
			row[name] = nil
		default:
			row[name] = v()
		}
	}
	maybe("n", func() any { return rng.IntN(40) - 10 })
	maybe("grp", func() any { return rng.IntN(3) })
	maybe("f", func() any { return float64(rng.IntN(20)) / 4 })
	maybe("s", func() any { return string(rune('a' + rng.IntN(26))) })
	maybe("b", func() any { return rng.IntN(2) == 0 })
	maybe("mix", func() any {
		switch rng.IntN(4) {
		case 0:
			return rng.IntN(5)
		case 1:
			return float64(rng.IntN(10)) / 2
		case 2:
			return strconv.Itoa(rng.IntN(5))
		}
		return rng.IntN(2) == 0
	})
	if rng.IntN(10) == 0 {
		row["late"+strconv.Itoa(rng.IntN(3))] = rng.IntN(4)
	}
	return row
}

var (
	refFilters = []string{
		"", "(n ge 3)", "(n lt 0)", "(b eq true)", "not(b)", "(s eq null)", "(s ne null)",
		"((grp eq 2) or (b eq false))", "((s lt 'm') and (n gt 5))", "(mix eq 3)",
		"(mix gt 2)", // fails on rows where mix is a string
		"(nosuch eq null)", "(nosuch eq 1)", "(f le 2.5)", "(f eq n)", "(late1 ge 2)",
		"startswith(s,'c') or (grp eq 0)", "(n eq 5.0)", "(n gt 4.5)",
		"(grp eq", // a syntax error
	}
	refOrders = []string{
		"", "n", "n desc", "grp,n desc", "grp desc", "s", "s desc,grp", "mix", "mix desc,grp",
		"b desc", "f", "f desc,s", "nosuch", "updatedAt desc", "id", "late0,n", "grp,b,s desc",
		"n,", // a syntax error
	}
)

func randomQuery(rng *rand.Rand, n int) listQuery {
	q := listQuery{
		filter:         refFilters[rng.IntN(len(refFilters))],
		orderby:        refOrders[rng.IntN(len(refOrders))],
		inlineCount:    rng.IntN(2) == 0,
		includeDeleted: rng.IntN(4) == 0,
	}
	if rng.IntN(2) == 0 {
		q.skip = rng.IntN(n + 10)
	}
	switch rng.IntN(4) {
	case 0:
	case 1:
		q.top, q.topSet = 0, true
	default:
		q.top, q.topSet = 1+rng.IntN(n+5), true
	}
	return q
}

// TestListMatchesReference checks random queries, with writes in between,
// against the reference implementation.
func TestListMatchesReference(t *testing.T) {
	for _, soft := range []bool{false, true} {
		t.Run(fmt.Sprintf("soft=%v", soft), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(fmt.Sprint(soft)))))
			const pageSize = 7
			opts := []TableOption{PageSize(pageSize)}
			if soft {
				opts = append(opts, SoftDelete())
			}
			s := New(WithTable("t", opts...))
			const n = 80
			for i := range n {
				row := randomRow(rng, fmt.Sprintf("r%03d", i))
				if soft && rng.IntN(5) == 0 {
					row["deleted"] = true
				}
				require.NoError(t, s.Seed("t", row))
			}
			next := n
			rows, err := s.Rows("t")
			require.NoError(t, err)
			for i := range 600 {
				q := randomQuery(rng, next)
				checkList(t, s, "t", rows, pageSize, q)
				// The same query again, paging on: served from the cache
				// or recomputed with more rows kept.
				for range rng.IntN(4) {
					q.skip += 1 + rng.IntN(pageSize*2)
					checkList(t, s, "t", rows, pageSize, q)
				}
				if i%7 == 0 {
					write(t, rng, s, &next)
					rows, err = s.Rows("t")
					require.NoError(t, err)
				}
			}
		})
	}
}

// write makes a random write through the wire protocol: an insert, an
// update (which may add a column) or a delete.
func write(t *testing.T, rng *rand.Rand, s *Server, next *int) {
	t.Helper()
	rows, err := s.Rows("t")
	require.NoError(t, err)
	var live []string
	for _, r := range rows {
		if r["deleted"] != true {
			live = append(live, r["id"].(string))
		}
	}
	switch op := rng.IntN(3); {
	case op == 0 || len(live) == 0:
		row := randomRow(rng, fmt.Sprintf("r%03d", *next))
		*next++
		w := serve(s, http.MethodPost, "/tables/t", row)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	case op == 1:
		patch := randomRow(rng, live[rng.IntN(len(live))])
		w := serve(s, http.MethodPatch, "/tables/t/"+patch["id"].(string), patch)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	default:
		w := serve(s, http.MethodDelete, "/tables/t/"+live[rng.IntN(len(live))], nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	}
}

// serve sends a request with an optional JSON body to the handler.
func serve(s *Server, method, path string, body any) *httptest.ResponseRecorder {
	var r *http.Request
	if body != nil {
		b, _ := json.Marshal(body)
		r = httptest.NewRequest(method, path, strings.NewReader(string(b)))
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.Header.Set("ZUMO-API-VERSION", "2.0.0")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func seedRows(t *testing.T, s *Server, table string, rows ...string) {
	t.Helper()
	for _, r := range rows {
		require.NoError(t, s.Seed(table, r))
	}
}

func TestListOrderingTies(t *testing.T) {
	s := New(WithTable("t"))
	// 300 rows in 3 groups: within a group, insertion order.
	for i := range 300 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"r%03d","g":%d}`, i, (i*7)%3))
	}
	var want []string
	for g := range 3 {
		for i := range 300 {
			if (i*7)%3 == g {
				want = append(want, fmt.Sprintf("r%03d", i))
			}
		}
	}
	for _, top := range []int{1, 5, 50, 99, 100, 101, 300} {
		got := list(t, s, "t", "$orderby=g&$top="+strconv.Itoa(top))
		require.Equal(t, want[:top], got.ids, "top %d", top)
	}
	// Descending keeps insertion order within ties too.
	var desc []string
	for g := 2; g >= 0; g-- {
		for i := range 300 {
			if (i*7)%3 == g {
				desc = append(desc, fmt.Sprintf("r%03d", i))
			}
		}
	}
	got := list(t, s, "t", "$orderby=g%20desc&$top=120&$skip=30")
	assert.Equal(t, desc[30:150], got.ids)

	// An update keeps the row's place among its ties.
	w := serve(s, http.MethodPatch, "/tables/t/r000", map[string]any{"x": 1})
	require.Equal(t, http.StatusOK, w.Code)
	got = list(t, s, "t", "$orderby=g&$top=3")
	assert.Equal(t, want[:3], got.ids)
}

func TestListSkipBeyondMatches(t *testing.T) {
	s := New(WithTable("t", PageSize(5)))
	for i := range 20 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"r%02d","n":%d}`, i, i))
	}
	for _, q := range []string{
		"$filter=n%20lt%2010&$orderby=n&$skip=10",
		"$filter=n%20lt%2010&$orderby=n&$skip=11&$top=3",
		"$filter=n%20lt%2010&$skip=10",
		"$filter=n%20lt%2010&$orderby=n%20desc&$skip=1000000",
		"$orderby=n&$skip=20",
		"$orderby=n&$skip=9223372036854775807&$top=1000",
	} {
		for _, count := range []bool{false, true} {
			qq := q
			if count {
				qq += "&$inlinecount=allpages"
			}
			got := list(t, s, "t", qq)
			require.Equal(t, http.StatusOK, got.status, "%s: %s", qq, got.err)
			assert.Empty(t, got.ids, qq)
			assert.False(t, got.link, qq)
			if count {
				want := 10
				if !strings.Contains(q, "filter") {
					want = 20
				}
				assert.Equal(t, want, got.count, qq)
			}
		}
	}
	// Exactly up to the last match: no Link.
	got := list(t, s, "t", "$filter=n%20lt%2010&$orderby=n&$skip=5")
	assert.Equal(t, []string{"r05", "r06", "r07", "r08", "r09"}, got.ids)
	assert.False(t, got.link)
}

func TestListTopKDescAndNulls(t *testing.T) {
	s := New(WithTable("t"))
	// p: null, missing, numbers (int and float), a string and booleans.
	seedRows(t, s, "t",
		`{"id":"a","p":3}`,
		`{"id":"b","p":null}`,
		`{"id":"c"}`,
		`{"id":"d","p":1.5}`,
		`{"id":"e","p":"x"}`,
		`{"id":"f","p":true}`,
		`{"id":"g","p":3.0}`,
		`{"id":"h","p":-2}`,
		`{"id":"i","p":false}`,
		`{"id":"j","p":"a"}`,
	)
	// Nulls (and missing) first, then booleans, numbers, strings.
	asc := []string{"b", "c", "i", "f", "h", "d", "a", "g", "j", "e"}
	desc := []string{"e", "j", "a", "g", "d", "h", "f", "i", "b", "c"}
	for k := 1; k <= len(asc); k++ {
		got := list(t, s, "t", "$orderby=p&$top="+strconv.Itoa(k))
		require.Equal(t, asc[:k], got.ids, "asc top %d", k)
		got = list(t, s, "t", "$orderby=p%20desc&$top="+strconv.Itoa(k))
		require.Equal(t, desc[:k], got.ids, "desc top %d", k)
	}
	// Two keys, the first descending, on many rows so the heap is used.
	s2 := New(WithTable("t"))
	var rows []map[string]any
	for i := range 500 {
		row := map[string]any{"id": fmt.Sprintf("r%03d", i), "n": i % 10}
		if i%4 == 0 {
			row["s"] = nil
		} else if i%4 != 1 {
			row["s"] = string(rune('a' + i%5))
		}
		rows = append(rows, row)
		require.NoError(t, s2.Seed("t", row))
	}
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		if c := odata.Compare(a["s"], b["s"]); c != 0 {
			return -c
		}
		return odata.Compare(a["n"], b["n"])
	})
	var want []string
	for _, r := range rows {
		want = append(want, r["id"].(string))
	}
	for _, page := range []struct{ skip, top int }{{0, 1}, {0, 20}, {7, 13}, {100, 50}, {480, 50}} {
		got := list(t, s2, "t", fmt.Sprintf("$orderby=s%%20desc,n&$skip=%d&$top=%d", page.skip, page.top))
		require.Equal(t, want[page.skip:min(page.skip+page.top, len(want))], got.ids, "%+v", page)
	}
}

func TestListInlineCountWithPaging(t *testing.T) {
	s := New(WithTable("t", PageSize(10)))
	for i := range 95 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"r%02d","n":%d}`, i, 94-i))
	}
	// Page through the odd n in descending order by following the Links.
	q := "$filter=" + url.QueryEscape("(n mod 2) eq 1") + "&$orderby=n&$inlinecount=allpages"
	var seen []string
	for skip := 0; ; skip += 10 {
		got := list(t, s, "t", q+"&$skip="+strconv.Itoa(skip))
		require.Equal(t, http.StatusOK, got.status, got.err)
		assert.Equal(t, 47, got.count, "skip %d", skip)
		seen = append(seen, got.ids...)
		if !got.link {
			break
		}
	}
	var want []string
	for n := 1; n < 95; n += 2 {
		want = append(want, fmt.Sprintf("r%02d", 94-n))
	}
	assert.Equal(t, want, seen)

	// $top with a count, then a write changes the count.
	got := list(t, s, "t", q+"&$top=5&$skip=45")
	assert.Equal(t, want[45:], got.ids)
	assert.Equal(t, 47, got.count)
	w := serve(s, http.MethodDelete, "/tables/t/"+want[0], nil)
	require.Equal(t, http.StatusOK, w.Code)
	got = list(t, s, "t", q+"&$top=5&$skip=44")
	assert.Equal(t, want[45:], got.ids)
	assert.Equal(t, 46, got.count)
}

func TestListErrorsRepeat(t *testing.T) {
	s := New(WithTable("t"))
	seedRows(t, s, "t", `{"id":"a","v":1}`, `{"id":"b","v":"x"}`)
	for range 3 {
		got := list(t, s, "t", "$filter="+url.QueryEscape("v gt 0"))
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Equal(t, "cannot evaluate $filter: cannot compare a string with a number using 'gt'", got.err)
		got = list(t, s, "t", "$filter="+url.QueryEscape("(v eq"))
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.err, "invalid $filter at position")
		got = list(t, s, "t", "$orderby="+url.QueryEscape("v,"))
		assert.Equal(t, http.StatusBadRequest, got.status)
		assert.Contains(t, got.err, "invalid $orderby")
	}
	// A row past the page still fails the query: every row is evaluated.
	seedRows(t, s, "t", `{"id":"c","w":1}`)
	for i := range 100 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"d%d","w":%d}`, i, i))
	}
	seedRows(t, s, "t", `{"id":"z","w":"late"}`)
	got := list(t, s, "t", "$filter="+url.QueryEscape("w ge 0")+"&$top=1")
	assert.Equal(t, http.StatusBadRequest, got.status)
}

func TestListManyColumns(t *testing.T) {
	// More distinct columns than maxSlots: the later ones are looked up
	// per row, with the same results.
	s := New(WithTable("t"))
	for i := range maxSlots + 20 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"r%03d","c%d":%d,"all":%d}`, i, i, i, i%4))
	}
	last := fmt.Sprintf("c%d", maxSlots+10)
	got := list(t, s, "t", "$filter="+url.QueryEscape("("+last+" ne null)"))
	assert.Equal(t, []string{fmt.Sprintf("r%03d", maxSlots+10)}, got.ids)
	got = list(t, s, "t", "$orderby="+last+"%20desc,all&$top=3")
	assert.Equal(t, []string{fmt.Sprintf("r%03d", maxSlots+10), "r000", "r004"}, got.ids)
	got = list(t, s, "t", "$filter="+url.QueryEscape("(all eq 3)")+"&$orderby=id%20desc&$top=2")
	assert.Equal(t, []string{fmt.Sprintf("r%03d", maxSlots+19), fmt.Sprintf("r%03d", maxSlots+15)}, got.ids)

	// Truncate forgets the columns.
	require.NoError(t, s.Truncate("t"))
	seedRows(t, s, "t", `{"id":"x","c70":1}`, `{"id":"y","c1":2}`)
	got = list(t, s, "t", "$filter="+url.QueryEscape("(c70 eq 1) or (c1 eq 2)")+"&$orderby=c1%20desc")
	assert.Equal(t, []string{"y", "x"}, got.ids)
}

func TestRankerHeap(t *testing.T) {
	// The ranker alone, against a stable sort, for every k.
	s := New(WithTable("t"))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		require.NoError(t, s.Seed("t", randomRow(rng, fmt.Sprintf("r%03d", i))))
	}
	tb := s.table("t")
	for _, order := range []string{"n", "n desc", "mix,grp desc", "s desc,f,b", "nosuch"} {
		keys, err := odata.ParseOrderBy(order)
		require.NoError(t, err)
		tb.mu.RLock()
		all := slices.Clone(tb.ordered)
		slices.SortStableFunc(all, func(a, b *record) int {
			for _, k := range keys {
				va, _ := s.matchField(a, k.Field)
				vb, _ := s.matchField(b, k.Field)
				if c := odata.Compare(va, vb); c != 0 {
					if k.Desc {
						return -c
					}
					return c
				}
			}
			return 0
		})
		for _, k := range []int{0, 1, 2, 10, 199, 200, 250} {
			r := newRanker(tb, keys, k)
			for i := range tb.ordered {
				r.add(i)
			}
			got := r.result()
			require.Equal(t, all[:min(k, len(all))], got, "%s k=%d", order, k)
		}
		tb.mu.RUnlock()
	}
}

// matchField is a row's value of a column as the filter engine sees it.
func (s *Server) matchField(rec *record, name string) (any, bool) {
	v, ok := s.field(rec, name)
	return matchValue(v), ok
}

func TestListConcurrent(t *testing.T) {
	s := New(WithTable("t", PageSize(9)))
	for i := range 300 {
		seedRows(t, s, "t", fmt.Sprintf(`{"id":"r%03d","n":%d,"g":%d}`, i, (i*37)%101, i%5))
	}
	q := "$filter=" + url.QueryEscape("(g ne 3)") + "&$orderby=n%20desc,g"
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			w := serve(s, http.MethodPatch, fmt.Sprintf("/tables/t/r%03d", i), map[string]any{"n": i % 50})
			if w.Code != http.StatusOK {
				t.Errorf("patch: %d", w.Code)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 9))
			for range 150 {
				qq := q + "&$skip=" + strconv.Itoa(rng.IntN(260)) + "&$inlinecount=allpages"
				if rng.IntN(2) == 0 {
					qq += "&$top=" + strconv.Itoa(1+rng.IntN(40))
				}
				r := httptest.NewRequest(http.MethodGet, "/tables/t?"+qq, nil)
				r.Header.Set("ZUMO-API-VERSION", "2.0.0")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				var body struct {
					Results []struct {
						N float64
						G float64
					}
					Count int
				}
				if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil {
					t.Errorf("%s: %d %s", qq, w.Code, w.Body)
					return
				}
				if body.Count != 240 {
					t.Errorf("%s: count %d", qq, body.Count)
				}
				for i := 1; i < len(body.Results); i++ {
					a, b := body.Results[i-1], body.Results[i]
					if a.N < b.N || (a.N == b.N && a.G > b.G) {
						t.Errorf("%s: out of order at %d: %+v", qq, i, body.Results)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	<-done
}
