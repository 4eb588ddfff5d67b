package handler

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry defaults.
const (
	DefaultRetryMaxAttempts   = 4 // total tries, the first included
	DefaultRetryBaseDelay     = 500 * time.Millisecond
	DefaultRetryMaxDelay      = 30 * time.Second // cap of one backoff delay
	DefaultRetryMaxRetryAfter = 60 * time.Second // longest Retry-After honoured
)

// drainLimit bounds how much of a discarded response body Retry reads so
// that the connection can be reused; a longer body is closed unread.
const drainLimit = 64 << 10

// A RetryOption configures the Handler that Retry returns.
type RetryOption func(*retryConfig)

type retryConfig struct {
	maxAttempts   int
	baseDelay     time.Duration
	maxDelay      time.Duration
	maxRetryAfter time.Duration
	retryable     func(*http.Response) bool
	randN         func(n int64) int64 // uniform in [0, n); rand.Int64N but in tests
}

// RetryMaxAttempts sets the total number of tries, the first included
// (default DefaultRetryMaxAttempts). n < 1 is treated as 1: no retries.
func RetryMaxAttempts(n int) RetryOption {
	return func(c *retryConfig) { c.maxAttempts = max(n, 1) }
}

// RetryBaseDelay sets the backoff before the first retry; each later retry
// doubles it, up to the maximum delay (default DefaultRetryBaseDelay).
// The actual delay is drawn uniformly from zero to that value (full
// jitter). d < 0 is treated as 0.
func RetryBaseDelay(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.baseDelay = max(d, 0) }
}

// RetryMaxDelay caps one backoff delay (default DefaultRetryMaxDelay).
// It does not cap a server's Retry-After; see RetryMaxRetryAfter.
// d < 0 is treated as 0.
func RetryMaxDelay(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.maxDelay = max(d, 0) }
}

// RetryMaxRetryAfter sets the longest Retry-After Retry will wait for
// (default DefaultRetryMaxRetryAfter). When a server asks for a longer
// wait, Retry gives up and returns that response. d < 0 is treated as 0.
func RetryMaxRetryAfter(d time.Duration) RetryOption {
	return func(c *retryConfig) { c.maxRetryAfter = max(d, 0) }
}

// RetryStatuses replaces the set of response statuses that are retried
// (default 408, 429, 500, 502, 503 and 504). With no codes, no response is
// retried; transport errors still are.
func RetryStatuses(codes ...int) RetryOption {
	set := make(map[int]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return RetryWhen(func(resp *http.Response) bool { return set[resp.StatusCode] })
}

// RetryWhen replaces the test that decides whether a response is retried;
// it overrides RetryStatuses. f gets a response whose body it must not
// read or close, and must be safe for concurrent use. A nil f restores the
// default status set.
func RetryWhen(f func(resp *http.Response) bool) RetryOption {
	return func(c *retryConfig) { c.retryable = f }
}

// Retry returns a Handler that sends a request again when it fails in a
// way that is likely to be transient: a transport error, or a response
// whose status is 408, 429, 500, 502, 503 or 504 (see RetryStatuses and
// RetryWhen).
//
// Only requests that are safe to repeat are retried: GET, HEAD, OPTIONS,
// PUT, DELETE and TRACE, and any request with an Idempotency-Key or
// X-Idempotency-Key header. A request with a body is retried only if the
// body can be replayed: each retry sends a fresh body from req.GetBody, and
// a request with a body but no GetBody is sent exactly once. A transport
// error is not retried once the request's context is done.
//
// Between tries Retry waits for the response's Retry-After-Ms or
// X-Ms-Retry-After-Ms (Azure's milliseconds), else its Retry-After (seconds
// or an HTTP date), when it has one, and otherwise for an exponential backoff with
// full jitter: a random delay between zero and base·2ⁿ (n retries so far),
// capped at the maximum delay. A Retry-After longer than the cap set by
// RetryMaxRetryAfter ends the retries at once. Before waiting, Retry reads
// (at most 64 KiB of) and closes the body of the response it discards.
//
// Retry returns the last response or transport error, unchanged, when the
// request is not retryable, succeeds, gives up or runs out of attempts. If
// the context is done while it waits, it returns nil and the context's
// error, with every response body it received closed. If GetBody fails, it
// returns the previous response or error as if it had run out of attempts.
//
// The returned Handler is safe for concurrent use.
func Retry(opts ...RetryOption) Handler {
	c := retryConfig{
		randN:         rand.Int64N,
		maxAttempts:   DefaultRetryMaxAttempts,
		baseDelay:     DefaultRetryBaseDelay,
		maxDelay:      DefaultRetryMaxDelay,
		maxRetryAfter: DefaultRetryMaxRetryAfter,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.retryable == nil {
		c.retryable = defaultRetryable
	}
	return &retry{c: c}
}

type retry struct {
	c retryConfig
}

func defaultRetryable(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (r *retry) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if r.c.maxAttempts <= 1 || !replayable(req) {
		return next.RoundTrip(req)
	}
	ctx := req.Context()
	send := req
	for attempt := 1; ; attempt++ {
		resp, err := next.RoundTrip(send)
		if attempt >= r.c.maxAttempts {
			return resp, err
		}
		var delay time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return resp, err
			}
			delay = r.backoff(attempt)
		case resp == nil || !r.c.retryable(resp):
			return resp, err
		default:
			d, ok, has := r.retryAfter(resp)
			if has && !ok {
				return resp, err // the server wants a longer wait than we allow
			}
			if !has {
				d = r.backoff(attempt)
			}
			delay = d
		}

		// Get the next body first: if that fails, the caller still gets
		// this try's result rather than nothing.
		nextReq := req
		if req.Body != nil && req.Body != http.NoBody {
			body, gerr := req.GetBody()
			if gerr != nil {
				return resp, err
			}
			nextReq = req.WithContext(ctx) // shallow copy; only Body differs
			nextReq.Body = body
		}
		if resp != nil {
			discard(resp)
		}
		if serr := sleepContext(ctx, delay); serr != nil {
			if nextReq.Body != nil && nextReq != req {
				nextReq.Body.Close()
			}
			return nil, serr
		}
		send = nextReq
	}
}

// backoff returns the full-jitter delay before retry number n (n ≥ 1).
func (r *retry) backoff(n int) time.Duration {
	ceil := r.c.baseDelay
	for i := 1; i < n && ceil < r.c.maxDelay; i++ {
		if ceil > r.c.maxDelay/2 {
			ceil = r.c.maxDelay
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, r.c.maxDelay)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(r.c.randN(int64(ceil) + 1))
}

// retryAfter parses resp's Retry-After header. has reports whether there is
// a valid one; ok reports whether its delay d is within the allowed
// maximum. A date in the past gives 0.
func (r *retry) retryAfter(resp *http.Response) (d time.Duration, ok, has bool) {
	// Azure's millisecond forms come first: they are the more precise.
	for _, name := range []string{"Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
		if v := strings.TrimSpace(resp.Header.Get(name)); isDigits(v) {
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms > r.c.maxRetryAfter.Milliseconds() {
				return 0, false, true
			}
			return time.Duration(ms) * time.Millisecond, true, true
		}
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false, false
	}
	if isDigits(v) {
		// delay-seconds; too many digits for an int64 is just a long wait.
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(r.c.maxRetryAfter/time.Second) {
			return 0, false, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(time.Until(t), 0)
	} else {
		return 0, false, false
	}
	if d > r.c.maxRetryAfter {
		return 0, false, true
	}
	return d, true, true
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// replayable reports whether req may be sent more than once: its method is
// idempotent (or it carries an idempotency key) and its body, if any, can
// be recreated.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions,
		http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	// The same test net/http uses: the header's presence is what counts.
	_, k1 := req.Header["Idempotency-Key"]
	_, k2 := req.Header["X-Idempotency-Key"]
	return k1 || k2
}

// discard reads a bounded amount of resp's body, so that the connection
// can be reused, and closes it.
func discard(resp *http.Response) {
	if resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}

// sleepContext waits for d or until ctx is done.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
