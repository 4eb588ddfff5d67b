package zumotest

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault describes how to disturb matching requests. Faults are checked in
// the order they were added, before anything else (app key, token, API
// version); the first one that matches and has uses left applies. Each
// request consumes at most one use of one fault.
type Fault struct {
	// Method restricts the fault to one HTTP method (any case); "" matches
	// every method.
	Method string
	// PathPrefix restricts the fault to requests whose decoded path starts
	// with it, e.g. "/tables/todoitem"; "" matches every path.
	PathPrefix string
	// Count is how many matching requests the fault applies to: 0 means 1,
	// a negative number means every matching request until ClearFaults.
	Count int
	// Latency delays the request by this much real time before the rest of
	// the fault applies (or before normal handling when Status is 0 and
	// Drop is false). The wait ends early, with no response, when the
	// client gives up or the server closes.
	Latency time.Duration
	// Drop closes the connection without any response.
	Drop bool
	// Status answers the request with this status instead of handling it.
	Status int
	// Body is the response body for Status; "" means
	// {"error":"<status text>"}. It is sent as JSON when it starts with '{'
	// or '[', else as plain text, unless Header sets a Content-Type.
	Body string
	// Header holds extra response headers for Status (e.g. Retry-After).
	Header http.Header
}

type faultSet struct {
	mu   sync.Mutex
	list []*faultState
}

type faultState struct {
	f    Fault
	left int // < 0: forever
}

// take consumes one use of the first fault matching the request.
func (fs *faultSet) take(method, path string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, st := range fs.list {
		if st.f.Method != "" && !strings.EqualFold(st.f.Method, method) {
			continue
		}
		if !strings.HasPrefix(path, st.f.PathPrefix) {
			continue
		}
		if st.left > 0 {
			st.left--
			if st.left == 0 {
				fs.list = append(fs.list[:i], fs.list[i+1:]...)
			}
		}
		return st.f, true
	}
	return Fault{}, false
}

// AddFault arms a fault (see Fault). It never fails.
func (s *Server) AddFault(f Fault) {
	n := f.Count
	if n == 0 {
		n = 1
	}
	f.Header = f.Header.Clone()
	s.faults.mu.Lock()
	s.faults.list = append(s.faults.list, &faultState{f: f, left: n})
	s.faults.mu.Unlock()
}

// FailNext answers the next n requests (n < 1 means 1) with status and
// body ("" gives {"error":"<status text>"}).
func (s *Server) FailNext(n, status int, body string) {
	s.AddFault(Fault{Count: max(n, 1), Status: status, Body: body})
}

// DelayNext delays the next n requests (n < 1 means 1) by d of real time,
// then handles them normally.
func (s *Server) DelayNext(n int, d time.Duration) {
	s.AddFault(Fault{Count: max(n, 1), Latency: d})
}

// DropNext closes the connection of the next n requests (n < 1 means 1)
// without a response. Note that Go's http.Transport silently retries an
// idempotent request (GET, HEAD, …) whose reused keep-alive connection
// closed before any response, so such a client may see the retry succeed.
func (s *Server) DropNext(n int) {
	s.AddFault(Fault{Count: max(n, 1), Drop: true})
}

// ClearFaults disarms every pending fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.list = nil
	s.faults.mu.Unlock()
}
