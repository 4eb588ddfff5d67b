package zumotest

import (
	"encoding/json"
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
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body)
	}
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
		if body != "" {
			r.Body = httpBody(body)
			r.ContentLength = int64(len(body))
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", r.Method, target, w.Code, w.Body)
		}
		if w.Code >= 400 && w.Code != http.StatusUnauthorized && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: status %d with a non-JSON body %q", r.Method, target, w.Code, w.Body)
		}
		if w.Code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", r.Method, target, w.Body)
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

func httpBody(s string) *bodyReader { return &bodyReader{r: strings.NewReader(s)} }

type bodyReader struct{ r *strings.Reader }

func (b *bodyReader) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *bodyReader) Close() error               { return nil }
