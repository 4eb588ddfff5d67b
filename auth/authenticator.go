package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// An Authenticator logs a user in when the auth handler needs a fresh
// login: no user yet, a token about to expire that cannot be refreshed, or
// a 401. It gets the Service to send its requests through, so it needs no
// pointer to the client. Implementations must be safe for concurrent use;
// the handler calls at most one at a time per handler, unless a call
// outlives its login timeout (WithLoginTimeout) without returning: that
// login is then abandoned and the next one may start. Honour ctx.
//
// Credentials (client-directed login) and Browser (server-directed login
// through the user's browser) are the ready-made ones. An app with a web
// view of its own can write one from ServerDirectedURL and ParseLoginDone.
type Authenticator interface {
	Authenticate(ctx context.Context, s *Service) (*User, error)
}

// loginTimeouter is an Authenticator that needs longer than
// DefaultLoginTimeout, such as a person signing in through a browser.
type loginTimeouter interface {
	LoginTimeout() time.Duration
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, s *Service) (*User, error)

// Authenticate calls f(ctx, s).
func (f AuthenticatorFunc) Authenticate(ctx context.Context, s *Service) (*User, error) {
	return f(ctx, s)
}

// Credentials returns the ready Authenticator for client-directed login:
// each login POSTs body to {login prefix}/{provider}. Use it with a
// provider's token (Credentials("google", map[string]string{"id_token": t}))
// or with a backend's custom login (Credentials("custom",
// map[string]string{"username": u, "password": p})). body is marshalled
// once, now; Authenticate fails like Service.Login.
func Credentials(provider string, body any) Authenticator {
	b, err := json.Marshal(body)
	return &credentials{provider: provider, body: b, err: err}
}

type credentials struct {
	provider string
	body     json.RawMessage
	err      error
}

func (c *credentials) Authenticate(ctx context.Context, s *Service) (*User, error) {
	if c.err != nil {
		return nil, fmt.Errorf("auth: encoding credentials: %w", c.err)
	}
	return s.Login(ctx, c.provider, c.body)
}

// String names the provider, never the credentials.
func (c *credentials) String() string { return "credentials for " + c.provider + " (redacted)" }

// GoString is String, so %#v does not show the credentials either.
func (c *credentials) GoString() string { return c.String() }

// Format prints String for every verb (%v, %+v, %#v, %s, %q, %x): the
// credentials never appear.
func (c *credentials) Format(f fmt.State, verb rune) {
	printAs(f, verb, c.String())
}

// ServerDirectedURL returns the URL to open in a browser for a
// server-directed login with provider: {login prefix}/{provider}?session_mode=token.
// The flow ends at .auth/login/done#token=… (see ParseLoginDone).
func (s *Service) ServerDirectedURL(provider string) string {
	u := s.loginURL(provider)
	u.RawQuery = "session_mode=token"
	return u.String()
}

// ErrLoginCancelled is returned by ParseLoginDone when the redirect
// carries neither a token nor an error, as when the user closed the
// browser.
var ErrLoginCancelled = errors.New("auth: login cancelled")

// ParseLoginDone reads the final redirect of a server-directed login,
// .auth/login/done#token=<url-encoded login JSON> (or #error=<message>).
// It returns the user, a *LoginError carrying the server's message for
// #error=, ErrLoginCancelled when there is neither, or an error wrapping
// ErrInvalidLoginResponse when the token part is not a valid login
// response. Errors never contain the token.
func ParseLoginDone(redirectURL string) (*User, error) {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return nil, fmt.Errorf("%w: redirect URL does not parse", ErrInvalidLoginResponse)
	}
	frag := u.EscapedFragment()
	vals, err := url.ParseQuery(frag)
	if err != nil {
		return nil, fmt.Errorf("%w: fragment does not parse", ErrInvalidLoginResponse)
	}
	if e := vals.Get("error"); e != "" {
		return nil, &LoginError{Op: "login", Message: e}
	}
	tok := vals.Get("token")
	if tok == "" {
		return nil, ErrLoginCancelled
	}
	return ParseLoginResponse([]byte(tok))
}
