// Package handler is zumo's request pipeline: a chain of handlers, each of
// which sees a request on its way to the server and the response on its way
// back, ending in an http.RoundTripper.
//
// A built chain is itself an http.RoundTripper, so it drops into any
// http.Client, and any RoundTripper middleware (tracing, metrics) can wrap it
// or sit underneath it as the base transport.
//
// Handlers must be safe for concurrent use: one chain serves every request a
// client makes.
package handler

import "net/http"

// A Handler processes one request. It may change the request (it must clone
// it first; see http.Request.Clone), call next zero or more times, and
// inspect or replace the response. A handler that returns a non-nil error
// must not return a response; a handler that drops a response it got from
// next must close that response's body.
//
// next is the rest of the chain. A handler that calls next more than once
// must give each call a fresh body (http.Request.GetBody); every request the
// zumo client builds has GetBody set.
type Handler interface {
	Handle(req *http.Request, next http.RoundTripper) (*http.Response, error)
}

// Func adapts an ordinary function to the Handler interface.
type Func func(req *http.Request, next http.RoundTripper) (*http.Response, error)

// Handle calls f(req, next).
func (f Func) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	return f(req, next)
}

// link is one step of a built chain: a handler and the rest of the chain.
type link struct {
	h    Handler
	next http.RoundTripper
}

func (l *link) RoundTrip(req *http.Request) (*http.Response, error) {
	return l.h.Handle(req, l.next)
}

// Chain returns an http.RoundTripper that passes each request through
// handlers in order (handlers[0] is the outermost: it sees the request first
// and the response last) and finally to base. A nil base means
// http.DefaultTransport; nil handlers (including a nil Func) are skipped.
// Building the chain allocates one small link per handler; sending a
// request through it allocates nothing of its own.
func Chain(base http.RoundTripper, handlers ...Handler) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	rt := base
	for i := len(handlers) - 1; i >= 0; i-- {
		if isNil(handlers[i]) {
			continue
		}
		rt = &link{h: handlers[i], next: rt}
	}
	return rt
}

// isNil reports whether h is nil or a nil Func, which would panic when called.
func isNil(h Handler) bool {
	if h == nil {
		return true
	}
	f, ok := h.(Func)
	return ok && f == nil
}

// RoundTripperFunc adapts an ordinary function to http.RoundTripper; handy
// as the base of a chain in tests.
type RoundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f(req).
func (f RoundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
