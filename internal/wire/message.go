// Package wire holds small pieces of the wire protocol that both the
// client (package zumo) and the login service (package auth) need.
package wire

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// maxText is how much of a plain-text body becomes a message.
const maxText = 512

// Message picks the message of an error response as docs/protocol.md §5 says:
// a JSON string body, else its "error", "description" or "message" field,
// else the raw text (cut at 512 bytes), else the status text. An HTML page
// (a gateway's 502) and an empty or null body give the status text.
func Message(status int, body []byte) string {
	trimmed := strings.TrimSpace(string(body))
	if trimmed != "" && trimmed != "null" && trimmed != `""` {
		var s string
		if json.Unmarshal([]byte(trimmed), &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				return s
			}
			return statusText(status)
		}
		var obj map[string]any
		if json.Unmarshal([]byte(trimmed), &obj) == nil {
			for _, k := range []string{"error", "description", "message"} {
				if v, ok := obj[k].(string); ok && v != "" {
					return v
				}
			}
		}
		if !strings.HasPrefix(trimmed, "<") {
			if len(trimmed) > maxText {
				trimmed = trimmed[:maxText] + "…"
			}
			return trimmed
		}
	}
	return statusText(status)
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return fmt.Sprintf("status %d", status)
}
