package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/fakebrowser"
	"github.com/zumo-go/zumo/zumotest"
)

// browserEnv is a fake service with server-directed login and a Service
// pointing at it.
type browserEnv struct {
	srv *zumotest.Server
	svc *Service
	out *syncBuffer
}

func newBrowserEnv(t *testing.T, bl zumotest.BrowserLogin) *browserEnv {
	t.Helper()
	srv := zumotest.NewServer(t, zumotest.WithBrowserLogin("google", bl))
	u, err := url.Parse(srv.URL + "/")
	require.NoError(t, err)
	return &browserEnv{srv: srv, svc: &Service{AppURL: u, Client: srv.Client()}, out: &syncBuffer{}}
}

// opener drives fb as the browser and hands its result (or error) to the
// returned channel.
func opener(fb *fakebrowser.Browser) (func(context.Context, string) error, <-chan *fakebrowser.Result, <-chan error) {
	results, errs := make(chan *fakebrowser.Result, 1), make(chan error, 1)
	return func(ctx context.Context, u string) error {
		res, err := fb.Open(ctx, u)
		if err != nil {
			errs <- err
			return nil
		}
		results <- res
		return nil
	}, results, errs
}

func (e *browserEnv) secretsAbsent(t *testing.T, texts ...string) {
	t.Helper()
	for _, r := range e.srv.Requests() {
		for _, k := range []string{"authorization_code", "code_verifier"} {
			if v := r.Query.Get(k); v != "" {
				for _, s := range texts {
					assert.NotContains(t, s, v)
				}
			}
		}
	}
}

// assertClosed checks that nothing listens on addr any more.
func assertClosed(t *testing.T, res *fakebrowser.Result) {
	t.Helper()
	require.NotNil(t, res)
	c, err := net.Dial("tcp4", res.Callback.Host)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "the loopback listener is closed when the login ends")
}

func TestBrowserLogin(t *testing.T) {
	tests := []struct {
		name      string
		bl        zumotest.BrowserLogin
		fb        fakebrowser.Browser
		wantTitle string
		check     func(t *testing.T, e *browserEnv, u *User, err error)
	}{
		{name: "code exchanged with the verifier", bl: zumotest.BrowserLogin{UserID: "sid:ann"}, wantTitle: "Logged in",
			check: func(t *testing.T, e *browserEnv, u *User, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sid:ann", u.ID())
				assert.Equal(t, "google", u.Provider())
				st := e.srv.Stats()
				assert.Equal(t, 1, st.Logins)
				assert.Equal(t, 1, st.Routes["GET /.auth/login/google/token"])
			}},
		{name: "older #token= form", bl: zumotest.BrowserLogin{UserID: "sid:ann", TokenFragment: true}, wantTitle: "Logged in",
			check: func(t *testing.T, e *browserEnv, u *User, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sid:ann", u.ID())
				assert.Equal(t, 0, e.srv.Stats().Routes["GET /.auth/login/google/token"], "no exchange")
			}},
		{name: "#error= from the service", bl: zumotest.BrowserLogin{UserID: "sid:ann", Error: "access_denied"}, wantTitle: "Login failed",
			check: func(t *testing.T, e *browserEnv, u *User, err error) {
				var le *LoginError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, "google", le.Provider)
				assert.Equal(t, `auth: login with "google" failed: access_denied`, le.Error())
				assert.Nil(t, u)
			}},
		{name: "wrong verifier (the challenge was swapped on the way)", bl: zumotest.BrowserLogin{UserID: "sid:ann"}, wantTitle: "Login failed",
			fb: fakebrowser.Browser{Login: func(u *url.URL) {
				q := u.Query()
				sum := sha256.Sum256([]byte("someone else's verifier, forty-three chars or more"))
				q.Set("code_challenge", base64.StdEncoding.EncodeToString(sum[:]))
				u.RawQuery = q.Encode()
			}},
			check: func(t *testing.T, e *browserEnv, u *User, err error) {
				var le *LoginError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, http.StatusUnauthorized, le.StatusCode)
				assert.Equal(t, 1, e.srv.Stats().Routes["GET /.auth/login/google/token"])
				assert.Equal(t, 0, e.srv.Stats().Logins)
			}},
		{name: "callback without code or token", bl: zumotest.BrowserLogin{UserID: "sid:ann"}, wantTitle: "Login failed",
			fb: fakebrowser.Browser{Callback: func(u *url.URL) { u.Fragment, u.RawFragment = "state=x", "" }},
			check: func(t *testing.T, e *browserEnv, u *User, err error) {
				assert.ErrorIs(t, err, ErrLoginCancelled)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBrowserEnv(t, tt.bl)
			fb := tt.fb
			fb.Client = e.srv.Client()
			open, results, errs := opener(&fb)
			a := Browser("google", BrowserOpener(open), BrowserOutput(e.out))
			u, err := a.Authenticate(context.Background(), e.svc)
			var res *fakebrowser.Result
			select {
			case res = <-results:
			case err := <-errs:
				t.Fatalf("browser: %v", err)
			}
			tt.check(t, e, u, err)
			assert.Equal(t, http.StatusOK, res.PageStatus)
			assert.Equal(t, http.StatusOK, res.PostStatus)
			assert.Equal(t, tt.wantTitle, res.Title, "the page tells the user: %s", res.Message)
			assert.Contains(t, res.Message, "close this tab")
			assert.Contains(t, e.out.String(), "/.auth/login/google?", "the URL is printed")
			texts := []string{e.out.String(), res.Page, res.Title, res.Message}
			if err != nil {
				texts = append(texts, err.Error())
			}
			if u != nil {
				for _, s := range texts {
					assert.NotContains(t, s, u.Token())
				}
			}
			e.secretsAbsent(t, texts...)
			assertClosed(t, res)
		})
	}
}

func TestBrowserLoginURL(t *testing.T) {
	e := newBrowserEnv(t, zumotest.BrowserLogin{UserID: "sid:ann"})
	port := freePort(t)
	got := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	a := Browser("google", BrowserPort(port), BrowserOutput(e.out),
		BrowserParam("access_type", "offline"), BrowserParam("session_mode", "cookie"),
		BrowserOpener(func(_ context.Context, u string) error { got <- u; cancel(); return nil }))
	_, err := a.Authenticate(ctx, e.svc)
	require.ErrorIs(t, err, context.Canceled)
	u, err := url.Parse(<-got)
	require.NoError(t, err)
	assert.Equal(t, "/.auth/login/google", u.Path)
	q := u.Query()
	red, err := url.Parse(q.Get("post_login_redirect_url"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/callback", red.Scheme+"://"+red.Host+red.Path)
	assert.Len(t, red.Query().Get("state"), 22, "16 random bytes")
	ch, err := base64.StdEncoding.DecodeString(q.Get("code_challenge"))
	require.NoError(t, err, "standard Base64, as the official clients send it")
	assert.Len(t, ch, sha256.Size)
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Equal(t, []string{"token"}, q["session_mode"], "the flow's own parameters win")
	assert.Equal(t, "offline", q.Get("access_type"))
	c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "the listener is closed after a cancelled login")
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func TestBrowserLoginPortInUse(t *testing.T) {
	e := newBrowserEnv(t, zumotest.BrowserLogin{UserID: "sid:ann"})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var opened atomic.Bool
	a := Browser("google", BrowserPort(port), BrowserOutput(e.out),
		BrowserOpener(func(context.Context, string) error { opened.Store(true); return nil }))
	_, err = a.Authenticate(context.Background(), e.svc)
	require.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.Contains(t, err.Error(), "127.0.0.1:"+strconv.Itoa(port))
	assert.False(t, opened.Load(), "no browser is opened when the callback cannot be served")
}

func TestBrowserLoginWrongState(t *testing.T) {
	e := newBrowserEnv(t, zumotest.BrowserLogin{UserID: "sid:ann"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var injected *fakebrowser.Result
	fb := fakebrowser.Browser{Client: e.srv.Client(), Callback: func(u *url.URL) {
		q := u.Query()
		q.Set("state", "guessed")
		u.RawQuery = q.Encode()
	}}
	a := Browser("google", BrowserOutput(e.out), BrowserOpener(func(ctx context.Context, u string) error {
		res, err := fb.Open(ctx, u)
		if assert.NoError(t, err) {
			injected = res
			// A page posting straight to the callback with a wrong state,
			// and one with the right state from another origin, are
			// refused too.
			for _, tc := range []struct {
				url, origin string
				status      int
			}{
				{res.Callback.Scheme + "://" + res.Callback.Host + "/callback?state=guessed", "", http.StatusBadRequest},
				{res.Callback.Scheme + "://" + res.Callback.Host + "/callback?state=guessed", "http://evil.example", http.StatusForbidden},
			} {
				req, _ := http.NewRequest(http.MethodPost, tc.url, strings.NewReader(res.Callback.EscapedFragment()))
				if tc.origin != "" {
					req.Header.Set("Origin", tc.origin)
				}
				resp, err := http.DefaultClient.Do(req)
				if assert.NoError(t, err) {
					resp.Body.Close()
					assert.Equal(t, tc.status, resp.StatusCode)
				}
			}
		}
		cancel()
		return nil
	}))
	_, err := a.Authenticate(ctx, e.svc)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrStateMismatch)
	require.NotNil(t, injected)
	assert.Equal(t, http.StatusBadRequest, injected.PageStatus)
	assert.NotContains(t, injected.Page, "<script", "a wrong state gets no page script")
	assert.Equal(t, 0, injected.PostStatus)
	assert.Equal(t, 0, e.srv.Stats().Routes["GET /.auth/login/google/token"], "the injected code was never exchanged")
}

func TestBrowserLoginCallbackServer(t *testing.T) {
	f := &flow{state: "s3cr3t-state", origin: "http://127.0.0.1:1234", callbacks: make(chan callback), done: make(chan struct{})}
	tests := []struct {
		name, method, target, host, origin string
		status                             int
	}{
		{"page", http.MethodGet, "/callback?state=s3cr3t-state", "127.0.0.1:1234", "", http.StatusOK},
		{"page with a wrong state", http.MethodGet, "/callback?state=x", "127.0.0.1:1234", "", http.StatusBadRequest},
		{"page without a state", http.MethodGet, "/callback", "127.0.0.1:1234", "", http.StatusBadRequest},
		{"another host name (DNS rebinding)", http.MethodGet, "/callback?state=s3cr3t-state", "evil.example:1234", "", http.StatusNotFound},
		{"another path", http.MethodGet, "/favicon.ico", "127.0.0.1:1234", "", http.StatusNotFound},
		{"another method", http.MethodPut, "/callback?state=s3cr3t-state", "127.0.0.1:1234", "", http.StatusMethodNotAllowed},
		{"post from another origin", http.MethodPost, "/callback?state=s3cr3t-state", "127.0.0.1:1234", "null", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, "http://"+tt.host+tt.target, strings.NewReader("authorization_code=c"))
			require.NoError(t, err)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			rec := httptest.NewRecorder()
			f.ServeHTTP(rec, req)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.NotContains(t, rec.Body.String(), "s3cr3t-state", "the page never holds the state")
			if tt.status == http.StatusOK {
				csp := rec.Header().Get("Content-Security-Policy")
				assert.Contains(t, csp, "default-src 'none'")
				assert.Contains(t, csp, "connect-src 'self'")
				assert.Contains(t, csp, cspHash(pageScript), "the page's own script is allowed, nothing else")
				assert.Contains(t, rec.Body.String(), pageScript)
				assert.NotContains(t, rec.Body.String(), "http", "the page names no other origin")
			}
		})
	}
}

func TestBrowserLoginOpenerFails(t *testing.T) {
	e := newBrowserEnv(t, zumotest.BrowserLogin{UserID: "sid:ann"})
	fb := &fakebrowser.Browser{Client: e.srv.Client()}
	var wg sync.WaitGroup
	a := Browser("google", BrowserOutput(e.out), BrowserOpener(func(ctx context.Context, u string) error {
		wg.Add(1)
		go func() { // the user copies the URL into a browser by hand
			defer wg.Done()
			_, _ = fb.Open(ctx, u)
		}()
		return errors.New("no display")
	}))
	u, err := a.Authenticate(context.Background(), e.svc)
	wg.Wait()
	require.NoError(t, err)
	assert.Equal(t, "sid:ann", u.ID())
	out := e.out.String()
	assert.Contains(t, out, "Could not open a browser (no display)")
	assert.Contains(t, out, e.srv.URL+"/.auth/login/google?", "the message carries the URL")
}

func TestBrowserLoginNoOpener(t *testing.T) {
	e := newBrowserEnv(t, zumotest.BrowserLogin{UserID: "sid:ann"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Browser("google", BrowserOpener(nil), BrowserOutput(pw)).Authenticate(ctx, e.svc)
		done <- err
	}()
	// Read the printed URL and follow it, as a user would.
	buf := make([]byte, 4096)
	n, err := pr.Read(buf)
	require.NoError(t, err)
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest
	line := string(buf[:n])
	i := strings.Index(line, e.srv.URL)
	require.GreaterOrEqual(t, i, 0, "the URL is printed: %q", line)
	loginURL := strings.Fields(line[i:])[0]
	res, err := (&fakebrowser.Browser{Client: e.srv.Client()}).Open(ctx, loginURL)
	require.NoError(t, err)
	assert.Equal(t, "Logged in", res.Title)
	require.NoError(t, <-done)
}

// idleListener accepts nothing until closed; its Accept blocks durably, so
// that synctest's clock can run while a login waits.
type idleListener struct {
	closed chan struct{}
	once   sync.Once
	calls  atomic.Int64
}

func (l *idleListener) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *idleListener) Close() error {
	l.calls.Add(1)
	l.once.Do(func() { close(l.closed) })
	return nil
}
func (l *idleListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

func TestBrowserLoginTimeout(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // of the caller's context; 0 for none
		want     time.Duration
		ctxErr   bool
	}{
		{"the browser timeout", 0, 3 * time.Minute, false},
		{"the caller's deadline first (the handler's login timeout)", 2 * time.Minute, 2 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := &idleListener{closed: make(chan struct{})}
				a := Browser("google", BrowserTimeout(3*time.Minute), BrowserOpener(nil), BrowserOutput(nil)).(*browser)
				a.listen = func(string, string) (net.Listener, error) { return ln, nil }
				u, _ := url.Parse("http://127.0.0.1:1/")
				ctx := context.Background()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				start := time.Now()
				_, err := a.Authenticate(ctx, &Service{AppURL: u})
				require.ErrorIs(t, err, ErrBrowserTimeout)
				assert.Equal(t, tt.want, time.Since(start))
				assert.Equal(t, tt.ctxErr, errors.Is(err, context.DeadlineExceeded))
				if tt.ctxErr {
					assert.Contains(t, err.Error(), "WithLoginTimeout")
				} else {
					assert.Contains(t, err.Error(), "3m0s")
				}
				assert.Positive(t, ln.calls.Load(), "the listener is closed")
			})
		})
	}
}

func TestBrowserLoginUnsupported(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1/")
	tests := []struct {
		name     string
		provider string
		svc      *Service
	}{
		{"legacy Mobile Services", "google", &Service{AppURL: u, Legacy: true}},
		{"provider with a slash", "a/b", &Service{AppURL: u}},
		{"empty provider", "", &Service{AppURL: u}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opened atomic.Bool
			_, err := Browser(tt.provider, BrowserOpener(func(context.Context, string) error { opened.Store(true); return nil })).
				Authenticate(context.Background(), tt.svc)
			assert.Error(t, err)
			assert.False(t, opened.Load())
		})
	}
}

// TestBrowserLoginExchangeNoRedirect: a service answering the code exchange
// with a redirect is not followed; the code and verifier go nowhere else.
func TestBrowserLoginExchangeNoRedirect(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = io.WriteString(w, `{"authenticationToken":"x.y.z","user":{"userId":"sid:evil"}}`)
	}))
	defer other.Close()
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.auth/login/google":
			http.Redirect(w, r, r.URL.Query().Get("post_login_redirect_url")+"#authorization_code=the-code-1234", http.StatusFound)
		case "/.auth/login/google/token":
			http.Redirect(w, r, other.URL+"/steal?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		default:
			http.NotFound(w, r)
		}
	}))
	defer svc.Close()
	u, err := url.Parse(svc.URL + "/")
	require.NoError(t, err)
	fb := &fakebrowser.Browser{}
	open, results, _ := opener(fb)
	_, err = Browser("google", BrowserOpener(open), BrowserOutput(nil)).Authenticate(context.Background(), &Service{AppURL: u})
	var le *LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, http.StatusTemporaryRedirect, le.StatusCode)
	assert.NotContains(t, err.Error(), "the-code-1234")
	assert.Zero(t, elsewhere.Load(), "the redirect was not followed")
	assert.Equal(t, "Login failed", (<-results).Title)
}

// TestBrowserLoginExchangeErrorScrubbed: a service echoing the code and the
// verifier (raw or escaped) in its error does not get them into the error.
func TestBrowserLoginExchangeErrorScrubbed(t *testing.T) {
	var sent url.Values
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.auth/login/google":
			http.Redirect(w, r, r.URL.Query().Get("post_login_redirect_url")+"#authorization_code=the%2Bcode%3D1234", http.StatusFound)
		case "/.auth/login/google/token":
			sent = r.URL.Query()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"bad `+r.URL.RawQuery+` / `+sent.Get("code_verifier")+` / `+sent.Get("authorization_code")+`"}`)
		}
	}))
	defer svc.Close()
	u, err := url.Parse(svc.URL + "/")
	require.NoError(t, err)
	open, results, _ := opener(&fakebrowser.Browser{})
	_, err = Browser("google", BrowserOpener(open), BrowserOutput(nil)).Authenticate(context.Background(), &Service{AppURL: u})
	<-results
	var le *LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, http.StatusBadRequest, le.StatusCode)
	require.Equal(t, "the+code=1234", sent.Get("authorization_code"))
	for _, s := range []string{sent.Get("authorization_code"), sent.Get("code_verifier"),
		url.QueryEscape(sent.Get("authorization_code")), url.QueryEscape(sent.Get("code_verifier"))} {
		assert.NotContains(t, err.Error(), s)
	}
}

// The handler lets a browser login run as long as the browser may take,
// unless the caller bounds logins explicitly.
func TestBrowserLoginTimeoutOfHandler(t *testing.T) {
	u, _ := url.Parse("https://app.example/")
	tests := []struct {
		name    string
		browser time.Duration
		opts    []Option
		want    time.Duration
	}{
		{"browser default", DefaultBrowserTimeout, nil, DefaultBrowserTimeout + 30*time.Second},
		{"long browser timeout", 20 * time.Minute, nil, 20*time.Minute + 30*time.Second},
		{"short browser timeout keeps the default", 10 * time.Second, nil, DefaultLoginTimeout},
		{"WithLoginTimeout wins", 20 * time.Minute, []Option{WithLoginTimeout(time.Minute)}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{WithAuthenticator(Browser("google", BrowserTimeout(tt.browser)))}, tt.opts...)
			h := NewHandler(&Service{AppURL: u}, opts...)
			assert.Equal(t, tt.want, h.loginTimeout)
		})
	}
	h := NewHandler(&Service{AppURL: u}, WithAuthenticator(Credentials("custom", map[string]string{})))
	assert.Equal(t, DefaultLoginTimeout, h.loginTimeout, "other authenticators keep the default")
}
