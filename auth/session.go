package auth

import (
	"context"
	"errors"
	"time"
)

// What the application asks of the handler directly: Login, SetUser,
// LoadUser, Logout.

// genIs reports whether no SetUser or Logout has run since gen was read.
func (h *Handler) genIs(gen uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen == gen
}

// Login logs in now with the configured Authenticator (sharing a flight
// with any login under way), installs and saves the user, and returns it.
// It returns ErrNoAuthenticator without one, or the login's error.
func (h *Handler) Login(ctx context.Context) (*User, error) {
	if h.authn == nil {
		return nil, ErrNoAuthenticator
	}
	st, err := h.obtain(ctx, h.cur.Load(), needLogin)
	if err != nil {
		return nil, err
	}
	return st.user, nil
}

// SetUser makes u the current user, saves it to the store and announces
// it, as if the handler had logged it in; a login under way is overruled
// (its result is neither installed nor saved). It returns the store's
// error, if any, which is also logged; u is current either way.
func (h *Handler) SetUser(ctx context.Context, u *User) error {
	if u == nil {
		return errors.New("auth: SetUser needs a user; use Logout to clear")
	}
	h.mu.Lock()
	h.gen++
	gen := h.gen
	h.failErr, h.failWait = nil, 0
	h.cur.Store(h.newState(u, time.Time{}))
	h.loaded.Store(true)
	h.mu.Unlock()
	var err error
	if h.store != nil {
		h.saveMu.Lock()
		if h.genIs(gen) { // else a later SetUser or Logout writes the store
			err = h.store.Save(ctx, h.key, u)
		}
		h.saveMu.Unlock()
		if err != nil {
			h.logf(ctx, "auth: saving the user failed", err)
		}
	}
	h.announce(gen, u)
	return err
}

// LoadUser consults the store now (once; later calls return the current
// user) and returns the current user, or nil when there is none. It never
// logs in. It returns the store's error (other than ErrNoUser) with a nil
// user; a user the server has refused, or one loaded while SetUser or
// Logout ran, is not installed.
func (h *Handler) LoadUser(ctx context.Context) (*User, error) {
	if !h.loaded.Load() && h.store != nil {
		h.mu.Lock()
		gen := h.gen
		h.mu.Unlock()
		u, err := h.store.Load(ctx, h.key)
		if err != nil && !errors.Is(err, ErrNoUser) {
			return nil, err
		}
		h.mu.Lock()
		if u != nil && h.gen == gen && h.cur.Load() == nil && !h.wasRejected(u.Token()) {
			h.cur.Store(h.newState(u, time.Time{}))
			h.storeLoads.Add(1)
		}
		h.loaded.Store(true)
		h.mu.Unlock()
	}
	return h.User(), nil
}

// Logout forgets the current user locally and clears the store's entry; a
// login under way is overruled. It does not tell the server. It returns
// the store's error, if any.
func (h *Handler) Logout(ctx context.Context) error {
	h.mu.Lock()
	h.gen++
	gen := h.gen
	h.failErr, h.failWait = nil, 0
	h.cur.Store(nil)
	h.loaded.Store(true)
	h.mu.Unlock()
	if h.store == nil {
		return nil
	}
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	if !h.genIs(gen) {
		return nil // a later SetUser or Logout writes the store
	}
	return h.store.Clear(ctx, h.key)
}
