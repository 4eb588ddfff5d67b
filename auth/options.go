package auth

import (
	"log/slog"
	"time"
)

// DefaultSkew is how long before its expiry a token is replaced, unless
// WithSkew says otherwise.
const DefaultSkew = 2 * time.Minute

// DefaultRefreshGrace is how long after its expiry App Service still
// refreshes a token, and so how long the handler tries .auth/refresh for
// an expired token before logging in, unless WithRefreshGrace says
// otherwise.
const DefaultRefreshGrace = 72 * time.Hour

// DefaultLoginBackoff and DefaultLoginBackoffMax are how long the handler
// waits before it logs in again after a failed login: the first, doubled
// after every further failure up to the second, unless WithLoginBackoff
// says otherwise.
const (
	DefaultLoginBackoff    = time.Second
	DefaultLoginBackoffMax = time.Minute
)

// DefaultLoginTimeout bounds one shared login or refresh, unless
// WithLoginTimeout says otherwise.
const DefaultLoginTimeout = 2 * time.Minute

// An Option configures a Handler.
type Option func(*Handler)

// WithAuthenticator sets how the handler logs in when it needs a fresh
// user. Without one, the handler only attaches the user it has.
func WithAuthenticator(a Authenticator) Option { return func(h *Handler) { h.authn = a } }

// WithStore loads the user from s under key at the first request, and
// saves every new user there.
func WithStore(s Store, key string) Option { return func(h *Handler) { h.store, h.key = s, key } }

// WithUser starts the handler with u as the current user.
func WithUser(u *User) Option { return func(h *Handler) { h.initial = u } }

// WithSkew replaces a token this long before it expires (default
// DefaultSkew), but never earlier than three quarters into its lifetime
// (exp − iat, when the token has both): a token issued for a minute is
// used for 45 seconds, not replaced before every request. Negative values
// count as zero.
func WithSkew(d time.Duration) Option {
	return func(h *Handler) {
		if d < 0 {
			d = 0
		}
		h.skew = d
	}
}

// WithRefreshGrace sets how long after its expiry a token may still be
// renewed through .auth/refresh before the handler falls back to the
// Authenticator (default DefaultRefreshGrace, App Service's 72 hours).
// Negative values count as zero: only unexpired tokens are refreshed.
func WithRefreshGrace(d time.Duration) Option { return func(h *Handler) { h.grace = max0(d) } }

// WithReloginAttempts sets how many times one request may cause a fresh
// login and be resent after a 401 (default 1; 0 turns 401 handling off).
func WithReloginAttempts(n int) Option {
	return func(h *Handler) {
		if n < 0 {
			n = 0
		}
		h.attempts = n
	}
}

// WithRefresh turns refreshing an expiring token through .auth/refresh on
// or off (default on; never on legacy Mobile Services).
func WithRefresh(on bool) Option { return func(h *Handler) { h.refresh = on } }

// WithOnUser calls f with every new user (after a login or refresh, and
// from SetUser), after it is saved to the store: the place to persist it
// elsewhere. The calls are made one at a time, in order, and a user that
// SetUser or Logout overruled is not announced. f must not block for long
// (it runs inside the shared login) and must not call the handler's (or
// the client's) Login, SetUser or Logout: that would deadlock.
func WithOnUser(f func(*User)) Option { return func(h *Handler) { h.onUser = f } }

// WithInsecureHTTP allows tokens and credentials over plain http to a host
// that is not loopback. NewHandler then also sets AllowInsecureHTTP on the
// Service it is given, so that logins through that Service may use plain
// http too. Leave it off outside tests.
func WithInsecureHTTP() Option { return func(h *Handler) { h.insecure = true } }

// WithLoginTimeout bounds one shared login or refresh (default
// DefaultLoginTimeout). No single caller's cancellation stops a login; this
// does. A login whose Authenticator ignores the timeout is abandoned when
// it passes: its waiters get context.DeadlineExceeded, the next request
// starts a new login, and the late result is not installed. Without this
// option, an Authenticator that has a LoginTimeout() time.Duration method
// longer than the default (Browser has: its BrowserTimeout) gets that.
func WithLoginTimeout(d time.Duration) Option {
	return func(h *Handler) {
		if d > 0 {
			h.loginTimeout, h.loginTimeoutSet = d, true
		}
	}
}

// WithLoginBackoff sets how long requests wait before they call the
// Authenticator again after a failed login (its error, or a login that did
// not finish within the login timeout, or a token the server refused on
// the first request it went with): initial after the first failure,
// doubled after each further one up to max, and forgotten at the first
// success, SetUser or Logout. Meanwhile the store and a refresh are still
// tried (another process may have logged in); failing those, requests are
// sent with what the handler has (a 401 carries an error wrapping
// ErrLoginBackoff and the failure) instead of asking a failing identity
// provider once per request. A login or refresh that could not reach the
// service at all (a dial, a reset, a timeout) starts no back-off: the
// first request after an outage logs in at once. An explicit Login is not
// held back.
// WithLoginBackoff(0, 0) turns it off. Defaults: DefaultLoginBackoff,
// DefaultLoginBackoffMax.
func WithLoginBackoff(initial, max time.Duration) Option {
	return func(h *Handler) {
		h.backoff, h.backoffMax = max0(initial), max0(max)
		if h.backoffMax < h.backoff {
			h.backoffMax = h.backoff
		}
	}
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// WithLogger reports what the handler does on its slow path (logins,
// refreshes, store errors) to l; tokens never appear. Default: nothing is
// logged.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }
