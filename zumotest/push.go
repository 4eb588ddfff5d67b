package zumotest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Installation is a device's push registration as the server stored it
// (see Server.Installation).
type Installation struct {
	// ID is the installation id from the URL.
	ID string
	// PushChannel is the platform's channel (a WNS URI, an APNs device
	// token, an FCM/GCM registration token).
	PushChannel string
	// Platform is "wns", "apns" or "gcm".
	Platform string
	// Templates are the named templates, nil when none were sent.
	Templates map[string]InstallationTemplate
	// Tags are the tags the server added: "_UserId:<id>" for a signed-in
	// user, none for an anonymous one. Tags the client sent at the top
	// level are dropped, as the official server does.
	Tags []string
	// UserID is the user whose valid token the registration carried, ""
	// for an anonymous one.
	UserID string
	// Body is the request body exactly as the client sent it.
	Body json.RawMessage
}

// InstallationTemplate is one named template of an Installation.
type InstallationTemplate struct {
	Body string   `json:"body"`
	Tags []string `json:"tags,omitempty"`
}

// pushStore holds the registered installations by id.
type pushStore struct {
	mu    sync.Mutex
	items map[string]Installation
}

// Installation returns the installation registered under id, and false
// when there is none (never registered, or unregistered).
func (s *Server) Installation(id string) (Installation, bool) {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	in, ok := s.push.items[id]
	return in, ok
}

// Installations returns every registered installation, sorted by id.
func (s *Server) Installations() []Installation {
	s.push.mu.Lock()
	defer s.push.mu.Unlock()
	out := make([]Installation, 0, len(s.push.items))
	for _, in := range s.push.items {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// pushRoute recognises /push/installations/{id}.
func pushRoute(method string, dec []string, legacy bool, rt *route) bool {
	if legacy || len(dec) != 3 || !strings.EqualFold(dec[0], "push") ||
		!strings.EqualFold(dec[1], "installations") || dec[2] == "" {
		return false
	}
	rt.kind, rt.id, rt.hasID = routePush, dec[2], true
	rt.name = method + " /push/installations/{id}"
	return true
}

// serveLoginOrPush dispatches the routes of login_browser.go and push.go.
func (s *Server) serveLoginOrPush(w http.ResponseWriter, r *http.Request, rt *route) {
	switch rt.kind {
	case routeBrowserLogin:
		s.serveBrowserLogin(w, r, rt)
	case routeBrowserToken:
		s.serveBrowserToken(w, r, rt)
	case routeLoginDone:
		serveLoginDone(w)
	case routePush:
		s.servePush(w, r, rt)
	}
}

// installationBody is the wire form of a registration.
type installationBody struct {
	PushChannel *string                          `json:"pushChannel"`
	Platform    *string                          `json:"platform"`
	Templates   map[string]*InstallationTemplate `json:"templates"`
}

// servePush handles PUT (register or replace, 204) and DELETE (unregister,
// 204 whether or not it was registered) of /push/installations/{id}. A PUT
// body that is not {"pushChannel": string, "platform": "wns"|"apns"|"gcm",
// "templates"?: {name: {"body": string, "tags"?: [string]}}} gets 400.
func (s *Server) servePush(w http.ResponseWriter, r *http.Request, rt *route) {
	switch r.Method {
	case http.MethodDelete:
		s.push.mu.Lock()
		delete(s.push.items, rt.id)
		s.push.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPut:
	default:
		w.Header().Set("Allow", "PUT, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "use PUT or DELETE /push/installations/{id}")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	in, msg := parseInstallation(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	in.ID = rt.id
	if u := userFrom(r.Context()); u != nil {
		in.UserID = u.ID
		in.Tags = []string{"_UserId:" + u.ID}
	}
	s.push.mu.Lock()
	if s.push.items == nil {
		s.push.items = map[string]Installation{}
	}
	s.push.items[rt.id] = in
	s.push.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// parseInstallation checks a registration body; msg says what is wrong.
func parseInstallation(body []byte) (in Installation, msg string) {
	if _, err := decodeObject(body); err != nil {
		return in, "the body must be a JSON object"
	}
	var b installationBody
	if err := json.Unmarshal(body, &b); err != nil {
		return in, "pushChannel and platform must be strings, templates an object of {body: string, tags: [string]}"
	}
	switch {
	case b.PushChannel == nil || *b.PushChannel == "":
		return in, "pushChannel is required"
	case b.Platform == nil || !slices.Contains([]string{"wns", "apns", "gcm"}, *b.Platform):
		return in, "platform must be wns, apns or gcm"
	}
	in.PushChannel, in.Platform = *b.PushChannel, *b.Platform
	if b.Templates != nil {
		in.Templates = map[string]InstallationTemplate{}
	}
	for name, t := range b.Templates {
		if t == nil || t.Body == "" {
			return in, "template " + name + " needs a non-empty string body"
		}
		in.Templates[name] = *t
	}
	in.Body = append(json.RawMessage(nil), body...)
	return in, ""
}
