package wire

import (
	"io"
	"net/http"
)

// Header names both the client and the auth package send, in canonical
// form (docs/protocol.md §3).
const (
	// HeaderAuth carries the user's authentication token.
	HeaderAuth = "X-Zumo-Auth"
	// HeaderFeatures lists the SDK features a request uses.
	HeaderFeatures = "X-Zumo-Features"
)

// LoginPrefix is the default login path prefix: ".auth/login" on Mobile
// Apps, "login" on legacy Mobile Services.
func LoginPrefix(legacy bool) string {
	if legacy {
		return "login"
	}
	return ".auth/login"
}

// CloseBody drains a little of a response body (up to 4 KiB) and closes
// it, so that the connection can be reused.
func CloseBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}
