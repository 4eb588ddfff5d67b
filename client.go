// Package zumo is a Go client for Azure Mobile Apps and Azure Mobile
// Services backends: typed tables with optimistic concurrency, OData
// queries, custom APIs and login, over a pluggable handler chain.
//
// Start with NewClient, then GetTable for a typed table or Client.Table for
// an untyped one:
//
//	client, err := zumo.NewClient("https://myapp.azurewebsites.net/",
//		zumo.WithAuthenticator(auth.Credentials("custom", creds)),
//		zumo.WithUserStore(store, "alice"))
//	todos := zumo.GetTable[TodoItem](client, "todoitem")
//	open, err := todos.Where(zumo.Field("complete").Eq(false)).Take(10).ToSlice(ctx)
//
// Calls that take a type parameter are functions, everything else is a
// method: Go methods cannot have type parameters. So a typed table is
// GetTable[T](c, name) while its untyped twin is the method c.Table(name),
// and a custom API call is InvokeAPI[T](ctx, c, name, body) — with
// InvokeAPI[json.RawMessage] for the answer as it came — beside the method
// c.InvokeAPIRaw for bodies that are not JSON. Once you hold a *Table[T] or
// a Query[T], its operations are methods.
//
// A redirect to another origin than the app URL's is never followed (see
// ErrCrossOriginRedirect); same-origin redirects are.
//
// A Client and everything it hands out (tables, queries) is safe for
// concurrent use.
package zumo

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/handler"
	"github.com/zumo-go/zumo/internal/redact"
	"github.com/zumo-go/zumo/internal/wire"
)

// defaultMaxBody caps a decoded response body unless WithMaxResponseBytes
// says otherwise.
const defaultMaxBody = 64 << 20

// Client talks to one Mobile Apps or Mobile Services backend. Make one with
// NewClient; it is safe for concurrent use by many goroutines.
type Client struct {
	base      *url.URL // always ends in "/"
	legacy    bool
	hc        *http.Client
	pipeline  http.RoundTripper
	auth      *auth.Handler
	svc       *auth.Service
	maxBody   int64
	installID string
	storeKey  string

	// Per-request header values, made once.
	hdrSDK     []string
	hdrUA      []string
	hdrInstall []string
	hdrAPIName string // ZUMO-API-VERSION or X-ZUMO-APPLICATION
	hdrAPIVal  []string
}

// Header names of the protocol (docs/protocol.md §3) that only the client
// sends; those package auth sends too are in internal/wire.
const (
	headerApplication  = "X-Zumo-Application"
	headerAPIVersion   = "Zumo-Api-Version"
	headerInstallation = "X-Zumo-Installation-Id"
	headerVersion      = "X-Zumo-Version"
)

// apiVersion is the Mobile Apps protocol version this client speaks.
const apiVersion = "2.0.0"

// ErrInvalidAppURL is wrapped by the error NewClient returns for an app URL
// it cannot use.
var ErrInvalidAppURL = errors.New("zumo: invalid app URL")

// NewClient returns a client for the backend at appURL, an absolute http or
// https URL without a query or fragment (a missing trailing "/" is added).
// It fails with an error wrapping ErrInvalidAppURL for any other URL, and
// with a descriptive error for inconsistent options (an empty application
// key, a bad login host). It sends nothing.
func NewClient(appURL string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	base, err := parseAppURL(appURL)
	if err != nil {
		return nil, err
	}
	if o.legacy && o.appKey == "" {
		return nil, errors.New("zumo: WithLegacyMobileServices needs a non-empty application key")
	}
	c := &Client{base: base, legacy: o.legacy, maxBody: o.maxBody}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxBody
	}
	c.installID = o.installID
	if c.installID == "" {
		c.installID = wire.NewGUID()
	}
	sdk := sdkHeader()
	ua := sdk
	if o.uaSuffix != "" {
		ua += " " + o.uaSuffix
	}
	c.hdrSDK, c.hdrUA, c.hdrInstall = []string{sdk}, []string{ua}, []string{c.installID}
	if c.legacy {
		c.hdrAPIName, c.hdrAPIVal = headerApplication, []string{o.appKey}
	} else {
		c.hdrAPIName, c.hdrAPIVal = headerAPIVersion, []string{apiVersion}
	}

	base0 := o.transport
	hc := &http.Client{}
	if o.httpClient != nil {
		*hc = *o.httpClient
		if base0 == nil {
			base0 = o.httpClient.Transport
		}
	}
	if base0 == nil {
		base0 = defaultTransport()
	}

	// The login service talks to the plain transport: login and refresh
	// never pass through the user's handlers or the auth handler.
	loginBase := base
	if o.loginHost != "" {
		lh, err := parseAppURL(o.loginHost)
		if err != nil {
			return nil, fmt.Errorf("zumo: login host: %w", err)
		}
		loginBase = lh
	}
	c.svc = &auth.Service{
		AppURL:      base,
		LoginURL:    loginBase,
		LoginPrefix: o.loginPrefix,
		Legacy:      o.legacy,
		Client:      &http.Client{Transport: base0, Timeout: hc.Timeout},
		Header:      c.commonHeader(),
	}
	c.storeKey = auth.Key(base.String(), o.identity)
	// The client's own options last: they win over WithAuth's.
	aopts := append([]auth.Option(nil), o.authOpts...)
	if o.authn != nil {
		aopts = append(aopts, auth.WithAuthenticator(o.authn))
	}
	if o.store != nil {
		aopts = append(aopts, auth.WithStore(o.store, c.storeKey))
	}
	if o.user != nil {
		aopts = append(aopts, auth.WithUser(o.user))
	}
	c.auth = auth.NewHandler(c.svc, aopts...)

	hs := append(append([]handler.Handler{originGuard{}}, o.handlers...), c.auth)
	c.pipeline = handler.Chain(base0, hs...)
	hc.Transport = c.pipeline
	hc.CheckRedirect = checkRedirect(hc.CheckRedirect)
	c.hc = hc
	return c, nil
}

// parseAppURL checks and normalises an app URL.
func parseAppURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q does not parse", ErrInvalidAppURL, redact.URLString(s))
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return nil, fmt.Errorf("%w: %q is not absolute", ErrInvalidAppURL, redact.URL(u))
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: scheme %q is not http or https", ErrInvalidAppURL, u.Scheme)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("%w: %q has a query", ErrInvalidAppURL, redact.URL(u))
	case u.Fragment != "":
		return nil, fmt.Errorf("%w: %q has a fragment", ErrInvalidAppURL, redact.URL(u))
	case u.User != nil:
		return nil, fmt.Errorf("%w: user info in the URL is not supported", ErrInvalidAppURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q is not between 1 and 65535", ErrInvalidAppURL, p)
		}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// commonHeader is the header every request carries, login included.
func (c *Client) commonHeader() http.Header {
	h := http.Header{}
	h[headerInstallation] = c.hdrInstall
	h["User-Agent"] = c.hdrUA
	h[headerVersion] = c.hdrSDK
	h[c.hdrAPIName] = c.hdrAPIVal
	return h
}

// AppURL returns the app URL the client was made with, ending in "/".
func (c *Client) AppURL() string { return c.base.String() }

// InstallationID returns the X-ZUMO-INSTALLATION-ID the client sends.
func (c *Client) InstallationID() string { return c.installID }

// HTTPClient returns the *http.Client the client sends through: its
// Transport is the whole handler chain, auth handler included. Requests
// sent with it for the client's own origin get the current user's token.
// Like the client's own requests, it never follows a redirect to another
// origin (the error matches ErrCrossOriginRedirect) and sends no Referer.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// Transport returns the client's handler chain as an http.RoundTripper,
// with the origin guard outermost: a redirect response to another origin
// comes back as a *RedirectError.
func (c *Client) Transport() http.RoundTripper { return c.pipeline }

// CurrentUser returns the logged-in user, or nil when there is none yet
// (a user in the store is loaded by the first request or by LoadUser).
func (c *Client) CurrentUser() *User { return c.auth.User() }

// Auth returns the client's auth handler, for what the Client does not
// wrap (forcing a login, the current user's state).
func (c *Client) Auth() *auth.Handler { return c.auth }
