package zumo

import (
	"net/http"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/handler"
)

// An Option configures a Client in NewClient.
type Option func(*options)

type options struct {
	legacy      bool
	appKey      string
	httpClient  *http.Client
	transport   http.RoundTripper
	handlers    []handler.Handler
	installID   string
	uaSuffix    string
	loginHost   string
	loginPrefix string
	maxBody     int64
	authn       auth.Authenticator
	store       auth.Store
	identity    string
	user        *User
	authOpts    []auth.Option
}

// WithLegacyMobileServices makes the client speak the legacy Mobile
// Services protocol ("1.0"): the application key goes in
// X-ZUMO-APPLICATION, system properties are prefixed with "__", login goes
// to login/{provider}, and there is no refresh and no undelete. Without it
// the client speaks Mobile Apps 2.0.
func WithLegacyMobileServices(appKey string) Option {
	return func(o *options) { o.legacy, o.appKey = true, appKey }
}

// WithHTTPClient sends requests through a copy of hc: its Timeout and Jar
// are kept, its CheckRedirect is asked about same-origin redirects (one to
// another origin is never followed), and its Transport, used as given,
// becomes the base of the handler chain (nil means the client's default
// transport). hc itself is never changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithTransport sets the RoundTripper at the bottom of the handler chain,
// used as given for the client's requests and its logins; it takes
// precedence over the Transport of WithHTTPClient. Without either, the
// client uses a transport shared by all clients of the process and tuned
// for one service and many goroutines: idle connections per host sized for
// concurrency, HTTP/2 attempted, bounded dial, TLS handshake and idle
// times, and the proxy from the environment (HTTPS_PROXY, NO_PROXY).
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// WithHandlers appends handlers to the client's chain. The first handler
// given is the outermost: it sees each request first and its response last.
// The client's auth handler always sits innermost, right above the
// transport, so retries and redirects pass through it and every hop gets a
// current token.
func WithHandlers(hs ...handler.Handler) Option {
	return func(o *options) { o.handlers = append(o.handlers, hs...) }
}

// WithInstallationID sets X-ZUMO-INSTALLATION-ID. The protocol wants it
// made once per installation and persisted: InstallationIDFile does that.
// Without this option the client makes a random GUID when it is created.
func WithInstallationID(id string) Option {
	return func(o *options) { o.installID = id }
}

// WithUserAgentSuffix appends s to the User-Agent header.
func WithUserAgentSuffix(s string) Option {
	return func(o *options) { o.uaSuffix = s }
}

// WithLoginHost sends login and refresh requests to another host (the
// official clients' AlternateLoginHost), an absolute http(s) URL.
func WithLoginHost(hostURL string) Option {
	return func(o *options) { o.loginHost = hostURL }
}

// WithLoginPrefix replaces the login path prefix (".auth/login" on Mobile
// Apps, "login" on Mobile Services), the official clients' LoginUriPrefix.
func WithLoginPrefix(prefix string) Option {
	return func(o *options) { o.loginPrefix = prefix }
}

// WithMaxResponseBytes caps the size of a response body the client decodes
// (default 64 MiB); a larger body is a *ResponseError.
func WithMaxResponseBytes(n int64) Option {
	return func(o *options) { o.maxBody = n }
}

// WithAuthenticator sets how the client logs in when it has no usable
// user: at the first request, when the token is about to expire and cannot
// be refreshed, and after a 401. See auth.Credentials for the ready-made
// provider-token and custom-login authenticator, and auth.Browser for
// server-directed login through the user's browser.
func WithAuthenticator(a auth.Authenticator) Option {
	return func(o *options) { o.authn = a }
}

// WithUserStore keeps the logged-in user in s under a key made from the app
// URL and identity (see auth.Key), so the next start needs no login. The
// identity tells apart the users one app logs in with; "" is fine for one.
func WithUserStore(s auth.Store, identity string) Option {
	return func(o *options) { o.store, o.identity = s, identity }
}

// WithUser starts the client logged in as u.
func WithUser(u *User) Option {
	return func(o *options) { o.user = u }
}

// WithAuth tunes the client's auth handler with auth options: expiry skew
// (auth.WithSkew), refresh grace, login timeout and back-off, 401
// handling, the new-user callback (auth.WithOnUser), a logger, and the
// plain-http opt-in. Who logs in, where the user is kept and who starts
// logged in are this package's WithAuthenticator, WithUserStore and
// WithUser, one way each: they are applied after WithAuth's options and
// win over auth.WithAuthenticator, auth.WithStore or auth.WithUser given
// here.
func WithAuth(opts ...auth.Option) Option {
	return func(o *options) { o.authOpts = append(o.authOpts, opts...) }
}
