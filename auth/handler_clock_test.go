package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// A token issued for less than the skew is used for most of its life, not
// replaced before every request.
func TestHandlerShortLivedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.auth.ttl = time.Minute // less than the default 2-minute skew
		e.build()
		for range 10 { // 40 s of requests, 4 s apart
			if r := e.get(context.Background()); r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			time.Sleep(4 * time.Second)
		}
		if got := e.authn.calls.Load() + e.refreshes.Load(); got != 1 {
			t.Errorf("%d logins and refreshes in the token's first 40 s, want 1", got)
		}
		// Past three quarters of its life (45 s): replaced before sending.
		time.Sleep(10 * time.Second)
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		if got := e.refreshes.Load(); got != 1 {
			t.Errorf("refreshes %d after 50 s, want 1", got)
		}
		_, by := e.srv.count()
		toks := e.auth.tokens()
		if len(toks) != 2 || by[toks[0]] != 10 || by[toks[1]] != 1 {
			t.Errorf("tokens minted %d; sends by token %v", len(toks), by)
		}
	})
}

// When this machine's clock is ahead of the server's, a new token looks
// old or even expired on arrival: the handler judges it by the server's
// clock instead of renewing it ever sooner, up to before every request.
// When it is behind (a negative lag), the token would look good past its
// exp: judged by the server's clock too, it is renewed in time.
func TestHandlerClockAheadOfServer(t *testing.T) {
	for _, lag := range []time.Duration{3 * time.Hour, 58*time.Minute - 2*time.Second, 30 * time.Minute, 10 * time.Second, -30 * time.Minute} {
		t.Run(lag.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.auth.lag = lag // the server's clock is behind
				e.build()
				for range 29 { // a request every 2 minutes, from 0 to 56 minutes
					if r := e.get(context.Background()); r.status != 200 {
						t.Fatalf("status %d", r.status)
					}
					time.Sleep(2 * time.Minute)
				}
				if got := e.authn.calls.Load() + e.refreshes.Load(); got != 1 {
					t.Errorf("%d logins and refreshes in 56 minutes, want 1", got)
				}
				if !strings.Contains(e.logBuf.String(), "is it ahead of the server") {
					t.Error("no warning about the clock")
				}
				// At 58 minutes it is within the skew of its lifetime: renewed.
				if r := e.get(context.Background()); r.status != 200 {
					t.Fatalf("status %d", r.status)
				}
				if got := e.authn.calls.Load() + e.refreshes.Load(); got != 2 {
					t.Errorf("%d logins and refreshes after 58 minutes, want 2", got)
				}
				if _, by := e.srv.count(); by[e.auth.tokens()[0]] != 29 {
					t.Errorf("the first token was sent %d times, want 29", by[e.auth.tokens()[0]])
				}
			})
		})
	}
}

// The monotonic clock stands still while a machine sleeps, and the wall
// clock can be set back: a token is usable only while both say so.
func TestHandlerUsableNeedsBothClocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		u := e.auth.user(time.Time{}) // an hour to live
		h := e.build(WithUser(u))
		tests := []struct {
			name string
			edit func(st *state)
			want bool
		}{
			{"fresh", func(*state) {}, true},
			{"wall clock past the end (the machine slept)", func(st *state) { st.wallEnd = time.Now().Add(-time.Second).Round(0) }, false},
			{"monotonic clock past the end (the wall clock was set back)", func(st *state) { st.born = time.Now().Add(-2 * time.Hour) }, false},
		}
		for _, tt := range tests {
			st := h.newState(u, time.Time{})
			tt.edit(st)
			if got := h.usable(st); got != tt.want {
				t.Errorf("%s: usable %v, want %v", tt.name, got, tt.want)
			}
		}
	})
}

// SetUser while a login is under way: the caller's user wins in memory,
// in the store and in the announcements; the login's user goes nowhere.
func TestHandlerSetUserDuringLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		var announced []*User
		e.authn.block = make(chan struct{})
		h := e.build(WithStore(st, storeKey), WithOnUser(func(u *User) { announced = append(announced, u) }))
		var r result
		var wg sync.WaitGroup
		wg.Go(func() { r = e.get(context.Background()) })
		synctest.Wait() // the login is blocked
		set := e.auth.user(time.Time{})
		if err := h.SetUser(context.Background(), set); err != nil {
			t.Fatal(err)
		}
		close(e.authn.block)
		wg.Wait()
		if r.status != 200 {
			t.Fatalf("status %d (%v)", r.status, r.cause)
		}
		if h.User() != set || st.get(storeKey) != set {
			t.Errorf("current %v, stored %v; want the user SetUser gave", h.User(), st.get(storeKey))
		}
		if len(announced) != 1 || announced[0] != set {
			t.Errorf("announced %v, want only SetUser's user", announced)
		}
		if _, by := e.srv.count(); by[set.Token()] != 1 {
			t.Error("the waiting request did not use SetUser's user")
		}
	})
}

// gatedAuthn blocks its n-th call until gates[n] is closed.
type gatedAuthn struct {
	auth  *authority
	calls atomic.Int64
	gates []chan struct{}
}

func (g *gatedAuthn) Authenticate(ctx context.Context, s *Service) (*User, error) {
	n := g.calls.Add(1) - 1
	<-g.gates[n]
	return g.auth.user(time.Time{}), nil
}

// Logout while a login is under way: that login's callers are told they
// were logged out, but a request made after the Logout starts a login of
// its own instead of joining the overruled one.
func TestHandlerLogoutDuringLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		g := &gatedAuthn{auth: e.auth, gates: []chan struct{}{make(chan struct{}), make(chan struct{})}}
		var announced []*User
		h := e.build(WithAuthenticator(g), WithStore(st, storeKey), WithOnUser(func(u *User) { announced = append(announced, u) }))
		var before, after result
		var wg sync.WaitGroup
		wg.Go(func() { before = e.get(context.Background()) })
		synctest.Wait()
		if err := h.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { after = e.get(context.Background()) })
		synctest.Wait()
		if got := g.calls.Load(); got != 2 {
			t.Fatalf("%d logins under way, want 2 (the request after Logout starts its own)", got)
		}
		close(g.gates[0])
		synctest.Wait()
		if before.status != 401 || !errors.Is(before.cause, ErrLoggedOut) {
			t.Errorf("the request before Logout: %d, cause %v; want 401 with ErrLoggedOut", before.status, before.cause)
		}
		if st.get(storeKey) != nil || len(announced) != 0 {
			t.Error("the overruled login's user was saved or announced")
		}
		close(g.gates[1])
		wg.Wait()
		if after.status != 200 {
			t.Errorf("the request after Logout: %d (%v)", after.status, after.cause)
		}
		if u := h.User(); u == nil || st.get(storeKey) != u || len(announced) != 1 || announced[0] != u {
			t.Errorf("current %v, stored %v, announced %v", u, st.get(storeKey), announced)
		}
	})
}

// gatedStore is a memStore whose Load reads, then waits for gate before
// returning what it read.
type gatedStore struct {
	*memStore
	gate chan struct{}
}

func (s *gatedStore) Load(ctx context.Context, key string) (*User, error) {
	u, err := s.memStore.Load(ctx, key)
	<-s.gate
	return u, err
}

// LoadUser that was reading the store when Logout ran installs nothing.
func TestHandlerLoadUserRacesLogout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := &gatedStore{memStore: newMemStore(), gate: make(chan struct{})}
		st.put(storeKey, e.auth.user(time.Time{}))
		h := e.build(WithStore(st, storeKey))
		var got *User
		var err error
		var wg sync.WaitGroup
		wg.Go(func() { got, err = h.LoadUser(context.Background()) })
		synctest.Wait() // LoadUser has read the user, not yet returned
		if err := h.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		close(st.gate)
		wg.Wait()
		if err != nil || got != nil || h.User() != nil {
			t.Errorf("LoadUser gave %v, %v; current %v; want nobody after Logout", got, err, h.User())
		}
	})
}

// A store that fails to save: SetUser returns the error and logs it.
func TestHandlerSetUserStoreError(t *testing.T) {
	e := newEnv(t)
	st := newMemStore()
	st.saveErr = errors.New("disk full")
	h := e.build(WithStore(st, storeKey))
	u := e.auth.user(time.Time{})
	if err := h.SetUser(context.Background(), u); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("SetUser: %v", err)
	}
	if h.User() != u {
		t.Error("SetUser's user is not current")
	}
	if !strings.Contains(e.logBuf.String(), "saving the user failed") {
		t.Errorf("store error not logged: %s", e.logBuf.String())
	}
}

// The back-off holds back the Authenticator, not the store: a user another
// process saved meanwhile is adopted at once.
func TestHandlerBackoffStillAdoptsTheStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		st := newMemStore()
		e.authn.setErr(errors.New("identity provider down"))
		e.build(WithStore(st, storeKey))
		if r := e.get(context.Background()); r.status != 401 {
			t.Fatalf("status %d", r.status)
		}
		other := e.auth.user(time.Time{}) // another process logs in
		st.put(storeKey, other)
		time.Sleep(100 * time.Millisecond) // well within the back-off
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatalf("status %d (%v): the stored user was not adopted", r.status, r.cause)
		}
		if e.h.User() != other || e.authn.calls.Load() != 1 {
			t.Errorf("current %v, %d logins", e.h.User(), e.authn.calls.Load())
		}
	})
}

// scriptedAuthn answers its n-th call with results[n] after gates[n] (when
// not nil) is closed.
type scriptedAuthn struct {
	auth    *authority
	calls   atomic.Int64
	gates   []chan struct{}
	results []error
}

func (s *scriptedAuthn) Authenticate(ctx context.Context, _ *Service) (*User, error) {
	n := s.calls.Add(1) - 1
	if int(n) < len(s.gates) && s.gates[n] != nil {
		<-s.gates[n]
	}
	if int(n) < len(s.results) && s.results[n] != nil {
		return nil, s.results[n]
	}
	return s.auth.user(time.Time{}), nil
}

// A login abandoned at its timeout that fails later does not start a
// back-off over the success that came after it.
func TestHandlerLateFailureIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		gate := make(chan struct{})
		a := &scriptedAuthn{auth: e.auth, gates: []chan struct{}{gate}, results: []error{errors.New("late failure")}}
		e.build(WithAuthenticator(a), WithLoginTimeout(5*time.Second))
		if r := e.get(context.Background()); !errors.Is(r.cause, context.DeadlineExceeded) {
			t.Fatalf("first: %d %v", r.status, r.cause)
		}
		time.Sleep(DefaultLoginBackoff)
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatalf("second: %d %v", r.status, r.cause)
		}
		close(gate) // the first login fails now, long after its timeout
		synctest.Wait()
		e.auth.revoke(e.h.User().Token())
		if r := e.get(context.Background()); r.status != 200 {
			t.Fatalf("after a 401: %d %v (held back by the late failure?)", r.status, r.cause)
		}
		if n := a.calls.Load(); n != 3 {
			t.Errorf("%d logins, want 3", n)
		}
	})
}

// hookHandler is a slog.Handler that runs hook on every record.
type hookHandler struct{ hook func(slog.Record) }

func (h hookHandler) Enabled(context.Context, slog.Level) bool      { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error { h.hook(r); return nil }
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h hookHandler) WithGroup(string) slog.Handler                 { return h }

// SetUser between a login's save and its announcement: the login's user is
// not announced after SetUser's, so the last user announced is current.
func TestHandlerAnnouncementsEndWithTheCurrentUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		var announced []*User
		set := e.auth.user(time.Time{})
		var h *Handler
		var once sync.Once
		logger := slog.New(hookHandler{func(r slog.Record) {
			if r.Message == "auth: new user" {
				once.Do(func() { _ = h.SetUser(context.Background(), set) })
			}
		}})
		h = e.build(WithLogger(logger), WithOnUser(func(u *User) { announced = append(announced, u) }))
		e.get(context.Background())
		if h.User() != set {
			t.Fatalf("current %v, want SetUser's", h.User())
		}
		if len(announced) == 0 || announced[len(announced)-1] != set {
			t.Errorf("announced %v; the last is not the current user", announced)
		}
	})
}

// Two-second tokens from a server that writes iat and exp in whole seconds
// (as Microsoft's Node server does), received at every point of their
// issuing second, on a clock that agrees with the server's: no token is
// ever sent at or after its exp, and no clock warning is logged.
func TestHandlerTwoSecondTokens(t *testing.T) {
	for _, into := range []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond, 700 * time.Millisecond, 999 * time.Millisecond} {
		t.Run(into.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.auth.ttl = 2 * time.Second
				time.Sleep(into)
				e.build()
				var refused atomic.Int64
				e.srv.reject = func(tok string) bool {
					ok := e.auth.valid(tok)
					if !ok {
						refused.Add(1)
					}
					return !ok
				}
				for range 80 { // 8 s of traffic
					if r := e.get(context.Background()); r.status != 200 {
						t.Fatalf("status %d (%v)", r.status, r.cause)
					}
					time.Sleep(100 * time.Millisecond)
				}
				if n := refused.Load(); n != 0 {
					t.Errorf("%d requests carried an expired token", n)
				}
				if strings.Contains(e.logBuf.String(), "clock") {
					t.Errorf("a clock warning with agreeing clocks: %s", e.logBuf.String())
				}
				// Renewed about every 1.5 s, not per request.
				if n := e.authn.calls.Load() + e.refreshes.Load(); n > 12 {
					t.Errorf("%d logins and refreshes in 8 s", n)
				}
			})
		})
	}
}
