package handler

import (
	"net/url"

	"github.com/zumo-go/zumo/internal/redact"
)

// RedactURL returns u as a string with what Logging never shows replaced
// by "REDACTED": user info, and the values of secret query and fragment
// parameters (token, access_token, id_token, authenticationToken,
// authorization_code, code, code_verifier, refresh_token, client_secret,
// password) however they are escaped or hidden inside another parameter.
// Use it to log URLs of your own; a nil URL gives "".
func RedactURL(u *url.URL) string { return redact.URL(u) }
