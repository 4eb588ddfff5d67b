package auth

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zumo-go/zumo/internal/wire"
)

const headerAuth = wire.HeaderAuth

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
	co           Coordinator // the store's, or local: how a flight gets a user
	fleet        bool        // co is the store's own: it saves what it logs in
	key          string
	initial      *User
	skew         time.Duration
	grace        time.Duration // how long after expiry a token may be refreshed
	attempts     int
	refresh      bool
	onUser       func(*User)
	insecure     bool
	loginTimeout time.Duration
	// loginTimeoutSet: WithLoginTimeout was given; it then wins over an
	// Authenticator's own LoginTimeout.
	loginTimeoutSet bool
	log             *slog.Logger

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
	if lt, ok := h.authn.(loginTimeouter); ok && !h.loginTimeoutSet && lt.LoginTimeout() > h.loginTimeout {
		// A person in a browser takes longer than a default login may.
		h.loginTimeout = lt.LoginTimeout()
	}
	h.co, h.fleet = h.store.(Coordinator)
	if !h.fleet {
		h.co = local{Store: h.store, logf: h.logf}
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
			if cerr := ctx.Err(); cerr != nil {
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
