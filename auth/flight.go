package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The shared login flight: one store load, refresh or login at a time for
// every request that needs a user, through one Coordinator — the store's
// own when a fleet shares it, else a local one (see local).

// flight is one shared login (or store load, or refresh).
type flight struct {
	gen  uint64 // h.gen when the flight started
	done chan struct{}
	ctx  context.Context // the flight's own: WithoutCancel plus the login timeout
	st   *state
	err  error
}

// need says why a caller wants a new user.
type need int

const (
	needUsable   need = iota // none yet, or expired or about to expire
	needAfter401             // the server refused the caller's token
	needLogin                // Login: ask the Authenticator, not the store
)

// canObtain reports whether a flight could produce a user better than st:
// there is an Authenticator, a store (not yet consulted, or where another
// process may have saved a fresh user), or st can still be refreshed. An
// anonymous client (none of these) sends without a flight: no goroutine,
// no allocation.
func (h *Handler) canObtain(st *state) bool {
	switch {
	case h.authn != nil, h.store != nil:
		return true
	case st == nil:
		return false
	}
	return h.refresh && !st.rejected.Load() && !st.refreshFailed.Load()
}

// obtain returns a usable user, sharing one flight among all callers.
// stale is the state the caller found unusable (or that got a 401). A
// caller returns when the flight ends, its own context is done or the
// flight's timeout passes, whichever is first; the flight itself runs on
// until its Authenticator returns, but one that outlives its timeout is
// abandoned: the next caller starts a new one, and its late result is
// dropped.
func (h *Handler) obtain(ctx context.Context, stale *state, why need) (*state, error) {
	h.mu.Lock()
	if cur := h.cur.Load(); cur != stale && h.usable(cur) {
		// Someone replaced the user meanwhile: use theirs.
		h.mu.Unlock()
		return cur, nil
	}
	f := h.fl
	if f != nil && f.gen != h.gen {
		f = nil // begun before SetUser or Logout: its result will not be used
	}
	if f == nil {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.loginTimeout)
		f = &flight{done: make(chan struct{}), ctx: fctx, gen: h.gen}
		h.fl = f
		go func() {
			defer cancel()
			st, fate, err := h.run(fctx, stale, why)
			announced := false
			if err == nil && fate != known {
				// Saved and announced before anyone can see it, unless
				// SetUser or Logout has run meanwhile.
				announced = h.publish(fctx, f, st.user, fate == toSave)
			}
			var lost *User // a new user that SetUser or Logout overruled
			h.mu.Lock()
			current := h.fl == f // else abandoned after its timeout, or overruled
			if current {
				h.fl = nil
				h.noteOutcome(f, err)
			}
			switch {
			case err != nil:
			case h.gen != f.gen:
				// SetUser or Logout ran meanwhile: the caller's word
				// wins over this flight's result, which is neither
				// installed, saved nor announced.
				if fate == toAnnounce && !announced {
					lost = st.user // the fleet's store holds it already
				}
				if cur := h.cur.Load(); cur != nil {
					st = cur
				} else {
					st, err = nil, ErrLoggedOut
				}
			case !current:
				st, err = nil, fmt.Errorf("auth: login finished after its timeout: %w", context.DeadlineExceeded)
			default:
				h.cur.Store(st)
				h.loaded.Store(true)
			}
			h.mu.Unlock()
			if lost != nil {
				h.unsave(fctx, lost)
			}
			f.st, f.err = st, err
			close(f.done)
		}()
	}
	h.mu.Unlock()
	select {
	case <-f.done:
		return f.st, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.ctx.Done():
		// The login timed out but its Authenticator has not returned.
		select {
		case <-f.done:
			return f.st, f.err
		default:
		}
		h.mu.Lock()
		if h.fl == f {
			h.fl = nil
			// A login that does not return in time (its Authenticator
			// ignores the context) counts as a failure.
			if h.gen == f.gen {
				h.backOff(fmt.Errorf("auth: login did not finish within %v: %w", h.loginTimeout, f.ctx.Err()))
			}
		}
		h.mu.Unlock()
		return nil, f.ctx.Err()
	}
}

// fate says what a flight's user still needs once it is installed.
type fate int

const (
	known      fate = iota // the current user, or one from the store: nothing
	toSave                 // new: save it to the store and announce it
	toAnnounce             // new, and the fleet's store holds it already: announce it
)

// run is the body of a flight: adopt the store's user, or refresh, or log
// in. It returns the new state (not yet installed, saved or announced) and
// what it still needs, or an error.
func (h *Handler) run(ctx context.Context, stale *state, why need) (*state, fate, error) {
	force := why != needUsable
	rejected := func(tok string) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.wasRejected(tok)
	}
	base := stale
	if cur := h.cur.Load(); cur != nil && cur != stale {
		base = cur
	}
	if base != nil && (base.rejected.Load() || rejected(base.user.Token())) {
		base = nil
	}

	if why == needLogin {
		// Login: the Authenticator, whatever the store holds.
		h.loaded.Store(true)
		nu, asked, err := h.renew(ctx, base, force, stale, true)
		if err != nil {
			return nil, known, err
		}
		return h.newState(nu, asked), toSave, nil
	}

	// The coordinator decides: adopt a usable user from the store (saved
	// by another process, or at first use), or renew. A fleet's store
	// renews under the fleet's lock and saves the result itself.
	rejectedTok := ""
	if why == needAfter401 && stale != nil {
		rejectedTok = stale.user.Token()
	}
	var candidate *User // a stored user expired within the refresh grace
	usable := func(u *User) bool {
		switch {
		case u == nil || rejected(u.Token()) || stale != nil && u.Token() == stale.user.Token():
			return false
		case !h.expiredSoon(u):
			return true
		case u.unreadable:
			h.warn(ctx, "auth: the stored user's token cannot be read; treating the entry as corrupt (a login replaces it)")
		case base == nil && h.inGrace(u):
			candidate = u
		}
		return false
	}
	var renewed bool
	var asked time.Time
	used := base
	u, err := h.co.Coordinate(ctx, h.key, rejectedTok, usable, func(ctx context.Context) (*User, error) {
		if used == nil && candidate != nil {
			used = h.newState(candidate, time.Time{})
		}
		nu, at, err := h.renew(ctx, used, force, stale, false)
		renewed, asked = true, at
		return nu, err
	})
	h.loaded.Store(true)
	switch {
	case err != nil:
		return nil, known, err
	case !renewed:
		h.storeLoads.Add(1)
		h.debug(ctx, "auth: using the stored user", u)
		st := h.newState(u, time.Time{})
		st.adopted = true
		return st, known, nil
	case asked.IsZero():
		return used, known, nil
	case h.fleet:
		return h.newState(u, asked), toAnnounce, nil
	}
	return h.newState(u, asked), toSave, nil
}

// renew refreshes base (2.) or logs in (3.). It returns the user and when
// the refresh or login that returned it was sent; without an
// Authenticator a base still valid is kept (asked zero: nothing new). It
// saves nothing.
func (h *Handler) renew(ctx context.Context, base *state, force bool, stale *state, explicit bool) (u *User, asked time.Time, err error) {
	// 2. Refresh a token that has not expired, or expired within the
	// refresh grace (the service refreshes those too: for a browser-login
	// user the difference between a silent renewal and a new browser
	// window). Not after a 401 (a rejected token cannot be refreshed),
	// nor once the server refused to refresh this token.
	if !force && h.refresh && base != nil && !base.refreshFailed.Load() && h.inGrace(base.user) {
		at := time.Now()
		nu, err := h.svc.Refresh(ctx, base.user)
		if err == nil {
			h.refreshes.Add(1)
			return nu, at, nil
		}
		h.failures.Add(1)
		var le *LoginError
		if errors.As(err, &le) {
			// Refused, not a network failure: asking again for the same
			// token would cost every request a round trip.
			base.refreshFailed.Store(true)
		}
		h.logf(ctx, "auth: refresh failed; logging in instead", err)
	}

	// 3. Log in.
	if h.authn == nil {
		if base != nil {
			return base.user, time.Time{}, nil // within the skew but still valid: keep using it
		}
		if stale != nil && !force {
			return nil, time.Time{}, fmt.Errorf("auth: token expired: %w", ErrNoAuthenticator)
		}
		return nil, time.Time{}, ErrNoAuthenticator
	}
	if !explicit {
		if err := h.heldBack(); err != nil {
			return nil, time.Time{}, err
		}
	}
	at := time.Now()
	nu, err := h.authn.Authenticate(ctx, h.svc)
	if err != nil {
		h.failures.Add(1)
		h.logf(ctx, "auth: login failed", err)
		return nil, time.Time{}, err
	}
	if nu == nil {
		h.failures.Add(1)
		return nil, time.Time{}, fmt.Errorf("%w: authenticator returned no user", ErrInvalidLoginResponse)
	}
	h.logins.Add(1)
	return nu, at, nil
}

// publish saves a flight's new user to the store (when save is set) and
// announces it — unless SetUser or Logout has run since the flight f
// began (their word wins, in memory and in the store), or f was abandoned
// after its timeout. It reports whether it did.
func (h *Handler) publish(ctx context.Context, f *flight, u *User, save bool) bool {
	h.saveMu.Lock()
	h.mu.Lock()
	still := h.gen == f.gen && h.fl == f
	h.mu.Unlock()
	if still && save && h.store != nil {
		if err := h.store.Save(ctx, h.key, u); err != nil {
			h.logf(ctx, "auth: saving the user failed", err)
		}
	}
	h.saveMu.Unlock()
	if still {
		h.debug(ctx, "auth: new user", u)
		h.announce(f.gen, u)
	}
	return still
}

// announce calls the WithOnUser callback with u unless SetUser or Logout
// has run since gen: announcements are made one at a time, and a user
// overruled while waiting for its turn is not announced, so the last user
// announced is the current one.
func (h *Handler) announce(gen uint64, u *User) {
	if h.onUser == nil {
		return
	}
	h.announceMu.Lock()
	defer h.announceMu.Unlock()
	if h.genIs(gen) {
		h.onUser(u)
	}
}

// unsave puts the store right after a flight's user reached the fleet's
// store but lost to SetUser or Logout: the store gets the current user
// back, or is cleared — unless it has moved on to yet another user.
func (h *Handler) unsave(ctx context.Context, lost *User) {
	if h.store == nil {
		return
	}
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	su, err := h.store.Load(ctx, h.key)
	if err != nil || su == nil || su.Token() != lost.Token() {
		return
	}
	if cur := h.cur.Load(); cur != nil {
		err = h.store.Save(ctx, h.key, cur.user)
	} else {
		err = h.store.Clear(ctx, h.key)
	}
	if err != nil {
		h.logf(ctx, "auth: restoring the user store failed", err)
	}
}
