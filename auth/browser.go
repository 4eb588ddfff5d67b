package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zumo-go/zumo/internal/redact"
)

// DefaultBrowserTimeout bounds a browser login unless BrowserTimeout says
// otherwise. The auth handler lets a Browser login run that long (and a
// margin for the code exchange) instead of DefaultLoginTimeout, unless
// WithLoginTimeout sets its bound explicitly.
const DefaultBrowserTimeout = 5 * time.Minute

var (
	// ErrBrowserTimeout is wrapped by the error of a browser login that
	// was not finished in the browser within its timeout.
	ErrBrowserTimeout = errors.New("auth: browser login timed out")
	// ErrStateMismatch is wrapped (beside the reason the login ended) when
	// the loopback server refused callbacks that did not carry this
	// login's state: a stale tab from an earlier login, or another page
	// trying to inject its own code.
	ErrStateMismatch = errors.New("auth: browser login callback with a wrong state refused")
)

// A BrowserOption configures Browser.
type BrowserOption func(*browser)

// BrowserPort makes the loopback server listen on 127.0.0.1:port instead of
// a free port chosen at run time. App Service only redirects to allowed
// URLs (allowedExternalRedirectUrls), so a real service needs a fixed port,
// registered as http://127.0.0.1:<port>/callback.
func BrowserPort(port int) BrowserOption { return func(b *browser) { b.port = port } }

// BrowserOpener replaces how the login URL is opened (by default the
// platform's opener: xdg-open, open, or rundll32 on Windows). nil opens
// nothing: the URL is only printed, for the user (or a test) to open.
// The opener runs in a goroutine of its own, with a context that the end of
// the login does not cancel, and the login does not wait for it to return;
// when it fails, the reason is printed after the URL and
// the login keeps waiting.
func BrowserOpener(open func(ctx context.Context, url string) error) BrowserOption {
	return func(b *browser) { b.open, b.noOpen = open, open == nil }
}

// BrowserTimeout bounds how long the login waits for the browser (default
// DefaultBrowserTimeout). Zero or negative keeps the default.
func BrowserTimeout(d time.Duration) BrowserOption {
	return func(b *browser) {
		if d > 0 {
			b.timeout = d
		}
	}
}

// BrowserOutput sets where the login URL and instructions are printed
// (default os.Stderr; nil prints nothing). The URL carries no secret.
func BrowserOutput(w io.Writer) BrowserOption {
	return func(b *browser) {
		if w == nil {
			w = io.Discard
		}
		b.out = w
	}
}

// BrowserParam adds a query parameter to the login and token URLs, such as
// access_type=offline (Google refresh tokens) or scope and resource
// (Microsoft Entra ID). The flow's own parameters cannot be overridden.
func BrowserParam(key, value string) BrowserOption {
	return func(b *browser) { b.params = append(b.params, [2]string{key, value}) }
}

// Browser returns the Authenticator for server-directed login through the
// user's web browser, as a CLI or desktop app does it (RFC 8252 with PKCE):
//
//  1. it listens on 127.0.0.1 (BrowserPort, or a free port);
//  2. it opens {login host}/.auth/login/{provider}?post_login_redirect_url=
//     http://127.0.0.1:<port>/callback?state=<random>&code_challenge=<C>
//     &code_challenge_method=S256&session_mode=token in the browser;
//  3. the service signs the user in and redirects to the callback with
//     #authorization_code=<code> (older services: #token=<login JSON>, or
//     #error=<message>); the loopback page reads the fragment with script,
//     posts it back and tells the user they may close the tab;
//  4. it exchanges the code: GET {login prefix}/{provider}/token?
//     authorization_code=<code>&code_verifier=<V>, following no redirect.
//
// The verifier is 32 random bytes and the challenge the SHA-256 of the
// verifier, both in standard Base64, as the official clients send them.
// Only a callback carrying this login's random state is accepted. The
// listener is closed when Authenticate returns, whatever the outcome; the
// code and the token appear in no log, error or page.
//
// Authenticate fails with an error wrapping ErrBrowserTimeout (also when
// ctx's deadline passes first, wrapped with context.DeadlineExceeded), the
// context's error, a *LoginError (#error= from the service, or a refused
// exchange such as a wrong verifier), ErrLoginCancelled (a callback with
// neither code nor token), ErrInvalidLoginResponse, or the listener's
// error (a port in use: errors.Is(err, syscall.EADDRINUSE)); any of these
// also wraps ErrStateMismatch when callbacks with a wrong state were
// refused meanwhile. Legacy Mobile Services is not supported.
//
// Give it to the client like any Authenticator: the user is then cached by
// the store, shared by every request waiting for a login (one browser
// window however many requests), and renewed through .auth/refresh. It is
// safe for concurrent use; each Authenticate call is one login.
func Browser(provider string, opts ...BrowserOption) Authenticator {
	b := &browser{provider: provider, timeout: DefaultBrowserTimeout, open: openURL,
		out: os.Stderr, listen: net.Listen}
	for _, o := range opts {
		if o != nil {
			o(b)
		}
	}
	return b
}

type browser struct {
	provider string
	port     int
	open     func(ctx context.Context, url string) error
	noOpen   bool
	timeout  time.Duration
	out      io.Writer
	params   [][2]string
	listen   func(network, addr string) (net.Listener, error) // tests replace it
}

// String names the provider.
func (b *browser) String() string { return "browser login with " + b.provider }

// flow is one browser login under way.
type flow struct {
	state, verifier string
	origin          string        // http://127.0.0.1:port
	callbacks       chan callback // the one callback with the right state
	done            chan struct{} // closed when Authenticate returns
	mismatches      atomic.Int64  // callbacks refused for their state
	accepted        atomic.Bool
}

// callback is the fragment a page posted, and where its outcome goes.
type callback struct {
	fragment string
	reply    chan error
}

// LoginTimeout is how long the auth handler lets this login run, unless
// its WithLoginTimeout says otherwise: the browser timeout and a margin
// for the code exchange.
func (b *browser) LoginTimeout() time.Duration { return b.timeout + 30*time.Second }

// Authenticate runs one browser login; see Browser.
func (b *browser) Authenticate(ctx context.Context, s *Service) (*User, error) {
	if s.Legacy {
		return nil, errors.New("auth: browser login needs Mobile Apps (App Service); legacy Mobile Services cannot redirect to a loopback URL")
	}
	if b.provider == "" || strings.ContainsAny(b.provider, "/?#") || b.provider == "." || b.provider == ".." {
		return nil, fmt.Errorf("auth: invalid provider name %q", b.provider)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	ln, err := b.listen("tcp4", addr)
	if err != nil {
		return nil, fmt.Errorf("auth: browser login: cannot listen on %s: %w", addr, err)
	}
	f := &flow{
		state:     randomText(16),
		verifier:  base64.StdEncoding.EncodeToString(randomBytes(32)),
		origin:    "http://" + ln.Addr().String(),
		callbacks: make(chan callback),
		done:      make(chan struct{}),
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		close(f.done) // handlers waiting for an outcome give up at once
		// Let the page get its answer, then close the listener and every
		// connection.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		// Serve may not have started yet (a login cancelled at once):
		// then Shutdown knows no listener, and Serve would close it
		// only later, in its own goroutine. Close it here, for sure.
		_ = ln.Close()
	}()

	loginURL := b.loginURL(s, f)
	b.announce(ctx, loginURL)

	timer := time.NewTimer(b.timeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Typically the handler's own bound on a login (WithLoginTimeout),
			// shorter than the browser timeout: say so.
			return nil, f.wrap(fmt.Errorf("%w: nothing came back from the browser before the login's deadline (auth.WithLoginTimeout bounds a login too): %w",
				ErrBrowserTimeout, ctx.Err()))
		}
		return nil, f.wrap(fmt.Errorf("auth: browser login with %q: %w", b.provider, ctx.Err()))
	case <-timer.C:
		return nil, f.wrap(fmt.Errorf("%w: nothing came back from the browser within %s", ErrBrowserTimeout, b.timeout))
	case cb := <-f.callbacks:
		u, err := b.finish(ctx, s, f, cb.fragment)
		cb.reply <- err // buffered
		if err != nil {
			return nil, f.wrap(err)
		}
		return u, nil
	}
}

// loginURL is the service's login page with the flow's parameters.
func (b *browser) loginURL(s *Service, f *flow) string {
	u, _ := url.Parse(s.ServerDirectedURL(b.provider)) // well-formed by construction
	q := u.Query()
	for _, p := range b.params {
		q.Add(p[0], p[1])
	}
	sum := sha256.Sum256([]byte(f.verifier))
	q.Set("post_login_redirect_url", f.origin+"/callback?state="+f.state)
	q.Set("code_challenge", base64.StdEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	q.Set("session_mode", "token")
	u.RawQuery = q.Encode()
	return u.String()
}

// announce prints the URL and starts opening it.
func (b *browser) announce(ctx context.Context, loginURL string) {
	if b.noOpen {
		fmt.Fprintf(b.out, "To log in with %s, open this URL in a browser:\n\n  %s\n\nWaiting for the login to finish…\n", b.provider, loginURL)
		return
	}
	fmt.Fprintf(b.out, "Opening a browser to log in with %s. If none opens, open this URL:\n\n  %s\n\n", b.provider, loginURL)
	// The browser outlives the login: its opener is not cancelled with it.
	octx := context.WithoutCancel(ctx)
	go func() {
		if err := b.open(octx, loginURL); err != nil {
			fmt.Fprintf(b.out, "Could not open a browser (%v).\nOpen the URL above in a browser to continue; waiting for the login to finish…\n", err)
		}
	}()
}

// finish turns the posted fragment into a user: it exchanges a code, or
// reads the older #token= form.
func (b *browser) finish(ctx context.Context, s *Service, f *flow, fragment string) (*User, error) {
	code, u, err := parseFragment(fragment)
	if err != nil {
		if le, ok := err.(*LoginError); ok {
			le.Provider = b.provider
		}
		return nil, err
	}
	if u != nil {
		return u, nil
	}
	tu, _ := url.Parse(s.ServerDirectedURL(b.provider))
	tu = tu.JoinPath("token")
	q := url.Values{}
	for _, p := range b.params {
		q.Add(p[0], p[1])
	}
	q.Set("authorization_code", code)
	q.Set("code_verifier", f.verifier)
	tu.RawQuery = q.Encode()
	u, err = s.do(ctx, "login", b.provider, http.MethodGet, tu, nil, "")
	// A server may echo what it was sent, raw or still escaped.
	return u, scrub(err, code, f.verifier, url.QueryEscape(code), url.QueryEscape(f.verifier))
}

// wrap adds ErrStateMismatch to err when callbacks were refused.
func (f *flow) wrap(err error) error {
	if n := f.mismatches.Load(); n > 0 {
		return fmt.Errorf("%w (and %d callback(s) with a wrong state were refused: %w)", err, n, ErrStateMismatch)
	}
	return err
}

// scrub removes secrets from an error's text (a server may echo what it
// was sent), keeping the error chain for errors.Is and errors.As.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if le, ok := err.(*LoginError); ok {
		le.Message = redact.String(le.Message, secrets...)
		return le
	}
	msg := err.Error()
	if red := redact.String(msg, secrets...); red != msg {
		return &scrubbed{msg: red, err: err}
	}
	return err
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather)
	return b
}

// randomText is n random bytes in unpadded URL-safe Base64.
func randomText(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }
