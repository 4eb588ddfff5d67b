package zumotest

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzRequest sends arbitrary paths, queries and bodies straight to
// ServeHTTP: the server must never panic or answer 500, every error body
// must be JSON, and a Link header must be well formed.
func FuzzRequest(f *testing.F) {
	seeds := []struct {
		method      byte
		path, query string
		body        string
	}{
		{0, "/tables/todoitem", "$filter=(complete eq false)&$orderby=priority&$top=5&$inlinecount=allpages", ""},
		{0, "/tables/todoitem/a%2Fb", "__includeDeleted=true", ""},
		{1, "/tables/todoitem", "", `{"id":"x?y#z","text":"t"}`},
		{2, "/tables/todoitem/1", "$select=text", `{"text":null,"version":"AAAA"}`},
		{3, "/tables/todoitem/%E6%97%A5", "", ""},
		{1, "/tables/todoitem/1", "", ""},
		{0, "/tables/todoitem", "$filter=substringof('a',text)%20or%20(priority%20gt%202L)&$skip=1&$top=1", ""},
		{0, "/tables/todoitem", "$filter=((((", ""},
		{0, "/tables/todoitem", "$orderby=text desc,priority&$select=id,version,createdAt", ""},
		{1, "/.auth/login/custom", "", `{"username":"ann","password":"pw"}`},
		{0, "/api/echo/x", "$a=1", ""},
		{0, "/tables/todoitem", "$top=99999999999999999999", ""},
		{0, "/.auth/login/aad", "post_login_redirect_url=http%3A%2F%2F127.0.0.1%3A9%2Fcb%3Fx%3D1&code_challenge=abc&code_challenge_method=S256", ""},
		{0, "/.auth/login/aad", "post_login_redirect_url=http%3A%2F%2Flocalhost%2Fcb%23old", ""},
		{0, "/.auth/login/aad", "post_login_redirect_url=http%3A%2F%2F127.0.0.1%40evil.example%2F", ""},
		{0, "/.auth/login/aad", "post_login_redirect_url=%2F%2Fevil.example%2F", ""},
		{0, "/.auth/login/aad/token", "authorization_code=x&code_verifier=" + strings.Repeat("v", 43), ""},
		{0, "/.auth/login/done", "", ""},
		{128, "/tables/todoitem", "$filter=(__createdAt gt datetime'2020-01-01T00:00:00Z')&$top=2", ""},
		{129, "/tables/todoitem", "", `{"id":"x","__version":"AAA="}`},
		{130, "/tables/todoitem/1", "", `{"text":"b"}`},
		{129, "/login/custom", "", `{"username":"ann","password":"pw"}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body)
	}
	seed := Seed(
		map[string]any{"id": "1", "text": "a", "complete": false, "priority": 1},
		map[string]any{"id": "a/b", "text": "b", "complete": true, "priority": 2.5},
		map[string]any{"id": "日", "text": nil, "complete": false},
		map[string]any{"id": "4", "text": "dd", "complete": false, "priority": 4},
	)
	// A method byte of 128 or more sends the request to a legacy Mobile
	// Services server (its own routes, "__" system properties, app key).
	const appKey = "fuzz-app-key"
	legacy := New(WithLegacy(appKey), WithTable("todoitem", SoftDelete(), PageSize(3), seed),
		WithUser("custom", "ann", "pw", "custom:ann"), WithRequestLogLimit(100))
	srv := New(
		WithTable("todoitem", SoftDelete(), PageSize(3), Seed(
			map[string]any{"id": "1", "text": "a", "complete": false, "priority": 1},
			map[string]any{"id": "a/b", "text": "b", "complete": true, "priority": 2.5},
			map[string]any{"id": "日", "text": nil, "complete": false},
			map[string]any{"id": "4", "text": "dd", "complete": false, "priority": 4},
		)),
		WithUser("custom", "ann", "pw", "sid:ann"),
		WithAPI("echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })),
		WithRequestLogLimit(100),
		WithBrowserLogin("aad", BrowserLogin{UserID: "sid:b"}),
	)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut, http.MethodHead}
	f.Fuzz(func(t *testing.T, m byte, path, query, body string) {
		target := "/" + strings.TrimPrefix(path, "/")
		if query != "" {
			target += "?" + query
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{
			Method:     methods[int(m)%len(methods)],
			URL:        u,
			RequestURI: target,
			Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Zumo-Api-Version": {"2.0.0"}},
			Host:   "example.com",
			Body:   http.NoBody,
		}
		server := srv
		if m >= 128 {
			server = legacy
			r.Header = http.Header{"X-Zumo-Application": {appKey}}
		}
		if body != "" {
			r.Body = httpBody(body)
			r.ContentLength = int64(len(body))
		}
		w := httptest.NewRecorder()
		server.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", r.Method, target, w.Code, w.Body)
		}
		if w.Code >= 400 && w.Code != http.StatusUnauthorized && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: status %d with a non-JSON body %q", r.Method, target, w.Code, w.Body)
		}
		if w.Code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", r.Method, target, w.Body)
		}
		if w.Code >= 300 && w.Code < 400 {
			// A redirect (the browser login's) stays on this server or
			// on a loopback host.
			loc, err := url.Parse(w.Header().Get("Location"))
			switch {
			case err != nil:
				t.Fatalf("%s %s: unparsable Location: %v", r.Method, target, err)
			case loc.Host == "" && loc.Scheme == "" && strings.HasPrefix(loc.Path, "/") && !strings.HasPrefix(loc.Path, "//"):
			case (loc.Scheme == "http" || loc.Scheme == "https") && loc.User == nil &&
				(strings.EqualFold(loc.Host, "example.com") || strings.EqualFold(loc.Hostname(), "localhost") || isLoopbackIP(loc.Hostname())):
			default:
				// The fragment may hold a token: name only where it goes.
				t.Fatalf("%s %s: redirect to %s://%s (user %v) leaves the server and loopback", r.Method, target, loc.Scheme, loc.Host, loc.User != nil)
			}
		}
		if l := w.Header().Get("Link"); l != "" {
			m := linkRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("malformed Link %q", l)
			}
			lu, err := url.Parse(m[1])
			if err != nil || lu.Host != "example.com" || lu.EscapedPath() != u.EscapedPath() {
				t.Fatalf("Link %q does not point at %q (%v)", l, u.EscapedPath(), err)
			}
		}
	})
}

func isLoopbackIP(h string) bool {
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func httpBody(s string) *bodyReader { return &bodyReader{r: strings.NewReader(s)} }

type bodyReader struct{ r *strings.Reader }

func (b *bodyReader) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *bodyReader) Close() error               { return nil }

// FuzzRestore feeds arbitrary documents to Restore, the loader behind
// `zumo serve --data`. A document Restore refuses must give an error
// wrapping ErrSnapshot and leave the server exactly as it was; one it
// accepts must survive a second Snapshot and Restore unchanged.
func FuzzRestore(f *testing.F) {
	const row = `{"id":"1","createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-02T00:00:00.123456789Z","version":"AAAAAAAAAAE=","deleted":false,"text":"a"}`
	for _, s := range []string{
		`{"format":"zumotest-snapshot/1","legacy":false,"versions":1,"tables":[{"name":"t","rows":[` + row + `]}]}`,
		`{"format":"zumotest-snapshot/1","legacy":false,"versions":0,"tables":[{"name":"todo","rows":[` + row + `,` + row + `]}]}`,
		`{"format":"zumotest-snapshot/1","tables":[{"name":"a","rows":[]},{"name":"","rows":[]}]}`,
		`{"format":"zumotest-snapshot/1","tables":[{"name":"a","rows":[]},{"name":"x/y","rows":[]}]}`,
		`{"format":"zumotest-snapshot/1","tables":[{"name":"T","rows":[{"id":"日","createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","version":"v","deleted":true,"n":1e400}]}]}`,
		`{"format":"zumotest-snapshot/1","legacy":true,"tables":[]}`,
		`{"format":"zumotest-snapshot/1","tables":null}`,
		`{"format":"zumotest-snapshot/1","tables":[{"name":"t","rows":[{"id":"1","x":[1]}]}]}`,
		`{"format":"x"}`, `[]`, `null`, ``, `{"format":"zumotest-snapshot/1"} trailing`,
	} {
		f.Add(s)
	}
	newServer := func() *Server {
		return New(WithTable("todo", SoftDelete(), Seed(map[string]any{"id": "1", "text": "seeded"})))
	}
	snapshot := func(t *testing.T, s *Server) string {
		var b strings.Builder
		if err := s.Snapshot(&b); err != nil {
			t.Fatalf("Snapshot: %v", err)
		}
		return b.String()
	}
	f.Fuzz(func(t *testing.T, doc string) {
		s := newServer()
		before := snapshot(t, s)
		if err := s.Restore(strings.NewReader(doc)); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Restore(%q): error %v does not wrap ErrSnapshot", doc, err)
			}
			if after := snapshot(t, s); after != before {
				t.Fatalf("Restore(%q) failed (%v) but changed the server:\nbefore %s\nafter  %s", doc, err, before, after)
			}
			return
		}
		first := snapshot(t, s)
		again := newServer()
		if err := again.Restore(strings.NewReader(first)); err != nil {
			t.Fatalf("Restore of Snapshot's own output failed: %v\n%s", err, first)
		}
		if second := snapshot(t, again); second != first {
			t.Fatalf("Snapshot → Restore → Snapshot changed the document:\nfirst  %s\nsecond %s", first, second)
		}
	})
}
