package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zumo-go/zumo/handler"
	"github.com/zumo-go/zumo/zumotest"
)

// emulator wraps the zumotest server with what a standalone server adds:
// tables made by their first insert, a request log, and change
// notifications for the snapshot file.
type emulator struct {
	srv       *zumotest.Server
	tableOpts []zumotest.TableOption
	dynamic   bool
	log       *slog.Logger
	changed   func() // called after a successful write; nil without --data
	latency   time.Duration
	test      *testEndpoints // nil without --test-endpoints
	cors      *cors          // nil without --cors

	mu    sync.Mutex
	known map[string]bool // lower-cased names of tables known to exist
}

func (e *emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if e.cors != nil && e.cors.handle(w, r) {
		return
	}
	if e.latency > 0 {
		t := time.NewTimer(e.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if e.test != nil && e.test.serve(w, r) {
		if e.changed != nil && strings.HasPrefix(r.URL.Path, "/seed/") {
			e.changed()
		}
		return
	}
	table, hasID := tableRoute(r.URL.EscapedPath())
	if e.dynamic && table != "" && !hasID && r.Method == http.MethodPost {
		e.ensureTable(table)
	}
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	e.srv.ServeHTTP(sw, r)
	if e.changed != nil && table != "" && r.Method != http.MethodGet && sw.status < 300 {
		e.changed()
	}
	e.log.Info("request",
		"method", r.Method,
		"path", r.URL.Path,
		"query", redactQuery(r.URL.RawQuery),
		"status", sw.status,
		"bytes", sw.bytes,
		"duration", time.Since(start).Round(time.Microsecond),
	)
}

// ensureTable declares a table the first time an insert names it, as the
// Node server's dynamic schema makes the columns an insert brings.
func (e *emulator) ensureTable(name string) {
	key := strings.ToLower(name)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.known == nil {
		e.known = map[string]bool{}
		for _, t := range e.srv.Tables() {
			e.known[strings.ToLower(t)] = true
		}
	}
	if e.known[key] {
		return
	}
	// An invalid name is left to the server's 404.
	if e.srv.AddTable(name, e.tableOpts...) == nil {
		e.known[key] = true
	}
}

// tableRoute returns the table named by a /tables/{t}[/{id}] path.
func tableRoute(escaped string) (table string, hasID bool) {
	rest, ok := strings.CutPrefix(escaped, "/tables/")
	if !ok {
		return "", false
	}
	seg, id, hasID := strings.Cut(rest, "/")
	name, err := url.PathUnescape(seg)
	if err != nil || name == "" {
		return "", false
	}
	return name, hasID && id != ""
}

// redactQuery is the raw query with secret values (codes, verifiers,
// tokens, passwords) replaced, as the SDK's Logging handler shows them.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	return strings.TrimPrefix(handler.RedactURL(&url.URL{RawQuery: raw}), "?")
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
		nodeLink(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.wrote = true
		nodeLink(w.Header())
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (the fault
// injection that drops connections needs it).
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// nodeLink writes the next-page link the way Microsoft's Node server does,
// without angle brackets ("URL; rel=next"), because that is the only form
// the official clients parse: the JavaScript client's pattern keeps the
// brackets as part of the URL and then cannot follow it. The URL itself
// stays correct (scheme, host, port, table path), where the Node server's
// lacks the port and the path.
func nodeLink(h http.Header) {
	v := h.Get("Link")
	if !strings.HasPrefix(v, "<") {
		return
	}
	if u, rest, ok := strings.Cut(v[1:], ">"); ok {
		h.Set("Link", u+rest)
	}
}
