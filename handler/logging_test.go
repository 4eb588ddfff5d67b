package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// logCapture is a JSON slog logger writing into a buffer.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: level}))
}

func (c *logCapture) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// records decodes every JSON line written so far.
func (c *logCapture) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(c.text()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		out = append(out, m)
	}
	return out
}

func TestLoggingRecord(t *testing.T) {
	errRefused := errors.New("dial tcp 10.0.0.1:443: connection refused")
	tests := []struct {
		name   string
		method string
		status int
		err    error
		opts   []handler.LogOption
		want   map[string]any
	}{
		{
			name: "success", method: http.MethodGet, status: 200,
			want: map[string]any{"level": "INFO", "method": "GET", "status": 200.0, "content_length": 2.0},
		},
		{
			name: "empty method is GET", method: "", status: 204,
			want: map[string]any{"level": "INFO", "method": "GET", "status": 204.0},
		},
		{
			name: "redirect is success", method: http.MethodGet, status: 304,
			want: map[string]any{"level": "INFO", "status": 304.0},
		},
		{
			name: "client error", method: http.MethodPost, status: 404,
			want: map[string]any{"level": "WARN", "method": "POST", "status": 404.0},
		},
		{
			name: "server error", method: http.MethodPatch, status: 503,
			want: map[string]any{"level": "WARN", "method": "PATCH", "status": 503.0},
		},
		{
			name: "transport error", method: http.MethodDelete, err: errRefused,
			want: map[string]any{"level": "ERROR", "method": "DELETE", "error": errRefused.Error()},
		},
		{
			name: "custom levels: success", method: http.MethodGet, status: 200,
			opts: []handler.LogOption{handler.LogLevels(slog.LevelDebug, slog.LevelError, slog.LevelError+4)},
			want: map[string]any{"level": "DEBUG"},
		},
		{
			name: "custom levels: http error", method: http.MethodGet, status: 500,
			opts: []handler.LogOption{handler.LogLevels(slog.LevelDebug, slog.LevelError, slog.LevelError+4)},
			want: map[string]any{"level": "ERROR"},
		},
		{
			name: "custom levels: transport error", method: http.MethodGet, err: errRefused,
			opts: []handler.LogOption{handler.LogLevels(slog.LevelDebug, slog.LevelError, slog.LevelError+4)},
			want: map[string]any{"level": "ERROR+4"},
		},
	}
	for _, tt := range tests {
		// In a bubble the clock moves only by the base's sleep, so the
		// logged duration is exact.
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var c logCapture
				var wantResp *http.Response
				base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
					time.Sleep(1500 * time.Millisecond)
					if tt.err != nil {
						return nil, tt.err
					}
					wantResp, _ = newResp(req, tt.status, "ok")
					return wantResp, nil
				})
				rt := handler.Chain(base, handler.Logging(c.logger(slog.LevelDebug), tt.opts...))
				req := mustRequest(t, http.MethodGet, "https://app.example.test/tables/todo?$top=5", nil)
				req.Method = tt.method

				resp, err := rt.RoundTrip(req)
				assert.Same(t, wantResp, resp, "the response is passed on unchanged")
				assert.Equal(t, tt.err, err, "the error is passed on unchanged")

				recs := c.records(t)
				require.Len(t, recs, 1, "one record per request")
				rec := recs[0]
				assert.Equal(t, handler.LogMessage, rec["msg"])
				assert.Equal(t, "https://app.example.test/tables/todo?$top=5", rec["url"])
				assert.Equal(t, float64(1500*time.Millisecond), rec["duration"])
				for k, v := range tt.want {
					assert.Equal(t, v, rec[k], "attribute %s", k)
				}
				if tt.err != nil {
					assert.NotContains(t, rec, "status")
					assert.NotContains(t, rec, "content_length")
				} else {
					assert.NotContains(t, rec, "error")
				}
				assert.NotContains(t, rec, "request_headers", "headers need LogHeaders")
			})
		})
	}
}

// secrets used by the redaction tests; each is distinctive so that any
// leak is found by a substring search.
const (
	secretAuth  = "zumoAuthTokenValue1234"
	secretApp   = "zumoAppKeyValue5678"
	secretBear  = "bearerTokenValue9012"
	secretQuery = "queryTokenValue3456"
	secretPass  = "userPassValue7890"
	secretFrag  = "fragmentTokenValue2468"
	secretSet   = "setCookieValue1357"
)

func secretRequest(t *testing.T) *http.Request {
	t.Helper()
	req := mustRequest(t, http.MethodGet,
		"https://alice:"+secretPass+"@app.example.test/tables/todo?token="+secretQuery+"&$top=5#access_token="+secretFrag, nil)
	req.Header.Set("X-ZUMO-AUTH", secretAuth)
	req.Header.Set("X-ZUMO-APPLICATION", secretApp)
	req.Header.Set("Authorization", "Bearer "+secretBear)
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	return req
}

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{secretAuth, secretApp, secretBear, secretQuery, secretPass, secretFrag, secretSet} {
		assert.NotContains(t, out, s)
	}
}

func TestLoggingRedactsSecrets(t *testing.T) {
	tests := []struct {
		name        string
		level       slog.Level
		base        handler.RoundTripperFunc
		wantHeaders bool
	}{
		{
			name:  "response, headers at debug",
			level: slog.LevelDebug,
			base: func(req *http.Request) (*http.Response, error) {
				resp, _ := newResp(req, 200, "")
				resp.Header.Set("Set-Cookie", "session="+secretSet)
				resp.Header.Set("X-Request-Id", "req-1")
				return resp, nil
			},
			wantHeaders: true,
		},
		{
			name:  "response, headers suppressed at info",
			level: slog.LevelInfo,
			base: func(req *http.Request) (*http.Response, error) {
				resp, _ := newResp(req, 401, "")
				resp.Header.Set("Set-Cookie", "session="+secretSet)
				return resp, nil
			},
		},
		{
			name:  "error echoing the URL and the tokens",
			level: slog.LevelDebug,
			base: func(req *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("Get %q: proxy refused %s, %s, %s, %s (%s)", req.URL.String(),
					req.Header.Get("X-Zumo-Auth"), req.Header.Get("X-Zumo-Application"),
					req.Header.Get("Authorization"), secretQuery, secretPass)
			},
			wantHeaders: true,
		},
		{
			name:  "error echoing the bare bearer token",
			level: slog.LevelDebug,
			base: func(req *http.Request) (*http.Response, error) {
				return nil, errors.New("token " + secretBear + " rejected")
			},
			wantHeaders: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c logCapture
			rt := handler.Chain(tt.base, handler.Logging(c.logger(tt.level), handler.LogHeaders()))
			resp, err := rt.RoundTrip(secretRequest(t))
			if resp != nil {
				resp.Body.Close()
			}
			_ = err

			out := c.text()
			assertNoSecrets(t, out)
			recs := c.records(t)
			require.Len(t, recs, 1)
			rec := recs[0]
			assert.Equal(t, "https://REDACTED@app.example.test/tables/todo?token=REDACTED&$top=5#access_token=REDACTED", rec["url"])
			if !tt.wantHeaders {
				assert.NotContains(t, rec, "request_headers")
				assert.NotContains(t, rec, "response_headers")
				return
			}
			reqH, ok := rec["request_headers"].(map[string]any)
			require.True(t, ok, "request_headers is an object: %v", rec["request_headers"])
			assert.Equal(t, []any{"REDACTED"}, reqH["X-Zumo-Auth"])
			assert.Equal(t, []any{"REDACTED"}, reqH["X-Zumo-Application"])
			assert.Equal(t, []any{"REDACTED"}, reqH["Authorization"])
			assert.Equal(t, []any{"2.0.0"}, reqH["Zumo-Api-Version"], "ordinary headers are kept")
			if err != nil {
				assert.Contains(t, rec["error"], "REDACTED")
				assert.NotContains(t, rec, "response_headers")
				return
			}
			respH, ok := rec["response_headers"].(map[string]any)
			require.True(t, ok, "response_headers is an object: %v", rec["response_headers"])
			assert.Equal(t, []any{"REDACTED"}, respH["Set-Cookie"])
			assert.Equal(t, []any{"req-1"}, respH["X-Request-Id"])
		})
	}
}

func TestLoggingNeverTouchesBodies(t *testing.T) {
	var c logCapture
	respBody := newTrackedBody("response body")
	var got *http.Request
	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		got = req
		resp, _ := newResp(req, 200, "")
		resp.Body = respBody
		return resp, nil
	})
	reqBody := newTrackedBody("request body")
	req := mustRequest(t, http.MethodPost, "https://app.example.test/tables/todo", nil)
	req.Body = reqBody

	resp, err := handler.Chain(base, handler.Logging(c.logger(slog.LevelDebug), handler.LogHeaders())).RoundTrip(req)
	require.NoError(t, err)
	assert.Same(t, req, got, "the request is passed on as is")
	assert.Same(t, respBody, resp.Body, "the response body is not wrapped")
	assert.Zero(t, reqBody.read.Load())
	assert.Zero(t, respBody.read.Load())
	assert.False(t, reqBody.closed())
	assert.False(t, respBody.closed())
	assert.NotContains(t, c.text(), "request body")
	assert.NotContains(t, c.text(), "response body")
}

func TestLoggingDisabledLevelWritesNothing(t *testing.T) {
	var c logCapture
	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, _ := newResp(req, 404, "")
		return resp, nil
	})
	rt := handler.Chain(base, handler.Logging(c.logger(slog.LevelError), handler.LogHeaders()))
	resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "https://app.example.test/", nil))
	require.NoError(t, err)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Empty(t, c.text())
}

func TestLoggingNilLoggerUsesDefault(t *testing.T) {
	var c logCapture
	old := slog.Default()
	slog.SetDefault(c.logger(slog.LevelInfo))
	t.Cleanup(func() { slog.SetDefault(old) })

	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, _ := newResp(req, 200, "")
		return resp, nil
	})
	_, err := handler.Chain(base, handler.Logging(nil)).RoundTrip(mustRequest(t, http.MethodGet, "https://app.example.test/", nil))
	require.NoError(t, err)
	recs := c.records(t)
	require.Len(t, recs, 1)
	assert.Equal(t, "https://app.example.test/", recs[0]["url"])
}

func TestLoggingUsesRequestContext(t *testing.T) {
	type key struct{}
	var gotCtxValue any
	h := &ctxHandler{Handler: slog.NewJSONHandler(io.Discard, nil), seen: func(v any) { gotCtxValue = v }, key: key{}}
	base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, _ := newResp(req, 200, "")
		return resp, nil
	})
	req := mustRequest(t, http.MethodGet, "https://app.example.test/", nil)
	req = req.WithContext(context.WithValue(req.Context(), key{}, "trace-1"))
	_, err := handler.Chain(base, handler.Logging(slog.New(h))).RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, "trace-1", gotCtxValue)
}

// ctxHandler is a slog.Handler that reports a context value of each record.
type ctxHandler struct {
	slog.Handler
	key  any
	seen func(any)
}

func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	h.seen(ctx.Value(h.key))
	return h.Handler.Handle(ctx, r)
}

func BenchmarkLogging(b *testing.B) {
	req, err := http.NewRequest(http.MethodGet, "https://app.example.test/tables/todo?$top=5&token=abcdef", nil)
	require.NoError(b, err)
	req.Header.Set("X-ZUMO-AUTH", "secret-token")
	resp := &http.Response{StatusCode: 200, ContentLength: 2, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(""))}
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	cases := []struct {
		name   string
		logger *slog.Logger
		opts   []handler.LogOption
	}{
		{"json", slog.New(slog.NewJSONHandler(io.Discard, nil)), nil},
		{"json+headers", slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})),
			[]handler.LogOption{handler.LogHeaders()}},
		{"disabled", slog.New(slog.DiscardHandler), nil},
	}
	for _, bc := range cases {
		rt := handler.Chain(base, handler.Logging(bc.logger, bc.opts...))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rt.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		in     string
		secret string // must not appear in the output; "" for none
		want   string // must appear in the output
	}{
		{"https://a.example/tables/t?$top=5", "", "$top=5"},
		{"https://a.example/.auth/login/aad/token?authorization_code=s3cr3t&code_verifier=v3r1f", "s3cr3t", "REDACTED"},
		{"https://a.example/.auth/login/aad/token?authorization_code=s3cr3t&code_verifier=v3r1f", "v3r1f", "REDACTED"},
		{"https://a.example/x?%61ccess_token=s3cr3t", "s3cr3t", "REDACTED"},
		{"https://a.example/.auth/login/done#token=%7B%22authenticationToken%22%3A%22s3cr3t%22%7D", "s3cr3t", "REDACTED"},
		{"https://user:p4ss@a.example/", "p4ss", "REDACTED"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		require.NoError(t, err)
		out := handler.RedactURL(u)
		if tt.secret != "" {
			assert.NotContains(t, out, tt.secret, tt.in)
		}
		assert.Contains(t, out, tt.want, tt.in)
	}
	assert.Equal(t, "", handler.RedactURL(nil))
}
