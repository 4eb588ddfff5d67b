package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// foreignServer is the second origin of the redirect tests: it records
// every request it gets and answers each as a careless server would (an
// empty list for GET, the echoed body otherwise), so a client that follows
// a redirect to it would see a success.
type foreignServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string // "METHOD path headers body"
}

func newForeignServer(t *testing.T) *foreignServer {
	t.Helper()
	f := &foreignServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.hits = append(f.hits, r.Method+" "+r.URL.String()+" "+headerDump(r.Header)+" "+string(b))
		f.mu.Unlock()
		if r.Method == http.MethodGet {
			writeJSON(w, 200, []any{})
			return
		}
		writeJSON(w, 200, map[string]any{"id": "foreign", "text": "foreign"})
	}))
	t.Cleanup(f.Close)
	return f
}

func headerDump(h http.Header) string {
	b, _ := json.Marshal(h)
	return string(b)
}

func (f *foreignServer) received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hits...)
}

// redirectTo answers every request with status and a Location on target
// that carries a secret-looking query.
func redirectTo(target string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", target+"/elsewhere?$filter=secret%20eq%201")
		w.WriteHeader(status)
	}
}

func TestCrossOriginRedirectIsNotFollowed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		opts   []Option
		call   func(c *Client) error
	}{
		{"lookup 302", http.StatusFound, nil, func(c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Lookup(ctx, "a")
			return err
		}},
		{"legacy app key 302", http.StatusFound, []Option{WithLegacyMobileServices("app-key-1")}, func(c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Lookup(ctx, "a")
			return err
		}},
		{"insert 307 re-post", http.StatusTemporaryRedirect, nil, func(c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Insert(ctx, TodoItem{Text: "private"})
			return err
		}},
		{"insert 308", http.StatusPermanentRedirect, nil, func(c *Client) error {
			_, err := c.Table("todoitem").Insert(ctx, map[string]any{"text": "private"})
			return err
		}},
		{"query list 302", http.StatusFound, nil, func(c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Where(Field("text").Eq("x")).ToSlice(ctx)
			return err
		}},
		{"custom API with caller's Authorization", http.StatusTemporaryRedirect, nil, func(c *Client) error {
			_, err := InvokeAPI[json.RawMessage](ctx, c, "tables/todoitem", map[string]string{"a": "b"},
				WithHeader("Authorization", "Bearer caller-secret"))
			return err
		}},
		{"raw custom API 307", http.StatusTemporaryRedirect, nil, func(c *Client) error {
			resp, err := c.InvokeAPIRaw(ctx, "tables/todoitem", strings.NewReader("raw body"), "text/plain")
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}},
		{"through Retry", http.StatusTemporaryRedirect, []Option{WithHandlers(handler.Retry(handler.RetryMaxAttempts(3)))}, func(c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Insert(ctx, TodoItem{Text: "private"})
			return err
		}},
		{"HTTPClient", http.StatusFound, nil, func(c *Client) error {
			resp, err := c.HTTPClient().Get(c.AppURL() + "tables/todoitem")
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}},
		{"Transport under the caller's own http.Client", http.StatusFound, nil, func(c *Client) error {
			hc := &http.Client{Transport: c.Transport()}
			resp, err := hc.Get(c.AppURL() + "tables/todoitem")
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			foreign := newForeignServer(t)
			c, mux, _, requests := setup(t, tt.opts...)
			mux.HandleFunc("/tables/todoitem", redirectTo(foreign.URL, tt.status))
			mux.HandleFunc("/tables/todoitem/{id}", redirectTo(foreign.URL, tt.status))
			mux.HandleFunc("/api/tables/todoitem", redirectTo(foreign.URL, tt.status))

			err := tt.call(c)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrCrossOriginRedirect)
			var re *RedirectError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, foreign.URL, re.Origin)
			assert.Equal(t, tt.status, re.StatusCode)
			assert.Contains(t, err.Error(), foreign.URL)
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "elsewhere")
			assert.Empty(t, foreign.received(), "the other origin must receive nothing")
			assert.EqualValues(t, 1, requests.Load(), "the refusal is not retried")
		})
	}
}

// A same-origin Link whose page redirects to another origin stops paging
// with the redirect error; the foreign (empty, "successful") page is never
// read.
func TestCrossOriginRedirectWhilePaging(t *testing.T) {
	foreign := newForeignServer(t)
	c, mux, srv, _ := setup(t)
	var pages atomic.Int64
	mux.HandleFunc("GET /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		if pages.Add(1) > 1 { // the next page, however All asks for it
			redirectTo(foreign.URL, http.StatusFound)(w, r)
			return
		}
		w.Header().Set("Link", "<"+srv.URL+"/tables/todoitem?$skip=2>; rel=next")
		writeJSON(w, 200, []TodoItem{{ID: "1"}, {ID: "2"}})
	})
	var ids []string
	var err error
	for it, e := range GetTable[TodoItem](c, "todoitem").All(context.Background()) {
		if e != nil {
			err = e
			break
		}
		ids = append(ids, it.ID)
	}
	assert.Equal(t, []string{"1", "2"}, ids)
	assert.ErrorIs(t, err, ErrCrossOriginRedirect)
	assert.Empty(t, foreign.received())
}

// A redirect within the origin is followed: a 307 replays the body, and no
// hop carries a Referer (it would hold the first URL, $filter and all).
func TestSameOriginRedirectIsFollowedWithoutReferer(t *testing.T) {
	c, mux, _, _ := setup(t, WithLegacyMobileServices("app-key-1"))
	mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", "/tables/moved?x=1")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /tables/moved", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Referer", "")
		testHeader(t, r, "X-ZUMO-APPLICATION", "app-key-1")
		testJSONBody(t, r, `{"text":"milk","complete":false}`)
		writeJSON(w, 201, map[string]any{"id": "n1", "text": "milk"})
	})
	got, err := GetTable[TodoItem](c, "todoitem").Insert(context.Background(), TodoItem{Text: "milk"})
	require.NoError(t, err)
	assert.Equal(t, "n1", got.ID)

	mux.HandleFunc("GET /tables/a", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/tables/b", http.StatusFound)
	})
	mux.HandleFunc("GET /tables/b", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Referer", "")
		writeJSON(w, 200, []any{})
	})
	_, err = c.Table("a").Where(Field("text").Eq("secret")).ToSlice(context.Background())
	require.NoError(t, err)
}

// A caller's own CheckRedirect still decides same-origin hops, after the
// origin check: it is never asked about a hop to another origin.
func TestRedirectPolicyWrapsTheCallersCheckRedirect(t *testing.T) {
	foreign := newForeignServer(t)
	var asked []string
	stop := errors.New("caller says stop")
	hc := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		asked = append(asked, req.URL.Path)
		return stop
	}}
	c, mux, _, _ := setup(t, WithHTTPClient(hc))
	mux.HandleFunc("GET /tables/same", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/tables/other", http.StatusFound)
	})
	mux.HandleFunc("GET /tables/away", redirectTo(foreign.URL, http.StatusFound))

	_, err := c.Table("same").ToSlice(context.Background())
	assert.ErrorIs(t, err, stop)
	_, err = c.Table("away").ToSlice(context.Background())
	assert.ErrorIs(t, err, ErrCrossOriginRedirect)
	assert.Equal(t, []string{"/tables/other"}, asked)
	assert.Empty(t, foreign.received())
	assert.Nil(t, hc.Transport, "the caller's client is not changed")
}

// Ten same-origin hops are the limit, as net/http's default.
func TestRedirectLoopStops(t *testing.T) {
	c, mux, _, requests := setup(t)
	mux.HandleFunc("GET /tables/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/tables/loop", http.StatusFound)
	})
	_, err := c.Table("loop").ToSlice(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stopped after 10 redirects")
	assert.EqualValues(t, 10, requests.Load())
}

// A next link on another origin is never followed either: All pages on
// the table's own URL, and the other origin receives nothing.
func TestNextLinkToAnotherOriginIsNotFollowed(t *testing.T) {
	foreign := newForeignServer(t)
	c, mux, _, _ := setup(t, WithLegacyMobileServices("app-key-1"))
	mux.HandleFunc("GET /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "<"+foreign.URL+"/tables/todoitem?$skip=2>; rel=next")
		writeJSON(w, 200, []TodoItem{{ID: "1"}, {ID: "2"}})
	})
	for _, err := range GetTable[TodoItem](c, "todoitem").Query().Take(4).All(context.Background()) {
		if err != nil {
			break
		}
	}
	assert.Empty(t, foreign.received())
}
