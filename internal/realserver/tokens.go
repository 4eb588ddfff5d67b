package realserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"
)

// The logins server.js accepts unless ZUMO_USERS says otherwise.
const (
	DefaultUsername = "testuser"
	DefaultPassword = "testpassword"
	OtherUsername   = "otheruser"
	OtherPassword   = "otherpassword"
)

// Issuer and Audience are the iss and aud of every token the server issues
// and accepts.
const (
	Issuer   = "urn:microsoft:windows-azure:zumo"
	Audience = "urn:microsoft:windows-azure:zumo"
)

// MintToken signs a token with the server's current secret, as the custom
// login would, but with the given times: handy for an already expired or a
// not yet valid token without waiting.
func (s *Server) MintToken(userID string, issuedAt, expires time.Time) string {
	return SignToken(s.Secret, userID, issuedAt, expires)
}

// SignToken makes an HS256 JWT with the claims the server issues: sub, iat,
// nbf (= iat), exp, aud and iss.
func SignToken(secret, userID string, issuedAt, expires time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"sub": userID,
		"iat": issuedAt.Unix(),
		"nbf": issuedAt.Unix(),
		"exp": expires.Unix(),
		"aud": Audience,
		"iss": Issuer,
	})
	signing := header + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// UserID is the user id the server gives username: "sid:" and 32 hex digits.
func UserID(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "sid:" + hex.EncodeToString(sum[:])[:32]
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
