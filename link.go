package zumo

import (
	"net/url"
	"strings"
)

// nextLink returns the target of the rel=next entry of a Link header, in
// the RFC 8288 form (<url>; rel=next) or the bare form the official
// servers send (url; rel=next); "" when there is none.
func nextLink(values []string) string {
	for _, v := range values {
		for _, entry := range splitLinks(v) {
			target, params, _ := strings.Cut(entry, ";")
			target = strings.TrimSpace(target)
			if strings.HasPrefix(target, "<") && strings.HasSuffix(target, ">") {
				target = target[1 : len(target)-1]
			}
			if target == "" {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value into entries at commas outside
// angle brackets.
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Host + ":443"
	case "http":
		return u.Host + ":80"
	}
	return u.Host
}
