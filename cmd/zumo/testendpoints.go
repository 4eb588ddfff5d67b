package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo/zumotest"
)

// testEndpoints are the routes zumo serve --test-endpoints adds for test
// harnesses, with the shapes of the project's Node server harness
// (internal/realserver/js/server.js), so that one harness drives both:
//
//	GET  /counters        {"logins":N,"refreshes":N,"unauthorized":N,"requests":N}
//	POST /counters/reset  the same, all zero
//	POST /seed/{table}    a JSON array of rows → 201 {"inserted":N}
//	POST /rotate-key      a new signing key: every token issued so far is refused
//
// None of them is counted. They are off by default: anyone who can reach
// the server could otherwise change its data and keys.
type testEndpoints struct {
	srv *zumotest.Server
}

type counters struct {
	Logins       int `json:"logins"`
	Refreshes    int `json:"refreshes"`
	Unauthorized int `json:"unauthorized"`
	Requests     int `json:"requests"`
}

// serve handles r when it is one of the test routes; it reports whether
// it did.
func (te *testEndpoints) serve(w http.ResponseWriter, r *http.Request) bool {
	path := r.URL.Path
	switch {
	case path == "/counters" && r.Method == http.MethodGet:
		te.writeCounters(w)
	case path == "/counters/reset" && r.Method == http.MethodPost:
		te.srv.Reset()
		te.writeCounters(w)
	case path == "/rotate-key" && r.Method == http.MethodPost:
		te.srv.RotateKey()
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "/seed/") && r.Method == http.MethodPost:
		te.seed(w, r, strings.TrimPrefix(r.URL.EscapedPath(), "/seed/"))
	default:
		return false
	}
	return true
}

func (te *testEndpoints) writeCounters(w http.ResponseWriter) {
	st := te.srv.Stats()
	writeJSONValue(w, http.StatusOK, counters{Logins: st.Logins, Refreshes: st.Refreshes, Unauthorized: st.Unauthorized, Requests: st.Requests})
}

func (te *testEndpoints) seed(w http.ResponseWriter, r *http.Request, escaped string) {
	table, err := url.PathUnescape(escaped)
	if err != nil || table == "" {
		writeJSONValue(w, http.StatusBadRequest, map[string]string{"error": "bad table name"})
		return
	}
	var rows []json.RawMessage
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err == nil {
		err = json.Unmarshal(body, &rows)
	}
	if err != nil {
		writeJSONValue(w, http.StatusBadRequest, map[string]string{"error": "the body must be a JSON array of items"})
		return
	}
	items := make([]any, len(rows))
	for i, row := range rows {
		items[i] = row
	}
	if err := te.srv.Seed(table, items...); err != nil {
		writeJSONValue(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSONValue(w, http.StatusCreated, map[string]int{"inserted": len(rows)})
}

func writeJSONValue(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
