package wire

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestMessage(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{400, `"plain"`, "plain"},
		{400, ` "spaced" `, "spaced"},
		{400, `{"error":"e","description":"d"}`, "e"},
		{400, `{"error":"","description":"d","message":"m"}`, "d"},
		{400, `{"message":"m"}`, "m"},
		{400, `{"code":5}`, `{"code":5}`},
		{400, `{"error":{"inner":1}}`, `{"error":{"inner":1}}`},
		{400, `[1,2]`, `[1,2]`},
		{400, `not json`, "not json"},
		{400, `""`, "Bad Request"},
		{400, `"  "`, "Bad Request"},
		{400, `null`, "Bad Request"},
		{400, ``, "Bad Request"},
		{400, "  \n", "Bad Request"},
		{502, `<html><body>502</body></html>`, "Bad Gateway"},
		{599, ``, "status 599"},
	}
	for _, tt := range tests {
		if got := Message(tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("Message(%d, %q) = %q, want %q", tt.status, tt.body, got, tt.want)
		}
	}
	long := Message(http.StatusInternalServerError, []byte(strings.Repeat("x", 2000)))
	if len(long) > maxText+len("…") || !strings.HasSuffix(long, "…") {
		t.Errorf("a long text is not cut: %d bytes", len(long))
	}
}

func FuzzMessage(f *testing.F) {
	for _, s := range []string{`"a"`, `{"error":"x"}`, `null`, `<p>`, `{`, "\xff", strings.Repeat("y", 600)} {
		f.Add(400, s)
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		m := Message(status, []byte(body))
		// Only a value the server chose as a message (a JSON string or an
		// error field) may be long; raw text is cut.
		if !json.Valid([]byte(body)) && len(m) > maxText+len("…") {
			t.Errorf("a message of %d bytes from a body that is not JSON", len(m))
		}
		if m == "" && !json.Valid([]byte(body)) {
			t.Errorf("an empty message for %q", body)
		}
	})
}
