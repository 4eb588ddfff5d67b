package zumo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setup starts a test server and a client for it, go-github style: tests
// register handlers on mux; any request for a path nobody registered fails
// the test.
func setup(t *testing.T, opts ...Option) (c *Client, mux *http.ServeMux, srv *httptest.Server, requests *atomic.Int64) {
	t.Helper()
	mux = http.NewServeMux()
	requests = new(atomic.Int64)
	outer := http.NewServeMux()
	outer.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if _, pattern := mux.Handler(r); pattern == "" {
			t.Errorf("unexpected request: %s %s", r.Method, r.URL)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		mux.ServeHTTP(w, r)
	})
	srv = httptest.NewServer(outer)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, opts...)
	require.NoError(t, err)
	return c, mux, srv, requests
}

// testQuery compares the decoded query string, as the official clients'
// tests do.
func testQuery(t *testing.T, r *http.Request, want string) {
	t.Helper()
	got, err := url.QueryUnescape(r.URL.RawQuery)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func testHeader(t *testing.T, r *http.Request, name, want string) {
	t.Helper()
	assert.Equal(t, want, r.Header.Get(name), "header %s", name)
}

func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.JSONEq(t, want, string(b))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// TodoItem is the typed item of most tests.
type TodoItem struct {
	ID        string `json:"id,omitempty"`
	Text      string `json:"text"`
	Complete  bool   `json:"complete"`
	Priority  int    `json:"priority,omitempty"`
	Version   string `json:"version,omitempty"`
	CreatedAt string `json:"createdAt,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
	Deleted   bool   `json:"deleted,omitempty"`
}
