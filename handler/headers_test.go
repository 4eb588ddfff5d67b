package handler_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// captureBase returns a base that records the headers of each request it
// receives and the request itself.
func captureBase() (handler.RoundTripperFunc, func() (*http.Request, http.Header)) {
	var mu sync.Mutex
	var last *http.Request
	var hdr http.Header
	base := func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		last, hdr = req, req.Header.Clone()
		mu.Unlock()
		resp, _ := newResp(req, http.StatusOK, "")
		return resp, nil
	}
	return base, func() (*http.Request, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		return last, hdr
	}
}

func TestHeaders(t *testing.T) {
	tests := []struct {
		name     string
		static   http.Header
		ifAbsent bool
		reqHdr   http.Header
		want     http.Header
	}{
		{
			name:   "adds to an empty request",
			static: http.Header{"Zumo-Api-Version": {"2.0.0"}, "X-Multi": {"a", "b"}},
			reqHdr: http.Header{},
			want:   http.Header{"Zumo-Api-Version": {"2.0.0"}, "X-Multi": {"a", "b"}},
		},
		{
			name:   "replaces existing values",
			static: http.Header{"Zumo-Api-Version": {"2.0.0"}},
			reqHdr: http.Header{"Zumo-Api-Version": {"1.0.0", "3.0.0"}, "Accept": {"text/plain"}},
			want:   http.Header{"Zumo-Api-Version": {"2.0.0"}, "Accept": {"text/plain"}},
		},
		{
			name:   "canonicalises names",
			static: http.Header{"zumo-api-version": {"2.0.0"}, "X-FOO": {"1"}, "x-foo": {"2"}},
			reqHdr: http.Header{},
			want:   http.Header{"Zumo-Api-Version": {"2.0.0"}, "X-Foo": {"1", "2"}},
		},
		{
			name:   "names without values are ignored",
			static: http.Header{"X-Empty": {}, "X-Nil": nil, "X-Set": {"v"}},
			reqHdr: http.Header{"X-Empty": {"kept"}},
			want:   http.Header{"X-Empty": {"kept"}, "X-Set": {"v"}},
		},
		{
			name:   "nil request header map",
			static: http.Header{"X-Set": {"v"}},
			reqHdr: nil,
			want:   http.Header{"X-Set": {"v"}},
		},
		{
			name:     "if absent: keeps the request's value",
			static:   http.Header{"Zumo-Api-Version": {"2.0.0"}, "User-Agent": {"zumo"}},
			ifAbsent: true,
			reqHdr:   http.Header{"Zumo-Api-Version": {"3.0.0"}},
			want:     http.Header{"Zumo-Api-Version": {"3.0.0"}, "User-Agent": {"zumo"}},
		},
		{
			name:     "if absent: an empty value counts as absent",
			static:   http.Header{"X-A": {"default"}},
			ifAbsent: true,
			reqHdr:   http.Header{"X-A": {}},
			want:     http.Header{"X-A": {"default"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, last := captureBase()
			h := handler.Headers(tt.static)
			if tt.ifAbsent {
				h = handler.HeadersIfAbsent(tt.static)
			}
			req := mustRequest(t, http.MethodGet, "http://example.test/", nil)
			req.Header = tt.reqHdr.Clone()
			before := req.Header.Clone()

			_, err := handler.Chain(base, h).RoundTrip(req)
			require.NoError(t, err)
			_, got := last()
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, req.Header, "the caller's request is not changed")
		})
	}
}

func TestHeadersPassThroughWithoutCopy(t *testing.T) {
	tests := []struct {
		name string
		h    handler.Handler
	}{
		{"nil header", handler.Headers(nil)},
		{"empty header", handler.Headers(http.Header{"X-Empty": {}})},
		{"if absent, all present", handler.HeadersIfAbsent(http.Header{"X-A": {"default"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, last := captureBase()
			req := mustRequest(t, http.MethodGet, "http://example.test/", nil)
			req.Header.Set("X-A", "mine")
			_, err := handler.Chain(base, tt.h).RoundTrip(req)
			require.NoError(t, err)
			got, _ := last()
			assert.Same(t, req, got)
		})
	}
}

func TestHeadersCopiedAtConstruction(t *testing.T) {
	static := http.Header{"X-A": {"one"}}
	vals := static["X-A"]
	h := handler.Headers(static)
	static.Set("X-A", "changed")
	static.Set("X-B", "added")
	vals[0] = "mutated"

	base, last := captureBase()
	_, err := handler.Chain(base, h).RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
	require.NoError(t, err)
	_, got := last()
	assert.Equal(t, http.Header{"X-A": {"one"}}, got)
}

func TestHeadersValuesNotSharedBetweenRequests(t *testing.T) {
	// A later handler that edits the values in place (which it should not,
	// but might) must not change what the next request gets.
	vandal := handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		req.Header["X-A"][0] = "vandalised"
		req.Header["X-A"] = append(req.Header["X-A"], "extra")
		return next.RoundTrip(req)
	})
	base, last := captureBase()
	rt := handler.Chain(base, handler.Headers(http.Header{"X-A": {"one"}}), vandal)
	for range 3 {
		_, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
		require.NoError(t, err)
		_, got := last()
		assert.Equal(t, []string{"vandalised", "extra"}, got["X-A"])
	}
}

func TestHeadersConcurrentUse(t *testing.T) {
	base, _ := captureBase()
	rt := handler.Chain(base,
		handler.Headers(http.Header{"Zumo-Api-Version": {"2.0.0"}}),
		handler.HeadersIfAbsent(http.Header{"User-Agent": {"zumo"}}))
	shared := mustRequest(t, http.MethodGet, "http://example.test/", nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				// The same request from many goroutines: only safe because
				// the handlers never write to it.
				resp, err := rt.RoundTrip(shared)
				if assert.NoError(t, err) {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	assert.Empty(t, shared.Header)
}
