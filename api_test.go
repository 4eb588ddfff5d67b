package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvokeAPITyped(t *testing.T) {
	c, mux, _, _ := setup(t)
	type in struct {
		A int `json:"a"`
	}
	type out struct {
		Method string `json:"method"`
		Sum    int    `json:"sum"`
	}
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			mux.HandleFunc(method+" /api/calc/"+strings.ToLower(method), func(w http.ResponseWriter, r *http.Request) {
				testQuery(t, r, "$top=5&x=a b")
				testHeader(t, r, "X-ZUMO-FEATURES", "AT,QS")
				testHeader(t, r, "ZUMO-API-VERSION", "2.0.0")
				testHeader(t, r, "X-Custom", "yes")
				if method != "GET" {
					testJSONBody(t, r, `{"a":2}`)
				}
				writeJSON(w, 200, out{Method: r.Method, Sum: 3})
			})
			var body any
			if method != "GET" {
				body = in{A: 2}
			}
			got, err := InvokeAPI[out](context.Background(), c, "calc/"+strings.ToLower(method), body,
				WithMethod(method), WithParam("$top", "5"), WithParam("x", "a b"), WithHeader("X-Custom", "yes"))
			require.NoError(t, err)
			assert.Equal(t, out{Method: method, Sum: 3}, got)
		})
	}
}

func TestInvokeAPIDefaultsAndAbsolutePaths(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("POST /api/ping", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204) // an empty answer is fine
	})
	mux.HandleFunc("GET /.auth/me", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ZUMO-FEATURES", "AJ")
		writeJSON(w, 200, []any{map[string]any{"user_id": "u"}})
	})
	_, err := InvokeAPI[struct{}](context.Background(), c, "ping", nil)
	require.NoError(t, err)
	raw, err := InvokeAPI[json.RawMessage](context.Background(), c, "/.auth/me", nil, WithMethod("get"))
	require.NoError(t, err)
	assert.JSONEq(t, `[{"user_id":"u"}]`, string(raw))

	for _, bad := range []string{"", "/", "a/../b", "a?b", "a#b", "./x"} {
		_, err := InvokeAPI[json.RawMessage](context.Background(), c, bad, nil)
		assert.Error(t, err, bad)
	}
	_, err = InvokeAPI[json.RawMessage](context.Background(), c, "ping", json.RawMessage(`{not json`))
	assert.Error(t, err)
}

func TestInvokeAPIRaw(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("PUT /api/blob", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Content-Type", "application/octet-stream")
		testHeader(t, r, "X-ZUMO-FEATURES", "AG")
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(append([]byte("got:"), b...))
	})
	resp, err := c.InvokeAPIRaw(context.Background(), "blob", strings.NewReader("\x00\x01raw"), "application/octet-stream", WithMethod("PUT"))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "got:\x00\x01raw", string(b))
}

func TestInvokeAPIErrors(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/api/fail", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"error": "no such thing"})
	})
	mux.HandleFunc("/api/notjson", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "plain words")
	})
	_, err := InvokeAPI[map[string]any](context.Background(), c, "fail", nil)
	assert.ErrorIs(t, err, ErrNotFound)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "no such thing", e.Message)
	_, err = InvokeAPI[map[string]any](context.Background(), c, "notjson", nil)
	assert.ErrorIs(t, err, ErrInvalidResponse)
	_, err = c.InvokeAPIRaw(context.Background(), "fail", nil, "")
	assert.ErrorIs(t, err, ErrNotFound)
	// A caller's feature header is kept.
	mux.HandleFunc("/api/feat", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ZUMO-FEATURES", "OL")
	})
	_, err = InvokeAPI[json.RawMessage](context.Background(), c, "feat", nil, WithHeader("X-ZUMO-FEATURES", "OL"))
	require.NoError(t, err)
	_, err = InvokeAPI[json.RawMessage](context.Background(), c, "feat", nil, WithParams(make(chan int)))
	assert.ErrorIs(t, err, ErrInvalidQuery)
}
