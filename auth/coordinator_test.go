package auth

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zumo-go/zumo/handler"
)

// fakeFleet is a Coordinator shared by several handlers, as a Redis store
// is shared by several processes. lock plays the fleet's lock: it is held
// across the login. It is a channel, not a sync.Mutex, so that a member
// waiting for it is durably blocked and the synctest clock can advance.
type fakeFleet struct {
	mu       sync.Mutex // guards u and rejected, never held across a wait
	lock     chan struct{}
	u        *User
	calls    atomic.Int64
	saves    atomic.Int64 // Save calls from outside Coordinate (the handler's own)
	rejected []string
}

func (f *fakeFleet) Load(ctx context.Context, key string) (*User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.u == nil {
		return nil, ErrNoUser
	}
	return f.u, nil
}

func (f *fakeFleet) Save(ctx context.Context, key string, u *User) error {
	f.saves.Add(1)
	f.mu.Lock()
	f.u = u
	f.mu.Unlock()
	return nil
}

func (f *fakeFleet) Clear(ctx context.Context, key string) error {
	f.mu.Lock()
	f.u = nil
	f.mu.Unlock()
	return nil
}

func (f *fakeFleet) Coordinate(ctx context.Context, key, rejected string, usable func(*User) bool, login func(context.Context) (*User, error)) (*User, error) {
	f.calls.Add(1)
	select {
	case f.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.lock }()
	f.mu.Lock()
	if rejected != "" {
		f.rejected = append(f.rejected, rejected)
		if f.u != nil && f.u.Token() == rejected {
			f.u = nil // compare-and-swap: only the token that was refused
		}
	}
	cur := f.u
	f.mu.Unlock()
	if cur != nil && usable(cur) {
		return cur, nil
	}
	u, err := login(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.u = u
	f.mu.Unlock()
	return u, nil
}

var _ Coordinator = (*fakeFleet)(nil)

// fleetMember is one "process": its own handler on the shared fleet store.
func fleetMember(e *env, fleet *fakeFleet, opts ...Option) (*Handler, http.RoundTripper) {
	all := append([]Option{WithAuthenticator(e.authn), WithStore(fleet, "k")}, opts...)
	h := NewHandler(e.svc, all...)
	return h, handler.Chain(e.srv, h)
}

func TestCoordinatorOneLoginForTheFleet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = 50 * time.Millisecond
		fleet := &fakeFleet{lock: make(chan struct{}, 1)}
		// An expired user everywhere, refresh off: a login is needed.
		fleet.u = e.auth.user(time.Now().Add(-time.Minute))
		var hs []*Handler
		var rts []http.RoundTripper
		for range 3 {
			h, rt := fleetMember(e, fleet, WithRefresh(false))
			hs, rts = append(hs, h), append(rts, rt)
		}
		var wg sync.WaitGroup
		var fails atomic.Int64
		for i := range 60 {
			wg.Go(func() {
				resp, err := rts[i%3].RoundTrip(newReq(t, context.Background(), "GET", appURL+"tables/todo", nil))
				if err != nil || resp.StatusCode != 200 {
					fails.Add(1)
					return
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
		if fails.Load() != 0 {
			t.Fatalf("%d requests failed", fails.Load())
		}
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d logins across the fleet, want 1", n)
		}
		if n := fleet.calls.Load(); n > 3 {
			t.Errorf("%d Coordinate calls, want at most one per member", n)
		}
		if n := fleet.saves.Load(); n != 0 {
			t.Errorf("the handler saved %d times itself; the coordinator saves", n)
		}
		var logins, adopted int64
		for _, h := range hs {
			s := h.Stats()
			logins += s.Logins
			adopted += s.StoreLoads
		}
		if logins != 1 || adopted != fleet.calls.Load()-1 {
			t.Errorf("logins %d, adopted %d (coordinate calls %d)", logins, adopted, fleet.calls.Load())
		}
	})
}

func TestCoordinatorAfter401PassesTheRejectedToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		fleet := &fakeFleet{lock: make(chan struct{}, 1)}
		old := e.auth.user(time.Time{})
		fleet.u = old
		h1, rt1 := fleetMember(e, fleet)
		h2, rt2 := fleetMember(e, fleet)
		// Both members start with the shared user.
		for _, rt := range []http.RoundTripper{rt1, rt2} {
			resp, err := rt.RoundTrip(newReq(t, context.Background(), "GET", appURL+"tables/todo", nil))
			if err != nil || resp.StatusCode != 200 {
				t.Fatal("before rotation", err)
			}
			resp.Body.Close()
		}
		e.auth.revoke(old.Token()) // the server's key changed
		for _, rt := range []http.RoundTripper{rt1, rt2} {
			resp, err := rt.RoundTrip(newReq(t, context.Background(), "POST", appURL+"tables/todo", []byte(`{"a":1}`)))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("after rotation: %v %v", resp, err)
			}
			resp.Body.Close()
		}
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d re-logins across the fleet, want 1", n)
		}
		fleet.mu.Lock()
		defer fleet.mu.Unlock()
		if len(fleet.rejected) != 2 || fleet.rejected[0] != old.Token() || fleet.rejected[1] != old.Token() {
			t.Errorf("rejected tokens passed: %d", len(fleet.rejected))
		}
		if fleet.u == nil || fleet.u.Token() == old.Token() {
			t.Error("the second member's CAS must not clear the new token")
		}
		if h1.Stats().Logins+h2.Stats().Logins != 1 {
			t.Error("stats disagree with the authenticator's count")
		}
	})
}

// Logout and SetUser during a login win over the login's result.
func TestLogoutAndSetUserDuringALoginWin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.authn.delay = time.Second
		store := &fakeFleet{lock: make(chan struct{}, 1)}
		h := NewHandler(e.svc, WithAuthenticator(e.authn), WithStore(plainStore{store}, "k"))
		rt := handler.Chain(e.srv, h)
		done := make(chan *http.Response)
		go func() {
			resp, _ := rt.RoundTrip(newReq(t, context.Background(), "GET", appURL+"tables/todo", nil))
			done <- resp
		}()
		time.Sleep(500 * time.Millisecond) // the login is under way
		if err := h.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		resp := <-done
		resp.Body.Close()
		if h.User() != nil {
			t.Error("a login that finished after Logout installed its user")
		}
		if u, _ := store.Load(context.Background(), "k"); u != nil {
			t.Error("the store holds a user after Logout")
		}

		// SetUser during a login: the set user stays.
		go func() {
			resp, _ := rt.RoundTrip(newReq(t, context.Background(), "GET", appURL+"tables/todo", nil))
			done <- resp
		}()
		time.Sleep(500 * time.Millisecond)
		mine := e.auth.user(time.Time{})
		if err := h.SetUser(context.Background(), mine); err != nil {
			t.Fatal(err)
		}
		resp = <-done
		resp.Body.Close()
		if h.User() != mine {
			t.Error("a login that finished after SetUser replaced the set user")
		}
	})
}

// plainStore hides the fleet's Coordinate: a store for one process.
type plainStore struct{ f *fakeFleet }

func (p plainStore) Load(ctx context.Context, k string) (*User, error) { return p.f.Load(ctx, k) }
func (p plainStore) Save(ctx context.Context, k string, u *User) error { return p.f.Save(ctx, k, u) }
func (p plainStore) Clear(ctx context.Context, k string) error         { return p.f.Clear(ctx, k) }

// A token adopted from the store after a 401 that turns out stale too
// costs no login, so it does not use up the request's attempt: the request
// logs in and succeeds.
func TestStaleStoredTokenAfter401DoesNotFailTheRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		fleet := &fakeFleet{lock: make(chan struct{}, 1)}
		mine := e.auth.user(time.Time{})
		other := e.auth.user(time.Time{}) // saved by "another process"
		fleet.u = other
		h := NewHandler(e.svc, WithAuthenticator(e.authn), WithStore(plainStore{fleet}, "k"), WithUser(mine))
		rt := handler.Chain(e.srv, h)
		e.auth.revoke(mine.Token())
		e.auth.revoke(other.Token()) // the key rotated: both are stale
		resp, err := rt.RoundTrip(newReq(t, context.Background(), "GET", appURL+"tables/todo", nil))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v %v, want 200", resp, err)
		}
		resp.Body.Close()
		if n := e.authn.calls.Load(); n != 1 {
			t.Errorf("%d logins, want 1", n)
		}
		if sends, _ := e.srv.count(); sends != 3 {
			t.Errorf("%d sends, want 3 (mine refused, the stored one refused, the fresh one)", sends)
		}
	})
}
