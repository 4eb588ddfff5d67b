package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zumo-go/zumo/internal/wire"
)

const headerAuth = wire.HeaderAuth

// maxKept401 is how much of a 401 body is held in memory while the handler
// logs in; the rest, if any, stays unread on the original connection.
const maxKept401 = 1 << 20

// state is the current user with its header value made once, so the hot
// path neither parses nor allocates.
type state struct {
	user          *User
	hdr           []string
	rejected      atomic.Bool // the server answered 401 to this token
	refreshFailed atomic.Bool // the server refused to refresh this token
	served        atomic.Bool // the server answered a request with it (not 401)
	adopted       bool        // taken from the store, not from a login or refresh
	issued        bool        // from this handler's own login or refresh

	// The token stays usable while now.Sub(born) < fresh on the monotonic
	// clock and now is before wallEnd on the wall clock — one clock read
	// per request, no parsing. Both are checked because each misses a
	// case: the monotonic clock stands still while the machine sleeps (a
	// laptop lid closed past the expiry), and the wall clock can be set
	// back.
	born    time.Time
	fresh   time.Duration // math.MaxInt64: no expiry
	wallEnd time.Time     // zero: no expiry
}

// clockWarn is how far this machine's clock must be from the server's
// before the handler says so in its log.
const clockWarn = 5 * time.Second

// newState wraps u for installing and works out how long it stays usable.
// asked is when the login or refresh that returned u was sent; zero when
// u comes from elsewhere (the store, SetUser, WithUser).
//
// The rule is User.ExpiredWithin's with the handler's skew: expired when
// the claims cannot be read or now ≥ exp − skew. Two exceptions, both for
// a token this handler was just given by the server: one whose claims
// cannot be read is used until the server answers 401 (not a login per
// request), and exp is moved by how far this machine's clock is, at
// least, from the server's (see clockOffset).
func (h *Handler) newState(u *User, asked time.Time) *state {
	now := time.Now()
	st := &state{user: u, hdr: []string{u.Token()}, issued: !asked.IsZero(), born: now, fresh: math.MaxInt64}
	exp, ok := u.ExpiresAt()
	switch {
	case u.unreadable && st.issued:
		return st
	case u.unreadable:
		st.fresh, st.wallEnd = 0, now.Round(0)
		return st
	case !ok:
		return st
	}
	if st.issued {
		if off := clockOffset(u, asked, now); off != 0 {
			exp = exp.Add(off)
			if off >= clockWarn || off <= -clockWarn {
				h.warn(context.Background(), "auth: this machine's clock differs from the server's (is it ahead of the server's, or behind?); judging the token's expiry by the server's clock",
					slog.Duration("at_least", off.Abs()))
			}
		}
	}
	left, skew := exp.Sub(now), h.skewFor(u)
	st.fresh = 0
	if left > skew {
		st.fresh = left - skew
	}
	st.wallEnd = now.Round(0).Add(st.fresh)
	return st
}

// clockOffset returns how far this machine's clock is at least ahead of
// the server's (positive) or behind it (negative), told by the iat of a
// token the server issued between asked and now on this machine's clock;
// 0 when they may agree. The server writes iat in whole seconds, so it
// may be up to a second earlier than the true issue time: a token received
// 0.7 s into its issuing second is not a sign of a clock ahead.
func clockOffset(u *User, asked, now time.Time) time.Duration {
	iat, ok := u.IssuedAt()
	if !ok {
		return 0
	}
	if ahead := asked.Round(0).Sub(iat) - time.Second; ahead > 0 {
		return ahead
	}
	if behind := iat.Sub(now.Round(0)); behind > 0 {
		return -behind
	}
	return 0
}

// skewFor is how long before u's expiry its token is replaced: the
// configured skew, but at most a quarter of the token's lifetime (exp −
// iat), so that a token issued for less than the skew is used for most of
// its life instead of costing a login per request.
func (h *Handler) skewFor(u *User) time.Duration {
	if lt, ok := u.Lifetime(); ok && lt/4 < h.skew {
		return lt / 4
	}
	return h.skew
}

// expiredSoon reports whether u's token is expired or within its skew.
func (h *Handler) expiredSoon(u *User) bool { return u.ExpiredWithin(time.Now(), h.skewFor(u)) }

// inGrace reports whether u's token may still be refreshed: readable, and
// not expired for longer than the refresh grace.
func (h *Handler) inGrace(u *User) bool {
	return !u.unreadable && !u.ExpiredWithin(time.Now().Add(-h.grace), 0)
}

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

// Stats counts what a Handler has done on its slow path.
type Stats struct {
	Logins     int64 // Authenticator calls that returned a user
	Refreshes  int64 // refreshes that returned a user
	StoreLoads int64 // users adopted from the store
	Failures   int64 // logins or refreshes that failed
	Resends    int64 // requests sent again after a 401
}

// Handler is the auth step of the handler chain (it implements
// handler.Handler). For each request to the service's own origin it
// attaches the current user's token. It loads the user from the store at
// first use, replaces a token that is expired or about to expire before
// sending, and after a 401 logs in once and resends with the body
// replayed. Concurrent requests that need a login share one.
//
// A Handler is safe for concurrent use. Make one with NewHandler.
type Handler struct {
	svc          *Service
	authn        Authenticator
	store        Store
	key          string
	initial      *User
	skew         time.Duration
	grace        time.Duration // how long after expiry a token may be refreshed
	attempts     int
	refresh      bool
	onUser       func(*User)
	insecure     bool
	loginTimeout time.Duration
	log          *slog.Logger

	backoff, backoffMax time.Duration // after a failed login (WithLoginBackoff)

	scheme, host, hostPort string // the service's origin, normalised
	exactHost              string // the app URL's Host exactly as the client spells it
	bareHost               string // host as URL.Host spells it without a port ([::1] for IPv6)
	defaultPort            bool   // the origin's port is the scheme's default
	secure                 bool   // tokens may go to the origin

	cur    atomic.Pointer[state]
	loaded atomic.Bool // the store was consulted

	mu       sync.Mutex
	gen      uint64 // bumped by SetUser and Logout
	fl       *flight
	rejected []uint64 // hashes of the last tokens the server rejected (never adopted from the store again)
	seed     maphash.Seed

	// The last failed login, while requests hold back (h.mu guards them).
	failErr   error
	failUntil time.Time
	failWait  time.Duration

	// saveMu orders the store writes of flights, SetUser and Logout, so
	// that the store ends up holding what the caller decided last;
	// announceMu orders the WithOnUser calls the same way.
	saveMu, announceMu sync.Mutex

	logins, refreshes, storeLoads, failures, resends atomic.Int64
}

// NewHandler returns the auth handler for svc's backend. It sends nothing.
func NewHandler(svc *Service, opts ...Option) *Handler {
	h := &Handler{svc: svc, skew: DefaultSkew, grace: DefaultRefreshGrace, attempts: 1, refresh: true,
		loginTimeout: DefaultLoginTimeout, seed: maphash.MakeSeed(),
		backoff: DefaultLoginBackoff, backoffMax: DefaultLoginBackoffMax}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	if svc.Legacy {
		h.refresh = false
	}
	if h.insecure {
		svc.AllowInsecureHTTP = true
	}
	u := svc.AppURL
	h.scheme = strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[h.scheme]
	}
	h.host, h.hostPort = host, joinHostPort(host, port)
	h.bareHost = host
	if strings.Contains(host, ":") {
		h.bareHost = "[" + host + "]"
	}
	h.defaultPort = port == defaultPort(h.scheme)
	h.secure = h.scheme == "https" || h.insecure || isLoopback(host)
	h.exactHost = u.Host
	if h.initial != nil {
		h.cur.Store(h.newState(h.initial, time.Time{}))
		h.loaded.Store(true)
	}
	return h
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// ownOrigin reports whether u has the service's scheme, host and port.
func (h *Handler) ownOrigin(scheme, host string) bool {
	if scheme == h.scheme && host == h.exactHost {
		return true // the client's own URLs: the common case, no folding
	}
	if !strings.EqualFold(scheme, h.scheme) {
		return false
	}
	if strings.EqualFold(host, h.hostPort) {
		return true
	}
	// host without a port means the scheme's default port. (Precomputed:
	// this is the hot path, and it must not allocate.)
	return h.defaultPort && strings.EqualFold(host, h.bareHost)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// String describes the handler: its service's origin and current user,
// never a token.
func (h *Handler) String() string {
	return fmt.Sprintf("auth.Handler for %s://%s (%v)", h.scheme, h.exactHost, h.User())
}

// Format prints String for every verb (%v, %+v, %#v, %s, %q), so printing
// a Handler neither shows a token nor reads its fields while other
// goroutines change them.
func (h *Handler) Format(f fmt.State, verb rune) {
	printAs(f, verb, h.String())
}

// User returns the current user, or nil when there is none yet.
func (h *Handler) User() *User {
	if st := h.cur.Load(); st != nil {
		return st.user
	}
	return nil
}

// Stats returns counts of what the handler has done so far.
func (h *Handler) Stats() Stats {
	return Stats{Logins: h.logins.Load(), Refreshes: h.refreshes.Load(), StoreLoads: h.storeLoads.Load(),
		Failures: h.failures.Load(), Resends: h.resends.Load()}
}

// usable reports whether st can be sent as it is.
func (h *Handler) usable(st *state) bool {
	if st == nil || st.rejected.Load() {
		return false
	}
	if st.fresh == math.MaxInt64 {
		return true
	}
	now := time.Now()
	return now.Sub(st.born) < st.fresh && now.Before(st.wallEnd)
}

// Handle implements handler.Handler.
func (h *Handler) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if own := h.ownOrigin(req.URL.Scheme, req.URL.Host); !own || !h.secure {
		// Never a token to another origin, or over plain http to a
		// remote host: strip any the request carries.
		req = withToken(req, nil)
		resp, err := next.RoundTrip(req)
		if own && err == nil && resp.StatusCode == http.StatusUnauthorized {
			// The service's own origin, over plain http to a remote
			// host: say why no token went with the request.
			resp = withCause(resp, ErrInsecureTransport)
		}
		return resp, err
	}
	ctx := req.Context()
	st := h.cur.Load()
	var preErr error // why the user could not be renewed before sending
	if !h.usable(st) && h.canObtain(st) {
		nst, err := h.obtain(ctx, st, needUsable)
		if err != nil {
			if st == nil || !h.loaded.Load() {
				h.logf(ctx, "auth: no user for request", err)
			}
			// Send with what we have (maybe nothing): the server decides,
			// and a 401 comes back to the caller with the reason.
			if cerr := ctxErr(ctx); cerr != nil {
				closeReqBody(req)
				return nil, cerr
			}
			preErr = err
			if st != nil && st.rejected.Load() {
				st = nil // known to be refused; without it an anonymous call may pass
			}
		} else {
			st = nst
		}
	}
	req = withToken(req, st)
	resp, err := next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		if st != nil && !st.served.Load() {
			h.served(st)
		}
		return resp, nil
	}
	if st != nil && h.refusedFresh(st) {
		return withCause(resp, ErrFreshTokenRefused), nil
	}
	if h.attempts == 0 {
		return resp, nil
	}
	if preErr != nil {
		// This request's login just failed: do not try again for it (a
		// second Authenticator call per request), report why.
		if st != nil {
			h.reject(st)
		}
		return withCause(resp, preErr), nil
	}
	return h.handle401(req, next, st, resp)
}

// withToken returns a clone of req carrying st's token, or none (req
// itself when it carries none already). The caller's request is never
// changed, as the RoundTripper contract asks.
func withToken(req *http.Request, st *state) *http.Request {
	if _, has := req.Header[headerAuth]; st == nil && !has {
		return req
	}
	r := req.Clone(req.Context())
	if st != nil {
		r.Header[headerAuth] = st.hdr
	} else {
		r.Header.Del(headerAuth)
	}
	return r
}

// handle401 logs in again (once for every request that got a 401 with the
// same token) and resends req, up to h.attempts times.
func (h *Handler) handle401(req *http.Request, next http.RoundTripper, sent *state, resp *http.Response) (*http.Response, error) {
	ctx := req.Context()
	freeUsed := false
	for attempt := 0; ; attempt++ {
		if attempt >= h.attempts {
			return withCause(resp, ErrStillUnauthorized), nil
		}
		if sent != nil {
			h.reject(sent)
		}
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if !replayable {
			return withCause(resp, ErrBodyNotReplayable), nil
		}
		if h.authn == nil {
			return withCause(resp, ErrNoAuthenticator), nil
		}
		// Keep the 401 intact while logging in, in case the login fails.
		kept, err := keep(resp)
		if err != nil {
			return nil, err
		}
		nst, err := h.obtain(ctx, sent, needAfter401)
		if err != nil {
			return withCause(kept, err), nil
		}
		r := withToken(req, nst)
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return withCause(kept, fmt.Errorf("auth: replaying body: %w", err)), nil
			}
			r.Body = body
		}
		closeBody(kept)
		h.resends.Add(1)
		resp, err = next.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			h.served(nst)
			return resp, nil
		}
		if h.refusedFresh(nst) {
			return withCause(resp, fmt.Errorf("%w: %w", ErrStillUnauthorized, ErrFreshTokenRefused)), nil
		}
		if nst.adopted && !freeUsed {
			// The token came from the store (another process saved it),
			// not from a login, and it was stale too: that round cost no
			// login, so it does not count. Once per request, so the loop
			// stays bounded.
			freeUsed = true
			attempt--
		}
		sent = nst
	}
}

// refusedFresh handles a 401 to st's token: when this handler's login or
// refresh has just returned it and no request with it has been answered
// otherwise, the server refuses the tokens it issues. That counts as a
// failed login for the back-off, and st is rejected. It reports whether
// it was so.
func (h *Handler) refusedFresh(st *state) bool {
	if !st.issued || st.served.Load() {
		return false
	}
	if !h.reject(st) {
		return true // noted by another request's 401
	}
	h.mu.Lock()
	h.backOff(ErrFreshTokenRefused)
	h.mu.Unlock()
	h.warn(context.Background(), "auth: the server refused a token it had just issued; backing off before the next login")
	return true
}

// reject marks st's token as refused by the server, so no request sends it
// again and the store's copy of it is not adopted.
// It reports whether this call marked it (false: already marked).
func (h *Handler) reject(st *state) bool {
	if st.rejected.Swap(true) {
		return false
	}
	h.mu.Lock()
	if len(h.rejected) == maxRejected {
		copy(h.rejected, h.rejected[1:])
		h.rejected = h.rejected[:maxRejected-1]
	}
	h.rejected = append(h.rejected, maphash.String(h.seed, st.user.Token()))
	h.mu.Unlock()
	return true
}

// maxRejected is how many refused tokens the handler remembers.
const maxRejected = 16

// wasRejected reports whether the server refused tok; h.mu must be held.
// Only hashes are kept: a handler printed with %#v shows no token.
func (h *Handler) wasRejected(tok string) bool {
	return slices.Contains(h.rejected, maphash.String(h.seed, tok))
}

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

	// A store shared by a fleet makes the decision for every process:
	// adopt what another process saved, or log in under the fleet's lock.
	if co, ok := h.store.(Coordinator); ok && why != needLogin {
		rejectedTok := ""
		if why == needAfter401 && stale != nil {
			rejectedTok = stale.user.Token()
		}
		var renewed bool
		var asked time.Time
		u, err := co.Coordinate(ctx, h.key, rejectedTok,
			func(u *User) bool { return u != nil && !rejected(u.Token()) && !h.expiredSoon(u) },
			func(ctx context.Context) (*User, error) {
				nu, at, err := h.renew(ctx, base, force, stale, why == needLogin)
				renewed, asked = true, at
				return nu, err
			})
		h.loaded.Store(true)
		if err != nil {
			return nil, known, err
		}
		if !renewed {
			h.storeLoads.Add(1)
			h.debug(ctx, "auth: using the user the fleet shares", u)
			st := h.newState(u, time.Time{})
			st.adopted = true
			return st, known, nil
		}
		if asked.IsZero() {
			return base, known, nil
		}
		return h.newState(u, asked), toAnnounce, nil
	}

	// 1. The store: at first use, or whenever another process may have
	// logged in for us.
	if h.store != nil && why != needLogin {
		su, err := h.store.Load(ctx, h.key)
		h.loaded.Store(true)
		switch {
		case err == nil && su != nil && !rejected(su.Token()) && (stale == nil || su.Token() != stale.user.Token()):
			if !h.expiredSoon(su) {
				h.storeLoads.Add(1)
				h.debug(ctx, "auth: using the stored user", su)
				st := h.newState(su, time.Time{})
				st.adopted = true
				return st, known, nil
			}
			if su.unreadable {
				h.warn(ctx, "auth: the stored user's token cannot be read; treating the entry as corrupt (a login replaces it)")
			} else if base == nil && h.inGrace(su) {
				base = h.newState(su, time.Time{}) // a refresh candidate
			}
		case err != nil && !errors.Is(err, ErrNoUser):
			h.logf(ctx, "auth: user store load failed; treating it as empty", err)
		}
	} else {
		h.loaded.Store(true)
	}

	nu, asked, err := h.renew(ctx, base, force, stale, why == needLogin)
	if err != nil {
		return nil, known, err
	}
	if asked.IsZero() {
		return base, known, nil
	}
	return h.newState(nu, asked), toSave, nil
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

// heldBack returns an error wrapping ErrLoginBackoff and the failure while
// the back-off after a failed login lasts; nil otherwise. Only the
// Authenticator is held back: the store, and a refresh, are still tried.
func (h *Handler) heldBack() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr != nil && time.Now().Before(h.failUntil) {
		return fmt.Errorf("%w: %w", ErrLoginBackoff, h.failErr)
	}
	return nil
}

// noteOutcome starts or lengthens the back-off after a failed login, and
// lets the Authenticator be asked again after a success; h.mu must be
// held. The doubling itself restarts only when the server accepts a token
// (see served): a login whose token the server refuses is no success. A
// flight overruled by SetUser or Logout (which end the back-off
// themselves) counts for nothing, nor does a failure that another login
// cannot mend (no Authenticator, a logout), nor one where the service
// could not be reached: the back-off is for a service that answers and
// refuses, and must not hold back the first login once it answers again.
func (h *Handler) noteOutcome(f *flight, err error) {
	switch {
	case h.gen != f.gen:
	case err == nil:
		h.failErr = nil
	case errors.Is(err, ErrLoginBackoff), errors.Is(err, ErrNoAuthenticator), errors.Is(err, ErrLoggedOut), unreachable(err):
	default:
		h.backOff(err)
	}
}

// backOff starts or lengthens the back-off with err as its reason; h.mu
// must be held.
func (h *Handler) backOff(err error) {
	if h.backoff <= 0 {
		return
	}
	h.failWait = min(max(2*h.failWait, h.backoff), h.backoffMax)
	h.failErr, h.failUntil = err, time.Now().Add(h.failWait)
}

// served notes that the server answered a request carrying st's token
// with something other than 401. For a token this handler's login or
// refresh returned, that ends the doubling of the back-off.
func (h *Handler) served(st *state) {
	if st.served.Swap(true) || !st.issued {
		return
	}
	h.mu.Lock()
	if h.failErr == nil {
		h.failWait = 0
	}
	h.mu.Unlock()
}

// unreachable reports whether err says the service could not be reached
// (a dial, a reset connection, a timeout), as opposed to an answer.
func unreachable(err error) bool {
	var le *LoginError
	if errors.As(err, &le) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

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

// keep reads a 401's body into memory (up to maxKept401; the rest stays
// on the connection) so the response can be handed back intact later.
func keep(resp *http.Response) (*http.Response, error) {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxKept401))
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("auth: reading 401 response: %w", err)
	}
	r := *resp
	if len(head) < maxKept401 {
		resp.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(head))
	} else {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return &r, nil
}

func withCause(resp *http.Response, cause error) *http.Response {
	r := *resp
	r.Body = &causeBody{ReadCloser: resp.Body, cause: cause}
	return &r
}

func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func ctxErr(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}

func (h *Handler) warn(ctx context.Context, msg string, args ...any) {
	if h.log != nil {
		h.log.WarnContext(ctx, msg, args...)
	}
}

func (h *Handler) logf(ctx context.Context, msg string, err error) {
	if h.log != nil {
		h.log.WarnContext(ctx, msg, slog.String("error", err.Error()))
	}
}

func (h *Handler) debug(ctx context.Context, msg string, u *User) {
	if h.log != nil {
		h.log.DebugContext(ctx, msg, slog.Any("user", u))
	}
}
