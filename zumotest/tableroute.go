package zumotest

import (
	"fmt"
	"net/http"
	"strings"
)

// Routing of /tables requests: the table, the API version rule, access,
// then the handler for the method.

// serveTable handles /tables/{t} and /tables/{t}/{id}.
func (s *Server) serveTable(w http.ResponseWriter, r *http.Request, rt *route) {
	t := s.table(rt.table)
	if t == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The table '%s' does not exist", rt.table))
		return
	}
	if !s.checkVersion(w, r) {
		return
	}
	if t.cfg.authenticated && userFrom(r.Context()) == nil {
		writeUnauthorized(w)
		return
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !rt.hasID {
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, t, q)
		case http.MethodPost:
			s.insert(w, r, t, q)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on a table")
		}
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.lookup(w, t, rt.id, q)
	case http.MethodPatch:
		s.update(w, r, t, rt.id, q)
	case http.MethodDelete:
		s.delete(w, r, t, rt.id, q)
	case http.MethodPost:
		s.undelete(w, r, t, rt.id, q)
	default:
		w.Header().Set("Allow", "GET, PATCH, DELETE, POST")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on a table item")
	}
}

// checkVersion enforces the generation's ZUMO-API-VERSION rule; it writes
// a 400 and returns false when the request breaks it.
func (s *Server) checkVersion(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get("ZUMO-API-VERSION")
	present := v != "" || len(r.Header.Values("ZUMO-API-VERSION")) > 0
	if !present {
		// The official server also accepts it as a query parameter.
		for k, vs := range r.URL.Query() {
			if strings.EqualFold(k, "ZUMO-API-VERSION") && len(vs) > 0 {
				v, present = vs[0], true
				break
			}
		}
	}
	if s.cfg.legacy {
		if present {
			writeError(w, http.StatusBadRequest, "The ZUMO-API-VERSION header is not supported by a Mobile Services backend")
			return false
		}
		return true
	}
	if !present {
		writeError(w, http.StatusBadRequest, "An API version is required: send the ZUMO-API-VERSION header with the value 2.0.0")
		return false
	}
	if !validAPIVersion(v) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("The API version %q is not supported: send ZUMO-API-VERSION 2.0.x", v))
		return false
	}
	return true
}

// validAPIVersion accepts "2.0." followed by one or more digits.
func validAPIVersion(v string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "2.0.")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
