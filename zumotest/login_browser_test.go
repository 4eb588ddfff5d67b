package zumotest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const callback = "http://127.0.0.1:8400/callback?state=abc"

// pkce returns a 32-byte verifier and its S256 challenge in the given
// encoding.
func pkce(enc *base64.Encoding) (verifier, challenge string) {
	verifier = enc.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, enc.EncodeToString(sum[:])
}

// startLogin opens the login page and returns where it redirected to.
func startLogin(t *testing.T, s *Server, provider string, q url.Values) (*url.URL, resp) {
	t.Helper()
	hc := *s.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := hc.Get(s.URL + "/.auth/login/" + provider + "?" + q.Encode())
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := resp{Status: res.StatusCode, Header: res.Header, Body: b}
	if r.Status != http.StatusFound {
		return nil, r
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	return loc, r
}

func loginQuery(challenge string) url.Values {
	return url.Values{"post_login_redirect_url": {callback}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "session_mode": {"token"}}
}

// codeFrom returns the authorization code of a redirect.
func codeFrom(t *testing.T, loc *url.URL) string {
	t.Helper()
	require.NotNil(t, loc)
	f, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	require.NotEmpty(t, f.Get("authorization_code"), "fragment %q", loc.Fragment)
	return f.Get("authorization_code")
}

func exchange(t *testing.T, s *Server, provider, code, verifier string) resp {
	t.Helper()
	q := url.Values{}
	if code != "" {
		q.Set("authorization_code", code)
	}
	if verifier != "" {
		q.Set("code_verifier", verifier)
	}
	return do(t, s, req{path: "/.auth/login/" + provider + "/token?" + q.Encode(), noVer: true})
}

func TestBrowserLoginExchange(t *testing.T) {
	tests := []struct {
		name string
		enc  *base64.Encoding
	}{
		{"standard Base64, as the official clients send it", base64.StdEncoding},
		{"unpadded URL-safe Base64, as RFC 7636 writes it", base64.RawURLEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, WithBrowserLogin("google", BrowserLogin{UserID: "sid:ann"}))
			verifier, challenge := pkce(tt.enc)
			loc, r := startLogin(t, s, "Google", loginQuery(challenge))
			require.NotNil(t, loc, "status %d %s", r.Status, r.Body)
			assert.Equal(t, "127.0.0.1:8400", loc.Host)
			assert.Equal(t, "/callback", loc.Path)
			assert.Equal(t, "state=abc", loc.RawQuery, "the redirect's query is kept")
			assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
			code := codeFrom(t, loc)

			tr := exchange(t, s, "google", code, verifier)
			require.Equal(t, http.StatusOK, tr.Status, "%s", tr.Body)
			var lr loginResponse
			require.NoError(t, json.Unmarshal(tr.Body, &lr))
			assert.Equal(t, "sid:ann", lr.User.UserID)
			u, terr := s.verify(lr.AuthenticationToken)
			require.Nil(t, terr)
			assert.Equal(t, "sid:ann", u.ID)
			assert.Equal(t, "google", u.Provider, "the token names the provider, so refresh keeps it")

			st := s.Stats()
			assert.Equal(t, 1, st.Logins)
			assert.Equal(t, 1, st.Routes["GET /.auth/login/google"])
			assert.Equal(t, 1, st.Routes["GET /.auth/login/google/token"])
			for _, e := range s.Requests() {
				for _, k := range []string{"authorization_code", "code_verifier"} {
					if v := e.Query.Get(k); v != "" {
						assert.Equal(t, "REDACTED", v, "the request log never keeps %s", k)
					}
				}
			}
		})
	}
}

func TestBrowserLoginExchangeFailures(t *testing.T) {
	verifier, challenge := pkce(base64.StdEncoding)
	require.Contains(t, verifier+challenge, "=", "the fixture exercises characters a query must escape")
	tests := []struct {
		name   string
		status int
		run    func(t *testing.T, s *Server, clock *Clock, code string) resp
	}{
		{"missing verifier", http.StatusBadRequest, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			return exchange(t, s, "google", code, "")
		}},
		{"missing code", http.StatusBadRequest, func(t *testing.T, s *Server, _ *Clock, _ string) resp {
			return exchange(t, s, "google", "", verifier)
		}},
		{"wrong verifier", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			other, _ := pkce(base64.RawURLEncoding)
			return exchange(t, s, "google", code, other)
		}},
		{"short verifier", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			return exchange(t, s, "google", code, "abc")
		}},
		{"verifier sent unescaped ('+' reads as a space)", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			v := "A+" + verifier[2:]
			sum := sha256.Sum256([]byte(v))
			c2 := base64.StdEncoding.EncodeToString(sum[:])
			loc, _ := startLogin(t, s, "google", loginQuery(c2))
			return do(t, s, req{path: "/.auth/login/google/token?authorization_code=" + codeFrom(t, loc) + "&code_verifier=" + v, noVer: true})
		}},
		{"code used twice", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			require.Equal(t, http.StatusOK, exchange(t, s, "google", code, verifier).Status)
			return exchange(t, s, "google", code, verifier)
		}},
		{"code tried with a wrong verifier first", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			require.Equal(t, http.StatusUnauthorized, exchange(t, s, "google", code, strings.Repeat("x", 43)).Status)
			return exchange(t, s, "google", code, verifier)
		}},
		{"code expired", http.StatusUnauthorized, func(t *testing.T, s *Server, clock *Clock, code string) resp {
			clock.Advance(CodeLifetime)
			return exchange(t, s, "google", code, verifier)
		}},
		{"code exchanged at another provider", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, code string) resp {
			return exchange(t, s, "facebook", code, verifier)
		}},
		{"unknown code", http.StatusUnauthorized, func(t *testing.T, s *Server, _ *Clock, _ string) resp {
			return exchange(t, s, "google", "nope", verifier)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock(epoch)
			s := NewServer(t, WithClock(clock.Now),
				WithBrowserLogin("google", BrowserLogin{UserID: "sid:ann"}),
				WithBrowserLogin("facebook", BrowserLogin{UserID: "sid:bob"}))
			loc, _ := startLogin(t, s, "google", loginQuery(challenge))
			code := codeFrom(t, loc)
			r := tt.run(t, s, clock, code)
			assert.Equal(t, tt.status, r.Status, "%s", r.Body)
			assert.NotEmpty(t, r.errMsg(t))
			assert.NotContains(t, string(r.Body), code, "errors never echo the code")
			assert.NotContains(t, string(r.Body), verifier)
		})
	}
}

func TestBrowserLoginPage(t *testing.T) {
	tests := []struct {
		name     string
		opts     []Option
		provider string
		q        url.Values
		status   int
		target   string // the redirect without its fragment
		fragment string // "code", "token", or "error=…"
	}{
		{name: "code flow", q: loginQuery("c"), status: http.StatusFound, target: callback, fragment: "code"},
		{name: "no challenge: the older token form", q: url.Values{"post_login_redirect_url": {callback}},
			status: http.StatusFound, target: callback, fragment: "token"},
		{name: "no redirect URL: ends at done", q: url.Values{"session_mode": {"token"}},
			status: http.StatusFound, target: "/.auth/login/done", fragment: "token"},
		{name: "TokenFragment ignores the challenge", q: loginQuery("c"), status: http.StatusFound, target: callback,
			fragment: "token", opts: []Option{WithBrowserLogin("google", BrowserLogin{UserID: "sid:ann", TokenFragment: true})}},
		{name: "the user declines", q: loginQuery("c"), status: http.StatusFound, target: callback,
			fragment: "error=access denied", opts: []Option{WithBrowserLogin("google", BrowserLogin{UserID: "sid:ann", Error: "access denied"})}},
		{name: "a fragment on the redirect is replaced", q: url.Values{"post_login_redirect_url": {callback + "#x=1"}, "code_challenge": {"c"}, "code_challenge_method": {"S256"}},
			status: http.StatusFound, target: callback, fragment: "code"},
		{name: "redirect to a foreign host", q: url.Values{"post_login_redirect_url": {"https://evil.example/cb"}}, status: http.StatusForbidden},
		{name: "redirect that is not absolute", q: url.Values{"post_login_redirect_url": {"/cb"}}, status: http.StatusForbidden},
		{name: "redirect with another scheme", q: url.Values{"post_login_redirect_url": {"javascript://127.0.0.1/x"}}, status: http.StatusForbidden},
		{name: "plain challenge method", q: url.Values{"post_login_redirect_url": {callback}, "code_challenge": {"c"}, "code_challenge_method": {"plain"}},
			status: http.StatusBadRequest},
		{name: "provider without browser login", provider: "custom", q: loginQuery("c"), status: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == nil {
				opts = []Option{WithBrowserLogin("google", BrowserLogin{UserID: "sid:ann"})}
			}
			s := NewServer(t, opts...)
			p := tt.provider
			if p == "" {
				p = "google"
			}
			loc, r := startLogin(t, s, p, tt.q)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.status != http.StatusFound {
				assert.Equal(t, 0, s.Stats().Logins)
				return
			}
			frag := loc.Fragment
			loc.Fragment = ""
			assert.Equal(t, tt.target, loc.String())
			f, err := url.ParseQuery(frag)
			require.NoError(t, err)
			switch tt.fragment {
			case "code":
				assert.NotEmpty(t, f.Get("authorization_code"))
				assert.Equal(t, 0, s.Stats().Logins, "a code is not a login until it is exchanged")
			case "token":
				var lr loginResponse
				require.NoError(t, json.Unmarshal([]byte(f.Get("token")), &lr))
				assert.Equal(t, "sid:ann", lr.User.UserID)
				_, terr := s.verify(lr.AuthenticationToken)
				assert.Nil(t, terr)
				assert.Equal(t, 1, s.Stats().Logins)
			default:
				assert.Equal(t, tt.fragment, "error="+f.Get("error"))
			}
		})
	}
}

func TestBrowserLoginDonePage(t *testing.T) {
	s := NewServer(t)
	r := do(t, s, req{path: "/.auth/login/done", noVer: true})
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
}

func TestWithBrowserLoginNeedsUser(t *testing.T) {
	assert.Panics(t, func() { New(WithBrowserLogin("google", BrowserLogin{})) })
}

func TestChallengeMatches(t *testing.T) {
	v, std := pkce(base64.StdEncoding)
	sum := sha256.Sum256([]byte(v))
	tests := []struct {
		name, challenge, verifier string
		want                      bool
	}{
		{"standard", std, v, true},
		{"URL-safe unpadded", base64.RawURLEncoding.EncodeToString(sum[:]), v, true},
		{"URL-safe padded is neither form", base64.URLEncoding.EncodeToString(sum[:]), v, std == base64.URLEncoding.EncodeToString(sum[:])},
		{"standard without padding", strings.TrimRight(std, "="), v, false},
		{"hash of the raw bytes, not of the string", base64.StdEncoding.EncodeToString(func() []byte {
			h := sha256.Sum256([]byte("0123456789abcdef0123456789abcdef"))
			return h[:]
		}()), v, false},
		{"plain (challenge = verifier)", v, v, false},
		{"too short", std, v[:42], false},
		{"too long", std, strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, challengeMatches(tt.challenge, tt.verifier))
		})
	}
}
