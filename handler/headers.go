package handler

import (
	"maps"
	"net/http"
	"slices"
)

// Headers returns a Handler that sets the headers in h on every request,
// replacing any values the request already has for those names.
//
// h is copied when Headers is called, so the caller may change or reuse it
// afterwards. Names are canonicalised (see http.CanonicalHeaderKey; the
// values of names that differ only in case are merged), and a name with no
// values is ignored. The handler never changes the caller's
// request: it sends a copy with its own header map. It fails only when the
// rest of the chain does, returning that response and error unchanged. It is
// safe for concurrent use.
func Headers(h http.Header) Handler {
	return &staticHeaders{h: copyHeader(h)}
}

// HeadersIfAbsent is like Headers but only adds a header when the request
// has no value for that name, so a per-request header wins over the static
// default. A request that already has every header is passed on unchanged,
// without a copy.
func HeadersIfAbsent(h http.Header) Handler {
	return &staticHeaders{h: copyHeader(h), ifAbsent: true}
}

// staticHeaders is the Handler behind Headers and HeadersIfAbsent. Its map
// is never written after construction.
type staticHeaders struct {
	h        http.Header
	ifAbsent bool
}

func (s *staticHeaders) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	if len(s.h) == 0 || (s.ifAbsent && s.allPresent(req.Header)) {
		return next.RoundTrip(req)
	}
	// Only the header map changes, so a shallow copy of the request with a
	// deep copy of its headers is enough; nothing else is shared mutably.
	r2 := req.WithContext(req.Context())
	r2.Header = req.Header.Clone()
	if r2.Header == nil {
		r2.Header = make(http.Header, len(s.h))
	}
	for k, v := range s.h {
		if s.ifAbsent && len(r2.Header.Values(k)) > 0 {
			continue
		}
		// A fresh slice per request: a later handler appending to or
		// editing the values must not touch the shared copy.
		r2.Header[k] = append([]string(nil), v...)
	}
	return next.RoundTrip(r2)
}

// allPresent reports whether h has a value for every static header name.
func (s *staticHeaders) allPresent(h http.Header) bool {
	for k := range s.h {
		if len(h.Values(k)) == 0 {
			return false
		}
	}
	return true
}

// copyHeader returns a deep copy of h with canonical names and without
// names that have no values. Names that differ only in case are merged,
// taking their values in the byte order of the names, so the result does
// not depend on map iteration order.
func copyHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		v := h[k]
		if len(v) == 0 {
			continue
		}
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...)
	}
	return out
}
