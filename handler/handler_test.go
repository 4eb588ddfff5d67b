package handler_test

import (
	"bytes"
	"fmt"
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

// trackedBody is a response or request body that counts what is read from
// it and whether it was closed.
type trackedBody struct {
	r      io.Reader
	read   atomic.Int64
	closes atomic.Int32
}

func newTrackedBody(s string) *trackedBody { return &trackedBody{r: strings.NewReader(s)} }

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

func (b *trackedBody) Close() error {
	b.closes.Add(1)
	return nil
}

func (b *trackedBody) closed() bool { return b.closes.Load() > 0 }

// newResp returns a response with the given status and a tracked body.
func newResp(req *http.Request, status int, body string) (*http.Response, *trackedBody) {
	tb := newTrackedBody(body)
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Header:        make(http.Header),
		Body:          tb,
		ContentLength: int64(len(body)),
		Request:       req,
		Proto:         "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, tb
}

// mustRequest builds a request or fails the test.
func mustRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	return req
}

// recorder returns a handler that appends "name>" on the way in and "<name"
// on the way out to a shared log.
func recorder(mu *sync.Mutex, log *[]string, name string) handler.Handler {
	return handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		mu.Lock()
		*log = append(*log, name+">")
		mu.Unlock()
		resp, err := next.RoundTrip(req)
		mu.Lock()
		*log = append(*log, "<"+name)
		mu.Unlock()
		return resp, err
	})
}

func TestChainOrder(t *testing.T) {
	tests := []struct {
		name     string
		handlers []string
		want     []string
	}{
		{"none", nil, []string{"base"}},
		{"one", []string{"a"}, []string{"a>", "base", "<a"}},
		{"three", []string{"a", "b", "c"}, []string{"a>", "b>", "c>", "base", "<c", "<b", "<a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var log []string
			base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				mu.Lock()
				log = append(log, "base")
				mu.Unlock()
				resp, _ := newResp(req, http.StatusOK, "")
				return resp, nil
			})
			var hs []handler.Handler
			for _, n := range tt.handlers {
				hs = append(hs, recorder(&mu, &log, n))
			}
			rt := handler.Chain(base, hs...)
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, tt.want, log)
		})
	}
}

func TestChainNilBaseIsDefaultTransport(t *testing.T) {
	assert.Same(t, http.DefaultTransport, handler.Chain(nil))

	var gotNext http.RoundTripper
	rt := handler.Chain(nil, handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		gotNext = next
		resp, _ := newResp(req, http.StatusOK, "")
		return resp, nil
	}))
	_, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
	require.NoError(t, err)
	assert.Same(t, http.DefaultTransport, gotNext)
}

func TestChainSkipsNilHandlers(t *testing.T) {
	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, _ := newResp(req, http.StatusTeapot, "")
		return resp, nil
	})
	var nilFunc handler.Func
	var mu sync.Mutex
	var log []string

	tests := []struct {
		name     string
		handlers []handler.Handler
		want     []string
	}{
		{"only nil", []handler.Handler{nil}, nil},
		{"nil Func", []handler.Handler{nilFunc}, nil},
		{"mixed", []handler.Handler{nil, recorder(&mu, &log, "a"), nilFunc, nil, recorder(&mu, &log, "b"), nil},
			[]string{"a>", "b>", "<b", "<a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log = nil
			rt := handler.Chain(base, tt.handlers...)
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			assert.Equal(t, http.StatusTeapot, resp.StatusCode)
			assert.Equal(t, tt.want, log)
		})
	}
}

// passThrough is a Func handler that does nothing but call next.
var passThrough = handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	return next.RoundTrip(req)
})

func TestChainAllocatesNothingPerRequest(t *testing.T) {
	req := mustRequest(t, http.MethodGet, "http://example.test/", nil)
	resp, _ := newResp(req, http.StatusOK, "")
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	rt := handler.Chain(base, passThrough, passThrough, passThrough, passThrough)

	allocs := testing.AllocsPerRun(1000, func() {
		got, err := rt.RoundTrip(req)
		if err != nil || got != resp {
			panic("unexpected result")
		}
	})
	assert.Zero(t, allocs)
}

func TestChainHandlerCallingNextTwice(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	var firstBody *trackedBody
	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		resp, tb := newResp(req, 200+len(bodies)-1, "")
		if firstBody == nil {
			firstBody = tb
		}
		return resp, nil
	})
	// twice sends the request, drops the first response and sends it again
	// with a fresh body.
	twice := handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r2 := req.Clone(req.Context())
		r2.Body = body
		return next.RoundTrip(r2)
	})
	var mu2 sync.Mutex
	var log []string
	rt := handler.Chain(base, recorder(&mu2, &log, "outer"), twice, recorder(&mu2, &log, "inner"))

	resp, err := rt.RoundTrip(mustRequest(t, http.MethodPost, "http://example.test/", strings.NewReader("payload")))
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode, "the second response is returned")
	assert.Equal(t, []string{"payload", "payload"}, bodies)
	assert.True(t, firstBody.closed(), "the dropped response's body is closed")
	assert.Equal(t, []string{"outer>", "inner>", "<inner", "inner>", "<inner", "<outer"}, log)
}

func TestChainAsClientTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Step"))
	}))
	defer srv.Close()

	step := handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		r2 := req.Clone(req.Context())
		r2.Header.Set("X-Step", "handled")
		return next.RoundTrip(r2)
	})
	client := &http.Client{Transport: handler.Chain(srv.Client().Transport, step)}
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "handled", string(b))
}

func TestFuncAndRoundTripperFunc(t *testing.T) {
	req := mustRequest(t, http.MethodGet, "http://example.test/", nil)
	want, _ := newResp(req, http.StatusOK, "")
	base := handler.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		assert.Same(t, req, r)
		return want, nil
	})
	got, err := passThrough.Handle(req, base)
	require.NoError(t, err)
	assert.Same(t, want, got)
}

func BenchmarkChain(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "http://example.test/", nil)
	require.NoError(b, err)
	resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(nil))}
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	for _, n := range []int{0, 1, 4, 16} {
		hs := make([]handler.Handler, n)
		for i := range hs {
			hs[i] = passThrough
		}
		rt := handler.Chain(base, hs...)
		b.Run(fmt.Sprintf("handlers=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rt.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
