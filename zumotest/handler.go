package zumotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type routeKind uint8

const (
	routeNotFound routeKind = iota
	routeBadPath
	routeTable
	routeAPI
	routeLogin
	routeRefresh
	routeMe
	routeBrowserLogin // login_browser.go
	routeBrowserToken
	routeLoginDone
	routePush // push.go
)

// route is what a request path addresses.
type route struct {
	kind     routeKind
	table    string // decoded table name
	id       string // decoded item id
	hasID    bool
	api      string // decoded API name
	provider string // decoded login provider
	name     string // the counter key, e.g. "GET /tables/todoitem/{id}"
}

// parseRoute splits the escaped path into percent-decoded segments, so
// that an id may contain "/", "?", "#" or any Unicode when escaped.
func parseRoute(r *http.Request, legacy bool) *route {
	rt := &route{}
	p := r.URL.EscapedPath()
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // a trailing slash is ignored, as in Express
	}
	dec := make([]string, len(segs))
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			rt.kind = routeBadPath
			rt.name = r.Method + " (bad path)"
			return rt
		}
		dec[i] = d
	}
	lower := strings.ToLower(dec[0])
	if browserRoute(r.Method, dec, legacy, rt) || pushRoute(r.Method, dec, legacy, rt) {
		return rt
	}
	switch {
	case lower == "tables" && (len(dec) == 2 || len(dec) == 3) && dec[1] != "":
		rt.kind, rt.table = routeTable, dec[1]
		rt.name = r.Method + " /tables/" + strings.ToLower(dec[1])
		if len(dec) == 3 {
			rt.id, rt.hasID = dec[2], true
			rt.name += "/{id}"
		}
	case lower == "api" && len(dec) >= 2 && dec[1] != "":
		rt.kind, rt.api = routeAPI, dec[1]
		rt.name = r.Method + " /api/" + strings.ToLower(dec[1])
	case !legacy && dec[0] == ".auth" && len(dec) == 3 && dec[1] == "login" && dec[2] != "":
		rt.kind, rt.provider = routeLogin, dec[2]
		rt.name = r.Method + " /.auth/login/" + strings.ToLower(dec[2])
	case !legacy && dec[0] == ".auth" && len(dec) == 2 && dec[1] == "refresh":
		rt.kind, rt.name = routeRefresh, r.Method+" /.auth/refresh"
	case !legacy && dec[0] == ".auth" && len(dec) == 2 && dec[1] == "me":
		rt.kind, rt.name = routeMe, r.Method+" /.auth/me"
	case legacy && lower == "login" && len(dec) == 2 && dec[1] != "":
		rt.kind, rt.provider = routeLogin, dec[1]
		rt.name = r.Method + " /login/" + strings.ToLower(dec[1])
	default:
		rt.name = r.Method + " (not found)"
	}
	return rt
}

// ServeHTTP answers one request of the wire protocol. It never panics on
// client input; every failure is an HTTP error response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	rt := parseRoute(r, s.cfg.legacy)
	entry := s.log.begin(r, rt, s.cfg.clock())
	var user *User
	defer func() { s.log.end(entry, sw.status, user) }()

	if f, ok := s.faults.take(r.Method, r.URL.Path); ok {
		s.log.count(func(c *Stats) { c.Faults++ })
		if !s.sleep(r.Context(), f.Latency) {
			sw.status = 0 // the client left or the server closed
			return
		}
		if f.Drop {
			sw.status = 0
			dropConnection(w)
			return
		}
		if f.Status != 0 {
			writeFault(sw, &f)
			return
		}
	}
	user = s.serve(sw, r, rt)
}

// serve authenticates and dispatches a request; it returns the verified
// user, if any.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt *route) *User {
	if s.cfg.legacy && r.Header.Get("X-ZUMO-APPLICATION") != s.cfg.appKey {
		writeJSON(w, http.StatusUnauthorized, []byte(`{"code":401,"error":"Error: Unauthorized"}`))
		return nil
	}
	var user *User
	if rt.kind != routeLogin {
		if tok := tokenFrom(r); tok != "" {
			grace := time.Duration(0)
			if rt.kind == routeRefresh {
				grace = s.cfg.refreshGrace
			}
			u, terr := s.verifyGrace(tok, grace)
			if terr != nil {
				writeTokenError(w, terr)
				return nil
			}
			user = u
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, u))
		}
	}
	switch rt.kind {
	case routeTable:
		s.serveTable(w, r, rt)
	case routeAPI:
		s.serveAPI(w, r, rt)
	case routeLogin:
		s.serveLogin(w, r, rt)
	case routeRefresh:
		s.serveRefresh(w, r)
	case routeMe:
		s.serveMe(w, r)
	case routeBrowserLogin, routeBrowserToken, routeLoginDone, routePush:
		s.serveLoginOrPush(w, r, rt)
	case routeBadPath:
		writeError(w, http.StatusBadRequest, "malformed path")
	default:
		writeError(w, http.StatusNotFound, "Cannot "+r.Method+" "+r.URL.Path)
	}
	return user
}

// apiEntry is one registered custom API.
type apiEntry struct {
	name string
	h    http.Handler
	cfg  apiConfig
}

// HandleAPI registers a custom API at run time, like WithAPI. It fails
// when the name is empty or contains '/', the handler is nil, or the name
// is taken (names are case-insensitive).
func (s *Server) HandleAPI(name string, h http.Handler, opts ...APIOption) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("invalid API name %q", name)
	}
	if h == nil {
		return fmt.Errorf("API %q: %w", name, errNilHandler)
	}
	e := &apiEntry{name: name, h: h}
	for _, o := range opts {
		if o != nil {
			o.applyAPI(&e.cfg)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if _, dup := s.apis[key]; dup {
		return fmt.Errorf("API %q declared twice", name)
	}
	s.apis[key] = e
	return nil
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rt *route) {
	s.mu.RLock()
	e := s.apis[strings.ToLower(rt.api)]
	s.mu.RUnlock()
	if e == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The API '%s' does not exist", rt.api))
		return
	}
	if (s.cfg.legacy || s.cfg.strictAPIVersion) && !s.checkVersion(w, r) {
		return
	}
	if e.cfg.authenticated && userFrom(r.Context()) == nil {
		writeUnauthorized(w)
		return
	}
	e.h.ServeHTTP(w, r)
}

// writeJSON writes a JSON body with its status.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes {"error":msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	var buf bytes.Buffer
	buf.WriteString(`{"error":`)
	appendString(&buf, msg)
	buf.WriteByte('}')
	writeJSON(w, status, buf.Bytes())
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets custom API handlers stream.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Hijack lets custom API handlers take the connection over.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("zumotest: the connection cannot be hijacked")
	}
	return hj.Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dropConnection closes the connection without a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// writeFault answers with an injected status.
func writeFault(w http.ResponseWriter, f *Fault) {
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := f.Body
	if body == "" {
		b, _ := json.Marshal(map[string]string{"error": http.StatusText(f.Status)})
		body = string(b)
	}
	if w.Header().Get("Content-Type") == "" {
		if t := strings.TrimSpace(body); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	}
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, body)
}
