package offlinetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// LoseAnswers is a proxy to srv that, while armed for a method, lets the
// server apply the request and then closes the client's connection
// without the answer: the lost answer of a crash or a network cut.
type LoseAnswers struct {
	*httptest.Server
	mu     sync.Mutex
	method string
	lost   int
}

// NewLoseAnswers starts a proxy to srv, closed by t.Cleanup.
func NewLoseAnswers(t testing.TB, srv *zumotest.Server) *LoseAnswers {
	p := &LoseAnswers{}
	upstream := srv.Client()
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := http.NewRequestWithContext(r.Context(), r.Method, srv.URL+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := upstream.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		p.mu.Lock()
		lose := p.method != "" && strings.EqualFold(p.method, r.Method)
		if lose {
			p.method = ""
			p.lost++
		}
		p.mu.Unlock()
		if lose {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	t.Cleanup(p.Close)
	return p
}

// LoseNext arms the proxy: the next request with method is applied and
// its answer lost.
func (p *LoseAnswers) LoseNext(method string) {
	p.mu.Lock()
	p.method = method
	p.mu.Unlock()
}

// Lost returns how many answers were lost.
func (p *LoseAnswers) Lost() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func testLostAnswers(t *testing.T, open Opener) {
	ctx := context.Background()
	cases := []struct {
		name   string
		method string
		change func(e *env) error
		check  func(t *testing.T, e *env)
	}{
		{"insert", http.MethodPost, func(e *env) error {
			_, err := e.tbl.Insert(ctx, Item{ID: "n1", Text: "new", Priority: 4})
			return err
		}, func(t *testing.T, e *env) {
			rows, err := e.srv.Rows("items")
			require.NoError(t, err)
			assert.Len(t, rows, 2, "no duplicate")
		}},
		{"update", http.MethodPatch, func(e *env) error {
			_, err := e.tbl.Update(ctx, Item{ID: "s1", Text: "edited", Priority: 5})
			return err
		}, func(t *testing.T, e *env) {
			row, _ := serverRow(e.srv, "s1")
			assert.Equal(t, "edited", row["text"])
		}},
		{"delete", http.MethodDelete, func(e *env) error {
			return e.tbl.Delete(ctx, Item{ID: "s1"})
		}, func(t *testing.T, e *env) {
			_, ok := serverRow(e.srv, "s1")
			assert.False(t, ok)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := synced(t, open)
			proxy := NewLoseAnswers(t, base.srv)
			c, err := zumo.NewClient(proxy.URL)
			require.NoError(t, err)
			e := newEnvOn(t, base.srv, c, base.store)
			require.NoError(t, tc.change(e))
			proxy.LoseNext(tc.method)
			_, err = e.sc.Push(ctx)
			require.Error(t, err, "the answer was lost")
			require.Equal(t, 1, proxy.Lost())
			ops := pending(t, e.sc)
			require.Len(t, ops, 1)
			assert.Equal(t, tc.method == http.MethodPost, ops[0].Attempted, "inserts are marked when sent")

			res, err := e.sc.Push(ctx)
			require.NoError(t, err, "no false conflict")
			assert.Equal(t, 1, res.Pushed)
			assert.Zero(t, res.Resolved)
			assert.Empty(t, pending(t, e.sc))
			tc.check(t, e)
			if tc.method != http.MethodDelete {
				local, err := e.tbl.Lookup(ctx, map[string]string{http.MethodPost: "n1", http.MethodPatch: "s1"}[tc.method])
				require.NoError(t, err)
				row, _ := serverRow(e.srv, local.ID)
				assert.Equal(t, row["version"], local.Version, "the local row is the server's copy")
			}
		})
	}
	t.Run("a different row under the same id is a conflict, not a lost answer", func(t *testing.T) {
		e := newEnv(t, open, []zumotest.Option{zumotest.WithTable("items",
			zumotest.Seed(map[string]any{"id": "x", "text": "theirs"}))})
		_, err := e.tbl.Insert(ctx, Item{ID: "x", Text: "mine"})
		require.NoError(t, err)
		_, err = e.sc.Push(ctx)
		var oe *offline.OperationError
		require.ErrorAs(t, err, &oe)
		assert.NotNil(t, oe.Conflict)
		assert.ErrorIs(t, err, zumo.ErrConflict)
	})
}
