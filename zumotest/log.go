package zumotest

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zumo-go/zumo/internal/redact"
)

// defaultLogLimit is how many requests the log keeps by default.
const defaultLogLimit = 10000

// maxLoggedBody is the largest table request body the log keeps.
const maxLoggedBody = 64 << 10

// Request is one entry of the request log. Secrets never reach it:
// X-ZUMO-AUTH, X-ZUMO-APPLICATION, Authorization (and cookies) are
// replaced by "REDACTED", as are secret query parameters (token,
// access_token, password, …).
type Request struct {
	// Time is the server clock when the request arrived.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Path is the percent-decoded URL path.
	Path string
	// EscapedPath is the path as sent, still escaped.
	EscapedPath string
	// Query is the decoded query string.
	Query url.Values
	// Header holds the request headers, redacted.
	Header http.Header
	// Body is the request body of a /tables request (up to 64 KiB); it is
	// nil for every other route, where bodies may carry credentials.
	Body []byte
	// Route is the counter key of the request (see Stats.Routes).
	Route string
	// Status is the response status; 0 while the request is in flight,
	// and for a dropped connection or a client that left during latency.
	Status int
	// UserID is the user of a valid token, "" for anonymous requests.
	UserID string
}

// Stats are counters over every request since the start or the last
// Reset (they are not trimmed with the log).
type Stats struct {
	// Requests is the number of requests received.
	Requests int
	// Logins is the number of successful logins (tokens issued by
	// /.auth/login or /login; IssueToken is not counted).
	Logins int
	// Refreshes is the number of successful token refreshes.
	Refreshes int
	// Unauthorized is the number of 401 responses (injected ones too).
	Unauthorized int
	// Faults is the number of requests an injected fault applied to.
	Faults int
	// Routes counts requests by "METHOD route", where route is
	// /tables/{name}, /tables/{name}/{id}, /api/{name},
	// /.auth/login/{provider}, /.auth/refresh, /.auth/me,
	// /login/{provider} (names lower-cased, ids never included), or
	// "(not found)" / "(bad path)".
	Routes map[string]int
}

type requestLog struct {
	mu      sync.Mutex
	limit   int
	entries []*Request
	stats   Stats
	routes  map[string]int
}

func (l *requestLog) count(f func(*Stats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}

// begin records the arrival of a request.
func (l *requestLog) begin(r *http.Request, rt *route, now time.Time) *Request {
	e := &Request{
		Time:        now,
		Method:      r.Method,
		Path:        r.URL.Path,
		EscapedPath: r.URL.EscapedPath(),
		Header:      redact.Header(r.Header),
		Route:       rt.name,
	}
	if r.URL.RawQuery != "" {
		red := redact.URL(&url.URL{RawQuery: r.URL.RawQuery})
		e.Query, _ = url.ParseQuery(strings.TrimPrefix(red, "?"))
	}
	if rt.kind == routeTable && r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		if len(body) <= maxLoggedBody {
			e.Body = body
		} else {
			e.Body = body[:maxLoggedBody]
		}
	}
	l.mu.Lock()
	l.stats.Requests++
	l.routes[rt.name]++
	l.entries = append(l.entries, e)
	if len(l.entries) >= 2*l.limit {
		l.entries = append([]*Request(nil), l.entries[len(l.entries)-l.limit:]...)
	}
	l.mu.Unlock()
	return e
}

// errReader replays a read error (nil means EOF).
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// end records the outcome of a request.
func (l *requestLog) end(e *Request, status int, u *User) {
	l.mu.Lock()
	e.Status = status
	if u != nil {
		e.UserID = u.ID
	}
	if status == http.StatusUnauthorized {
		l.stats.Unauthorized++
	}
	l.mu.Unlock()
}

func copyRequest(e *Request) Request {
	c := *e
	c.Header = e.Header.Clone()
	if e.Query != nil {
		c.Query = maps.Clone(e.Query)
		for k, v := range c.Query {
			c.Query[k] = append([]string(nil), v...)
		}
	}
	if e.Body != nil {
		c.Body = append([]byte(nil), e.Body...)
	}
	return c
}

// Requests returns a copy of the request log, oldest first: the most
// recent requests (10,000 unless WithRequestLogLimit), in arrival order.
func (s *Server) Requests() []Request {
	l := &s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	es := l.entries
	if len(es) > l.limit {
		es = es[len(es)-l.limit:]
	}
	out := make([]Request, len(es))
	for i, e := range es {
		out[i] = copyRequest(e)
	}
	return out
}

// LastRequest returns the most recent request; ok is false when the log is
// empty.
func (s *Server) LastRequest() (r Request, ok bool) {
	l := &s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.entries) == 0 {
		return Request{}, false
	}
	return copyRequest(l.entries[len(l.entries)-1]), true
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	l := &s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	st.Routes = maps.Clone(l.routes)
	return st
}

// Reset clears the request log and the counters. Tables, tokens and
// pending faults are left alone (see ClearFaults and Truncate).
func (s *Server) Reset() {
	l := &s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
	l.stats = Stats{}
	l.routes = map[string]int{}
}
