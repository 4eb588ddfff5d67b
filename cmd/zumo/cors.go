package main

import (
	"net/http"
	"slices"
	"strings"
)

// cors answers cross-origin requests from the origins zumo serve --cors
// allows, as App Service's CORS setting does for a Mobile Apps backend, so
// that the official JavaScript client can call the emulator from a web
// page served elsewhere (another port is another origin).
type cors struct {
	origins []string // allowed origins; "*" allows any
}

// exposed are the response headers a page's script may read: the client
// reads the version from ETag and the next page from Link.
const corsExposed = "ETag, Link, Location"

// handle adds the CORS headers to a request from an allowed origin; for a
// preflight (OPTIONS with Access-Control-Request-Method) it answers 204
// itself and reports true.
func (c *cors) handle(w http.ResponseWriter, r *http.Request) (done bool) {
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" || !c.allowed(origin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		h.Set("Access-Control-Expose-Headers", corsExposed)
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (c *cors) allowed(origin string) bool {
	return slices.Contains(c.origins, "*") || slices.ContainsFunc(c.origins, func(o string) bool {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}
