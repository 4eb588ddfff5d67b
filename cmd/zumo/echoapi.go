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

// echo is the answer's shape, that of the echo API in the project's Node
// server harness: a parameter given once is a string, given several times
// an array (as Express parses queries); userId is null without a user.
type echo struct {
	Method string          `json:"method"`
	Query  map[string]any  `json:"query"`
	Body   json.RawMessage `json:"body"`
	UserID *string         `json:"userId"`
}

func (echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":"cannot read the body"}`, http.StatusBadRequest)
		return
	}
	e := echo{Method: r.Method, Query: map[string]any{}, Body: json.RawMessage("null")}
	for k, vs := range r.URL.Query() {
		if len(vs) == 1 {
			e.Query[k] = vs[0]
		} else {
			e.Query[k] = vs
		}
	}
	if len(b) > 0 {
		if !json.Valid(b) {
			b, _ = json.Marshal(string(b))
		}
		e.Body = b
	}
	if u, ok := zumotest.UserFromRequest(r); ok {
		e.UserID = &u.ID
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(e)
}
