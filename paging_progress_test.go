package zumo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that ignores $skip is caught whatever else varies between its
// answers, and honest pages that merely look alike are not mistaken for
// it.
func TestAllProgressIsJudgedByIDs(t *testing.T) {
	tests := []struct {
		name      string
		ignore    bool // the server ignores $skip
		shuffle   bool // and sends the rows in a different order each time
		vary      bool // and adds a field that changes on every answer
		wantErr   error
		wantItems int
		wantCalls int64
	}{
		{name: "honest", wantItems: 120, wantCalls: 3},
		// By keyset the first repeat is passed over (data may have moved
		// between two requests), the second ends it.
		{name: "ignores $skip", ignore: true, wantErr: ErrNoProgress, wantItems: 50, wantCalls: 3},
		{name: "ignores $skip, a counter in every answer", ignore: true, vary: true, wantErr: ErrNoProgress, wantItems: 50, wantCalls: 3},
		{name: "ignores $skip, shuffled", ignore: true, shuffle: true, vary: true, wantErr: ErrNoProgress, wantItems: 50, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			var calls atomic.Int64
			mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				skip := startOf(r)
				if tt.ignore {
					skip = 0
				}
				var out []map[string]any
				for i := skip; i < 120 && len(out) < 50; i++ {
					m := map[string]any{"id": fmt.Sprintf("r%03d", i), "n": i}
					if tt.vary {
						m["served"] = n
					}
					out = append(out, m)
				}
				if tt.shuffle {
					rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
				}
				if out == nil {
					out = []map[string]any{}
				}
				writeJSON(w, 200, out)
			})
			got, err := collect(t, GetTable[row](c, "rows").Query())
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Len(t, got, tt.wantItems)
			assert.Equal(t, tt.wantCalls, calls.Load())
		})
	}
}

// Pages of a Select whose values repeat are told apart by the ids All
// asks for; a map item does not get an "id" it did not select.
func TestAllSelectWithoutID(t *testing.T) {
	c, mux, _, _ := setup(t)
	var selects []string
	mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		selects = append(selects, q.Get("$select"))
		skip := startOf(r)
		fields := strings.Split(q.Get("$select"), ",")
		out := []map[string]any{}
		for i := skip; i < 150 && len(out) < 50; i++ {
			m := map[string]any{}
			for _, f := range fields {
				switch f {
				case "id":
					m["id"] = fmt.Sprintf("r%03d", i)
				case "complete":
					m["complete"] = true // the same on every row
				}
			}
			out = append(out, m)
		}
		writeJSON(w, 200, out)
	})

	var typed int
	for it, err := range GetTable[TodoItem](c, "rows").Query().Select("complete").All(context.Background()) {
		require.NoError(t, err)
		assert.True(t, it.Complete)
		assert.NotEmpty(t, it.ID, "a typed item with an id field gets its id")
		typed++
	}
	assert.Equal(t, 150, typed)

	var untyped int
	for it, err := range c.Table("rows").Query().Select("complete").All(context.Background()) {
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"complete": true}, it)
		untyped++
	}
	assert.Equal(t, 150, untyped)

	// Selecting the id already: nothing added, and it stays.
	for it, err := range c.Table("rows").Query().Select("id", "complete").Take(1).All(context.Background()) {
		require.NoError(t, err)
		assert.Contains(t, it, "id")
	}
	require.NotEmpty(t, selects)
	for _, s := range selects[:len(selects)-1] {
		assert.Equal(t, "complete,id", s)
	}
	assert.Equal(t, "id,complete", selects[len(selects)-1])

	// Page sends exactly what was asked for.
	_, err := c.Table("rows").Query().Select("complete").Page(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "complete", selects[len(selects)-1])
}

// An item type without an id field falls back to comparing the bodies,
// and to $skip paging: two one-row requests show the server ignores $skip.
func TestAllWithoutIDFieldComparesBodies(t *testing.T) {
	type noID struct {
		N int `json:"n"`
	}
	c, mux, _, _ := setup(t)
	var calls atomic.Int64
	mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		out := make([]map[string]any, 50)
		for i := range out {
			out[i] = map[string]any{"id": fmt.Sprint(i), "n": i} // $skip ignored
		}
		writeJSON(w, 200, out)
	})
	var n int
	var last error
	for _, err := range GetTable[noID](c, "rows").All(context.Background()) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	assert.ErrorIs(t, last, ErrNoProgress)
	assert.Equal(t, 50, n)
	assert.Equal(t, int64(4), calls.Load(), "two pages, two probes")
}

// A query error is reported even when Take(0) means nothing is fetched.
func TestAllTakeZeroReportsQueryErrors(t *testing.T) {
	c, _, _, requests := setup(t)
	var errs []error
	for _, err := range GetTable[row](c, "rows").Query().Param("$x", "1").Take(0).All(context.Background()) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrInvalidQuery)
	assert.Zero(t, requests.Load())
}

func TestSkipOverflowIsAnError(t *testing.T) {
	c, _, _, requests := setup(t)
	_, err := GetTable[row](c, "rows").Query().Skip(math.MaxInt).Skip(1).ToSlice(context.Background())
	assert.ErrorIs(t, err, ErrInvalidQuery)
	assert.Zero(t, requests.Load())
}

// ";" separates parameters to some servers (Go's url.ParseQuery refuses
// it): it is escaped in raw filters, orderings and selections.
func TestSemicolonEscaped(t *testing.T) {
	c, _, _, _ := setup(t)
	qs, err := c.Table("rows").Where(Raw("text eq 'a;b'")).OrderBy("a;b").Select("c;d").QueryString()
	require.NoError(t, err)
	assert.NotContains(t, qs, ";")
	vals, err := url.ParseQuery(qs)
	require.NoError(t, err)
	assert.Equal(t, "(text eq 'a;b')", vals.Get("$filter"))
	assert.Equal(t, "a;b", vals.Get("$orderby"))
	assert.Equal(t, "c;d", vals.Get("$select"))
}

// Bodies that are not exactly one JSON value of the right kind.
func TestResponsesDecodedStrictly(t *testing.T) {
	tests := []struct {
		name, path, body string
		limit            int64
		want             string
	}{
		{"page with trailing data", "GET /tables/rows", `[{"id":"a","n":1}] [garbage`, 0, "data after the JSON value"},
		{"item with trailing data", "GET /tables/rows/a", `{"id":"a","n":1}{"id":"b"}`, 0, "data after the JSON value"},
		{"null item", "GET /tables/rows/a", `null`, 0, "not a JSON object"},
		{"array for an item", "GET /tables/rows/a", `[{"id":"a"}]`, 0, "not a JSON object"},
		{"page over the limit", "GET /tables/rows", `[` + strings.Repeat(`{"id":"a","n":1},`, 30) + `{"id":"b"}]`, 100, "body larger than 100 bytes"},
		{"item over the limit", "GET /tables/rows/a", `{"id":"a","text":"` + strings.Repeat("x", 500) + `"}`, 100, "body larger than 100 bytes"},
		{"trailing white space is fine", "GET /tables/rows", "[{\"id\":\"a\",\"n\":1}] \r\n\t ", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.limit > 0 {
				opts = append(opts, WithMaxResponseBytes(tt.limit))
			}
			c, mux, _, _ := setup(t, opts...)
			mux.HandleFunc(tt.path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.body))
			})
			tbl := GetTable[row](c, "rows")
			var err error
			if strings.HasSuffix(tt.path, "/a") {
				_, err = tbl.Lookup(context.Background(), "a")
			} else {
				_, err = tbl.Query().Page(context.Background())
			}
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.ErrorIs(t, err, ErrInvalidResponse)
			assert.Equal(t, tt.want, re.Reason)
		})
	}
}

// A server that echoes the token or the app key it was sent: neither
// reaches the error's message, body or string.
func TestErrorsRedactEchoedSecrets(t *testing.T) {
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzaWQ6YWxpY2UifQ.c2VjcmV0LXNpZ25hdHVyZQ"
	const appKey = "app-key-0123456789"
	for _, legacy := range []bool{false, true} {
		opts := []Option{WithUser(NewUser("sid:alice", token))}
		if legacy {
			opts = append(opts, WithLegacyMobileServices(appKey))
		}
		c, mux, _, _ := setup(t, opts...)
		mux.HandleFunc("GET /tables/rows/a", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 400, map[string]string{"error": "bad token " + r.Header.Get("X-ZUMO-AUTH") + " for key " + r.Header.Get("X-ZUMO-APPLICATION")})
		})
		_, err := GetTable[row](c, "rows").Lookup(context.Background(), "a")
		var ze *Error
		require.ErrorAs(t, err, &ze)
		assert.Contains(t, ze.Message, "bad token REDACTED", "the rest of the message is kept")
		for _, secret := range []string{token, appKey} {
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, ze.Message, secret)
			assert.NotContains(t, string(ze.Body), secret)
			assert.NotContains(t, fmt.Sprintf("%+v %#v", err, ze), secret)
		}
	}
}

// Rows without a usable id are paged through by their bodies: an honest
// server's pages differ, so All does not stop early.
func TestAllRowsWithoutUsableIDs(t *testing.T) {
	type Row map[string]any
	tests := []struct {
		name string
		id   func(i int) any // nil: no "id" key
	}{
		{"no id key", nil},
		{"null ids", func(int) any { return nil }},
		{"empty ids", func(int) any { return "" }},
		{"ids beyond 2^53", func(i int) any { return float64(1<<60 + i) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			var calls atomic.Int64
			mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				skip, _ := strconv.Atoi(r.URL.Query().Get("$skip"))
				out := []map[string]any{}
				for i := skip; i < 120 && len(out) < 50; i++ {
					m := map[string]any{"n": i}
					if tt.id != nil {
						m["id"] = tt.id(i)
					}
					out = append(out, m)
				}
				writeJSON(w, 200, out)
			})
			var n int
			for _, err := range c.Table("rows").Query().All(context.Background()) {
				require.NoError(t, err)
				n++
			}
			assert.Equal(t, 120, n)
			n = 0
			for _, err := range GetTable[Row](c, "rows").Query().All(context.Background()) {
				require.NoError(t, err)
				n++
			}
			assert.Equal(t, 120, n, "a named map type")
			assert.Equal(t, int64(6), calls.Load())
		})
	}
}

// A named map type gets no "id" it did not select either, and its ids
// tell pages apart.
func TestAllNamedMapType(t *testing.T) {
	type Row map[string]any
	c, mux, _, _ := setup(t)
	var calls atomic.Int64
	mux.HandleFunc("GET /tables/rows", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		assert.Equal(t, "n,id", q.Get("$select"))
		// $skip ignored, the rows shuffled and stamped: only ids tell.
		out := []map[string]any{}
		for i := range 50 {
			out = append(out, map[string]any{"id": fmt.Sprint(i), "n": 1, "served": calls.Load()})
		}
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		writeJSON(w, 200, out)
	})
	var got []Row
	var last error
	for it, err := range GetTable[Row](c, "rows").Query().Select("n").All(context.Background()) {
		if err != nil {
			last = err
			break
		}
		got = append(got, it)
	}
	assert.ErrorIs(t, last, ErrNoProgress)
	require.Len(t, got, 50)
	assert.NotContains(t, got[0], "id")
	assert.Equal(t, int64(3), calls.Load())
}
