// Package owned marks requests that the zumo client built itself, so that
// the auth handler may set their token in place (no clone, no allocation).
// A request carrying the marker is owned by the pipeline until it returns.
package owned

import "net/http"

// Header is the header whose value carries the marker: the token header.
const Header = "X-Zumo-Auth"

// marker is compared by identity: only a header value slice that is this
// very slice marks an owned request. Copies (http.Header.Clone, the copy
// net/http makes for a redirect) are not owned.
var marker = []string{""}

// Mark marks h as the header of an owned request.
func Mark(h http.Header) { h[Header] = marker }

// Is reports whether h carries the marker itself (not a copy of it).
func Is(h http.Header) bool {
	v := h[Header]
	return len(v) == 1 && &v[0] == &marker[0]
}
