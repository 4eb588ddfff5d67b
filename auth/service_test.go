package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zumo-go/zumo/handler"
)

// seen is one request a test server received.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// recorder is an httptest server that records requests and answers with
// reply.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request)
}

func newRecorder(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{reply: reply}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b})
		rec.mu.Unlock()
		rec.reply(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func loginJSON(userID, token string) string {
	b, _ := json.Marshal(map[string]any{"authenticationToken": token, "user": map[string]string{"userId": userID}})
	return string(b)
}

func TestServiceLogin(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, loginJSON("sid:1", tok))
	})
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, loginJSON("sid:2", tok))
	})
	hdr := http.Header{"X-Zumo-Installation-Id": {"inst-1"}, "Zumo-Api-Version": {"2.0.0"}, "User-Agent": {"ZUMO/0.1 (lang=Go)"}}

	tests := []struct {
		name     string
		svc      Service
		provider string
		srv      *recorder
		wantPath string
	}{
		{"default", Service{AppURL: mustURL(t, rec.URL+"/")}, "google", rec, "/.auth/login/google"},
		{"app with a path", Service{AppURL: mustURL(t, rec.URL+"/mobile/")}, "aad", rec, "/mobile/.auth/login/aad"},
		{"legacy", Service{AppURL: mustURL(t, rec.URL+"/"), Legacy: true}, "facebook", rec, "/login/facebook"},
		{"custom prefix", Service{AppURL: mustURL(t, rec.URL+"/"), LoginPrefix: "/api/auth/"}, "custom", rec, "/api/auth/custom"},
		{"alternate login host", Service{AppURL: mustURL(t, rec.URL+"/"), LoginURL: mustURL(t, other.URL+"/")}, "google", other, "/.auth/login/google"},
		{"alternate host and prefix", Service{AppURL: mustURL(t, rec.URL+"/"), LoginURL: mustURL(t, other.URL+"/sso/"), LoginPrefix: "x/login"}, "twitter", other, "/sso/x/login/twitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.srv.requests())
			svc := tt.svc
			svc.Header = hdr
			u, err := svc.Login(context.Background(), tt.provider, map[string]string{"access_token": "provider-token"})
			if err != nil {
				t.Fatal(err)
			}
			if u.Token() != tok || u.ID() == "" {
				t.Errorf("user %v", u)
			}
			reqs := tt.srv.requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests, want 1", len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			if r.Method != http.MethodPost || r.Path != tt.wantPath {
				t.Errorf("request %s %s, want POST %s", r.Method, r.Path, tt.wantPath)
			}
			for k, v := range hdr {
				if got := r.Header.Get(k); got != v[0] {
					t.Errorf("header %s = %q, want %q", k, got, v[0])
				}
			}
			if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept %q", got)
			}
			if r.Header.Get("X-Zumo-Auth") != "" {
				t.Error("login carried X-ZUMO-AUTH")
			}
			if string(r.Body) != `{"access_token":"provider-token"}` {
				t.Errorf("body %s", r.Body)
			}
		})
	}
	if n := len(other.requests()); n != 2 {
		t.Errorf("alternate host got %d requests, want 2", n)
	}
}

func TestServiceLoginBadProvider(t *testing.T) {
	svc := &Service{AppURL: mustURL(t, "https://example.invalid/"), Client: failingClient(t)}
	for _, p := range []string{"", "a/b", "a?b", "a#b", ".", ".."} {
		if _, err := svc.Login(context.Background(), p, nil); err == nil {
			t.Errorf("provider %q accepted", p)
		}
	}
	if _, err := svc.Login(context.Background(), "custom", make(chan int)); err == nil {
		t.Error("unmarshalable body accepted")
	}
}

func TestParseLoginResponseStrict(t *testing.T) {
	tests := []struct{ name, body string }{
		{"empty", ``},
		{"not JSON", `hello`},
		{"HTML", `<!DOCTYPE html><html><body>Sign in</body></html>`},
		{"null", `null`},
		{"array", `[{"authenticationToken":"t","user":{"userId":"u"}}]`},
		{"string", `"t"`},
		{"missing token", `{"user":{"userId":"sid:1"}}`},
		{"empty token", `{"authenticationToken":"","user":{"userId":"sid:1"}}`},
		{"null token", `{"authenticationToken":null,"user":{"userId":"sid:1"}}`},
		{"token a number", `{"authenticationToken":12345,"user":{"userId":"sid:1"}}`},
		{"token an object", `{"authenticationToken":{"t":1},"user":{"userId":"sid:1"}}`},
		{"no user", `{"authenticationToken":"tok"}`},
		{"user null", `{"authenticationToken":"tok","user":null}`},
		{"user a string", `{"authenticationToken":"tok","user":"sid:1"}`},
		{"userId missing", `{"authenticationToken":"tok","user":{}}`},
		{"userId empty", `{"authenticationToken":"tok","user":{"userId":""}}`},
		{"userId a number", `{"authenticationToken":"tok","user":{"userId":7}}`},
		{"trailing garbage", `{"authenticationToken":"tok","user":{"userId":"sid:1"}} garbage`},
		{"trailing object", `{"authenticationToken":"tok","user":{"userId":"sid:1"}}{}`},
		{"trailing brace", `{"authenticationToken":"tok","user":{"userId":"sid:1"}}}`},
		{"trailing bracket", `{"authenticationToken":"tok","user":{"userId":"sid:1"}}]`},
		{"trailing number", `{"authenticationToken":"tok","user":{"userId":"sid:1"}} 1`},
		{"truncated", `{"authenticationToken":"tok","user":{"userId":"sid:1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseLoginResponse([]byte(tt.body))
			if !errors.Is(err, ErrInvalidLoginResponse) {
				t.Fatalf("got %v, %v; want ErrInvalidLoginResponse", u, err)
			}
			if u != nil {
				t.Error("user returned with an error")
			}
			if strings.Contains(err.Error(), "tok\"") || strings.Contains(err.Error(), "12345") {
				t.Errorf("error echoes the body: %v", err)
			}
		})
	}
	for _, ok := range []string{
		`{"authenticationToken":"tok","user":{"userId":"sid:1"}}`,
		"  {\"user\":{\"userId\":\"sid:1\",\"extra\":1},\"authenticationToken\":\"tok\",\"more\":[1]}\r\n\t ",
	} {
		u, err := ParseLoginResponse([]byte(ok))
		if err != nil || u.ID() != "sid:1" || u.Token() != "tok" {
			t.Errorf("%s: %v %v", ok, u, err)
		}
	}
}

func TestServiceLoginErrors(t *testing.T) {
	var status int
	var body, ctype string
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
	svc := &Service{AppURL: mustURL(t, rec.URL+"/")}
	tests := []struct {
		status      int
		body, ctype string
		wantMsg     string
	}{
		{401, `{"error":"bad credentials"}`, "application/json", "bad credentials"},
		{400, `"just a string"`, "application/json", "just a string"},
		{403, `{"description":"forbidden here"}`, "", "forbidden here"},
		{500, `{"message":"boom"}`, "", "boom"},
		{502, `upstream down`, "text/plain", "upstream down"},
		{404, `<html><body>Not found</body></html>`, "text/html", "Not Found"},
		{503, ``, "", "Service Unavailable"},
		{401, `{"other":1}`, "", `{"other":1}`},
		{401, `null`, "", "Unauthorized"},
		// A server that echoes the credentials it was sent.
		{401, `{"error":"no user with password hunter2-secret"}`, "", "no user with password REDACTED"},
		{401, `wrong password hunter2-secret`, "text/plain", "wrong password REDACTED"},
		// Echoed across the point where a long text is cut.
		{401, strings.Repeat("x", 505) + "hunter2-secret", "text/plain", strings.Repeat("x", 505) + "REDACTE…"},
		// Echoed as the server's JSON escaped it.
		{401, `{"error":"no user with password hunter2\u002dsecret"}`, "", "no user with password REDACTED"},
	}
	for _, tt := range tests {
		status, body, ctype = tt.status, tt.body, tt.ctype
		_, err := svc.Login(context.Background(), "custom", map[string]string{"password": "hunter2-secret"})
		var le *LoginError
		if !errors.As(err, &le) {
			t.Fatalf("%d: error %v, want *LoginError", tt.status, err)
		}
		if le.StatusCode != tt.status || le.Message != tt.wantMsg || le.Op != "login" || le.Provider != "custom" {
			t.Errorf("%d: %+v, want message %q", tt.status, le, tt.wantMsg)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error contains the credentials: %v", err)
		}
		if got := le.Unauthorized(); got != (tt.status == 401 || tt.status == 403) {
			t.Errorf("%d: Unauthorized() = %v", tt.status, got)
		}
	}

	// A 2xx with a bad body.
	status, body = 200, `{"authenticationToken":"t"}`
	if _, err := svc.Login(context.Background(), "custom", nil); !errors.Is(err, ErrInvalidLoginResponse) {
		t.Errorf("bad 2xx body: %v", err)
	}
	// A 2xx body over the cap.
	status, body = 200, `{"authenticationToken":"`+strings.Repeat("a", maxLoginBody)+`","user":{"userId":"u"}}`
	if _, err := svc.Login(context.Background(), "custom", nil); !errors.Is(err, ErrInvalidLoginResponse) {
		t.Errorf("huge body: %v", err)
	}
	// A cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.Login(ctx, "custom", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A transport error names the URL without secrets.
	dead := &Service{AppURL: mustURL(t, "http://127.0.0.1:1/"), Client: &http.Client{Transport: handler.RoundTripperFunc(
		func(*http.Request) (*http.Response, error) { return nil, errors.New("dial refused") })}}
	if _, err := dead.Login(context.Background(), "custom", nil); err == nil || !strings.Contains(err.Error(), "dial refused") {
		t.Errorf("transport error: %v", err)
	}
}

func TestServiceRefresh(t *testing.T) {
	old := makeToken(t, "sid:1", time.Now().Add(time.Minute))
	fresh := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	var status int
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if status != 200 {
			w.WriteHeader(status)
			// A server that echoes the token it refused.
			fmt.Fprintf(w, `{"error":"token %s has expired"}`, r.Header.Get("X-Zumo-Auth"))
			return
		}
		io.WriteString(w, loginJSON("sid:1", fresh))
	})
	svc := &Service{AppURL: mustURL(t, rec.URL+"/app/"), Header: http.Header{"Zumo-Api-Version": {"2.0.0"}}}
	status = 200
	u, err := svc.Refresh(context.Background(), NewUser("sid:1", old))
	if err != nil || u.Token() != fresh {
		t.Fatalf("Refresh: %v %v", u, err)
	}
	r := rec.requests()[0]
	if r.Method != http.MethodGet || r.Path != "/app/.auth/refresh" || len(r.Body) != 0 {
		t.Errorf("request %s %s body %q", r.Method, r.Path, r.Body)
	}
	if r.Header.Get("X-Zumo-Auth") != old || r.Header.Get("X-Zumo-Features") != "RT" || r.Header.Get("Zumo-Api-Version") != "2.0.0" {
		t.Errorf("headers %v", r.Header)
	}

	status = 401
	_, err = svc.Refresh(context.Background(), NewUser("sid:1", old))
	var le *LoginError
	if !errors.As(err, &le) || le.Op != "refresh" || le.StatusCode != 401 || !le.Unauthorized() {
		t.Fatalf("refused refresh: %v", err)
	}
	if strings.Contains(err.Error(), old) || strings.Contains(le.Message, old) {
		t.Errorf("LoginError contains the token: %v", err)
	}
	if !strings.Contains(le.Message, "has expired") {
		t.Errorf("message lost: %q", le.Message)
	}

	if _, err := svc.Refresh(context.Background(), nil); err == nil {
		t.Error("Refresh(nil) succeeded")
	}
	legacy := &Service{AppURL: mustURL(t, rec.URL+"/"), Legacy: true, Client: failingClient(t)}
	if _, err := legacy.Refresh(context.Background(), NewUser("sid:1", old)); !errors.Is(err, ErrRefreshNotSupported) {
		t.Errorf("legacy refresh: %v", err)
	}
}

// A login or refresh answered with a redirect to another origin must not
// carry the token (or the credentials) there: http.Client copies custom
// headers such as X-ZUMO-AUTH to every hop.
func TestServiceRedirectNeverLeaksToken(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	evil := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, loginJSON("sid:evil", tok))
	})
	for _, code := range []int{301, 302, 303, 307, 308} {
		app := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, evil.URL+"/steal", code)
		})
		svc := &Service{AppURL: mustURL(t, app.URL+"/")}
		_, rerr := svc.Refresh(context.Background(), NewUser("sid:1", tok))
		_, lerr := svc.Login(context.Background(), "custom", map[string]string{"password": "hunter2"})
		for _, r := range evil.requests() {
			if r.Header.Get("X-Zumo-Auth") != "" || strings.Contains(string(r.Body), "hunter2") {
				t.Errorf("%d: the redirect target received the token or the credentials", code)
			}
		}
		var le *LoginError
		if !errors.As(rerr, &le) || le.StatusCode != code {
			t.Errorf("%d: refresh error %v, want a *LoginError with the redirect status", code, rerr)
		}
		if !errors.As(lerr, &le) || le.StatusCode != code {
			t.Errorf("%d: login error %v, want a *LoginError with the redirect status", code, lerr)
		}
	}
}

// failingClient is an http.Client whose transport fails the test if used.
func failingClient(t *testing.T) *http.Client {
	return &http.Client{Transport: handler.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request to %s", r.URL)
		return nil, errors.New("unexpected request")
	})}
}

func TestServiceInsecureTransport(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	for _, s := range []*Service{
		{AppURL: mustURL(t, "http://example.invalid/")},
		{AppURL: mustURL(t, "http://example.invalid:8080/app/")},
		{AppURL: mustURL(t, "http://10.0.0.1/")},
		{AppURL: mustURL(t, "https://example.invalid/"), LoginURL: mustURL(t, "http://login.example.invalid/")},
	} {
		s.Client = failingClient(t)
		if _, err := s.Login(context.Background(), "custom", map[string]string{"password": "p"}); !errors.Is(err, ErrInsecureTransport) {
			t.Errorf("%s login: %v", s.AppURL, err)
		}
		if _, err := s.Refresh(context.Background(), NewUser("sid:1", tok)); !errors.Is(err, ErrInsecureTransport) {
			t.Errorf("%s refresh: %v", s.AppURL, err)
		}
		if _, err := Credentials("custom", nil).Authenticate(context.Background(), s); !errors.Is(err, ErrInsecureTransport) {
			t.Errorf("%s credentials: %v", s.AppURL, err)
		}
	}

	// Opted in, or loopback: sent.
	calls := 0
	ok := &http.Client{Transport: handler.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(loginJSON("sid:1", tok))), Request: r}, nil
	})}
	for _, s := range []*Service{
		{AppURL: mustURL(t, "http://example.invalid/"), AllowInsecureHTTP: true},
		{AppURL: mustURL(t, "http://localhost:8080/")},
		{AppURL: mustURL(t, "http://127.0.0.1/")},
		{AppURL: mustURL(t, "http://[::1]:9/")},
		{AppURL: mustURL(t, "https://example.invalid/")},
	} {
		s.Client = ok
		if _, err := s.Login(context.Background(), "custom", nil); err != nil {
			t.Errorf("%s: %v", s.AppURL, err)
		}
	}
	if calls != 5 {
		t.Errorf("%d sends, want 5", calls)
	}
}

func TestParseLoginDone(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	good := "https://app.example/.auth/login/done#token=" + url.QueryEscape(loginJSON("sid:1", tok))
	u, err := ParseLoginDone(good)
	if err != nil || u.ID() != "sid:1" || u.Token() != tok {
		t.Fatalf("good: %v %v", u, err)
	}
	// Path-escaped rather than query-escaped JSON works too.
	u, err = ParseLoginDone("https://app.example/.auth/login/done#token=" + url.PathEscape(loginJSON("sid:1", tok)))
	if err != nil || u.Token() != tok {
		t.Fatalf("path escaped: %v %v", u, err)
	}

	_, err = ParseLoginDone("https://app.example/.auth/login/done#error=" + url.QueryEscape("access denied by user"))
	var le *LoginError
	if !errors.As(err, &le) || le.Message != "access denied by user" {
		t.Errorf("#error: %v", err)
	}
	for _, s := range []string{"https://app.example/.auth/login/done", "https://app.example/.auth/login/done#", "https://app.example/.auth/login/done#other=1", "https://app.example/.auth/login/done?token=x"} {
		if _, err := ParseLoginDone(s); !errors.Is(err, ErrLoginCancelled) {
			t.Errorf("%s: %v, want ErrLoginCancelled", s, err)
		}
	}
	secret := `{"authenticationToken":"SECRET-TOKEN-VALUE","user":{}}`
	for _, s := range []string{
		"https://app.example/.auth/login/done#token=" + url.QueryEscape(`{"authenticationToken":`),
		"https://app.example/.auth/login/done#token=" + url.QueryEscape(secret),
		"https://app.example/.auth/login/done#token=notjson",
		"https://app.example/.auth/login/done#token=%zz",
		"%zz://bad",
	} {
		_, err := ParseLoginDone(s)
		if !errors.Is(err, ErrInvalidLoginResponse) {
			t.Errorf("%s: %v, want ErrInvalidLoginResponse", s, err)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET-TOKEN") {
			t.Errorf("error contains the token: %v", err)
		}
	}
}

func TestServerDirectedURL(t *testing.T) {
	svc := &Service{AppURL: mustURL(t, "https://app.example/m/")}
	if got, want := svc.ServerDirectedURL("google"), "https://app.example/m/.auth/login/google?session_mode=token"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	svc = &Service{AppURL: mustURL(t, "https://app.example/"), Legacy: true, LoginURL: mustURL(t, "https://login.example/")}
	if got, want := svc.ServerDirectedURL("aad"), "https://login.example/login/aad?session_mode=token"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	// The shared URLs are not changed.
	if svc.LoginURL.String() != "https://login.example/" {
		t.Error("LoginURL changed")
	}
}

func TestCredentials(t *testing.T) {
	tok := makeToken(t, "sid:1", time.Now().Add(time.Hour))
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, loginJSON("sid:1", tok)) })
	svc := &Service{AppURL: mustURL(t, rec.URL+"/")}
	a := Credentials("custom", map[string]string{"username": "alice", "password": "hunter2"})
	u, err := a.Authenticate(context.Background(), svc)
	if err != nil || u.Token() != tok {
		t.Fatalf("%v %v", u, err)
	}
	r := rec.requests()[0]
	if r.Path != "/.auth/login/custom" || string(r.Body) != `{"password":"hunter2","username":"alice"}` {
		t.Errorf("%s %s", r.Path, r.Body)
	}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %s", a, a, a)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("credentials printed: %s", s)
		}
	}
	if _, err := Credentials("custom", func() {}).Authenticate(context.Background(), svc); err == nil {
		t.Error("unmarshalable credentials accepted")
	}
	if len(rec.requests()) != 1 {
		t.Error("bad credentials were sent")
	}
	// AuthenticatorFunc.
	called := false
	f := AuthenticatorFunc(func(ctx context.Context, s *Service) (*User, error) { called = s == svc; return u, nil })
	if got, _ := f.Authenticate(context.Background(), svc); got != u || !called {
		t.Error("AuthenticatorFunc")
	}
}

func TestLoginErrorString(t *testing.T) {
	e := &LoginError{Op: "login", Provider: "google", StatusCode: 401, Message: "nope"}
	if got := e.Error(); got != `auth: login with "google" failed: 401 nope` {
		t.Errorf("%q", got)
	}
	e = &LoginError{Op: "refresh", StatusCode: 400, Message: "bad"}
	if got := e.Error(); got != `auth: refresh failed: 400 bad` {
		t.Errorf("%q", got)
	}
	if Cause(nil) != nil {
		t.Error("Cause(nil)")
	}
	if Cause(&http.Response{Body: http.NoBody}) != nil {
		t.Error("Cause of a plain response")
	}
}
