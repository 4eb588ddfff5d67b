package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

// config is the example's command line. Without appURL it runs against
// the in-process fake.
type config struct {
	appURL   string // -app-url, ZUMO_APP_URL
	username string // -username, ZUMO_USERNAME
	password string // ZUMO_PASSWORD only
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.appURL, "app-url", getenv("ZUMO_APP_URL"), "Mobile Apps backend URL")
	fs.StringVar(&c.username, "username", getenv("ZUMO_USERNAME"), "login name (custom provider)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.password = getenv("ZUMO_PASSWORD")
	if c.appURL != "" && (c.username == "" || c.password == "") {
		return c, errors.New("with -app-url, set -username (or ZUMO_USERNAME) and ZUMO_PASSWORD")
	}
	return c, nil
}

// counts are what the steps check: requests sent (logins included),
// logins made, and 401 answers.
type counts struct {
	Requests, Logins, Unauthorized int
}

// backend is the service the example talks to and what it needs beyond
// the protocol: counters, and a way to have the cached token rejected.
type backend struct {
	URL                string
	shown              string // URL with any password in it masked
	username, password string
	options            []zumo.Option // for every client the example makes

	fake    *zumotest.Server // in-process only
	counter *countingTransport
}

// openBackend starts the in-process fake when cfg.appURL is "", and
// otherwise uses the backend at cfg.appURL.
func openBackend(cfg config) (*backend, error) {
	if cfg.appURL == "" {
		srv := zumotest.New(
			zumotest.WithTable("todoitem", zumotest.Authenticated()),
			zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
		)
		srv.Start()
		return &backend{URL: srv.URL, shown: srv.URL, username: "ann", password: "s3cret", fake: srv}, nil
	}
	u, err := url.Parse(cfg.appURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the app URL is not an http(s) URL")
	}
	ct := &countingTransport{base: http.DefaultTransport}
	return &backend{
		URL:      cfg.appURL,
		shown:    u.Redacted(),
		username: cfg.username,
		password: cfg.password,
		options:  []zumo.Option{zumo.WithTransport(ct)},
		counter:  ct,
	}, nil
}

// Close stops the in-process fake.
func (b *backend) Close() {
	if b.fake != nil {
		b.fake.Close()
	}
}

// Stats returns the counters: the fake's own, or those of the example's
// side of the connection.
func (b *backend) Stats() counts {
	if b.fake != nil {
		st := b.fake.Stats()
		return counts{Requests: st.Requests, Logins: st.Logins, Unauthorized: st.Unauthorized}
	}
	return b.counter.counts()
}

// rowsBefore returns how many rows the table holds before the example
// inserts any: none in a fake it just started (no request made); a remote
// backend may keep rows of earlier runs.
func (b *backend) rowsBefore(ctx context.Context, todos *zumo.Table[TodoItem]) (int64, error) {
	if b.fake != nil {
		return 0, nil
	}
	page, err := todos.Query().IncludeTotalCount().Page(ctx)
	if err != nil {
		return 0, err
	}
	return page.TotalCount, nil
}

// rejectToken makes c's cached token one the service refuses, and says
// how. The fake rotates its signing key. A remote service's key cannot be
// rotated from here, so the token's signature is replaced instead: the
// service refuses it the way it refuses a token signed with a retired key.
func (b *backend) rejectToken(ctx context.Context, c *zumo.Client) (string, error) {
	if b.fake != nil {
		b.fake.RotateKey()
		return "rotated the server key", nil
	}
	u := c.CurrentUser()
	if u == nil {
		return "", errors.New("the second client has no user to spoil")
	}
	parts := strings.Split(u.Token(), ".")
	if len(parts) != 3 {
		return "", errors.New("the service's token is not a JWT: cannot replace its signature")
	}
	parts[2] = base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if err := c.SetUser(ctx, zumo.NewUser(u.ID(), strings.Join(parts, "."))); err != nil {
		return "", err
	}
	return "replaced the cached token's signature, as a key rotation would spoil it", nil
}

// countingTransport counts, on the example's side, what the fake counts
// on its side.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    counts
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	login := strings.Contains(r.URL.Path, "/.auth/login/")
	res, err := t.base.RoundTrip(r)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n.Requests++
	if login {
		t.n.Logins++
	}
	if err == nil && res.StatusCode == http.StatusUnauthorized {
		t.n.Unauthorized++
	}
	return res, err
}

func (t *countingTransport) counts() counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}
