package handler_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// step is one scripted result of a scriptedBase.
type step struct {
	status     int
	retryAfter string
	header     map[string]string // more response headers
	body       string
	err        error
}

// scriptedBase is a RoundTripper that returns its steps in order, repeating
// the last one, and records what it was sent.
type scriptedBase struct {
	steps []step

	mu     sync.Mutex
	calls  int
	sent   [][]byte        // request bodies, read fully
	bodies []*trackedBody  // response bodies handed out
	reqs   []*http.Request // requests received
	at     []time.Time     // when each request came, on the bubble's clock
	onCall func(call int)  // optional hook, run before answering
}

func (s *scriptedBase) RoundTrip(req *http.Request) (*http.Response, error) {
	var sent []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		sent = b
	}
	s.mu.Lock()
	s.calls++
	call := s.calls
	s.sent = append(s.sent, sent)
	s.reqs = append(s.reqs, req)
	s.at = append(s.at, time.Now())
	st := s.steps[min(call, len(s.steps))-1]
	s.mu.Unlock()
	if s.onCall != nil {
		s.onCall(call)
	}
	if st.err != nil {
		return nil, st.err
	}
	resp, tb := newResp(req, st.status, st.body)
	if st.retryAfter != "" {
		resp.Header.Set("Retry-After", st.retryAfter)
	}
	for k, v := range st.header {
		resp.Header.Set(k, v)
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, tb)
	s.mu.Unlock()
	return resp, nil
}

func (s *scriptedBase) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// assertDiscardedClosed checks that every response body but the last one
// handed out was closed and the last (returned) one was not.
func (s *scriptedBase) assertDiscardedClosed(t *testing.T, returned bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.bodies {
		if i == len(s.bodies)-1 && returned {
			assert.False(t, b.closed(), "returned body %d must be left open", i)
			continue
		}
		assert.EqualValues(t, 1, b.closes.Load(), "discarded body %d must be closed once", i)
	}
}

// waits returns the time between consecutive tries. Inside a synctest
// bubble the clock moves only while every goroutine waits, so these are
// exactly Retry's delays, not timing measurements.
func (s *scriptedBase) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.at); i++ {
		out = append(out, s.at[i].Sub(s.at[i-1]))
	}
	return out
}

// bubble runs a test in a synctest bubble, where Retry's timers fire as
// soon as everything else waits.
func bubble(f func(t *testing.T)) func(t *testing.T) {
	return func(t *testing.T) { synctest.Test(t, f) }
}

func TestRetryStatuses(t *testing.T) {
	retryable := map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true}
	statuses := []int{200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 410,
		412, 413, 422, 425, 429, 431, 500, 501, 502, 503, 504, 505, 507, 511, 599}
	for _, status := range statuses {
		t.Run(fmt.Sprint(status), bubble(func(t *testing.T) {
			base := &scriptedBase{steps: []step{{status: status, body: "x"}}}
			rt := handler.Chain(base, handler.Retry(handler.RetryMaxAttempts(3)))

			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, status, resp.StatusCode)
			if retryable[status] {
				assert.Equal(t, 3, base.callCount())
				for _, w := range base.waits() {
					assert.LessOrEqual(t, w, time.Second, "a backoff within the default jitter range")
				}
			} else {
				assert.Equal(t, 1, base.callCount())
			}
			base.assertDiscardedClosed(t, true)
		}))
	}
}

func TestRetryCustomStatusesAndPredicate(t *testing.T) {
	tests := []struct {
		name   string
		opt    handler.RetryOption
		status int
		header string
		calls  int
	}{
		{"statuses replace the default: 404 retried", handler.RetryStatuses(404), 404, "", 2},
		{"statuses replace the default: 503 not retried", handler.RetryStatuses(404), 503, "", 1},
		{"no statuses: nothing retried", handler.RetryStatuses(), 503, "", 1},
		{"predicate yes", handler.RetryWhen(func(r *http.Response) bool { return r.Header.Get("X-Busy") == "1" }), 409, "1", 2},
		{"predicate no", handler.RetryWhen(func(r *http.Response) bool { return r.Header.Get("X-Busy") == "1" }), 503, "", 1},
		{"nil predicate restores default", handler.RetryWhen(nil), 503, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, bubble(func(t *testing.T) {
			var calls atomic.Int32
			base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
				calls.Add(1)
				resp, _ := newResp(req, tt.status, "")
				if tt.header != "" {
					resp.Header.Set("X-Busy", tt.header)
				}
				return resp, nil
			})
			rt := handler.Chain(base, handler.Retry(tt.opt, handler.RetryMaxAttempts(2)))
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.EqualValues(t, tt.calls, calls.Load())
		}))
	}
}

func TestRetryMethods(t *testing.T) {
	tests := []struct {
		method  string
		header  string // idempotency header to set, if any
		retried bool
	}{
		{"", "", true}, // GET
		{http.MethodGet, "", true},
		{http.MethodHead, "", true},
		{http.MethodOptions, "", true},
		{http.MethodPut, "", true},
		{http.MethodDelete, "", true},
		{http.MethodTrace, "", true},
		{http.MethodPost, "", false},
		{http.MethodPatch, "", false},
		{http.MethodConnect, "", false},
		{"PROPFIND", "", false},
		{http.MethodPost, "Idempotency-Key", true},
		{http.MethodPatch, "Idempotency-Key", true},
		{http.MethodPost, "X-Idempotency-Key", true},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+tt.header, bubble(func(t *testing.T) {
			base := &scriptedBase{steps: []step{{status: 503}, {status: 200}}}
			rt := handler.Chain(base, handler.Retry())
			req := mustRequest(t, http.MethodGet, "http://example.test/", strings.NewReader("body"))
			req.Method = tt.method
			if tt.header != "" {
				req.Header.Set(tt.header, "k-123")
			}
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			if tt.retried {
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, 2, base.callCount())
				assert.Equal(t, [][]byte{[]byte("body"), []byte("body")}, base.sent)
			} else {
				assert.Equal(t, 503, resp.StatusCode)
				assert.Equal(t, 1, base.callCount())
			}
			base.assertDiscardedClosed(t, true)
		}))
	}
}

func TestRetryIdempotencyKeyPresenceCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &scriptedBase{steps: []step{{status: 503}, {status: 200}}}
		rt := handler.Chain(base, handler.Retry())
		req := mustRequest(t, http.MethodPost, "http://example.test/", nil)
		req.Header["Idempotency-Key"] = nil // as net/http: the key's presence counts
		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, 2, base.callCount())
	})
}

func TestRetryAfter(t *testing.T) {
	// backoff stands for a delay drawn from the jitter range [0, base]:
	// the header was not honoured.
	const base, backoff = 100 * time.Millisecond, time.Duration(-1)
	tests := []struct {
		name       string
		retryAfter func(now time.Time) string
		opts       []handler.RetryOption
		wantCalls  int
		wantDelays []time.Duration
	}{
		{"seconds", func(time.Time) string { return "2" }, nil, 2, []time.Duration{2 * time.Second}},
		{"seconds with spaces", func(time.Time) string { return " 3 " }, nil, 2, []time.Duration{3 * time.Second}},
		{"zero", func(time.Time) string { return "0" }, nil, 2, []time.Duration{0}},
		{"date", func(now time.Time) string { return now.Add(10 * time.Second).UTC().Format(http.TimeFormat) }, nil, 2, []time.Duration{10 * time.Second}},
		{"date in the past", func(now time.Time) string { return now.Add(-time.Hour).UTC().Format(http.TimeFormat) }, nil, 2, []time.Duration{0}},
		{"garbage falls back to backoff", func(time.Time) string { return "soon" }, nil, 2, []time.Duration{backoff}},
		{"negative falls back to backoff", func(time.Time) string { return "-5" }, nil, 2, []time.Duration{backoff}},
		{"fraction falls back to backoff", func(time.Time) string { return "1.5" }, nil, 2, []time.Duration{backoff}},
		{"at the default cap", func(time.Time) string { return "60" }, nil, 2, []time.Duration{time.Minute}},
		{"over the default cap gives up", func(time.Time) string { return "61" }, nil, 1, nil},
		{"huge gives up", func(time.Time) string { return "99999999999999999999" }, nil, 1, nil},
		{"date over the cap gives up", func(now time.Time) string { return now.Add(2 * time.Minute).UTC().Format(http.TimeFormat) }, nil, 1, nil},
		{"over a custom cap gives up", func(time.Time) string { return "6" },
			[]handler.RetryOption{handler.RetryMaxRetryAfter(5 * time.Second)}, 1, nil},
		{"within a custom cap", func(time.Time) string { return "5" },
			[]handler.RetryOption{handler.RetryMaxRetryAfter(5 * time.Second)}, 2, []time.Duration{5 * time.Second}},
		{"not capped by max delay", func(time.Time) string { return "45" },
			[]handler.RetryOption{handler.RetryMaxDelay(time.Second)}, 2, []time.Duration{45 * time.Second}},
	}
	for _, tt := range tests {
		// In a bubble the clock stands still unless every goroutine is
		// blocked, so an HTTP date converts to an exact delay.
		t.Run(tt.name, bubble(func(t *testing.T) {
			b := &scriptedBase{steps: []step{{status: 503, retryAfter: tt.retryAfter(time.Now())}, {status: 200}}}
			opts := append([]handler.RetryOption{handler.RetryBaseDelay(base)}, tt.opts...)
			rt := handler.Chain(b, handler.Retry(opts...))

			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			assert.Equal(t, tt.wantCalls, b.callCount())
			got := b.waits()
			if len(tt.wantDelays) == 1 && tt.wantDelays[0] == backoff && assert.Len(t, got, 1) {
				assert.LessOrEqual(t, got[0], base, "a backoff, not the header's delay")
			} else {
				assert.Equal(t, tt.wantDelays, got)
			}
			if tt.wantCalls == 1 {
				assert.Equal(t, 503, resp.StatusCode, "the response asking for too long a wait is returned")
			} else {
				assert.Equal(t, 200, resp.StatusCode)
			}
			b.assertDiscardedClosed(t, true)
		}))
	}
}

// Azure's millisecond headers: more precise, so they come first.
func TestRetryAfterMilliseconds(t *testing.T) {
	tests := []struct {
		name       string
		header     map[string]string
		wantCalls  int
		wantDelays []time.Duration
	}{
		{"retry-after-ms", map[string]string{"retry-after-ms": "1500"}, 2, []time.Duration{1500 * time.Millisecond}},
		{"x-ms-retry-after-ms", map[string]string{"x-ms-retry-after-ms": "250"}, 2, []time.Duration{250 * time.Millisecond}},
		{"before Retry-After", map[string]string{"retry-after-ms": "100", "Retry-After": "7"}, 2, []time.Duration{100 * time.Millisecond}},
		{"garbage falls back to Retry-After", map[string]string{"retry-after-ms": "soon", "Retry-After": "7"}, 2, []time.Duration{7 * time.Second}},
		{"over the cap gives up", map[string]string{"retry-after-ms": "60001"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, bubble(func(t *testing.T) {
			b := &scriptedBase{steps: []step{{status: 429, header: tt.header}, {status: 200}}}
			rt := handler.Chain(b, handler.Retry())
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.wantCalls, b.callCount())
			assert.Equal(t, tt.wantDelays, b.waits())
		}))
	}
}

func TestRetryDefaultJitterWithinRange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rt := handler.Retry()
		var delays []time.Duration
		for range 50 {
			b := &scriptedBase{steps: []step{{status: 503}}}
			resp, err := handler.Chain(b, rt).RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			resp.Body.Close()
			delays = append(delays, b.waits()...)
		}
		require.Len(t, delays, 150)
		var sum time.Duration
		for i, d := range delays {
			ceil := 500 * time.Millisecond << (i % 3)
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, ceil)
			sum += d
		}
		// 150 uniform draws: the mean is half the mean ceiling, far from 0.
		assert.Greater(t, sum, 150*(500*time.Millisecond)/10, "the delays are drawn, not zero")
	})
}

func TestRetryAttemptsBounded(t *testing.T) {
	tests := []struct {
		max, calls int
	}{{-1, 1}, {0, 1}, {1, 1}, {2, 2}, {4, 4}, {10, 10}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), bubble(func(t *testing.T) {
			b := &scriptedBase{steps: []step{{status: 503, body: "busy"}}}
			rt := handler.Chain(b, handler.Retry(handler.RetryMaxAttempts(tt.max)))
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			require.NoError(t, err)
			assert.Equal(t, 503, resp.StatusCode)
			assert.Equal(t, tt.calls, b.callCount())
			assert.Len(t, b.waits(), tt.calls-1)
			b.assertDiscardedClosed(t, true)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, "busy", string(body), "the returned body is intact")
		}))
	}
	t.Run("default is four", bubble(func(t *testing.T) {
		b := &scriptedBase{steps: []step{{status: 503}}}
		_, err := handler.Chain(b, handler.Retry()).
			RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
		require.NoError(t, err)
		assert.Equal(t, 4, b.callCount())
	}))
}

func TestRetryTransportErrors(t *testing.T) {
	errDial := errors.New("dial tcp: connection refused")
	tests := []struct {
		name       string
		steps      []step
		wantCalls  int
		wantStatus int
		wantErr    error
	}{
		{"recovers", []step{{err: errDial}, {err: errDial}, {status: 200}}, 3, 200, nil},
		{"error then retryable status then success", []step{{err: errDial}, {status: 502}, {status: 204}}, 3, 204, nil},
		{"gives up with the last error", []step{{err: errDial}}, 4, 0, errDial},
		{"status then error: last error wins", []step{{status: 503}, {err: errDial}}, 4, 0, errDial},
	}
	for _, tt := range tests {
		t.Run(tt.name, bubble(func(t *testing.T) {
			b := &scriptedBase{steps: tt.steps}
			rt := handler.Chain(b, handler.Retry())
			resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
			assert.Equal(t, tt.wantCalls, b.callCount())
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, resp)
				b.assertDiscardedClosed(t, false)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			b.assertDiscardedClosed(t, true)
		}))
	}
}

func TestRetryTransportErrorAfterContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &scriptedBase{steps: []step{{err: context.Canceled}}, onCall: func(int) { cancel() }}
	rt := handler.Chain(b, handler.Retry())
	req := mustRequest(t, http.MethodGet, "http://example.test/", nil).WithContext(ctx)
	resp, err := rt.RoundTrip(req)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, resp)
	assert.Equal(t, 1, b.callCount(), "no second try")
}

func TestRetryContextCancelledDuringBackoff(t *testing.T) {
	tests := []struct {
		name  string
		body  bool
		steps []step
	}{
		{"after a retryable status", false, []step{{status: 503, body: "busy"}}},
		{"after a Retry-After", true, []step{{status: 429, retryAfter: "30"}}},
		{"after a transport error", true, []step{{err: errors.New("connection reset")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &scriptedBase{steps: tt.steps}
				// The real timer-based sleep: time is fake in the bubble.
				rt := handler.Chain(b, handler.Retry())

				ctx, cancel := context.WithCancel(t.Context())
				var body io.Reader
				if tt.body {
					body = strings.NewReader("payload")
				}
				req := mustRequest(t, http.MethodPut, "http://example.test/", body).WithContext(ctx)
				var replays []*trackedBody
				if tt.body {
					req.GetBody = func() (io.ReadCloser, error) {
						tb := newTrackedBody("payload")
						replays = append(replays, tb)
						return tb, nil
					}
				}

				type result struct {
					resp *http.Response
					err  error
				}
				done := make(chan result, 1)
				go func() {
					resp, err := rt.RoundTrip(req)
					done <- result{resp, err}
				}()
				synctest.Wait() // the retry is now blocked in its backoff
				assert.Equal(t, 1, b.callCount())
				b.assertDiscardedClosed(t, false)
				select {
				case <-done:
					t.Fatal("Retry returned before the context was cancelled")
				default:
				}

				cancel()
				res := <-done
				assert.ErrorIs(t, res.err, context.Canceled)
				assert.Nil(t, res.resp)
				assert.Equal(t, 1, b.callCount(), "no try after cancellation")
				for i, r := range replays {
					assert.True(t, r.closed(), "unsent replay body %d is closed", i)
				}
			})
		})
	}
}

func TestRetryDefaultSleepWaitsForRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &scriptedBase{steps: []step{{status: 503, retryAfter: "3"}, {status: 429, retryAfter: "2"}, {status: 200}}}
		rt := handler.Chain(b, handler.Retry())
		start := time.Now()
		resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		// The bubble's clock only moves when everything waits on it, so
		// this is exact, not a timing measurement.
		assert.Equal(t, 5*time.Second, time.Since(start))
	})
}

func TestRetryReplaysBodyByteForByte(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		payload := make([]byte, 1<<20)
		_, err := rand.Read(payload)
		require.NoError(t, err)

		b := &scriptedBase{steps: []step{{status: 503}, {err: errors.New("reset")}, {status: 500}, {status: 201}}}
		rt := handler.Chain(b, handler.Retry())
		req := mustRequest(t, http.MethodPut, "http://example.test/tables/items/1", bytes.NewReader(payload))
		require.NotNil(t, req.GetBody)

		resp, err := rt.RoundTrip(req)
		require.NoError(t, err)
		assert.Equal(t, 201, resp.StatusCode)
		require.Equal(t, 4, b.callCount())
		for i, sent := range b.sent {
			assert.Len(t, sent, len(payload), "try %d", i)
			assert.True(t, bytes.Equal(payload, sent), "try %d body differs", i)
			assert.EqualValues(t, len(payload), b.reqs[i].ContentLength, "try %d", i)
		}
	})
}

func TestRetryNonReplayableBody(t *testing.T) {
	tests := []struct {
		name    string
		body    func() io.Reader
		getBody bool // keep GetBody as NewRequest set it
		calls   int
	}{
		{"opaque body without GetBody", func() io.Reader { return io.NopCloser(strings.NewReader("x")) }, true, 1},
		{"GetBody removed", func() io.Reader { return strings.NewReader("x") }, false, 1},
		{"no body", func() io.Reader { return nil }, false, 4},
		{"http.NoBody without GetBody", func() io.Reader { return http.NoBody }, false, 4},
		{"replayable body", func() io.Reader { return strings.NewReader("x") }, true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, bubble(func(t *testing.T) {
			b := &scriptedBase{steps: []step{{status: 503}}}
			rt := handler.Chain(b, handler.Retry())
			req := mustRequest(t, http.MethodPut, "http://example.test/", tt.body())
			if !tt.getBody {
				req.GetBody = nil
			}
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			assert.Equal(t, 503, resp.StatusCode)
			assert.Equal(t, tt.calls, b.callCount())
		}))
	}
}

func TestRetryGetBodyFails(t *testing.T) {
	b := &scriptedBase{steps: []step{{status: 503, body: "busy"}, {status: 200}}}
	rt := handler.Chain(b, handler.Retry())
	req := mustRequest(t, http.MethodPut, "http://example.test/", strings.NewReader("x"))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("gone") }

	resp, err := rt.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode, "the last real response is returned")
	assert.Equal(t, 1, b.callCount(), "no second try")
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "busy", string(got), "its body is intact")
}

func TestRetryDrainsDiscardedBodiesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		big := strings.Repeat("x", 1<<20)
		b := &scriptedBase{steps: []step{{status: 503, body: "short"}, {status: 503, body: big}, {status: 200, body: "ok"}}}
		rt := handler.Chain(b, handler.Retry())
		resp, err := rt.RoundTrip(mustRequest(t, http.MethodGet, "http://example.test/", nil))
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		b.assertDiscardedClosed(t, true)
		require.Len(t, b.bodies, 3)
		assert.EqualValues(t, len("short"), b.bodies[0].read.Load(), "a short body is drained")
		assert.EqualValues(t, 64<<10, b.bodies[1].read.Load(), "a long body is drained only up to the limit")
		assert.Zero(t, b.bodies[2].read.Load(), "the returned body is not read")
	})
}

func TestRetryConcurrentUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			// Every other try fails; with ten attempts each request gets through.
			if calls.Add(1)%2 == 1 {
				resp, _ := newResp(req, 503, "")
				return resp, nil
			}
			resp, _ := newResp(req, 200, "")
			return resp, nil
		})
		rt := handler.Chain(base, handler.Retry(handler.RetryMaxAttempts(10)))
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 50 {
					req, err := http.NewRequest(http.MethodPut, "http://example.test/", strings.NewReader("abc"))
					if !assert.NoError(t, err) {
						return
					}
					resp, err := rt.RoundTrip(req)
					if assert.NoError(t, err) {
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
	})
}
