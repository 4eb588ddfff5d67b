package main

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/zumo-go/zumo/zumotest"
)

// echoAPI is the custom API zumo serve --api NAME serves: it answers 200
// with what it received, so clients can test custom API calls (method,
// parameters, body, and which user the token named) without writing a
// backend.
type echoAPI struct{}

// echo is the answer's shape.
type echo struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query"`
	Body   json.RawMessage     `json:"body"`
	User   string              `json:"user,omitempty"`
}

func (echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":"cannot read the body"}`, http.StatusBadRequest)
		return
	}
	e := echo{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: json.RawMessage("null")}
	if len(b) > 0 {
		if !json.Valid(b) {
			b, _ = json.Marshal(string(b))
		}
		e.Body = b
	}
	if u, ok := zumotest.UserFromRequest(r); ok {
		e.User = u.ID
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(e)
}
