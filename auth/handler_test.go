package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

const appURL = "https://app.example/"

// authority mints the tests' tokens and remembers every one, so that a
// test can check that none leaks.
type authority struct {
	mu      sync.Mutex
	n       int
	ttl     time.Duration
	minted  []string
	revoked map[string]bool
	// notBefore: tokens issued before it are refused (key rotation).
	notBefore time.Time
	// lag: the server's clock is this far behind the client's.
	lag time.Duration
}

func newAuthority() *authority {
	return &authority{ttl: time.Hour, revoked: map[string]bool{}}
}

// mint returns a fresh token for sub expiring at exp (now+ttl when zero).
func (a *authority) mint(sub string, exp time.Time) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	now := time.Now().Add(-a.lag)
	iat := now
	if exp.IsZero() {
		exp = now.Add(a.ttl)
	} else if exp.Sub(now) < a.ttl {
		// A token with less than a ttl left was issued a ttl before it
		// expires, as the server's would have been.
		iat = exp.Add(-a.ttl)
	}
	tok := signClaims(jwt.MapClaims{"sub": sub, "exp": exp.Unix(), "iat": iat.Unix(), "jti": fmt.Sprint(a.n)})
	a.minted = append(a.minted, tok)
	return tok
}

func (a *authority) user(exp time.Time) *User { return NewUser("sid:alice", a.mint("sid:alice", exp)) }

func (a *authority) revoke(tok string) {
	a.mu.Lock()
	a.revoked[tok] = true
	a.mu.Unlock()
}

// valid reports whether the server accepts tok now.
func (a *authority) valid(tok string) bool { return a.validWithin(tok, 0) }

// validWithin is valid for a token expired less than grace ago.
func (a *authority) validWithin(tok string, grace time.Duration) bool {
	if tok == "" {
		return false
	}
	c, err := ReadClaims(tok)
	if err != nil {
		return false
	}
	var mc jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &mc); err != nil {
		return false
	}
	iat, _ := mc.GetIssuedAt()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revoked[tok] {
		return false
	}
	if !a.notBefore.IsZero() && (iat == nil || iat.Time.Before(a.notBefore)) {
		return false
	}
	return c.ExpiresAt.IsZero() || time.Now().Add(-a.lag).Before(c.ExpiresAt.Add(grace))
}

// refreshable reports whether the server refreshes tok now: one it would
// accept, or expired less than 72 hours ago (App Service's grace).
func (a *authority) refreshable(tok string) bool { return a.validWithin(tok, 72*time.Hour) }

func (a *authority) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.minted...)
}

// backend is the fake Mobile Apps server at the bottom of the chain: no
// network, so it runs inside a synctest bubble.
type backend struct {
	auth *authority
	t    testing.TB

	mu      sync.Mutex
	sends   int
	withTok map[string]int // sends per token ("" for none)
	bodies  [][]byte
	hosts   []string
	delay   func(n int) time.Duration // before answering send n (1-based)
	reject  func(tok string) bool     // nil: refuse what the authority refuses
	body401 []byte
}

func newBackend(t testing.TB, a *authority) *backend {
	return &backend{auth: a, t: t, withTok: map[string]int{},
		body401: []byte(`{"error":"Unauthorized"}`)}
}

func (b *backend) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	tok := req.Header.Get(headerAuth)
	b.mu.Lock()
	b.sends++
	n := b.sends
	b.withTok[tok]++
	b.bodies = append(b.bodies, body)
	b.hosts = append(b.hosts, req.URL.Scheme+"://"+req.URL.Host)
	delay, reject := b.delay, b.reject
	b.mu.Unlock()
	if delay != nil {
		if d := delay(n); d > 0 {
			time.Sleep(d)
		}
	}
	refused := !b.auth.valid(tok)
	if reject != nil {
		refused = reject(tok)
	}
	if refused {
		h := http.Header{"Www-Authenticate": {`Bearer realm="app"`}, "X-Request-Id": {fmt.Sprint("req-", n)},
			"Content-Type": {"application/octet-stream"}}
		return &http.Response{StatusCode: 401, Status: "401 Unauthorized", Header: h,
			Body: io.NopCloser(bytes.NewReader(b.body401)), ContentLength: int64(len(b.body401)), Request: req}, nil
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
}

func (b *backend) count() (sends int, byTok map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]int, len(b.withTok))
	for k, v := range b.withTok {
		m[k] = v
	}
	return b.sends, m
}

func (b *backend) allBodies() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.bodies...)
}

// fakeAuthn counts logins; each takes delay (bubble time) and returns a
// fresh user from the authority, or err.
type fakeAuthn struct {
	auth  *authority
	calls atomic.Int64
	delay time.Duration
	mu    sync.Mutex
	err   error
	block chan struct{} // when set, wait for it, ignoring ctx
}

func (f *fakeAuthn) setErr(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

func (f *fakeAuthn) Authenticate(ctx context.Context, s *Service) (*User, error) {
	f.calls.Add(1)
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		<-block
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.auth.user(time.Time{}), nil
}

// env is one handler under test with its fakes.
type env struct {
	t         testing.TB
	auth      *authority
	srv       *backend
	authn     *fakeAuthn
	svc       *Service
	h         *Handler
	rt        http.RoundTripper
	refreshes atomic.Int64
	refFail   atomic.Bool
	logBuf    *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv makes the fakes; build makes the handler.
func newEnv(t testing.TB) *env {
	a := newAuthority()
	e := &env{t: t, auth: a, srv: newBackend(t, a), authn: &fakeAuthn{auth: a}, logBuf: &syncBuffer{}}
	e.svc = &Service{AppURL: mustURL(t, appURL), Client: &http.Client{Transport: handler.RoundTripperFunc(e.loginServer)}}
	return e
}

// loginServer answers the Service's refresh requests.
func (e *env) loginServer(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/.auth/refresh" {
		e.t.Errorf("unexpected login-side request %s %s", req.Method, req.URL)
		return nil, errors.New("unexpected")
	}
	if req.Header.Get("X-Zumo-Features") != "RT" {
		e.t.Errorf("refresh without X-ZUMO-FEATURES: RT")
	}
	old := req.Header.Get("X-Zumo-Auth")
	e.refreshes.Add(1)
	if e.refFail.Load() || !e.auth.refreshable(old) {
		return &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader(`{"error":"cannot refresh"}`)), Header: http.Header{}}, nil
	}
	body := loginJSON("sid:alice", e.auth.mint("sid:alice", time.Time{}))
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
}

func (e *env) build(opts ...Option) *Handler {
	logger := slog.New(slog.NewJSONHandler(e.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	all := append([]Option{WithAuthenticator(e.authn), WithLogger(logger)}, opts...)
	e.h = NewHandler(e.svc, all...)
	e.rt = handler.Chain(e.srv, e.h)
	return e.h
}

// newReq builds a request as the zumo client does.
func newReq(t testing.TB, ctx context.Context, method, u string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	return req
}

// result is what a caller got back.
type result struct {
	status int
	body   []byte
	header http.Header
	cause  error
	err    error
}

func (e *env) do(req *http.Request) result {
	resp, err := e.rt.RoundTrip(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: b, header: resp.Header, cause: Cause(resp), err: err}
}

func (e *env) get(ctx context.Context) result {
	return e.do(newReq(e.t, ctx, http.MethodGet, appURL+"tables/todo", nil))
}

// many sends n GETs at once and returns their results.
func (e *env) many(n int) []result {
	out := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = e.get(context.Background()) })
	}
	wg.Wait()
	return out
}

func wantStats(t testing.TB, h *Handler, want Stats) {
	t.Helper()
	if got := h.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestHandlerValidToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		u := e.auth.user(time.Time{})
		e.build(WithUser(u))

		req := newReq(t, context.Background(), "GET", appURL+"tables/todo", nil)
		r := e.do(req)
		if r.status != 200 {
			t.Fatalf("status %d %v", r.status, r.err)
		}
		// The request is cloned: the caller's request is untouched.
		if _, has := req.Header[headerAuth]; has {
			t.Error("the caller's request was changed")
		}
		ureq := newReq(t, context.Background(), "GET", appURL+"api/x", nil)
		if r := e.do(ureq); r.status != 200 {
			t.Fatalf("second request: %d", r.status)
		}
		// A request carrying a foreign token gets ours.
		ureq = newReq(t, context.Background(), "GET", appURL+"api/x", nil)
		ureq.Header.Set("X-ZUMO-AUTH", "someone-else")
		if r := e.do(ureq); r.status != 200 {
			t.Fatalf("foreign token: %d", r.status)
		}
		if ureq.Header.Get(headerAuth) != "someone-else" {
			t.Error("the caller's header was changed")
		}

		sends, by := e.srv.count()
		if sends != 3 || by[u.Token()] != 3 {
			t.Errorf("sends %d, with token %d", sends, by[u.Token()])
		}
		if e.authn.calls.Load() != 0 || e.refreshes.Load() != 0 {
			t.Error("logged in or refreshed with a valid token")
		}
		wantStats(t, e.h, Stats{})
		if e.h.User() != u {
			t.Error("User() changed")
		}
	})
}

func TestHandlerRenewBeforeSending(t *testing.T) {
	tests := []struct {
		name          string
		exp           time.Duration // token expiry relative to now
		opts          []Option
		legacy        bool
		refreshFails  bool
		ttl           time.Duration // of new tokens; default 1 hour
		wantRefreshes int64         // refresh requests sent
		wantLogins    int64
		wantStats     Stats
	}{
		{name: "within the skew: refresh", exp: time.Minute, wantRefreshes: 1, wantStats: Stats{Refreshes: 1}},
		{name: "expired within the refresh grace: refresh", exp: -time.Minute, wantRefreshes: 1, wantStats: Stats{Refreshes: 1}},
		{name: "expired 71 h ago: refresh", exp: -71 * time.Hour, wantRefreshes: 1, wantStats: Stats{Refreshes: 1}},
		{name: "expired beyond the grace: login, no refresh", exp: -73 * time.Hour, wantLogins: 1, wantStats: Stats{Logins: 1}},
		{name: "custom grace: beyond it, login", exp: -2 * time.Hour, opts: []Option{WithRefreshGrace(time.Hour)}, wantLogins: 1, wantStats: Stats{Logins: 1}},
		{name: "no grace: login", exp: -time.Minute, opts: []Option{WithRefreshGrace(0)}, wantLogins: 1, wantStats: Stats{Logins: 1}},
		{name: "expired, refresh refused: login", exp: -time.Minute, refreshFails: true, wantRefreshes: 1, wantLogins: 1, wantStats: Stats{Logins: 1, Failures: 1}},
		{name: "refresh fails: login", exp: time.Minute, refreshFails: true, wantRefreshes: 1, wantLogins: 1, wantStats: Stats{Logins: 1, Failures: 1}},
		{name: "refresh off: login", exp: time.Minute, opts: []Option{WithRefresh(false)}, wantLogins: 1, wantStats: Stats{Logins: 1}},
		{name: "legacy: login", exp: time.Minute, legacy: true, wantLogins: 1, wantStats: Stats{Logins: 1}},
		{name: "custom skew: refresh early", exp: 9 * time.Minute, opts: []Option{WithSkew(10 * time.Minute)}, wantRefreshes: 1, wantStats: Stats{Refreshes: 1}},
		{name: "custom skew: outside it", exp: 3 * time.Minute, opts: []Option{WithSkew(time.Minute)}},
		{name: "zero skew", exp: time.Second, opts: []Option{WithSkew(0)}},
		{name: "negative skew is zero", exp: time.Second, opts: []Option{WithSkew(-time.Hour)}},
		{name: "default skew is 2 minutes", exp: 2*time.Minute + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.svc.Legacy = tt.legacy
				e.refFail.Store(tt.refreshFails)
				if tt.ttl != 0 {
					e.auth.ttl = tt.ttl
				}
				u := e.auth.user(time.Now().Add(tt.exp))
				e.build(append([]Option{WithUser(u)}, tt.opts...)...)
				for range 3 {
					if r := e.get(context.Background()); r.status != 200 && tt.exp > 0 {
						t.Fatalf("status %d", r.status)
					}
				}
				if got := e.refreshes.Load(); got != tt.wantRefreshes {
					t.Errorf("refreshes sent %d, want %d", got, tt.wantRefreshes)
				}
				if got := e.authn.calls.Load(); got != tt.wantLogins {
					t.Errorf("logins %d, want %d", got, tt.wantLogins)
				}
				wantStats(t, e.h, tt.wantStats)
				_, by := e.srv.count()
				renewed := tt.wantRefreshes+tt.wantLogins > 0 && !tt.refreshFails || tt.wantLogins > 0
				if renewed {
					if by[u.Token()] != 0 {
						t.Errorf("the old token was sent %d times", by[u.Token()])
					}
					if e.h.User() == u {
						t.Error("user not replaced")
					}
				} else if by[u.Token()] != 3 {
					t.Errorf("old token sent %d times, want 3", by[u.Token()])
				}
			})
		})
	}
}

// Time passes: the token ages into the skew and is refreshed once, just
// before it would fail.
func TestHandlerRefreshAsTimePasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.auth.ttl = 10 * time.Minute
		e.build(WithUser(e.auth.user(time.Time{})))
		for range 30 { // 30 minutes, one request a minute
			if r := e.get(context.Background()); r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			time.Sleep(time.Minute)
		}
		// Refreshed at 8, 16, 24 minutes (10 min tokens, 2 min skew).
		if got := e.refreshes.Load(); got != 3 {
			t.Errorf("%d refreshes, want 3", got)
		}
		if e.authn.calls.Load() != 0 {
			t.Error("logged in")
		}
		if sends, by := e.srv.count(); sends != 30 || by[""] != 0 {
			t.Errorf("sends %d", sends)
		}
	})
}

func TestHandlerNoAuthenticator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		// Within the skew, still valid, refresh refused: the token is kept.
		u := e.auth.user(time.Now().Add(time.Minute))
		e.refFail.Store(true)
		h := NewHandler(e.svc, WithUser(u))
		e.h, e.rt = h, handler.Chain(e.srv, h)
		for range 3 {
			if r := e.get(context.Background()); r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
		}
		// A refused refresh is not tried again for the same token.
		if n := e.refreshes.Load(); n != 1 {
			t.Errorf("%d refreshes for one token, want 1", n)
		}
		time.Sleep(2 * time.Minute) // now expired
		r := e.get(context.Background())
		if r.status != 401 || !errors.Is(r.cause, ErrNoAuthenticator) {
			t.Errorf("expired without authenticator: %d %v", r.status, r.cause)
		}
		if _, err := h.Login(context.Background()); !errors.Is(err, ErrNoAuthenticator) {
			t.Errorf("Login: %v", err)
		}
		// No user at all.
		h2 := NewHandler(e.svc)
		e.rt = handler.Chain(e.srv, h2)
		r = e.get(context.Background())
		if r.status != 401 || !errors.Is(r.cause, ErrNoAuthenticator) {
			t.Errorf("no user: %d %v", r.status, r.cause)
		}
		_, by := e.srv.count()
		if by[""] != 1 {
			t.Errorf("sent without a token %d times, want 1", by[""])
		}
	})
}

// 1,000 concurrent requests find the token expired: one login serves all.
func TestHandlerLoginStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = 3 * time.Second
		old := e.auth.user(time.Now().Add(-73 * time.Hour)) // beyond the refresh grace
		e.build(WithUser(old))
		res := e.many(1000)
		for i, r := range res {
			if r.status != 200 || r.err != nil {
				t.Fatalf("request %d: %d %v", i, r.status, r.err)
			}
		}
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d logins, want 1", n)
		}
		sends, by := e.srv.count()
		if sends != 1000 || by[e.h.User().Token()] != 1000 {
			t.Errorf("sends %d, with the new token %d", sends, by[e.h.User().Token()])
		}
		wantStats(t, e.h, Stats{Logins: 1})
	})
}

// 1,000 concurrent requests are all refused for the old token: one
// re-login, and all succeed.
func TestHandlerReloginStorm(t *testing.T) {
	for _, staggered := range []bool{false, true} {
		t.Run(fmt.Sprint("staggered=", staggered), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.authn.delay = time.Second
				old := e.auth.user(time.Time{})
				e.auth.revoke(old.Token())
				e.srv.delay = func(n int) time.Duration {
					if staggered && n <= 1000 {
						return time.Duration(n) * 5 * time.Millisecond // 401s spread over 5 s
					}
					return 100 * time.Millisecond
				}
				e.build(WithUser(old))
				res := e.many(1000)
				for i, r := range res {
					if r.status != 200 || r.err != nil {
						t.Fatalf("request %d: %d %v %v", i, r.status, r.err, r.cause)
					}
				}
				if n := e.authn.calls.Load(); n != 1 {
					t.Errorf("%d logins, want 1", n)
				}
				sends, by := e.srv.count()
				if sends != 2000 || by[old.Token()] != 1000 || by[e.h.User().Token()] != 1000 {
					t.Errorf("sends %d: old %d, new %d", sends, by[old.Token()], by[e.h.User().Token()])
				}
				wantStats(t, e.h, Stats{Logins: 1, Resends: 1000})
			})
		})
	}
}

// The server rotates its key: tokens issued before then are refused.
func TestHandlerKeyRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = 500 * time.Millisecond
		// Every request is out for 100 ms, so all 50 are refused together.
		e.srv.delay = func(int) time.Duration { return 100 * time.Millisecond }
		e.build(WithUser(e.auth.user(time.Time{})))
		for _, r := range e.many(50) {
			if r.status != 200 {
				t.Fatal("before rotation")
			}
		}
		time.Sleep(10 * time.Minute)
		e.auth.mu.Lock()
		e.auth.notBefore = time.Now()
		e.auth.mu.Unlock()
		time.Sleep(time.Second)
		for _, r := range e.many(50) {
			if r.status != 200 {
				t.Fatalf("after rotation: %d %v", r.status, r.cause)
			}
		}
		for _, r := range e.many(50) {
			if r.status != 200 {
				t.Fatal("later")
			}
		}
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d logins, want 1", n)
		}
		if sends, _ := e.srv.count(); sends != 200 {
			t.Errorf("%d sends, want 200 (50 refused once)", sends)
		}
		wantStats(t, e.h, Stats{Logins: 1, Resends: 50})
	})
}

// A token replaced while a request was out is just used after that
// request's 401: no login.
func TestHandlerTokenReplacedMeanwhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		old := e.auth.user(time.Time{})
		e.auth.revoke(old.Token())
		e.srv.delay = func(n int) time.Duration {
			if n == 1 {
				return time.Second
			}
			return 0
		}
		e.build(WithUser(old))
		done := make(chan result)
		go func() { done <- e.get(context.Background()) }()
		time.Sleep(500 * time.Millisecond)
		nu := e.auth.user(time.Time{})
		if err := e.h.SetUser(context.Background(), nu); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.status != 200 {
			t.Fatalf("status %d %v", r.status, r.cause)
		}
		if e.authn.calls.Load() != 0 {
			t.Error("logged in although a new user was set")
		}
		if _, by := e.srv.count(); by[nu.Token()] != 1 || by[old.Token()] != 1 {
			t.Errorf("by token %v", by)
		}
	})
}

// A caller whose context ends while the shared login runs gets the
// original 401 with the context's error; the login completes for others.
func TestHandlerLoginCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = 10 * time.Second
		body := make([]byte, 3000)
		rand.Read(body)
		e.srv.body401 = body
		old := e.auth.user(time.Time{})
		e.auth.revoke(old.Token())
		e.build(WithUser(old))

		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan result)
		go func() { first <- e.get(ctx) }()
		time.Sleep(time.Second) // the login is under way
		second := make(chan result)
		go func() { second <- e.get(context.Background()) }()
		time.Sleep(time.Second)
		cancel()
		r := <-first
		if r.err != nil || r.status != 401 {
			t.Fatalf("cancelled caller: %d %v", r.status, r.err)
		}
		if !errors.Is(r.cause, context.Canceled) {
			t.Errorf("cause %v, want context.Canceled", r.cause)
		}
		if !bytes.Equal(r.body, body) {
			t.Error("401 body changed")
		}
		if r.header.Get("Www-Authenticate") != `Bearer realm="app"` || r.header.Get("X-Request-Id") != "req-1" ||
			r.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("401 headers changed: %v", r.header)
		}
		if e.authn.calls.Load() != 1 {
			t.Fatal("login not started once")
		}
		r2 := <-second
		if r2.status != 200 {
			t.Errorf("the other caller: %d %v", r2.status, r2.cause)
		}
		if r := e.get(context.Background()); r.status != 200 {
			t.Errorf("next request: %d", r.status)
		}
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d logins, want 1", n)
		}
		// The second caller found the token refused and joined the login
		// before sending: no resend.
		wantStats(t, e.h, Stats{Logins: 1})
	})
}

// The caller's deadline passing during the pre-send login: the request is
// not sent, and the login still completes.
func TestHandlerPreSendLoginCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = 10 * time.Second
		e.build()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req := newReq(t, ctx, http.MethodPost, appURL+"tables/todo", []byte(`{"a":1}`))
		closed := &closeRecorder{Reader: bytes.NewReader([]byte(`{"a":1}`))}
		req.Body = closed
		r := e.do(req)
		if !errors.Is(r.err, context.DeadlineExceeded) {
			t.Fatalf("err %v", r.err)
		}
		if !closed.closed {
			t.Error("request body not closed")
		}
		if sends, _ := e.srv.count(); sends != 0 {
			t.Error("request sent")
		}
		time.Sleep(10 * time.Second)
		if e.h.User() == nil || e.h.Stats().Logins != 1 {
			t.Error("login did not complete")
		}
	})
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestHandlerLoginFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.srv.body401 = []byte(`{"error":"token revoked"}`)
		old := e.auth.user(time.Time{})
		e.auth.revoke(old.Token())
		e.authn.setErr(&LoginError{Op: "login", Provider: "custom", StatusCode: 400, Message: "bad password"})
		e.build(WithUser(old))
		r := e.get(context.Background())
		var le *LoginError
		if r.status != 401 || !errors.As(r.cause, &le) || le.Message != "bad password" {
			t.Fatalf("%d %v", r.status, r.cause)
		}
		if string(r.body) != `{"error":"token revoked"}` {
			t.Errorf("body %q", r.body)
		}
		if e.authn.calls.Load() != 1 {
			t.Errorf("%d logins", e.authn.calls.Load())
		}
		wantStats(t, e.h, Stats{Failures: 1})

		// The next request (after the back-off) logs in before sending
		// (the old token was refused), once; when that login fails too, its
		// 401 carries that failure without a second login.
		time.Sleep(DefaultLoginBackoff)
		r = e.get(context.Background())
		if r.status != 401 || !errors.As(r.cause, &le) {
			t.Fatalf("second: %d %v", r.status, r.cause)
		}
		if n := e.authn.calls.Load(); n != 2 {
			t.Errorf("%d logins after two requests, want 2 (one each)", n)
		}
		// Not with the token known to be refused: without one, an
		// endpoint open to anonymous users would still answer.
		if _, by := e.srv.count(); by[old.Token()] != 1 || by[""] != 1 {
			t.Errorf("sends by token %v", by)
		}

		// An Authenticator returning no user.
		e.authn.setErr(nil)
		h := NewHandler(e.svc, WithUser(old), WithAuthenticator(AuthenticatorFunc(func(context.Context, *Service) (*User, error) { return nil, nil })))
		resp, err := h.Handle(newReq(t, context.Background(), "GET", appURL+"x", nil), e.srv)
		if err != nil || resp.StatusCode != 401 || !errors.Is(Cause(resp), ErrInvalidLoginResponse) {
			t.Errorf("nil user: %v %v", err, Cause(resp))
		}
	})
}

// No user at start and the login fails: at most one login per request,
// not one before sending and another after the 401 — and while the
// back-off lasts, none: the identity provider is not asked once per
// request while it fails.
func TestHandlerFailedLoginNotRepeatedOn401(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		boom := errors.New("identity provider down")
		e.authn.setErr(boom)
		e.build()
		steps := []struct {
			wait       time.Duration // before the request
			wantLogins int64         // in all, after it
			backoff    bool          // the request was held back
		}{
			{0, 1, false},
			{0, 1, true},                 // back-off 1 s
			{time.Second, 2, false},      // over: log in (fails: back-off 2 s)
			{time.Second, 2, true},       // 1 s into 2 s
			{time.Second, 3, false},      // over (fails: back-off 4 s)
			{3 * time.Second, 3, true},   // 3 s into 4 s
			{time.Second, 4, false},      // over (fails: back-off 8 s)
			{10 * time.Minute, 5, false}, // (fails: back-off 16 s)
			{time.Minute, 6, false},      // (fails: back-off 32 s)
			{time.Minute, 7, false},      // (fails: back-off 64 s, capped at a minute)
			{59 * time.Second, 7, true},
			{time.Second, 8, false},
		}
		for i, st := range steps {
			time.Sleep(st.wait)
			r := e.get(context.Background())
			if r.status != 401 || !errors.Is(r.cause, boom) {
				t.Fatalf("step %d: %d %v", i, r.status, r.cause)
			}
			if got := errors.Is(r.cause, ErrLoginBackoff); got != st.backoff {
				t.Errorf("step %d: held back %v, want %v (%v)", i, got, st.backoff, r.cause)
			}
			if n := e.authn.calls.Load(); n != st.wantLogins {
				t.Fatalf("step %d: %d logins, want %d", i, n, st.wantLogins)
			}
		}
		if sends, by := e.srv.count(); sends != len(steps) || by[""] != len(steps) {
			t.Errorf("sends %d %v", sends, by)
		}

		// An explicit Login is not held back; its success ends the back-off.
		e.authn.setErr(nil)
		if _, err := e.h.Login(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := e.get(context.Background()); r.status != 200 {
			t.Errorf("after a successful login: %d", r.status)
		}
		// A new failure starts again at the first step.
		e.auth.revoke(e.h.User().Token())
		e.authn.setErr(boom)
		before := e.authn.calls.Load()
		e.get(context.Background()) // 401, the login fails
		time.Sleep(DefaultLoginBackoff)
		e.get(context.Background())
		if n := e.authn.calls.Load() - before; n != 2 {
			t.Errorf("%d logins across a 1 s back-off after a success, want 2", n)
		}
	})
}

// WithLoginBackoff(0, 0): every request may log in.
func TestHandlerNoLoginBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.setErr(errors.New("down"))
		e.build(WithLoginBackoff(0, 0))
		for i := 1; i <= 3; i++ {
			e.get(context.Background())
			if n := e.authn.calls.Load(); n != int64(i) {
				t.Fatalf("after %d requests: %d logins", i, n)
			}
		}
	})
}

// Logout and SetUser end a back-off.
func TestHandlerUserActionEndsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.setErr(errors.New("down"))
		h := e.build()
		e.get(context.Background())
		e.authn.setErr(nil)
		if r := e.get(context.Background()); !errors.Is(r.cause, ErrLoginBackoff) {
			t.Fatalf("not held back: %d %v", r.status, r.cause)
		}
		if err := h.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r := e.get(context.Background()); r.status != 200 {
			t.Errorf("after Logout: %d %v", r.status, r.cause)
		}
	})
}

// An Authenticator that ignores its context cannot wedge the handler: after
// the login timeout the callers give up and a later request logs in anew.
func TestHandlerLoginTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		release := make(chan struct{})
		e.authn.block = release
		st := newMemStore()
		var announced []*User
		e.build(WithLoginTimeout(5*time.Second), WithStore(st, storeKey), WithOnUser(func(u *User) { announced = append(announced, u) }))
		r := e.get(context.Background())
		if r.status != 401 || !errors.Is(r.cause, context.DeadlineExceeded) {
			t.Fatalf("%d %v %v", r.status, r.err, r.cause)
		}
		if e.authn.calls.Load() != 1 {
			t.Fatal("no login")
		}
		e.authn.mu.Lock()
		e.authn.block = nil // the next login works (the first is still stuck)
		e.authn.mu.Unlock()
		// A login that timed out counts as failed: held back a moment.
		if r = e.get(context.Background()); !errors.Is(r.cause, ErrLoginBackoff) || e.authn.calls.Load() != 1 {
			t.Fatalf("right after the timeout: %d %v, %d logins", r.status, r.cause, e.authn.calls.Load())
		}
		time.Sleep(DefaultLoginBackoff)
		r = e.get(context.Background())
		if r.status != 200 {
			t.Fatalf("after timeout: %d %v", r.status, r.cause)
		}
		if e.authn.calls.Load() != 2 {
			t.Errorf("%d logins, want 2", e.authn.calls.Load())
		}
		good := e.h.User()
		close(release)
		synctest.Wait()
		// The stuck login's late result does not replace the newer user.
		if e.h.User() != good {
			t.Error("a timed-out login replaced a newer user")
		}
		// Nor is it saved or announced.
		if st.get(storeKey) != good || len(announced) != 1 || announced[0] != good {
			t.Errorf("stored %v, announced %v; want only the newer user", st.get(storeKey), announced)
		}
	})
}

// A server that refuses every token, even the one it has just issued (a
// misconfigured signing key): the first request logs in once and resends
// once, then the refusal of a fresh token counts as a failed login for the
// back-off. A run of requests costs O(log n) logins, not one each, and the
// error says plainly what happened.
func TestHandlerUnauthorizedForever(t *testing.T) {
	tests := []struct {
		name                string
		opts                []Option
		wantSends, wantLogs int64
		wantCause           error
	}{
		{"default", nil, 2, 1, ErrFreshTokenRefused},
		{"one attempt", []Option{WithReloginAttempts(1)}, 2, 1, ErrFreshTokenRefused},
		{"three attempts: a fresh token refused ends them", []Option{WithReloginAttempts(3)}, 2, 1, ErrFreshTokenRefused},
		{"401 handling off", []Option{WithReloginAttempts(0)}, 1, 0, nil},
		{"negative attempts are zero", []Option{WithReloginAttempts(-1)}, 1, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.srv.reject = func(string) bool { return true }
				e.build(append([]Option{WithUser(e.auth.user(time.Time{}))}, tt.opts...)...)
				r := e.get(context.Background())
				require.Equal(t, 401, r.status)
				if tt.wantCause == nil {
					assert.NoError(t, r.cause)
				} else {
					assert.ErrorIs(t, r.cause, tt.wantCause)
					assert.ErrorIs(t, r.cause, ErrStillUnauthorized)
					assert.Contains(t, r.cause.Error(), "the server refused a token it had just issued")
				}
				sends, _ := e.srv.count()
				assert.EqualValues(t, tt.wantSends, sends, "sends for the first request")
				assert.Equal(t, tt.wantLogs, e.authn.calls.Load(), "logins for the first request")
			})
		})
	}
}

// The same server, 200 requests one after another, 100 ms apart (20 s):
// logins at 0, 1, 3, 7 and 15 s (1 s doubling), one send per request
// during the back-off, and every 401 says why.
func TestHandlerFreshTokensRefusedBackOff(t *testing.T) {
	for _, n := range []int{20, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.srv.reject = func(string) bool { return true }
				e.build()
				for i := range n {
					r := e.get(context.Background())
					require.Equal(t, 401, r.status)
					require.ErrorIs(t, r.cause, ErrFreshTokenRefused, "request %d", i)
					time.Sleep(100 * time.Millisecond)
				}
				logins := e.authn.calls.Load()
				max := int64(1)
				for d := time.Second; d < time.Duration(n)*100*time.Millisecond; d *= 2 {
					max++
				}
				assert.LessOrEqual(t, logins, max, "logins for %d requests", n)
				assert.GreaterOrEqual(t, logins, int64(2), "the back-off ran out at least once")
				sends, _ := e.srv.count()
				assert.Equal(t, n, sends, "one send per request")
				wantStats(t, e.h, Stats{Logins: logins})
			})
		})
	}
}

func TestHandlerBodyReplay(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPatch, http.MethodPut} {
		t.Run(method, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				old := e.auth.user(time.Time{})
				e.auth.revoke(old.Token())
				e.build(WithUser(old))
				body := make([]byte, 1<<20)
				rand.Read(body)
				for range 2 {
					req := newReq(t, context.Background(), method, appURL+"tables/todo/1", body)
					if r := e.do(req); r.status != 200 {
						t.Fatalf("status %d %v", r.status, r.cause)
					}
				}
				got := e.srv.allBodies()
				if len(got) != 3 {
					t.Fatalf("%d sends, want 3", len(got))
				}
				for i, b := range got {
					if !bytes.Equal(b, body) {
						t.Errorf("send %d: body differs (%d bytes)", i, len(b))
					}
				}
				if e.authn.calls.Load() != 1 {
					t.Error("logins")
				}
			})
		})
	}
}

func TestHandlerBodyNotReplayable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		old := e.auth.user(time.Time{})
		e.auth.revoke(old.Token())
		e.build(WithUser(old))
		req := newReq(t, context.Background(), http.MethodPost, appURL+"api/upload", nil)
		req.Body = io.NopCloser(strings.NewReader("streamed"))
		req.GetBody = nil
		r := e.do(req)
		if r.status != 401 || !errors.Is(r.cause, ErrBodyNotReplayable) {
			t.Fatalf("%d %v", r.status, r.cause)
		}
		if sends, _ := e.srv.count(); sends != 1 {
			t.Errorf("%d sends, want 1", sends)
		}
		if e.authn.calls.Load() != 0 {
			t.Error("logged in for a request that cannot be resent")
		}
		// The refused token is forgotten: the next request logs in first.
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatalf("next: %d", r.status)
		}
		if sends, by := e.srv.count(); sends != 2 || by[old.Token()] != 1 || e.authn.calls.Load() != 1 {
			t.Errorf("sends %d %v logins %d", sends, by, e.authn.calls.Load())
		}
	})
}

func TestHandlerNeverCrossOrigin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		u := e.auth.user(time.Time{})
		e.build(WithUser(u))
		var gotTok []string
		e.srv.reject = func(tok string) bool { gotTok = append(gotTok, tok); return false }
		for _, target := range []string{
			"https://other.example/x",
			"https://app.example:8443/x",
			"http://app.example/x",
			"https://app.example.evil.com/x",
			"https://evil.com/app.example/x",
			"https://sub.app.example/x",
		} {
			for _, carried := range []bool{false, true} {
				gotTok = nil
				req := newReq(t, context.Background(), "GET", target, nil)
				if carried {
					req.Header.Set("X-Zumo-Auth", "carried-token")
				}
				if r := e.do(req); r.status != 200 {
					t.Fatal(r.status)
				}
				if len(gotTok) != 1 || gotTok[0] != "" {
					t.Errorf("%s (carrying a token %v): token sent: %q", target, carried, gotTok)
				}
				if carried && req.Header.Get("X-Zumo-Auth") != "carried-token" {
					t.Error("the caller's request was changed")
				}
			}
		}
		// The same origin, spelled differently, does get it.
		for _, target := range []string{"https://app.example:443/x", "https://APP.Example/x", "HTTPS://app.example/x"} {
			gotTok = nil
			req := newReq(t, context.Background(), "GET", target, nil)
			e.do(req)
			if len(gotTok) != 1 || gotTok[0] != u.Token() {
				t.Errorf("%s: token not sent", target)
			}
		}
		if e.authn.calls.Load() != 0 {
			t.Error("logged in")
		}
	})
}

func TestHandlerInsecureHTTP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, insecure := range []bool{false, true} {
			e := newEnv(t)
			e.svc.AppURL = mustURL(t, "http://app.example/")
			var gotTok []string
			e.srv.reject = func(tok string) bool { gotTok = append(gotTok, tok); return false }
			opts := []Option{WithUser(e.auth.user(time.Time{}))}
			if insecure {
				opts = append(opts, WithInsecureHTTP())
			}
			e.build(opts...)
			e.do(newReq(t, context.Background(), "GET", "http://app.example/x", nil))
			e.do(newReq(t, context.Background(), "GET", "http://app.example/x", nil))
			for _, tok := range gotTok {
				if (tok != "") != insecure {
					t.Errorf("insecure=%v: token %q", insecure, tok)
				}
			}
		}
		// Without a user, plain http to a remote host does not log in.
		e := newEnv(t)
		e.svc.AppURL = mustURL(t, "http://app.example/")
		e.build()
		e.srv.reject = func(string) bool { return true }
		_ = e.get(context.Background()) // to https: not the origin
		r := e.do(newReq(t, context.Background(), "GET", "http://app.example/x", nil))
		if r.status != 401 || e.authn.calls.Load() != 0 {
			t.Errorf("%d, %d logins", r.status, e.authn.calls.Load())
		}
		if !errors.Is(r.cause, ErrInsecureTransport) {
			t.Errorf("the 401's cause is %v, want ErrInsecureTransport", r.cause)
		}
		// Loopback http is allowed.
		e = newEnv(t)
		e.svc.AppURL = mustURL(t, "http://127.0.0.1:8080/")
		u := e.auth.user(time.Time{})
		e.build(WithUser(u))
		e.do(newReq(t, context.Background(), "GET", "http://127.0.0.1:8080/x", nil))
		if _, by := e.srv.count(); by[u.Token()] != 1 {
			t.Error("loopback http got no token")
		}
	})
}

// A real net/http redirect: http.Client copies X-ZUMO-AUTH to the next hop
// whatever its host; the handler must take it off.
func TestHandlerRedirectNotToOtherOrigin(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[name] = r.Header.Get("X-Zumo-Auth")
			mu.Unlock()
			io.WriteString(w, "ok")
		}
	}
	other := httptest.NewServer(record("other"))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
	})
	mux.HandleFunc("/home", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/final", http.StatusFound) })
	mux.HandleFunc("/final", record("final"))
	app := httptest.NewServer(mux)
	defer app.Close()

	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	svc := &Service{AppURL: mustURL(t, app.URL+"/"), Client: failingClient(t)}
	h := NewHandler(svc, WithUser(NewUser("sid:1", tok)))
	client := &http.Client{Transport: handler.Chain(http.DefaultTransport, h)}
	for _, carried := range []bool{false, true} {
		clear(got)
		for _, path := range []string{"/away", "/home"} {
			req := newReq(t, context.Background(), "GET", app.URL+path, nil)
			if carried {
				req.Header.Set("X-Zumo-Auth", "carried-token")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if v, ok := got["other"]; !ok || v != "" {
			t.Errorf("carried=%v: the other origin received %q (reached %v)", carried, v, ok)
		}
		if got["final"] != tok {
			t.Errorf("carried=%v: the same-origin redirect target got %q", carried, got["final"])
		}
	}
}

// memStore is a Store that records what it is asked.
type memStore struct {
	mu      sync.Mutex
	users   map[string]*User
	loadErr error
	saveErr error
	loads   int
	saves   []*User
	clears  int
}

func newMemStore() *memStore { return &memStore{users: map[string]*User{}} }

func (s *memStore) Load(ctx context.Context, key string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.loadErr != nil {
		return nil, s.loadErr
	}
	if u, ok := s.users[key]; ok {
		return u, nil
	}
	return nil, ErrNoUser
}

func (s *memStore) Save(ctx context.Context, key string, u *User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves = append(s.saves, u)
	if s.saveErr != nil {
		return s.saveErr
	}
	s.users[key] = u
	return nil
}

func (s *memStore) Clear(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clears++
	delete(s.users, key)
	return nil
}

func (s *memStore) put(key string, u *User) {
	s.mu.Lock()
	s.users[key] = u
	s.mu.Unlock()
}

func (s *memStore) get(key string) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[key]
}

func (s *memStore) counts() (loads, saves, clears int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads, len(s.saves), s.clears
}

const storeKey = "zumo|https://app.example/|alice"

func TestHandlerStoreLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		stored := e.auth.user(time.Time{})
		st.put(storeKey, stored)
		e.build(WithStore(st, storeKey))
		if e.h.User() != nil {
			t.Error("store loaded before the first request")
		}
		for _, r := range e.many(100) {
			if r.status != 200 {
				t.Fatal(r.status)
			}
		}
		wantStats(t, e.h, Stats{StoreLoads: 1})
		if loads, saves, _ := st.counts(); loads != 1 || saves != 0 {
			t.Errorf("loads %d saves %d", loads, saves)
		}
		if e.h.User() != stored || e.authn.calls.Load() != 0 {
			t.Error("stored user not used")
		}
	})
}

func TestHandlerStoreExpired(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exp       time.Duration
		wantStats Stats
	}{
		{"within skew: refreshed", time.Minute, Stats{Refreshes: 1}},
		{"expired within the refresh grace: refreshed", -time.Minute, Stats{Refreshes: 1}},
		{"expired beyond the refresh grace: login", -73 * time.Hour, Stats{Logins: 1}},
		{"unreadable: login (a corrupt entry, replaced)", 0, Stats{Logins: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				st := newMemStore()
				stored := e.auth.user(time.Now().Add(tc.exp))
				if tc.exp == 0 {
					stored = NewUser("sid:alice", "not-a-jwt")
				}
				st.put(storeKey, stored)
				var announced []*User
				e.build(WithStore(st, storeKey), WithOnUser(func(u *User) { announced = append(announced, u) }))
				if r := e.get(context.Background()); r.status != 200 {
					t.Fatal(r.status)
				}
				wantStats(t, e.h, tc.wantStats)
				if _, by := e.srv.count(); by[stored.Token()] != 0 {
					t.Error("the expired stored token was sent")
				}
				if got := st.get(storeKey); got != e.h.User() || got == stored {
					t.Error("the new user was not saved")
				}
				if len(announced) != 1 || announced[0] != e.h.User() {
					t.Errorf("announced %d users", len(announced))
				}
			})
		})
	}
}

func TestHandlerStoreCorrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		st.loadErr = fmt.Errorf("cache: entry for key: %w", ErrCorruptEntry)
		e.build(WithStore(st, storeKey))
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatal(r.status)
		}
		if e.authn.calls.Load() != 1 {
			t.Error("no login after a corrupt store entry")
		}
		wantStats(t, e.h, Stats{Logins: 1})
		if _, saves, _ := st.counts(); saves != 1 {
			t.Errorf("saves %d", saves)
		}
		if !strings.Contains(e.logBuf.String(), "treating it as empty") {
			t.Error("store error not logged")
		}
		// A failing Save does not fail the request.
		st.saveErr = errors.New("disk full")
		e.h.Logout(context.Background())
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatal(r.status)
		}
	})
}

func TestHandlerSavesAndAnnouncesEveryNewUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.auth.ttl = 10 * time.Minute
		st := newMemStore()
		var mu sync.Mutex
		var announced []*User
		e.srv.delay = func(int) time.Duration { return 100 * time.Millisecond }
		e.build(WithStore(st, storeKey), WithOnUser(func(u *User) { mu.Lock(); announced = append(announced, u); mu.Unlock() }))
		// Login (no user), then two refreshes as time passes, then a
		// re-login after a 401.
		e.many(20)
		time.Sleep(9 * time.Minute)
		e.many(20)
		time.Sleep(9 * time.Minute)
		e.many(20)
		e.auth.revoke(e.h.User().Token())
		e.many(20)
		wantStats(t, e.h, Stats{Logins: 2, Refreshes: 2, Resends: 20})
		_, saves, _ := st.counts()
		mu.Lock()
		defer mu.Unlock()
		if saves != 4 || len(announced) != 4 {
			t.Errorf("saves %d, announced %d; want 4 each", saves, len(announced))
		}
		seen := map[*User]bool{}
		for i, u := range announced {
			if seen[u] || u != st.saves[i] {
				t.Error("a user announced twice or not in save order")
			}
			seen[u] = true
		}
		if announced[3] != e.h.User() {
			t.Error("the last announced user is not current")
		}
	})
}

// Another process logged in and saved a newer token: after a 401 it is
// adopted from the store without a login.
func TestHandlerStoreNewerTokenFromAnotherProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		old := e.auth.user(time.Time{})
		st.put(storeKey, old)
		e.srv.delay = func(int) time.Duration { return 100 * time.Millisecond }
		e.build(WithStore(st, storeKey))
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatal(r.status)
		}
		// The other process's login revoked ours.
		newer := e.auth.user(time.Time{})
		st.put(storeKey, newer)
		e.auth.revoke(old.Token())
		for _, r := range e.many(100) {
			if r.status != 200 {
				t.Fatal(r.status, r.cause)
			}
		}
		if e.authn.calls.Load() != 0 {
			t.Error("logged in although the store had a newer user")
		}
		if e.h.User() != newer {
			t.Error("newer user not adopted")
		}
		wantStats(t, e.h, Stats{StoreLoads: 2, Resends: 100})
		// The refused token, if written back to the store, is not adopted.
		st.put(storeKey, old)
		e.auth.revoke(newer.Token())
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatal(r.status)
		}
		if e.authn.calls.Load() != 1 {
			t.Error("a refused stored token was adopted instead of logging in")
		}
	})
}

func TestHandlerUserManagement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		stored := e.auth.user(time.Time{})
		st.put(storeKey, stored)
		var announced int
		h := e.build(WithStore(st, storeKey), WithOnUser(func(*User) { announced++ }))
		ctx := context.Background()

		// LoadUser consults the store once.
		for range 3 {
			u, err := h.LoadUser(ctx)
			if err != nil || u != stored {
				t.Fatalf("LoadUser: %v %v", u, err)
			}
		}
		if loads, _, _ := st.counts(); loads != 1 {
			t.Errorf("LoadUser loaded %d times", loads)
		}
		wantStats(t, h, Stats{StoreLoads: 1})

		// Login forces a login although the user is valid, and does not
		// take the stored user instead.
		u, err := h.Login(ctx)
		if err != nil || u == stored || h.User() != u || st.get(storeKey) != u {
			t.Fatalf("Login: %v %v", u, err)
		}
		if e.authn.calls.Load() != 1 || announced != 1 {
			t.Errorf("logins %d announced %d", e.authn.calls.Load(), announced)
		}

		// SetUser.
		set := e.auth.user(time.Time{})
		if err := h.SetUser(ctx, set); err != nil {
			t.Fatal(err)
		}
		if h.User() != set || st.get(storeKey) != set || announced != 2 {
			t.Error("SetUser")
		}
		if err := h.SetUser(ctx, nil); err == nil {
			t.Error("SetUser(nil)")
		}
		e.get(ctx)
		if _, by := e.srv.count(); by[set.Token()] != 1 {
			t.Error("set user not used")
		}

		// Logout clears the store and the user; the next request logs in.
		if err := h.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if h.User() != nil || st.get(storeKey) != nil {
			t.Error("Logout left a user")
		}
		if _, _, clears := st.counts(); clears != 1 {
			t.Error("store not cleared")
		}
		if r := e.get(ctx); r.status != 200 || e.authn.calls.Load() != 2 {
			t.Errorf("after logout: %d, logins %d", r.status, e.authn.calls.Load())
		}

		// Without a store.
		h2 := NewHandler(e.svc)
		if u, err := h2.LoadUser(ctx); u != nil || err != nil {
			t.Error("LoadUser without a store")
		}
		if err := h2.Logout(ctx); err != nil {
			t.Error(err)
		}
	})
}

// LoadUser with a store entry that cannot be read.
func TestHandlerLoadUserCorrupt(t *testing.T) {
	st := newMemStore()
	st.loadErr = fmt.Errorf("x: %w", ErrCorruptEntry)
	h := NewHandler(&Service{AppURL: mustURL(t, appURL)}, WithStore(st, storeKey))
	u, err := h.LoadUser(context.Background())
	if u != nil || !errors.Is(err, ErrCorruptEntry) {
		t.Errorf("%v %v", u, err)
	}
}

// Every log line, error and printed user of the main scenarios is free of
// every token minted.
func TestHandlerNeverLeaksTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.auth.ttl = 10 * time.Minute
		st := newMemStore()
		var printed []string
		e.build(WithStore(st, storeKey), WithOnUser(func(u *User) {
			printed = append(printed, fmt.Sprint(u), fmt.Sprintf("%v %+v %#v %s %q", u, u, u, u, u), fmt.Sprintf("%+v", *u))
		}))
		var errs []string
		note := func(rs ...result) {
			for _, r := range rs {
				if r.err != nil {
					errs = append(errs, r.err.Error())
				}
				if r.cause != nil {
					errs = append(errs, r.cause.Error(), fmt.Sprintf("%+v", r.cause))
				}
			}
		}
		// Login, refresh, 401 and re-login, failed refresh, failed login,
		// corrupt store, cancelled login.
		note(e.many(10)...)
		time.Sleep(9 * time.Minute)
		note(e.many(10)...)
		e.auth.revoke(e.h.User().Token())
		note(e.many(10)...)
		time.Sleep(9 * time.Minute)
		e.refFail.Store(true)
		note(e.many(10)...)
		e.auth.revoke(e.h.User().Token())
		e.authn.setErr(&LoginError{Op: "login", StatusCode: 401, Message: "denied"})
		note(e.many(10)...)
		st.loadErr = fmt.Errorf("%w: bad json", ErrCorruptEntry)
		e.h.Logout(context.Background())
		note(e.many(10)...)
		e.authn.setErr(nil)
		e.authn.delay = time.Minute
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		note(e.get(ctx))
		cancel()
		time.Sleep(time.Minute)
		note(e.get(context.Background()))
		if _, err := e.svc.Refresh(context.Background(), e.h.User()); err != nil {
			errs = append(errs, err.Error())
		}
		printed = append(printed, fmt.Sprint(e.h.User()), fmt.Sprint(e.h.Stats()),
			// The handler itself, holding the tokens it saw refused.
			fmt.Sprintf("%v\n%+v\n%#v", e.h, e.h, e.h))

		logs := e.logBuf.String()
		if !strings.Contains(logs, "auth: new user") || !strings.Contains(logs, "login failed") || !strings.Contains(logs, "refresh failed") {
			t.Errorf("expected log lines missing:\n%s", logs)
		}
		if len(errs) == 0 {
			t.Error("no errors collected")
		}
		toks := e.auth.tokens()
		if len(toks) < 5 {
			t.Fatalf("only %d tokens minted", len(toks))
		}
		all := logs + "\n" + strings.Join(errs, "\n") + "\n" + strings.Join(printed, "\n")
		for _, tok := range toks {
			if strings.Contains(all, tok) {
				t.Errorf("token leaked: %s", all)
				break
			}
			// Nor its signature alone.
			if sig := tok[strings.LastIndexByte(tok, '.')+1:]; strings.Contains(all, sig) {
				t.Error("token signature leaked")
				break
			}
		}
	})
}

func TestHandlerConcurrentMixed(t *testing.T) {
	// Store, refreshes, 401s, SetUser, Login and Logout all at once: the
	// race detector's test; every request ends with a response.
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.auth.ttl = 3 * time.Minute
		e.authn.delay = 200 * time.Millisecond
		st := newMemStore()
		e.build(WithStore(st, storeKey))
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 50 * time.Millisecond)
				switch i % 20 {
				case 3:
					e.h.SetUser(context.Background(), e.auth.user(time.Time{}))
				case 7:
					e.h.Login(context.Background())
				case 11:
					if u := e.h.User(); u != nil {
						e.auth.revoke(u.Token())
					}
				case 13:
					e.h.LoadUser(context.Background())
				case 19:
					e.h.Logout(context.Background())
				}
				r := e.get(context.Background())
				if r.err != nil || (r.status != 200 && r.status != 401) {
					t.Errorf("%d %v", r.status, r.err)
				}
			})
		}
		wg.Wait()
	})
}

// The hot path allocates only the request's copy (req.Clone, as the
// RoundTripper contract asks): valid cached token, no parsing.
func TestHandlerHotPathAllocs(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	for _, c := range []struct{ app, target string }{
		{appURL, appURL + "tables/todo"},
		{"https://app.example:443/", "https://app.example/tables/todo"},
		{"https://app.example/", "https://app.example:443/tables/todo"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/tables/todo"},
		{"http://[::1]/", "http://[::1]/tables/todo"},
	} {
		h := NewHandler(&Service{AppURL: mustURL(t, c.app)}, WithUser(NewUser("sid:1", tok)))
		canned := &http.Response{StatusCode: 200, Body: http.NoBody}
		base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return canned, nil })
		req := newReq(t, context.Background(), "GET", c.target, nil)
		want := testing.AllocsPerRun(1000, func() { _ = req.Clone(req.Context()) })
		allocs := testing.AllocsPerRun(1000, func() {
			resp, err := h.Handle(req, base)
			if err != nil || resp != canned {
				t.Fatal("unexpected response")
			}
		})
		if allocs > want {
			t.Errorf("%s: %v allocations per request, want at most %v (one req.Clone)", c.target, allocs, want)
		}
		if _, has := req.Header[headerAuth]; has {
			t.Errorf("%s: the caller's request was changed", c.target)
		}
	}
}

// An anonymous client (no user, no authenticator, no store) sends without
// a flight: nothing could produce a user, so nothing is started or
// allocated.
func TestHandlerAnonymousAllocs(t *testing.T) {
	h := NewHandler(&Service{AppURL: mustURL(t, appURL)})
	canned := &http.Response{StatusCode: 200, Body: http.NoBody}
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return canned, nil })
	req := newReq(t, context.Background(), "GET", appURL+"tables/todo", nil)
	allocs := testing.AllocsPerRun(1000, func() {
		if resp, err := h.Handle(req, base); err != nil || resp != canned {
			t.Fatal("unexpected response")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per anonymous request, want 0", allocs)
	}
	if _, has := req.Header[headerAuth]; has {
		t.Error("an anonymous request carries a token header")
	}
}

func TestHandlerOrigins(t *testing.T) {
	cases := []struct {
		app    string
		target string
		want   bool
	}{
		{"https://a.example/", "https://a.example/x", true},
		{"https://a.example/", "https://a.example:443/x", true},
		{"https://a.example:443/", "https://a.example/x", true},
		{"https://a.example:8443/", "https://a.example:8443/x", true},
		{"https://a.example:8443/", "https://a.example/x", false},
		{"http://127.0.0.1:80/", "http://127.0.0.1/x", true},
		{"http://[::1]:8080/", "http://[::1]:8080/x", true},
		{"http://[::1]:8080/", "http://[::1]:8081/x", false},
		{"http://[::1]/", "http://[::1]/x", true},
		{"http://[::1]/", "http://[::1]:80/x", true},
		{"https://a.example/", "http://a.example/x", false},
		{"https://a.example/", "https://b.example/x", false},
	}
	for _, c := range cases {
		h := NewHandler(&Service{AppURL: mustURL(t, c.app)})
		u, _ := url.Parse(c.target)
		if got := h.ownOrigin(u.Scheme, u.Host); got != c.want {
			t.Errorf("app %s, target %s: %v, want %v", c.app, c.target, got, c.want)
		}
	}
}
