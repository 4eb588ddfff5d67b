package zumotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInsertAndLookup(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTable("TodoItem"))

	r := do(t, s, req{method: http.MethodPost, path: "/tables/todoitem", body: map[string]any{"text": "milk", "complete": false, "priority": 3}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	row := r.obj(t)
	id, _ := row["id"].(string)
	assert.Regexp(t, guidRE, id)
	assert.Equal(t, "milk", row["text"])
	assert.Equal(t, false, row["complete"])
	assert.Equal(t, 3.0, row["priority"])
	assert.Equal(t, "2024-01-02T03:04:05.678Z", row["createdAt"])
	assert.Equal(t, row["createdAt"], row["updatedAt"])
	assert.Equal(t, false, row["deleted"])
	version, _ := row["version"].(string)
	assert.Regexp(t, versionRE, version)
	assert.Equal(t, `"`+version+`"`, r.Header.Get("ETag"))
	assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))

	clk.Advance(time.Second)
	r = do(t, s, req{path: "/tables/TODOITEM/" + id})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, row, r.obj(t))
	assert.Equal(t, `"`+version+`"`, r.Header.Get("ETag"))

	// A client-chosen id is kept.
	row2 := insert(t, s, "todoitem", map[string]any{"id": "mine", "text": "eggs"})
	assert.Equal(t, "mine", row2["id"])
	assert.NotEqual(t, version, row2["version"], "versions are unique")
}

func TestInsertErrors(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"))
	insert(t, s, "todoitem", map[string]any{"id": "a", "text": "stored"})

	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantErr    string // substring of the error message
		wantBody   map[string]any
	}{
		{name: "duplicate id echoes the request item", body: `{"id":"a","text":"new","n":1.5}`, wantStatus: http.StatusConflict,
			wantBody: map[string]any{"id": "a", "text": "new", "n": 1.5}},
		{name: "reserved createdAt", body: `{"text":"x","createdAt":"2024-01-01T00:00:00.000Z"}`, wantStatus: http.StatusBadRequest, wantErr: "createdAt"},
		{name: "reserved updatedAt", body: `{"updatedAt":null}`, wantStatus: http.StatusBadRequest, wantErr: "updatedAt"},
		{name: "reserved deleted", body: `{"deleted":false}`, wantStatus: http.StatusBadRequest, wantErr: "deleted"},
		{name: "malformed JSON", body: `{"text":`, wantStatus: http.StatusBadRequest, wantErr: "not valid JSON"},
		{name: "empty body", body: ``, wantStatus: http.StatusBadRequest, wantErr: "empty"},
		{name: "array body", body: `[{"text":"x"}]`, wantStatus: http.StatusBadRequest, wantErr: "JSON object"},
		{name: "trailing data", body: `{"text":"x"} {}`, wantStatus: http.StatusBadRequest, wantErr: "after"},
		{name: "nested object", body: `{"tags":{"a":1}}`, wantStatus: http.StatusBadRequest, wantErr: "tags"},
		{name: "numeric id", body: `{"id":5}`, wantStatus: http.StatusBadRequest, wantErr: "string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, req{method: http.MethodPost, path: "/tables/todoitem", body: tt.body})
			require.Equal(t, tt.wantStatus, r.Status, "%s", r.Body)
			if tt.wantErr != "" {
				assert.Contains(t, r.errMsg(t), tt.wantErr)
			}
			if tt.wantBody != nil {
				assert.Equal(t, tt.wantBody, r.obj(t))
			}
		})
	}
	rows, err := s.Rows("todoitem")
	require.NoError(t, err)
	require.Len(t, rows, 1, "failed inserts store nothing")
	assert.Equal(t, "stored", rows[0]["text"])
}

func TestAPIVersionHeader(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s := NewServer(t, WithTable("todoitem"), WithAPI("echo", echo))
	strict := NewServer(t, WithTable("todoitem"), WithAPI("echo", echo), WithStrictAPIVersion())

	tests := []struct {
		name   string
		srv    *Server
		rq     req
		status int
	}{
		{"missing on insert", s, req{method: http.MethodPost, path: "/tables/todoitem", body: `{"id":"x"}`, noVer: true}, http.StatusBadRequest},
		{"missing on list", s, req{path: "/tables/todoitem", noVer: true}, http.StatusBadRequest},
		{"1.0.0", s, req{path: "/tables/todoitem", noVer: true, header: map[string]string{"ZUMO-API-VERSION": "1.0.0"}}, http.StatusBadRequest},
		{"2.0", s, req{path: "/tables/todoitem", noVer: true, header: map[string]string{"ZUMO-API-VERSION": "2.0"}}, http.StatusBadRequest},
		{"2.1.0", s, req{path: "/tables/todoitem", noVer: true, header: map[string]string{"ZUMO-API-VERSION": "2.1.0"}}, http.StatusBadRequest},
		{"2.0.1", s, req{path: "/tables/todoitem", noVer: true, header: map[string]string{"ZUMO-API-VERSION": "2.0.1"}}, http.StatusOK},
		{"query parameter", s, req{path: "/tables/todoitem?ZUMO-API-VERSION=2.0.0", noVer: true}, http.StatusOK},
		{"api unchecked by default", s, req{path: "/api/echo", noVer: true}, http.StatusNoContent},
		{"api checked when strict", strict, req{path: "/api/echo", noVer: true}, http.StatusBadRequest},
		{"api strict with header", strict, req{path: "/api/echo"}, http.StatusNoContent},
		{"unknown table wins over version", s, req{path: "/tables/nope", noVer: true}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.srv, tt.rq)
			assert.Equal(t, tt.status, r.Status, "%s", r.Body)
		})
	}
	rows, err := s.Rows("todoitem")
	require.NoError(t, err)
	assert.Empty(t, rows, "a request without a version does nothing")
}

func TestRoutingErrors(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"))
	tests := []struct {
		name   string
		rq     req
		status int
	}{
		{"unknown table", req{path: "/tables/missing"}, http.StatusNotFound},
		{"unknown table item", req{path: "/tables/missing/1"}, http.StatusNotFound},
		{"unknown route", req{path: "/nothing/here"}, http.StatusNotFound},
		{"too many segments", req{path: "/tables/todoitem/a/b"}, http.StatusNotFound},
		{"unknown api", req{path: "/api/none"}, http.StatusNotFound},
		{"PUT on table", req{method: http.MethodPut, path: "/tables/todoitem", body: `{}`}, http.StatusMethodNotAllowed},
		{"PUT on item", req{method: http.MethodPut, path: "/tables/todoitem/1", body: `{}`}, http.StatusMethodNotAllowed},
		{"missing item", req{path: "/tables/todoitem/nope"}, http.StatusNotFound},
		{"trailing slash lists", req{path: "/tables/todoitem/"}, http.StatusOK},
		{"legacy login route absent on 2.0", req{method: http.MethodPost, path: "/login/custom", body: `{}`}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.rq)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if r.Status != http.StatusOK {
				assert.NotEmpty(t, r.errMsg(t), "errors are JSON {\"error\":…}")
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTable("todoitem"))
	orig := insert(t, s, "todoitem", map[string]any{"id": "1", "text": "milk", "complete": false})
	v1 := orig["version"].(string)

	clk.Advance(time.Minute)
	r := do(t, s, req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"complete":true}`,
		header: map[string]string{"If-Match": `"` + v1 + `"`}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	row := r.obj(t)
	assert.Equal(t, "milk", row["text"], "PATCH is partial")
	assert.Equal(t, true, row["complete"])
	assert.Equal(t, orig["createdAt"], row["createdAt"])
	assert.Equal(t, "2024-01-02T03:05:05.678Z", row["updatedAt"])
	v2 := row["version"].(string)
	assert.NotEqual(t, v1, v2)
	assert.Equal(t, `"`+v2+`"`, r.Header.Get("ETag"))

	tests := []struct {
		name    string
		path    string
		body    string
		header  map[string]string
		status  int
		current bool // the body is the current row with its ETag
	}{
		{"stale If-Match", "/tables/todoitem/1", `{"text":"x"}`, map[string]string{"If-Match": `"` + v1 + `"`}, http.StatusPreconditionFailed, true},
		{"If-Match star", "/tables/todoitem/1", `{"text":"x"}`, map[string]string{"If-Match": `*`}, http.StatusPreconditionFailed, true},
		{"stale body version", "/tables/todoitem/1", `{"text":"x","version":"` + v1 + `"}`, nil, http.StatusConflict, true},
		{"reserved property", "/tables/todoitem/1", `{"updatedAt":"2020-01-01T00:00:00.000Z"}`, nil, http.StatusBadRequest, false},
		{"id mismatch", "/tables/todoitem/1", `{"id":"2"}`, nil, http.StatusBadRequest, false},
		{"malformed JSON", "/tables/todoitem/1", `{"text"`, nil, http.StatusBadRequest, false},
		{"missing row", "/tables/todoitem/2", `{"text":"x"}`, nil, http.StatusNotFound, false},
		{"version not a string", "/tables/todoitem/1", `{"text":"x","version":3}`, nil, http.StatusBadRequest, false},
		{"nested value", "/tables/todoitem/1", `{"text":{"a":1}}`, nil, http.StatusBadRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, req{method: http.MethodPatch, path: tt.path, body: tt.body, header: tt.header})
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.current {
				assert.Equal(t, row, r.obj(t))
				assert.Equal(t, `"`+v2+`"`, r.Header.Get("ETag"))
			}
		})
	}
	cur, ok := s.Row("todoitem", "1")
	require.True(t, ok)
	assert.Equal(t, v2, cur["version"], "failed updates change nothing")

	// A matching body version without If-Match is accepted; null columns are stored.
	r = do(t, s, req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"text":null,"version":"` + v2 + `"}`})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Nil(t, r.obj(t)["text"])
	assert.Contains(t, r.obj(t), "text")
}

func TestDelete(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"))
	row := insert(t, s, "todoitem", map[string]any{"id": "1", "text": "milk"})

	r := do(t, s, req{method: http.MethodDelete, path: "/tables/todoitem/1", header: map[string]string{"If-Match": `"bogus"`}})
	require.Equal(t, http.StatusPreconditionFailed, r.Status)
	assert.Equal(t, row, r.obj(t))

	r = do(t, s, req{method: http.MethodDelete, path: "/tables/todoitem/1", header: map[string]string{"If-Match": `"` + row["version"].(string) + `"`}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, row, r.obj(t), "delete answers with the deleted row")

	for _, m := range []string{http.MethodGet, http.MethodDelete, http.MethodPatch, http.MethodPost} {
		r = do(t, s, req{method: m, path: "/tables/todoitem/1", body: `{}`})
		assert.Equal(t, http.StatusNotFound, r.Status, m)
	}
	assert.Empty(t, do(t, s, req{path: "/tables/todoitem"}).arr(t))
}

func TestSoftDelete(t *testing.T) {
	s := NewServer(t, WithTable("todoitem", SoftDelete()))
	insert(t, s, "todoitem", map[string]any{"id": "1", "text": "milk"})
	insert(t, s, "todoitem", map[string]any{"id": "2", "text": "eggs"})

	r := do(t, s, req{method: http.MethodDelete, path: "/tables/todoitem/1"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	deleted := r.obj(t)
	assert.Equal(t, true, deleted["deleted"])

	tests := []struct {
		name   string
		rq     req
		status int
		ids    []string // for lists
	}{
		{"list hides deleted", req{path: "/tables/todoitem"}, http.StatusOK, []string{"2"}},
		{"__includeDeleted=true", req{path: "/tables/todoitem?__includeDeleted=true"}, http.StatusOK, []string{"1", "2"}},
		{"__includeDeleted=false still includes", req{path: "/tables/todoitem?__includeDeleted=false"}, http.StatusOK, []string{"1", "2"}},
		{"filter on deleted", req{path: "/tables/todoitem?__includeDeleted=1&$filter=" + url.QueryEscape("(deleted eq true)")}, http.StatusOK, []string{"1"}},
		{"__includeDeleted= empty does not include", req{path: "/tables/todoitem?__includeDeleted="}, http.StatusOK, []string{"2"}},
		{"bare __includeDeleted does not include", req{path: "/tables/todoitem?__includeDeleted"}, http.StatusOK, []string{"2"}},
		{"__includeDeleted twice includes", req{path: "/tables/todoitem?__includeDeleted=&__includeDeleted="}, http.StatusOK, []string{"1", "2"}},
		{"lookup of a deleted row", req{path: "/tables/todoitem/1"}, http.StatusNotFound, nil},
		{"lookup with __includeDeleted", req{path: "/tables/todoitem/1?__includeDeleted=true"}, http.StatusNotFound, nil},
		{"update of a deleted row", req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"text":"x"}`}, http.StatusNotFound, nil},
		{"delete of a deleted row", req{method: http.MethodDelete, path: "/tables/todoitem/1"}, http.StatusNotFound, nil},
		{"undelete with a stale If-Match", req{method: http.MethodPost, path: "/tables/todoitem/1", header: map[string]string{"If-Match": `"nope"`}}, http.StatusPreconditionFailed, nil},
		{"undelete of a missing row", req{method: http.MethodPost, path: "/tables/todoitem/9"}, http.StatusNotFound, nil},
		{"duplicate insert of a deleted id", req{method: http.MethodPost, path: "/tables/todoitem", body: `{"id":"1"}`}, http.StatusConflict, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.rq)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.ids != nil {
				var got []string
				for _, row := range r.arr(t) {
					got = append(got, row["id"].(string))
				}
				assert.Equal(t, tt.ids, got)
			}
		})
	}

	r = do(t, s, req{method: http.MethodPost, path: "/tables/todoitem/1", header: map[string]string{"If-Match": `"` + deleted["version"].(string) + `"`}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	back := r.obj(t)
	assert.Equal(t, false, back["deleted"])
	assert.Equal(t, "milk", back["text"])
	assert.NotEqual(t, deleted["version"], back["version"])
	assert.Equal(t, `"`+back["version"].(string)+`"`, r.Header.Get("ETag"))
	assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem/1"}).Status)
}

func TestIDsThatNeedEscaping(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"))
	ids := []string{"a/b", "what?", "hash#tag", "日本語", "100%", "sp ace", "plus+sign", "a/../b", "semi;colon", `quote"d`, "&amp=1"}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			row := insert(t, s, "todoitem", map[string]any{"id": id, "text": "x"})
			require.Equal(t, id, row["id"])
			p := "/tables/todoitem/" + url.PathEscape(id)

			r := do(t, s, req{path: p})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, id, r.obj(t)["id"])

			r = do(t, s, req{method: http.MethodPatch, path: p, body: map[string]any{"id": id, "text": "y"}})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, "y", r.obj(t)["text"])

			r = do(t, s, req{path: "/tables/todoitem?$filter=" + url.QueryEscape("(id eq '"+strings.ReplaceAll(id, "'", "''")+"')")})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			require.Len(t, r.arr(t), 1)

			r = do(t, s, req{method: http.MethodDelete, path: p})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, id, r.obj(t)["id"])
		})
	}
}

// parseLink returns the URL of a rel=next Link header, or nil.
func parseLink(t testing.TB, h http.Header) *url.URL {
	t.Helper()
	v := h.Get("Link")
	if v == "" {
		return nil
	}
	m := linkRE.FindStringSubmatch(v)
	require.NotNil(t, m, "Link header %q is not <url>; rel=next", v)
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	return u
}

func seedNumbered(n int) []any {
	rows := make([]any, n)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprintf("r%03d", i), "n": i, "even": i%2 == 0}
	}
	return rows
}

func TestPagingAndLink(t *testing.T) {
	s := NewServer(t, WithTable("items", Seed(seedNumbered(120)...)), WithTable("small", PageSize(10), MaxTop(20), Seed(seedNumbered(25)...)))
	base, err := url.Parse(s.URL)
	require.NoError(t, err)

	tests := []struct {
		name      string
		query     string
		wantN     []int  // n of the rows returned
		wantLink  string // decoded query of the next link, "" for none
		wantError int
	}{
		{name: "default page size", query: "$orderby=n", wantN: seq(0, 50), wantLink: "$orderby=n&$skip=50"},
		{name: "second page", query: "$orderby=n&$skip=50", wantN: seq(50, 100), wantLink: "$orderby=n&$skip=100"},
		{name: "last short page", query: "$orderby=n&$skip=100", wantN: seq(100, 120)},
		{name: "top 0 is the page size", query: "$orderby=n&$top=0", wantN: seq(0, 50), wantLink: "$orderby=n&$top=0&$skip=50"},
		{name: "top beyond page size is honoured", query: "$orderby=n&$top=60", wantN: seq(0, 60)},
		{name: "top beyond page size with skip", query: "$orderby=n&$top=60&$skip=50", wantN: seq(50, 110)},
		{name: "top beyond page size past the end", query: "$orderby=n&$top=100&$skip=90", wantN: seq(90, 120)},
		{name: "top 1000 reads everything", query: "$orderby=n&$top=1000", wantN: seq(0, 120)},
		{name: "top within page size", query: "$orderby=n&$top=30", wantN: seq(0, 30)},
		{name: "top exactly the rest", query: "$orderby=n&$skip=70&$top=50", wantN: seq(70, 120)},
		{name: "skip past the end", query: "$orderby=n&$skip=500", wantN: []int{}},
		{name: "max top accepted", query: "$orderby=n&$top=1000&$skip=110", wantN: seq(110, 120)},
		{name: "top above max", query: "$top=1001", wantError: http.StatusBadRequest},
		{name: "negative skip", query: "$skip=-1", wantError: http.StatusBadRequest},
		{name: "non-numeric top", query: "$top=ten", wantError: http.StatusBadRequest},
		{name: "repeated top", query: "$top=1&$top=2", wantError: http.StatusBadRequest},
		{name: "malformed query", query: "$top=%zz", wantError: http.StatusBadRequest},
		{name: "descending", query: "$orderby=n%20desc&$top=3", wantN: []int{119, 118, 117}},
		{name: "filter then page", query: "$filter=" + url.QueryEscape("(n ge 100)") + "&$orderby=n%20desc", wantN: []int{119, 118, 117, 116, 115, 114, 113, 112, 111, 110, 109, 108, 107, 106, 105, 104, 103, 102, 101, 100}},
		{name: "user parameters are kept in the link", query: "a=1&$orderby=n&b=x%20y", wantN: seq(0, 50), wantLink: "a=1&$orderby=n&b=x y&$skip=50"},
		{name: "a raw '>' or '\"' in a parameter is escaped in the link", query: `a=>&b="&$orderby=n`, wantN: seq(0, 50), wantLink: `a=>&b="&$orderby=n&$skip=50`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, req{path: "/tables/items?" + tt.query})
			if tt.wantError != 0 {
				require.Equal(t, tt.wantError, r.Status, "%s", r.Body)
				assert.NotEmpty(t, r.errMsg(t))
				return
			}
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			got := []int{}
			for _, row := range r.arr(t) {
				got = append(got, int(row["n"].(float64)))
			}
			assert.Equal(t, tt.wantN, got)
			link := parseLink(t, r.Header)
			if tt.wantLink == "" {
				assert.Nil(t, link, "no Link when nothing remains")
				return
			}
			require.NotNil(t, link)
			assert.Equal(t, "http", link.Scheme)
			assert.Equal(t, base.Host, link.Host, "host:port of the server")
			assert.Equal(t, "/tables/items", link.Path)
			dq, err := url.QueryUnescape(link.RawQuery)
			require.NoError(t, err)
			assert.Equal(t, tt.wantLink, dq)
		})
	}

	t.Run("following links reads every row once", func(t *testing.T) {
		for _, q := range []string{"$orderby=n", "$orderby=n&$top=75", "$orderby=n&$top=0", "$orderby=n&$inlinecount=allpages", "a=1&$orderby=n&b=2"} {
			next := s.URL + "/tables/items?" + q
			var got []int
			for pages := 0; next != ""; pages++ {
				require.Less(t, pages, 10)
				u, err := url.Parse(next)
				require.NoError(t, err)
				r := do(t, s, req{path: u.RequestURI()})
				require.Equal(t, http.StatusOK, r.Status)
				var rows []map[string]any
				if strings.Contains(q, "inlinecount") {
					rows = decodeResults(t, r.Body)
				} else {
					rows = r.arr(t)
				}
				for _, row := range rows {
					got = append(got, int(row["n"].(float64)))
				}
				next = ""
				if l := parseLink(t, r.Header); l != nil {
					next = l.String()
				}
			}
			want := seq(0, 120)
			if strings.Contains(q, "$top=75") {
				want = seq(0, 75)
			}
			assert.Equal(t, want, got, q)
		}
	})

	t.Run("full last page has no link", func(t *testing.T) {
		r := do(t, s, req{path: "/tables/small?$orderby=n&$skip=10"})
		require.Equal(t, http.StatusOK, r.Status)
		assert.Len(t, r.arr(t), 10)
		assert.NotNil(t, parseLink(t, r.Header))
		r = do(t, s, req{path: "/tables/small?$orderby=n&$skip=15"})
		assert.Len(t, r.arr(t), 10)
		assert.Nil(t, parseLink(t, r.Header), "exactly the last rows: no link to an empty page")
	})

	t.Run("table options", func(t *testing.T) {
		assert.Len(t, do(t, s, req{path: "/tables/small"}).arr(t), 10)
		r := do(t, s, req{path: "/tables/small?$top=15"})
		assert.Len(t, r.arr(t), 15, "$top above the page size is honoured")
		assert.Nil(t, parseLink(t, r.Header), "the client's $top was satisfied: no link")
		assert.Equal(t, http.StatusBadRequest, do(t, s, req{path: "/tables/small?$top=21"}).Status)
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/small?$top=20"}).Status)
	})
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func decodeResults(t testing.TB, body []byte) []map[string]any {
	t.Helper()
	var v struct {
		Results []map[string]any `json:"results"`
		Count   *int             `json:"count"`
	}
	require.NoError(t, jsonUnmarshal(body, &v), "%s", body)
	require.NotNil(t, v.Count)
	return v.Results
}

func TestInlineCount(t *testing.T) {
	s := NewServer(t, WithTable("items", Seed(seedNumbered(120)...)))
	tests := []struct {
		query     string
		wantCount int
		wantLen   int
	}{
		{"$inlinecount=allpages", 120, 50},
		{"$inlinecount=allpages&$top=5&$skip=3", 120, 5},
		{"$inlinecount=allpages&$filter=" + url.QueryEscape("(even eq true)") + "&$top=10", 60, 10},
		{"$inlinecount=allpages&$skip=1000", 120, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := do(t, s, req{path: "/tables/items?" + tt.query})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			var v struct {
				Results []map[string]any `json:"results"`
				Count   int              `json:"count"`
			}
			require.NoError(t, jsonUnmarshal(r.Body, &v))
			assert.Equal(t, tt.wantCount, v.Count)
			assert.Len(t, v.Results, tt.wantLen)
		})
	}
	r := do(t, s, req{path: "/tables/items?$inlinecount=none&$top=1"})
	assert.Len(t, r.arr(t), 1, "other values give a bare array")
}

func TestSelectAndOrderBy(t *testing.T) {
	s := NewServer(t, WithTable("people", Seed(
		map[string]any{"id": "1", "last": "Smith", "first": "Ann", "age": 30},
		map[string]any{"id": "2", "last": "Jones", "first": "Bob", "age": 40},
		map[string]any{"id": "3", "last": "Smith", "first": "Al", "age": 25},
		map[string]any{"id": "4", "last": "Jones", "first": "Cy"},
	)))

	r := do(t, s, req{path: "/tables/people?$select=first,age&$orderby=id"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	rows := r.arr(t)
	require.Len(t, rows, 4)
	assert.Equal(t, map[string]any{"first": "Ann", "age": 30.0}, rows[0], "exactly the selected columns")
	assert.Equal(t, map[string]any{"first": "Cy", "age": nil}, rows[3], "a missing column is null")

	r = do(t, s, req{path: "/tables/people?$select=id,version"})
	row := r.arr(t)[0]
	assert.Len(t, row, 2)
	assert.Regexp(t, versionRE, row["version"])

	r = do(t, s, req{path: "/tables/people/1?$select=last"})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"last": "Smith"}, r.obj(t), "$select applies to lookups")

	r = do(t, s, req{path: "/tables/people?$select=" + url.QueryEscape("first,")})
	assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)

	ids := func(q string) []string {
		r := do(t, s, req{path: "/tables/people?" + q})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var out []string
		for _, row := range r.arr(t) {
			out = append(out, row["id"].(string))
		}
		return out
	}
	assert.Equal(t, []string{"4", "2", "3", "1"}, ids("$orderby="+url.QueryEscape("last,age")), "null sorts first")
	assert.Equal(t, []string{"2", "4", "1", "3"}, ids("$orderby="+url.QueryEscape("last,age desc")))
	assert.Equal(t, []string{"1", "3", "2", "4"}, ids("$orderby="+url.QueryEscape("last desc")), "ties keep insertion order")
	assert.Equal(t, []string{"1", "2", "3", "4"}, ids(""), "no $orderby: insertion order")
	r = do(t, s, req{path: "/tables/people?$orderby=" + url.QueryEscape("last sideways")})
	assert.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
}

func TestFilter(t *testing.T) {
	s := NewServer(t, WithTable("todoitem", Seed(
		map[string]any{"id": "1", "text": "Buy milk", "complete": false, "priority": 1, "due": "2024-03-01T00:00:00.000Z"},
		map[string]any{"id": "2", "text": "O'Brien", "complete": true, "priority": 2},
		map[string]any{"id": "3", "text": "call mom", "complete": false, "priority": 3, "due": "2024-05-01T00:00:00.000Z"},
	)))
	tests := []struct {
		filter string
		ids    []string
	}{
		{"(complete eq false)", []string{"1", "3"}},
		{"((priority gt 1) and (complete eq false))", []string{"3"}},
		{"not(complete)", []string{"1", "3"}},
		{"(text eq 'O''Brien')", []string{"2"}},
		{"startswith(tolower(text),'buy')", []string{"1"}},
		{"(due eq null)", []string{"2"}},
		{"(due lt datetime'2024-04-01T00:00:00.000Z')", []string{"1"}},
		{"(createdAt ge datetimeoffset'1970-01-01T00:00:00.0000000+00:00')", []string{"1", "2", "3"}},
		{"(nosuchcolumn eq 'x')", nil},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			r := do(t, s, req{path: "/tables/todoitem?$filter=" + url.QueryEscape(tt.filter)})
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			var got []string
			for _, row := range r.arr(t) {
				got = append(got, row["id"].(string))
			}
			assert.Equal(t, tt.ids, got)
		})
	}

	bad := []struct {
		filter string
		pos    string
	}{
		{"(complete eq", "position 12"},
		{"(complete eq false))", "position 19"},
		{"complete eq 'unterminated", "position 12"},
		{"nosuchfunc(text)", "position 0"},
		{"(text eq 1 2)", "position"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.filter, func(t *testing.T) {
			r := do(t, s, req{path: "/tables/todoitem?$filter=" + url.QueryEscape(tt.filter)})
			require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)
			assert.Contains(t, r.errMsg(t), tt.pos)
		})
	}
	r := do(t, s, req{path: "/tables/todoitem?$filter=" + url.QueryEscape("(text gt 5)")})
	assert.Equal(t, http.StatusBadRequest, r.Status, "an evaluation error is a 400: %s", r.Body)
}

func TestConcurrentInserts(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	versions := make(chan string, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r, err := send(t.Context(), s, req{method: http.MethodPost, path: "/tables/todoitem",
					body: map[string]any{"w": w, "i": i}})
				if !assert.NoError(t, err) || !assert.Equal(t, http.StatusCreated, r.Status) {
					return
				}
				versions <- r.Header.Get("ETag")
				// Interleave reads with the writes.
				_, err = send(t.Context(), s, req{path: "/tables/todoitem?$filter=" + url.QueryEscape(fmt.Sprintf("(w eq %d)", w))})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[string]bool{}
	for v := range versions {
		assert.False(t, seen[v], "duplicate version %s", v)
		seen[v] = true
	}
	rows, err := s.Rows("todoitem")
	require.NoError(t, err)
	require.Len(t, rows, workers*each)
	ids := map[any]bool{}
	for _, row := range rows {
		ids[row["id"]] = true
	}
	assert.Len(t, ids, workers*each)
	r := do(t, s, req{path: "/tables/todoitem?$inlinecount=allpages&$top=1"})
	var v struct{ Count int }
	require.NoError(t, jsonUnmarshal(r.Body, &v))
	assert.Equal(t, workers*each, v.Count)
}

func TestSeedAndRows(t *testing.T) {
	type todo struct {
		ID        string    `json:"id,omitempty"`
		Text      string    `json:"text"`
		CreatedAt time.Time `json:"createdAt"`
		Deleted   bool      `json:"deleted,omitempty"`
	}
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTable("todoitem", SoftDelete(), Seed(
		todo{ID: "a", Text: "struct", CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 123_456_789, time.UTC)},
		todo{Text: "generated id", Deleted: true},
		`{"id":"c","text":"raw"}`,
	)))
	rows, err := s.Rows("todoitem")
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, "2020-01-01T00:00:00.123Z", rows[0]["createdAt"])
	assert.Equal(t, "2024-01-02T03:04:05.678Z", rows[0]["updatedAt"])
	assert.Regexp(t, guidRE, rows[1]["id"])
	assert.Equal(t, true, rows[1]["deleted"])
	assert.Len(t, do(t, s, req{path: "/tables/todoitem"}).arr(t), 2)

	require.NoError(t, s.Seed("todoitem", map[string]any{"id": "d"}))
	require.Error(t, s.Seed("todoitem", map[string]any{"id": "d"}), "duplicate id")
	require.Error(t, s.Seed("nope", map[string]any{}))
	require.Error(t, s.Seed("todoitem", []int{1}))
	require.NoError(t, s.Truncate("todoitem"))
	rows, _ = s.Rows("todoitem")
	assert.Empty(t, rows)

	assert.Panics(t, func() { New(WithTable("t", Seed(map[string]any{"id": "x"}, map[string]any{"id": "x"}))) })
	assert.Panics(t, func() { New(WithTable("t"), WithTable("T")) })
	assert.Panics(t, func() { New(WithTable("t", PageSize(0))) })
	assert.Panics(t, func() { New(WithTable("t", Seed(map[string]any{"nested": []int{1}}))) })
	assert.Equal(t, []string{"todoitem"}, s.Tables())
}

func TestAddTableAtRunTime(t *testing.T) {
	s := NewServer(t)
	assert.Equal(t, http.StatusNotFound, do(t, s, req{path: "/tables/later"}).Status)
	require.NoError(t, s.AddTable("later"))
	assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/later"}).Status)
	require.Error(t, s.AddTable("LATER"))
	require.Error(t, s.AddTable("a/b"))
}

func TestBodyLimitsAndOptions(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"), WithLegacy("k"), WithAPI("x", http.NotFoundHandler()))
	big := `{"text":"` + strings.Repeat("a", maxBody) + `"}`
	r := do(t, s, req{method: http.MethodPost, path: "/tables/todoitem", body: big, noVer: true, header: map[string]string{"X-ZUMO-APPLICATION": "k"}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	r = do(t, s, req{path: "/api/x", header: map[string]string{"X-ZUMO-APPLICATION": "k"}})
	assert.Equal(t, http.StatusBadRequest, r.Status, "legacy refuses ZUMO-API-VERSION on /api too")

	assert.Panics(t, func() { New(WithLogin("custom", nil)) })
	assert.Panics(t, func() { New(WithAPI("a/b", http.NotFoundHandler())) })
}

func TestSeedRowForms(t *testing.T) {
	tests := []struct {
		name    string
		row     any
		wantErr string // "" when the row is accepted
		check   func(t *testing.T, row map[string]any)
	}{
		{name: "json.RawMessage", row: json.RawMessage(`{"id":"r","n":1}`),
			check: func(t *testing.T, row map[string]any) { assert.Equal(t, 1.0, row["n"]) }},
		{name: "[]byte", row: []byte(`{"id":"b"}`)},
		{name: "empty id gets a GUID", row: `{"id":"","text":"x"}`,
			check: func(t *testing.T, row map[string]any) { assert.Regexp(t, guidRE, row["id"]) }},
		{name: "dates kept to the millisecond", row: `{"id":"d","createdAt":"2021-05-06T07:08:09.123456Z","updatedAt":"2022-01-01T00:00:00+02:00"}`,
			check: func(t *testing.T, row map[string]any) {
				assert.Equal(t, "2021-05-06T07:08:09.123Z", row["createdAt"])
				assert.Equal(t, "2021-12-31T22:00:00.000Z", row["updatedAt"], "converted to UTC")
			}},
		{name: "zero date means now", row: `{"id":"z","createdAt":"0001-01-01T00:00:00Z"}`,
			check: func(t *testing.T, row map[string]any) { assert.Equal(t, "2024-01-02T03:04:05.678Z", row["createdAt"]) }},
		{name: "version in the row is replaced", row: `{"id":"v","version":"mine"}`,
			check: func(t *testing.T, row map[string]any) { assert.NotEqual(t, "mine", row["version"]) }},
		{name: "not JSON", row: `{"id":`, wantErr: "the row is not valid JSON"},
		{name: "empty", row: ``, wantErr: "the row must be a JSON object, and it is empty"},
		{name: "not an object", row: `[1]`, wantErr: "the row must be a JSON object"},
		{name: "id not a string", row: `{"id":7}`, wantErr: "the id must be a string"},
		{name: "bad date", row: `{"id":"x","createdAt":"yesterday"}`, wantErr: "createdAt"},
		{name: "date not a string", row: `{"id":"x","updatedAt":12}`, wantErr: "updatedAt must be an RFC 3339 string"},
		{name: "deleted not a boolean", row: `{"id":"x","deleted":"yes"}`, wantErr: "deleted must be a boolean"},
		{name: "nested value", row: `{"id":"x","tags":["a"]}`, wantErr: "objects and arrays are not supported"},
		{name: "unmarshalable", row: map[string]any{"f": func() {}}, wantErr: "unsupported type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(WithClock(NewClock(epoch).Now), WithTable("t"))
			err := s.Seed("t", tt.row)
			rows, rerr := s.Rows("t")
			require.NoError(t, rerr)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), `zumotest: seed "t"`)
				assert.Empty(t, rows, "nothing stored")
				return
			}
			require.NoError(t, err)
			require.Len(t, rows, 1)
			if tt.check != nil {
				tt.check(t, rows[0])
			}
		})
	}
}

func TestInspectMissingTable(t *testing.T) {
	s := New(WithTable("t"))
	_, err := s.Rows("nope")
	assert.EqualError(t, err, `zumotest: no table "nope"`)
	assert.EqualError(t, s.Truncate("nope"), `zumotest: no table "nope"`)
	_, ok := s.Row("nope", "x")
	assert.False(t, ok)
	_, ok = s.Row("t", "x")
	assert.False(t, ok, "no such row")
}
