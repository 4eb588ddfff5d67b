//go:build browser

package auth_test

// The browser login end to end in a real browser: headless Chromium opens
// the login page of zumotest, follows its redirect to the loopback page,
// runs the page's script, and shows what the user would see. Every request
// the browser makes goes through a recording proxy, so the test also sees
// that the page talks to nobody but the service and the loopback server.
//
// Run with: go test -tags browser -run Chromium ./auth/
// The browser is found through ZUMO_CHROMIUM or on PATH
// (chromium-headless-shell, chromium, chromium-browser, google-chrome).
// Without one the test is skipped, unless CI=true: then it fails.

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/zumotest"
)

func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ZUMO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatal("no Chromium found (CI=true, so this is a failure): install chromium-headless-shell or set ZUMO_CHROMIUM")
	}
	t.Skip("no Chromium found: install chromium-headless-shell or set ZUMO_CHROMIUM")
	return ""
}

// recordingProxy forwards plain-http requests and records every request
// (method and URL) the browser made; it refuses CONNECT (https), after
// recording it.
type recordingProxy struct {
	mu   sync.Mutex
	seen []string
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	p.mu.Unlock()
	if r.Method == http.MethodConnect || r.URL.Scheme != "http" {
		http.Error(w, "the test proxy forwards plain http only", http.StatusForbidden)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *recordingProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func TestBrowserLoginChromium(t *testing.T) {
	chromium := findChromium(t)
	srv := zumotest.NewServer(t,
		zumotest.WithBrowserLogin("aad", zumotest.BrowserLogin{UserID: "sid:ann"}),
		zumotest.WithTable("todoitem", zumotest.Authenticated()))

	proxy := &recordingProxy{}
	pln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	psrv := &http.Server{Handler: proxy}
	go func() { _ = psrv.Serve(pln) }()
	t.Cleanup(func() { _ = psrv.Close() })

	profile := t.TempDir()
	type dump struct {
		dom    string
		stderr string
		err    error
	}
	dumps := make(chan dump, 1)
	var loopback string
	open := func(ctx context.Context, u string) error {
		lu, err := url.Parse(u)
		if err != nil {
			return err
		}
		red, err := url.Parse(lu.Query().Get("post_login_redirect_url"))
		if err != nil {
			return err
		}
		loopback = red.Host
		cmd := exec.CommandContext(ctx, chromium,
			"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+profile,
			"--proxy-server=http://"+pln.Addr().String(), "--proxy-bypass-list=<-loopback>",
			"--virtual-time-budget=15000", "--dump-dom", u)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		dumps <- dump{dom: out.String(), stderr: errOut.String(), err: err}
		return err
	}

	store, err := cache.NewFile(t.TempDir())
	require.NoError(t, err)
	var msgs bytes.Buffer
	c, err := zumo.NewClient(srv.URL, zumo.WithHTTPClient(srv.Client()), zumo.WithUserStore(store, "ann"),
		zumo.WithAuthenticator(auth.Browser("aad", auth.BrowserOpener(open), auth.BrowserOutput(&msgs))))
	require.NoError(t, err)

	ctx := context.Background()
	_, err = c.Table("todoitem").ToSlice(ctx)
	require.NoError(t, err, "the request needed a login, and the browser did it")
	d := <-dumps
	require.NoError(t, d.err, "chromium: %s", d.stderr)

	u := c.CurrentUser()
	require.NotNil(t, u)
	assert.Equal(t, "sid:ann", u.ID())
	stored, err := store.Load(ctx, auth.Key(c.AppURL(), "ann"))
	require.NoError(t, err, "the user is cached")
	assert.Equal(t, u.Token(), stored.Token())
	assert.Equal(t, 1, srv.Stats().Logins)

	assert.Contains(t, d.dom, "You are logged in", "the page tells the user: %s", d.dom)
	assert.Contains(t, d.dom, "close this tab")
	assert.NotContains(t, d.dom, u.Token())
	for _, r := range srv.Requests() {
		if code := r.Query.Get("authorization_code"); code != "" && code != "REDACTED" {
			t.Errorf("the request log kept a code")
		}
	}

	// Every request the browser made went to the service or the loopback
	// server, and it made the ones the flow needs.
	svc, err := url.Parse(srv.URL)
	require.NoError(t, err)
	reqs := proxy.requests()
	for _, r := range reqs {
		host := strings.SplitN(strings.TrimPrefix(strings.Fields(r)[1], "http://"), "/", 2)[0]
		assert.Contains(t, []string{svc.Host, loopback}, host, "a request to a third party: %s", r)
	}
	for _, want := range []string{
		"GET " + srv.URL + "/.auth/login/aad",
		"GET http://" + loopback + "/callback",
		"POST http://" + loopback + "/callback",
	} {
		assert.Contains(t, reqs, want)
	}
	assert.Contains(t, msgs.String(), srv.URL+"/.auth/login/aad?", "the URL was printed too")
	t.Logf("the browser requested: %q", reqs)
}
