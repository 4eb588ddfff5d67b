package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

var (
	// ErrInvalidLoginResponse is wrapped by the error for a 2xx login or
	// refresh response that is not {"authenticationToken":"…","user":{"userId":"…"}}.
	ErrInvalidLoginResponse = errors.New("auth: invalid login response")
	// ErrNoAuthenticator is the cause attached to a 401 when the handler
	// has no Authenticator to log in again with.
	ErrNoAuthenticator = errors.New("auth: no authenticator configured; cannot log in again")
	// ErrRefreshNotSupported is returned by Service.Refresh on legacy
	// Mobile Services, which has no refresh endpoint.
	ErrRefreshNotSupported = errors.New("auth: refresh is not supported by legacy Mobile Services")
	// ErrBodyNotReplayable is the cause attached to a 401 for a request
	// whose body cannot be sent again (no GetBody). The rejected token is
	// forgotten, so the next request logs in before it is sent.
	ErrBodyNotReplayable = errors.New("auth: request body cannot be replayed after a 401")
	// ErrInsecureTransport is returned when a token or credentials would
	// go over plain http to a host that is not loopback, and
	// WithInsecureHTTP was not given.
	ErrInsecureTransport = errors.New("auth: refusing to send a token over plain http to a non-loopback host")
	// ErrLoggedOut is returned to the callers of a login that finished
	// after Logout was called: the logout wins, and nobody is logged in.
	ErrLoggedOut = errors.New("auth: logged out while the login was under way")
	// ErrLoginBackoff is wrapped, together with the failure itself, by the
	// error of a request that did not log in because a login failed a
	// moment ago (see WithLoginBackoff).
	ErrLoginBackoff = errors.New("auth: a login failed a moment ago; not trying again yet")
	// ErrFreshTokenRefused is the cause attached to a 401 for a token the
	// server refused on the first request it went with, right after the
	// login or refresh that returned it: the server does not accept the
	// tokens it issues (a misconfigured signing key, say). It counts as a
	// failed login for the back-off (WithLoginBackoff), so that a run of
	// requests costs a few logins, not one each.
	ErrFreshTokenRefused = errors.New("auth: the server refused a token it had just issued")
	// ErrStillUnauthorized is the cause attached to a 401 that came back
	// after every allowed fresh login.
	ErrStillUnauthorized = errors.New("auth: still unauthorized after logging in again")
)

// LoginError is returned when a login or refresh request is answered
// with a status outside 2xx. It never contains a token, an app key or a
// credential the login sent: the server's message is redacted.
type LoginError struct {
	// Op is "login" or "refresh".
	Op string
	// Provider is the login provider ("" for refresh).
	Provider string
	// StatusCode is the HTTP status of the answer; 0 when the service
	// ended a browser login with #error= (ParseLoginDone, Browser).
	StatusCode int
	// Message is the server's message, chosen like the client's errors.
	Message string
}

// Error describes the failure; it never contains a token or an app key.
func (e *LoginError) Error() string {
	what := e.Op
	if e.Provider != "" {
		what += fmt.Sprintf(" with %q", e.Provider)
	}
	if e.StatusCode == 0 { // from a redirect's #error=, not an HTTP answer
		return fmt.Sprintf("auth: %s failed: %s", what, e.Message)
	}
	return fmt.Sprintf("auth: %s failed: %d %s", what, e.StatusCode, e.Message)
}

// Unauthorized reports whether the server refused the credentials (401 or 403).
func (e *LoginError) Unauthorized() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// causeBody carries, on a 401 the handler returns, why it did not log in
// again and resend. The body itself is the server's, byte for byte.
type causeBody struct {
	io.ReadCloser
	cause error
}

// Cause returns why the auth handler returned resp (a 401) instead of
// logging in again and resending it: a *LoginError, a context error,
// ErrNoAuthenticator, ErrBodyNotReplayable, ErrStillUnauthorized, … It
// returns nil for any other response. The zumo client puts it on the
// error it returns, reachable with errors.As and errors.Is.
func Cause(resp *http.Response) error {
	if resp == nil {
		return nil
	}
	if cb, ok := resp.Body.(*causeBody); ok {
		return cb.cause
	}
	return nil
}
