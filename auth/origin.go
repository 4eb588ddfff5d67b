package auth

import "strings"

// The origin check: a token goes only to the service's own scheme, host
// and port.

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// ownOrigin reports whether u has the service's scheme, host and port.
func (h *Handler) ownOrigin(scheme, host string) bool {
	if scheme == h.scheme && host == h.exactHost {
		return true // the client's own URLs: the common case, no folding
	}
	if !strings.EqualFold(scheme, h.scheme) {
		return false
	}
	if strings.EqualFold(host, h.hostPort) {
		return true
	}
	// host without a port means the scheme's default port. (Precomputed:
	// this is the hot path, and it must not allocate.)
	return h.defaultPort && strings.EqualFold(host, h.bareHost)
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
