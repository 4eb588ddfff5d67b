// Package redact removes secrets (tokens, application keys) from headers,
// URLs and strings before they reach a log line or an error message.
package redact

import (
	"net/http"
	"net/url"
	"strings"
)

// Placeholder replaces every secret value.
const Placeholder = "REDACTED"

// secretHeaders are the headers whose values are secrets, canonicalised.
var secretHeaders = map[string]bool{
	"X-Zumo-Auth":         true,
	"X-Zumo-Application":  true,
	"Authorization":       true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"Proxy-Authorization": true,
}

// secretParams are query and fragment parameters whose values are secrets.
var secretParams = []string{"token", "access_token", "id_token", "authenticationToken",
	"authorization_code", "code", "code_verifier", "refresh_token", "client_secret", "password"}

// IsSecretHeader reports whether the named header carries a secret.
func IsSecretHeader(name string) bool {
	return secretHeaders[http.CanonicalHeaderKey(name)]
}

// Header returns a copy of h with every secret header's values replaced by
// Placeholder. It never changes h.
func Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if IsSecretHeader(k) {
			red := make([]string, len(v))
			for i := range red {
				red[i] = Placeholder
			}
			out[k] = red
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}

// URL returns u as a string with user info, secret query parameters and a
// secret-bearing fragment redacted. A nil URL gives "".
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Placeholder)
	}
	if c.RawQuery != "" {
		c.RawQuery = rawParams(c.RawQuery)
	}
	if c.Fragment != "" || c.RawFragment != "" {
		f := c.EscapedFragment()
		c.Fragment, c.RawFragment = "", ""
		s := c.String()
		return s + "#" + rawParams(f)
	}
	return c.String()
}

// URLString parses s and redacts it like URL; a string that does not parse
// is redacted as free text.
func URLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Placeholder
	}
	return URL(u)
}

// rawParams redacts secret values in a raw key=value&… string, keeping
// everything else byte for byte.
func rawParams(raw string) string {
	parts := strings.Split(raw, "&")
	changed := false
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		for _, s := range secretParams {
			if strings.EqualFold(dk, s) {
				parts[i] = k + "=" + Placeholder
				changed = true
				break
			}
		}
	}
	if !changed {
		return raw
	}
	return strings.Join(parts, "&")
}

// Token returns a short, non-reversible description of a secret for logs:
// its length only, never any of its characters.
func Token(tok string) string {
	if tok == "" {
		return "<none>"
	}
	return Placeholder
}

// String replaces every occurrence of each non-empty secret in s by
// Placeholder. Use it on text that may echo a secret, such as a server's
// error body.
func String(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return s
}
