package zumotest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// An Option configures a Server; pass it to New or NewServer.
type Option func(*config)

// WithTable declares a table. Requests to undeclared tables get 404. An
// invalid declaration (duplicate name, bad seed row) makes New panic and
// NewServer fail the test.
func WithTable(name string, opts ...TableOption) Option {
	return func(c *config) { c.tables = append(c.tables, tableDecl{name, opts}) }
}

// WithAPI registers a custom API handler for every method under
// /api/{name} (and /api/{name}/…). Names are case-insensitive. In the
// handler, UserID tells which user (if any) sent the request. A duplicate
// name makes New panic and NewServer fail the test.
func WithAPI(name string, h http.Handler, opts ...APIOption) Option {
	return func(c *config) { c.apis = append(c.apis, apiDecl{name, h, opts}) }
}

// WithLegacy makes the server a Mobile Services ("1.0") backend: system
// columns are __createdAt, __updatedAt, __version and __deleted and are
// returned only when asked for with __systemproperties; every request must
// carry X-ZUMO-APPLICATION equal to appKey (else 401); a request to
// /tables or /api carrying ZUMO-API-VERSION gets 400; login is
// POST /login/{provider}; there is no /.auth route; tokens last 30 days
// unless WithTokenLifetime says otherwise.
func WithLegacy(appKey string) Option {
	return func(c *config) { c.legacy, c.appKey = true, appKey }
}

// WithStrictAPIVersion makes a 2.0 server check ZUMO-API-VERSION on
// /api/* as well as /tables/* (the official Node server checks tables
// only; the official .NET server checks both).
func WithStrictAPIVersion() Option {
	return func(c *config) { c.strictAPIVersion = true }
}

// WithClock sets the clock used for system dates and for issuing and
// checking tokens; pass (*Clock).Now to control it from a test. Injected
// latency always uses real time. A nil function keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithTokenLifetime sets the lifetime of tokens issued by login and
// refresh (default 1 hour; 30 days with WithLegacy). Zero or negative
// keeps the default.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.tokenLifetime = d }
}

// WithRefreshGrace lets GET /.auth/refresh renew a token that expired
// less than d ago, as App Service does (for 72 hours by default there).
// Every other route still answers 401 to an expired token. Without this
// option — like the official Node server, which has no refresh grace —
// an expired token is refused by /.auth/refresh too.
func WithRefreshGrace(d time.Duration) Option {
	return func(c *config) { c.refreshGrace = d }
}

// WithSigningKey sets the initial HS256 signing key (by default a random
// 32-byte key). RotateKey replaces it.
func WithSigningKey(key []byte) Option {
	return func(c *config) { c.signingKey = append([]byte(nil), key...) }
}

// WithRequestLogLimit sets how many requests the request log keeps (the
// most recent ones; default 10,000). Counters are never trimmed. Zero or
// negative keeps the default.
func WithRequestLogLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.logLimit = n
		}
	}
}

// LoginFunc checks the body of a client-directed login request and returns
// the user id to put in the token (conventionally "sid:…"). A non-nil
// error gives the client a 401 whose message is err.Error(), so it must not
// contain a secret.
type LoginFunc func(body json.RawMessage) (userID string, err error)

// WithLogin defines how POST /.auth/login/{provider} (legacy:
// /login/{provider}) authenticates: fn receives the raw JSON body. It
// replaces the built-in acceptance of provider tokens and any WithUser
// accounts for that provider. Provider names are case-insensitive.
func WithLogin(provider string, fn LoginFunc) Option {
	return func(c *config) {
		if fn == nil {
			c.errs = append(c.errs, fmt.Errorf("WithLogin(%q): nil function", provider))
			return
		}
		p := c.provider(provider)
		p.fn = fn
	}
}

// WithUser adds an account to provider (typically "custom"): a login whose
// body is {"username":username,"password":password} gets a token for
// userID. A wrong or unknown username or password gets 401. Several
// WithUser options for one provider accumulate.
func WithUser(provider, username, password, userID string) Option {
	return func(c *config) {
		p := c.provider(provider)
		if p.users == nil {
			p.users = map[string]account{}
		}
		p.users[username] = account{password: password, userID: userID}
	}
}

func (c *config) provider(name string) *provider {
	key := strings.ToLower(name)
	p := c.providers[key]
	if p == nil {
		p = &provider{name: key}
		c.providers[key] = p
	}
	return p
}

// WithoutProviderTokens turns off the built-in login for the well-known
// providers (aad, apple, facebook, google, microsoftaccount, twitter),
// which otherwise accepts any non-empty provider token. Providers set up
// with WithLogin or WithUser keep working.
func WithoutProviderTokens() Option {
	return func(c *config) { c.disableProviderTok = true }
}

// A TableOption configures a table declared with WithTable or AddTable.
type TableOption interface{ applyTable(*tableConfig) }

// An APIOption configures a custom API declared with WithAPI or HandleAPI.
type APIOption interface{ applyAPI(*apiConfig) }

type tableConfig struct {
	softDelete    bool
	authenticated bool
	pageSize      int
	maxTop        int
	seed          []any
	err           error
}

type apiConfig struct {
	authenticated bool
}

type tableOptionFunc func(*tableConfig)

func (f tableOptionFunc) applyTable(c *tableConfig) { f(c) }

// AccessOption restricts a table or a custom API to logged-in users; see
// Authenticated.
type AccessOption struct{}

func (AccessOption) applyTable(c *tableConfig) { c.authenticated = true }
func (AccessOption) applyAPI(c *apiConfig)     { c.authenticated = true }

// Authenticated makes a table or custom API answer 401 (plain text "You
// must be logged in to use this application") to requests without a valid
// token.
func Authenticated() AccessOption { return AccessOption{} }

// SoftDelete makes DELETE mark rows deleted instead of removing them;
// deleted rows are hidden from lists (unless __includeDeleted has a value)
// and from lookups, and POST /tables/{t}/{id} undeletes them.
func SoftDelete() TableOption {
	return tableOptionFunc(func(c *tableConfig) { c.softDelete = true })
}

// PageSize sets the page size (default 50): the number of rows a list
// returns when the request has no $top (or $top=0), with a Link header
// announcing the rest. A $top up to MaxTop is honoured as it is, as on the
// official server.
// A value below 1 makes the declaration fail.
func PageSize(n int) TableOption {
	return tableOptionFunc(func(c *tableConfig) { c.pageSize = n })
}

// MaxTop sets the largest $top accepted (default 1000); a larger one gets
// 400. A value below 1 makes the declaration fail.
func MaxTop(n int) TableOption {
	return tableOptionFunc(func(c *tableConfig) { c.maxTop = n })
}

// Seed adds rows to a table when it is declared. Each row is a struct, a
// map or raw JSON (json.RawMessage, []byte, string) that is a JSON object;
// it may set id (else a GUID is generated), and, unlike a client insert,
// createdAt / updatedAt (RFC 3339 strings or time.Time) and deleted (legacy
// names with WithLegacy). A row that does not marshal to an object, has a
// nested object or array, or repeats an id makes the declaration fail.
func Seed(rows ...any) TableOption {
	return tableOptionFunc(func(c *tableConfig) { c.seed = append(c.seed, rows...) })
}

var errNilHandler = errors.New("nil handler")
