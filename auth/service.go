package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo/internal/redact"
	"github.com/zumo-go/zumo/internal/wire"
)

// Service sends login and refresh requests. It holds the plain transport
// that sits underneath the client's handler chain, so logins never pass
// through the user's handlers or the auth handler and can never recurse.
// The zumo client makes one; fill it by hand only to use auth on its own.
//
// A Service must not be changed after first use; it is safe for concurrent use.
type Service struct {
	// AppURL is the backend's URL, ending in "/".
	AppURL *url.URL
	// LoginURL is where login and refresh go (an alternate login host),
	// ending in "/"; nil means AppURL.
	LoginURL *url.URL
	// LoginPrefix is the login path prefix; "" means ".auth/login" (or
	// "login" when Legacy).
	LoginPrefix string
	// Legacy selects the Mobile Services protocol.
	Legacy bool
	// Client sends the requests; nil means a client on http.DefaultTransport.
	// Redirects are never followed (its CheckRedirect is not used): a 3xx
	// answer to a login or refresh is a *LoginError.
	Client *http.Client
	// Header is added to every request (installation id, user agent, API
	// version or application key).
	Header http.Header
	// AllowInsecureHTTP permits credentials over plain http to a
	// non-loopback host.
	AllowInsecureHTTP bool
}

// maxLoginBody caps the size of a login or refresh response.
const maxLoginBody = 1 << 20

// loginResponse is the wire form of a login, refresh or exchange answer.
type loginResponse struct {
	Token *string `json:"authenticationToken"`
	User  *struct {
		UserID *string `json:"userId"`
	} `json:"user"`
}

// ParseLoginResponse reads a login response body strictly: it must be a
// JSON object with a non-empty string authenticationToken and a user
// object with a non-empty string userId. Anything else is an error
// wrapping ErrInvalidLoginResponse; the error never contains the token.
func ParseLoginResponse(body []byte) (*User, error) {
	var lr loginResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&lr); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object of the expected shape", ErrInvalidLoginResponse)
	}
	// dec.More is not enough: it reports false for a stray '}' or ']'.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidLoginResponse)
	}
	switch {
	case lr.Token == nil || *lr.Token == "":
		return nil, fmt.Errorf("%w: no authenticationToken", ErrInvalidLoginResponse)
	case lr.User == nil:
		return nil, fmt.Errorf("%w: no user object", ErrInvalidLoginResponse)
	case lr.User.UserID == nil || *lr.User.UserID == "":
		return nil, fmt.Errorf("%w: no user.userId", ErrInvalidLoginResponse)
	}
	return NewUser(*lr.User.UserID, *lr.Token), nil
}

// Login logs in with a provider: POST {login prefix}/{provider} with body
// marshalled as JSON (a provider token such as {"access_token":"…"}, or
// custom credentials). It returns the new user, or a *LoginError for a
// non-2xx answer, an error wrapping ErrInvalidLoginResponse for a bad
// body, ErrInsecureTransport for plain http to a remote host, or the
// transport's error.
func (s *Service) Login(ctx context.Context, provider string, body any) (*User, error) {
	if provider == "" || strings.ContainsAny(provider, "/?#") || provider == "." || provider == ".." {
		return nil, fmt.Errorf("auth: invalid provider name %q", provider)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("auth: encoding login body: %w", err)
	}
	u := s.loginURL(provider)
	return s.do(ctx, "login", provider, http.MethodPost, u, b, "")
}

// Refresh exchanges u's token for a fresh one: GET .auth/refresh with
// X-ZUMO-AUTH and X-ZUMO-FEATURES: RT. It returns ErrRefreshNotSupported on
// legacy Mobile Services, a *LoginError when the server refuses (an
// expired or revoked token, a provider that cannot refresh), or an error
// like Login's.
func (s *Service) Refresh(ctx context.Context, u *User) (*User, error) {
	if s.Legacy {
		return nil, ErrRefreshNotSupported
	}
	if u == nil {
		return nil, errors.New("auth: refresh needs a user")
	}
	return s.do(ctx, "refresh", "", http.MethodGet, s.loginBase().JoinPath(".auth", "refresh"), nil, u.Token())
}

// loginURL is {login host}/{login prefix}/{provider}.
func (s *Service) loginURL(provider string) *url.URL {
	prefix := s.LoginPrefix
	if prefix == "" {
		prefix = wire.LoginPrefix(s.Legacy)
	}
	return s.loginBase().JoinPath(strings.Trim(prefix, "/"), provider)
}

func (s *Service) loginBase() *url.URL {
	if s.LoginURL != nil {
		return s.LoginURL
	}
	return s.AppURL
}

func (s *Service) do(ctx context.Context, op, provider, method string, u *url.URL, body []byte, token string) (*User, error) {
	if u.Scheme == "http" && !s.AllowInsecureHTTP && !isLoopback(u.Hostname()) {
		return nil, ErrInsecureTransport
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("auth: building %s request: %w", op, err)
	}
	for k, v := range s.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if token != "" {
		req.Header.Set(wire.HeaderAuth, token)
		req.Header.Set(wire.HeaderFeatures, "RT")
	}
	hc := http.Client{}
	if s.Client != nil {
		hc = *s.Client
	}
	// Never follow a redirect: http.Client copies X-ZUMO-AUTH to every hop,
	// whatever its host, resends the credentials on a 307 or 308, and would
	// take a login answer from the redirect target. A 3xx is a *LoginError.
	hc.CheckRedirect = noRedirect
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("auth: %s %s: %w", op, redact.URL(u), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLoginBody+1))
	if err != nil {
		return nil, fmt.Errorf("auth: %s %s: reading response: %w", op, redact.URL(u), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A server may echo what it was sent: the token, the app key, the
		// credentials ("no user alice with password hunter22").
		// Redacted before the message is picked (which may cut it) and
		// after (which may unescape what the server escaped).
		secrets := append(jsonStrings(body), token)
		secrets = append(secrets, redact.HeaderSecrets(req.Header)...)
		msg := message(resp.StatusCode, []byte(redact.String(string(data), secrets...)))
		return nil, &LoginError{Op: op, Provider: provider, StatusCode: resp.StatusCode,
			Message: redact.String(msg, secrets...)}
	}
	if len(data) > maxLoginBody {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrInvalidLoginResponse, maxLoginBody)
	}
	return ParseLoginResponse(data)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// jsonStrings returns every string value in a JSON document (the
// credentials of a login body), for redaction; nil when it is not JSON.
func jsonStrings(doc []byte) []string {
	var v any
	if len(doc) == 0 || json.Unmarshal(doc, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// message picks an error message from a body as docs/protocol.md §5 says.
func message(status int, body []byte) string { return wire.Message(status, body) }

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
