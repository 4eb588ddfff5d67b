package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/zumo-go/zumo/zumotest"
)

func TestCORS(t *testing.T) {
	e := &emulator{
		srv:  zumotest.New(zumotest.WithTable("todoitem")),
		log:  slog.New(slog.DiscardHandler),
		cors: &cors{origins: []string{"http://localhost:8080/"}},
	}
	tests := []struct {
		name, method, origin, reqMethod string
		status                          int
		allow, expose, methods          string
	}{
		{"preflight allowed", http.MethodOptions, "http://localhost:8080", "PATCH", http.StatusNoContent, "http://localhost:8080", "", "GET, POST, PATCH, PUT, DELETE, OPTIONS"},
		{"request allowed", http.MethodGet, "http://localhost:8080", "", http.StatusOK, "http://localhost:8080", corsExposed, ""},
		{"other origin", http.MethodGet, "http://evil.example", "", http.StatusOK, "", "", ""},
		{"preflight other origin", http.MethodOptions, "http://localhost:9999", "GET", http.StatusMethodNotAllowed, "", "", ""},
		{"no origin", http.MethodGet, "", "", http.StatusOK, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/tables/todoitem", nil)
			r.Header.Set("ZUMO-API-VERSION", "2.0.0")
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.reqMethod != "" {
				r.Header.Set("Access-Control-Request-Method", tc.reqMethod)
				r.Header.Set("Access-Control-Request-Headers", "x-zumo-auth, zumo-api-version")
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.allow, w.Header().Get("Access-Control-Allow-Origin"))
			assert.Equal(t, tc.expose, w.Header().Get("Access-Control-Expose-Headers"))
			assert.Equal(t, tc.methods, w.Header().Get("Access-Control-Allow-Methods"))
			assert.Contains(t, w.Header().Values("Vary"), "Origin")
			if tc.status == http.StatusNoContent {
				assert.Equal(t, "x-zumo-auth, zumo-api-version", w.Header().Get("Access-Control-Allow-Headers"))
			}
		})
	}
}
