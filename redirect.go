package zumo

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo/internal/redact"
)

// ErrCrossOriginRedirect is matched (errors.Is) by the error of a request
// that the server redirected to another origin. Such a redirect is never
// followed: the request's headers (an application key, the caller's own
// Authorization) and body would go to a host the client was not made for,
// and the foreign answer would be read as the service's.
var ErrCrossOriginRedirect = errors.New("zumo: redirect to another origin not followed")

// maxRedirects is how many same-origin redirects one request follows, as
// net/http's default policy.
const maxRedirects = 10

// RedirectError is the error of a request that the server redirected to
// another origin (a different scheme, host or port). The redirect was not
// followed: nothing was sent to Origin. It matches ErrCrossOriginRedirect.
type RedirectError struct {
	// Method and URL are the request's; secrets in the URL are redacted.
	Method string
	URL    string
	// StatusCode is the status of the redirect response (301, 302, 303,
	// 307 or 308).
	StatusCode int
	// Origin is the redirect target's origin, "scheme://host[:port]": no
	// path, no query, no user info.
	Origin string
}

// Error describes the failure; it names only the target's origin.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("zumo: %s %s: %d redirect to another origin (%s) not followed", e.Method, e.URL, e.StatusCode, e.Origin)
}

// Unwrap returns ErrCrossOriginRedirect.
func (e *RedirectError) Unwrap() error { return ErrCrossOriginRedirect }

// originGuard is the outermost handler of every client's chain: a redirect
// response whose Location is on another origin than the request becomes a
// *RedirectError before anything above the chain (http.Client's redirect
// loop, or the caller of Client.Transport) can follow it. Being outermost,
// it sees the response after the user's handlers, so a Retry handler does
// not retry the refusal.
type originGuard struct{}

func (originGuard) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	resp, err := next.RoundTrip(req)
	if err != nil || !isRedirect(resp.StatusCode) {
		return resp, err
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return resp, nil
	}
	target, perr := req.URL.Parse(loc)
	if perr != nil || sameOrigin(target, req.URL) {
		return resp, nil // net/http reports a bad Location itself
	}
	closeBody(resp)
	return nil, &RedirectError{
		Method:     req.Method,
		URL:        redact.URL(req.URL),
		StatusCode: resp.StatusCode,
		Origin:     originOf(target),
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// originOf is u's "scheme://host[:port]".
func originOf(u *url.URL) string { return strings.ToLower(u.Scheme) + "://" + u.Host }

// checkRedirect returns the client's redirect policy, wrapping the caller's
// own (next, nil for net/http's default limit of ten hops). A hop to
// another origin than the first request's fails with *RedirectError before
// next is asked (originGuard normally stops it first); a same-origin hop is
// followed (net/http replays a replayable body on 307 and 308) without the
// Referer net/http would add.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if !sameOrigin(req.URL, first.URL) {
			e := &RedirectError{Method: first.Method, URL: redact.URL(first.URL), Origin: originOf(req.URL)}
			if req.Response != nil {
				e.StatusCode = req.Response.StatusCode
			}
			return e
		}
		if first.Header.Get("Referer") == "" {
			// net/http sets the previous URL (its query included) as
			// Referer; the caller did not ask for one.
			req.Header.Del("Referer")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("zumo: stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}
