// Package redact removes secrets (tokens, application keys) from headers,
// URLs and strings before they reach a log line or an error message.
package redact

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zumo-go/zumo/internal/wire"
)

// Placeholder replaces every secret value.
const Placeholder = "REDACTED"

// secretHeaders are the headers whose values are secrets, canonicalised.
var secretHeaders = map[string]bool{
	wire.HeaderAuth:       true,
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
// is replaced by Placeholder as a whole.
func URLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Placeholder
	}
	return URL(u)
}

// rawParams redacts secret values in a raw key=value&… string, keeping
// everything else byte for byte. Both '&' and ';' separate parameters (some
// servers accept either); see secretParam for how names are found.
func rawParams(raw string) string {
	var b strings.Builder
	changed := false
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '&' && raw[i] != ';' {
			continue
		}
		seg := raw[start:i]
		if red, ok := redactParam(seg); ok {
			if !changed {
				b.Grow(len(raw))
				b.WriteString(raw[:start])
				changed = true
			}
			b.WriteString(red)
		} else if changed {
			b.WriteString(seg)
		}
		if changed && i < len(raw) {
			b.WriteByte(raw[i])
		}
		start = i + 1
	}
	if !changed {
		return raw
	}
	return b.String()
}

// redactParam returns seg with its value replaced by Placeholder and true
// when seg is key=value and key names a secret parameter.
func redactParam(seg string) (string, bool) {
	k, _, ok := secretParam(seg)
	switch {
	case !ok:
		return "", false
	case k == "" && !strings.Contains(seg, "="):
		return Placeholder, true // a secret in a name without a value
	}
	return k + "=" + Placeholder, true
}

// secretParam finds the first secret parameter in seg, one '&'- or
// ';'-separated part of a query or fragment, and returns the text before
// its value (without the '=') and the value, which runs to the end of seg.
//
// A parameter name is the text before an '=' and after the previous '?',
// '#', '/' or '=', matched case-insensitively after unescaping (and, once
// unescaped, after any '?', '#', '/', '=', '&' or ';' it then contains).
// So "token=…", "/callback?token=…", "next=/a?token=…" and "x%3Ftoken=…"
// all count: a secret hidden inside another parameter's value is found.
// So does one hidden in an escaped value ("next=%2Fa%3Ftoken%3D…", what
// url.Values.Encode writes): then the whole value of the outer parameter
// is the secret's, or the whole of seg when it has no '='.
func secretParam(seg string) (key, value string, ok bool) {
	if k, v, ok := plainSecretParam(seg); ok {
		return k, v, true
	}
	if _, ok := escapedSecret(seg); ok {
		if i := strings.IndexByte(seg, '='); i >= 0 {
			return seg[:i], seg[i+1:], true
		}
		return "", seg, true
	}
	return "", "", false
}

// plainSecretParam is secretParam for a secret whose '=' is written as
// such in seg.
func plainSecretParam(seg string) (key, value string, ok bool) {
	start := 0
	for j := 0; j < len(seg); j++ {
		switch seg[j] {
		case '?', '#', '/':
			start = j + 1
		case '=':
			name := seg[start:j]
			if dn, err := url.QueryUnescape(name); err == nil {
				name = dn
			}
			if i := strings.LastIndexAny(name, "?#/=&;"); i >= 0 {
				name = name[i+1:]
			}
			for _, s := range secretParams {
				if strings.EqualFold(name, s) {
					return seg[:j], seg[j+1:], true
				}
			}
			start = j + 1
		}
	}
	return "", "", false
}

// escapedSecret unescapes seg and looks for a secret parameter in what
// that gives, escaped again or not, and returns its value. Each level of
// unescaping shortens the text, so the search ends.
func escapedSecret(seg string) (string, bool) {
	if !strings.Contains(seg, "%") {
		return "", false
	}
	dec, err := url.QueryUnescape(seg)
	if err != nil || dec == seg {
		return "", false
	}
	for sub := range strings.FieldsFuncSeq(dec, isParamSep) {
		if _, v, ok := plainSecretParam(sub); ok {
			return v, true
		}
		if v, ok := escapedSecret(sub); ok {
			return v, true
		}
	}
	return "", false
}

func isParamSep(r rune) bool { return r == '&' || r == ';' }

// HeaderSecrets returns the values of h's secret headers, each also
// without a leading scheme word ("Bearer abc" gives "Bearer abc" and
// "abc"), for use with String on text that may echo them.
func HeaderSecrets(h http.Header) []string {
	var out []string
	for k, vs := range h {
		if !IsSecretHeader(k) {
			continue
		}
		for _, v := range vs {
			out = append(out, v)
			if _, cred, ok := strings.Cut(v, " "); ok {
				if cred = strings.TrimSpace(cred); cred != "" {
					out = append(out, cred)
				}
			}
		}
	}
	return out
}

// URLSecrets returns the secrets u carries: its user name and password and
// the values of its secret query and fragment parameters, each both as
// written and unescaped, for use with String on text that may echo them.
// A nil URL gives nil.
func URLSecrets(u *url.URL) []string {
	if u == nil {
		return nil
	}
	var out []string
	add := func(v string) {
		if v == "" {
			return
		}
		out = append(out, v)
		if dv, err := url.QueryUnescape(v); err == nil && dv != v {
			out = append(out, dv)
		}
	}
	if u.User != nil {
		add(u.User.Username())
		if p, ok := u.User.Password(); ok {
			add(p)
		}
	}
	for _, raw := range []string{u.RawQuery, u.EscapedFragment()} {
		for seg := range strings.FieldsFuncSeq(raw, isParamSep) {
			if _, v, ok := plainSecretParam(seg); ok {
				add(v)
			} else if inner, ok := escapedSecret(seg); ok {
				_, v, _ := secretParam(seg)
				add(v)
				add(inner) // the secret itself, which an echo may show unescaped
			}
		}
	}
	return out
}

// Token returns a short, non-reversible description of a secret for logs:
// "<none>" for an empty secret and Placeholder otherwise, never any of its
// characters (nor its length).
func Token(tok string) string {
	if tok == "" {
		return "<none>"
	}
	return Placeholder
}

// String replaces every occurrence of each secret in s by Placeholder. Use
// it on text that may echo a secret, such as a server's error body. Secrets
// shorter than four bytes are ignored: redacting them would mangle ordinary
// text without protecting anything. Longer secrets are replaced first, so a
// secret that contains another is never left half redacted.
func String(s string, secrets ...string) string {
	if len(secrets) > 1 {
		secrets = slices.Clone(secrets)
		slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	}
	for _, sec := range secrets {
		if len(sec) >= 4 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Placeholder)
		}
	}
	return s
}
