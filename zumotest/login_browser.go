package zumotest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// BrowserLogin configures the test identity provider behind the
// server-directed (browser) login of one provider; see WithBrowserLogin.
type BrowserLogin struct {
	// UserID is the user every login through this provider signs in
	// ("sid:…" by convention). It must not be empty.
	UserID string
	// Error, when not empty, makes every login end at
	// <redirect>#error=<Error> instead, as when the user declines.
	Error string
	// TokenFragment makes the login end at <redirect>#token=<login JSON>
	// even when the client sent a code challenge, as older services and the
	// Node server's local auth stub do.
	TokenFragment bool
}

// CodeLifetime is how long an authorization code from a server-directed
// login can be exchanged, by the server clock.
const CodeLifetime = time.Minute

// WithBrowserLogin enables server-directed login for provider (names are
// case-insensitive), as App Service Authentication does it:
//
//	GET /.auth/login/{provider}?post_login_redirect_url=R&code_challenge=C&code_challenge_method=S256&session_mode=token
//	    → 302 to R#authorization_code=<code>
//	GET /.auth/login/{provider}/token?authorization_code=<code>&code_verifier=V
//	    → 200 {"authenticationToken":…,"user":{"userId":…}}
//
// A provider without WithBrowserLogin answers GET with 405, as before.
// The login page signs b.UserID in at once (there is no form), as a test
// identity provider would. The challenge is the SHA-256 of the verifier in
// standard Base64 (what the official clients send) or in unpadded URL-safe
// Base64 (RFC 7636); both are accepted. A code can be exchanged once, within
// CodeLifetime, at the provider it was issued for: a missing code or
// verifier gets 400, an unknown, used or expired code or a wrong verifier
// 401 (the attempt uses the code up either way). R must be an absolute
// http(s) URL on a loopback host or on the server itself, else 403.
//
// Without a code challenge the login ends at R#token=<url-encoded login
// JSON> (without R: at /.auth/login/done#token=…), the older form. A
// missing UserID makes New panic and NewServer fail the test.
func WithBrowserLogin(provider string, b BrowserLogin) Option {
	return func(c *config) {
		if b.UserID == "" {
			c.errs = append(c.errs, fmt.Errorf("WithBrowserLogin(%q): empty UserID", provider))
			return
		}
		if c.browser == nil {
			c.browser = map[string]BrowserLogin{}
		}
		c.browser[strings.ToLower(provider)] = b
	}
}

// authCode is one issued authorization code.
type authCode struct {
	provider  string
	userID    string
	challenge string
	expires   time.Time
}

// browserCodes holds the codes not yet exchanged.
type browserCodes struct {
	mu    sync.Mutex
	codes map[string]authCode
}

// take removes and returns the code, so that it is used once whatever the
// outcome of the exchange.
func (b *browserCodes) take(code string) (authCode, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.codes[code]
	delete(b.codes, code)
	return c, ok
}

func (b *browserCodes) put(code string, c authCode, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.codes == nil {
		b.codes = map[string]authCode{}
	}
	for k, old := range b.codes { // forget expired codes: the map stays small
		if !now.Before(old.expires) {
			delete(b.codes, k)
		}
	}
	b.codes[code] = c
}

// browserRoute recognises the server-directed login routes (GET only):
// /.auth/login/{provider}, /.auth/login/{provider}/token and
// /.auth/login/done. dec are the decoded path segments.
func browserRoute(method string, dec []string, legacy bool, rt *route) bool {
	if legacy || method != http.MethodGet || len(dec) < 3 || len(dec) > 4 ||
		dec[0] != ".auth" || dec[1] != "login" || dec[2] == "" {
		return false
	}
	switch {
	case len(dec) == 3 && dec[2] == "done":
		rt.kind, rt.name = routeLoginDone, "GET /.auth/login/done"
	case len(dec) == 3:
		rt.kind, rt.provider = routeBrowserLogin, dec[2]
		rt.name = "GET /.auth/login/" + strings.ToLower(dec[2])
	case dec[3] == "token":
		rt.kind, rt.provider = routeBrowserToken, dec[2]
		rt.name = "GET /.auth/login/" + strings.ToLower(dec[2]) + "/token"
	default:
		return false
	}
	return true
}

// serveBrowserLogin is the login page: it signs the configured user in and
// redirects to the client's callback with the code (or the token).
func (s *Server) serveBrowserLogin(w http.ResponseWriter, r *http.Request, rt *route) {
	name := strings.ToLower(rt.provider)
	b, ok := s.cfg.browser[name]
	if !ok {
		s.serveLogin(w, r, rt) // 405: only client-directed login for this provider
		return
	}
	q := r.URL.Query()
	target := "/.auth/login/done"
	if red := q.Get("post_login_redirect_url"); red != "" {
		if !allowedRedirect(red, r.Host) {
			writeError(w, http.StatusForbidden, "The post_login_redirect_url is not allowed: use a loopback URL or one on this server")
			return
		}
		target = red
	}
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	var frag string
	switch {
	case b.Error != "":
		frag = "error=" + url.QueryEscape(b.Error)
	case challenge != "" && !b.TokenFragment:
		if method != "S256" {
			writeError(w, http.StatusBadRequest, "code_challenge_method must be S256")
			return
		}
		code := randomCode()
		s.browser.put(code, authCode{provider: name, userID: b.UserID, challenge: challenge,
			expires: s.cfg.clock().Add(CodeLifetime)}, s.cfg.clock())
		frag = "authorization_code=" + code
	default:
		s.log.count(func(c *Stats) { c.Logins++ })
		frag = "token=" + url.QueryEscape(string(s.loginJSON(b.UserID, name)))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target+"#"+frag)
	w.WriteHeader(http.StatusFound)
}

// serveBrowserToken exchanges an authorization code and its verifier for
// a token.
func (s *Server) serveBrowserToken(w http.ResponseWriter, r *http.Request, rt *route) {
	q := r.URL.Query()
	code, verifier := q.Get("authorization_code"), q.Get("code_verifier")
	if code == "" || verifier == "" {
		writeError(w, http.StatusBadRequest, "authorization_code and code_verifier are required")
		return
	}
	c, ok := s.browser.take(code)
	switch {
	case !ok || !s.cfg.clock().Before(c.expires) || c.provider != strings.ToLower(rt.provider):
		writeError(w, http.StatusUnauthorized, "The authorization code is invalid, used or expired")
	case !challengeMatches(c.challenge, verifier):
		writeError(w, http.StatusUnauthorized, "The code_verifier does not match the code_challenge")
	default:
		s.log.count(func(c *Stats) { c.Logins++ })
		writeJSON(w, http.StatusOK, s.loginJSON(c.userID, c.provider))
	}
}

// serveLoginDone is the page the older flow ends at without a redirect URL.
func serveLoginDone(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("<!doctype html><title>Login complete</title><p>Login complete.</p>\n"))
}

// challengeMatches reports whether challenge is the SHA-256 of verifier
// (its UTF-8 bytes) in standard padded Base64, as the official clients send
// it, or in unpadded URL-safe Base64, as RFC 7636 writes it. A verifier
// must be 43 to 128 characters long.
func challengeMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	std := base64.StdEncoding.EncodeToString(sum[:])
	raw := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(challenge), []byte(std)) == 1 ||
		subtle.ConstantTimeCompare([]byte(challenge), []byte(raw)) == 1
}

// allowedRedirect reports whether a post-login redirect may be followed:
// an absolute http(s) URL on a loopback host or on this server.
func allowedRedirect(raw, host string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	if strings.EqualFold(u.Host, host) || strings.EqualFold(u.Hostname(), "localhost") {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// loginJSON issues a token and returns the login response body.
func (s *Server) loginJSON(userID, provider string) []byte {
	tok := s.issue(userID, provider, s.cfg.tokenLifetime)
	b, _ := json.Marshal(loginResponse{AuthenticationToken: tok, User: loginUser{UserID: userID}})
	return b
}

func randomCode() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
