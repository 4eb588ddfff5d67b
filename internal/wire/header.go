package wire

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
