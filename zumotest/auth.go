package zumotest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/zumo-go/zumo/internal/wire"
)

// zumoURN is the issuer and (2.0) audience of tokens from a Mobile Apps
// server that is not hosted on App Service, and the issuer of legacy
// Mobile Services tokens.
const zumoURN = "urn:microsoft:windows-azure:zumo"

// Clock is a settable clock for WithClock: pass c.Now. The zero value is
// not usable; use NewClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading start (time.Now() when start is zero).
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Now()
	}
	return &Clock{t: start}
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// User is the identity a verified token carries.
type User struct {
	// ID is the token's sub claim (legacy tokens: uid), e.g. "sid:…".
	ID string
	// Provider is the identity provider that issued the login ("custom",
	// "facebook", …), from the idp claim (legacy tokens: aud).
	Provider string
	// Expires is the token's exp claim; zero when it has none.
	Expires time.Time
}

type userKey struct{}

func userFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}

// UserFromRequest returns the user whose valid token a request carries,
// for custom API handlers; ok is false for an anonymous request.
func UserFromRequest(r *http.Request) (u User, ok bool) {
	if p := userFrom(r.Context()); p != nil {
		return *p, true
	}
	return User{}, false
}

// provider is one configured login provider.
type provider struct {
	name  string
	fn    LoginFunc
	users map[string]account
}

type account struct {
	password, userID string
}

// wellKnown are the providers whose tokens the server accepts by default.
var wellKnown = map[string]bool{
	"aad": true, "apple": true, "facebook": true, "google": true,
	"microsoftaccount": true, "twitter": true,
}

// signingKey returns the current HS256 key.
func (s *Server) signingKey() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.key
}

// RotateKey replaces the signing key with a new random one: every token
// issued so far now gets 401 {"name":"JsonWebTokenError","message":"invalid
// signature"}, as after regenerating an official server's secret.
func (s *Server) RotateKey() {
	k := randomKey()
	s.mu.Lock()
	s.key = k
	s.mu.Unlock()
}

// IssueToken returns a token for userID, valid for lifetime from the
// server clock (the server's token lifetime when lifetime is zero; a
// negative lifetime gives an already expired token). The provider is
// "custom". It never fails.
func (s *Server) IssueToken(userID string, lifetime time.Duration) string {
	if lifetime == 0 {
		lifetime = s.cfg.tokenLifetime
	}
	return s.issue(userID, "custom", lifetime)
}

func (s *Server) issue(userID, provider string, lifetime time.Duration) string {
	now := s.cfg.clock()
	claims := jwt.MapClaims{
		"sub": userID,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
		"iss": zumoURN,
		"jti": wire.NewGUID(),
	}
	if s.cfg.legacy {
		claims["aud"] = provider
		claims["uid"] = userID
		claims["ver"] = "2"
	} else {
		claims["aud"] = zumoURN
		claims["idp"] = provider
		claims["ver"] = "3"
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.signingKey())
	if err != nil { // cannot happen with an HS256 []byte key
		panic("zumotest: signing a token: " + err.Error())
	}
	return tok
}

// tokenError is the body of a 401 for a bad token, in the shape of the
// jsonwebtoken package the official server uses. It never holds the token.
type tokenError struct {
	Name      string `json:"name"`
	Message   string `json:"message"`
	ExpiredAt string `json:"expiredAt,omitempty"`
	Date      string `json:"date,omitempty"`
}

func (e *tokenError) Error() string { return e.Name + ": " + e.Message }

func jwtError(msg string) *tokenError { return &tokenError{Name: "JsonWebTokenError", Message: msg} }

// verify checks a token like the official server (jsonwebtoken 8): the
// signature first, then nbf, exp (no clock tolerance), audience, issuer.
func (s *Server) verify(raw string) (*User, *tokenError) { return s.verifyGrace(raw, 0) }

// verifyGrace is verify accepting a token that expired less than grace
// ago (the refresh route's WithRefreshGrace).
func (s *Server) verifyGrace(raw string, grace time.Duration) (*User, *tokenError) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		return s.signingKey(), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, jwtError("jwt malformed")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, jwtError("invalid algorithm")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return nil, jwtError("invalid algorithm")
		}
		return nil, jwtError("invalid signature")
	default:
		return nil, jwtError("invalid token")
	}
	now := s.cfg.clock()
	nowSec := math.Floor(float64(now.UnixMilli()) / 1000)
	if nbf, ok := numClaim(claims, "nbf"); ok && nbf > nowSec {
		return nil, &tokenError{Name: "NotBeforeError", Message: "jwt not active", Date: secsToISO(nbf)}
	}
	u := &User{}
	if exp, ok := numClaim(claims, "exp"); ok {
		if nowSec >= exp+math.Floor(grace.Seconds()) {
			return nil, &tokenError{Name: "TokenExpiredError", Message: "jwt expired", ExpiredAt: secsToISO(exp)}
		}
		u.Expires = secsToTime(exp)
	} else if _, present := claims["exp"]; present {
		return nil, jwtError("invalid exp value")
	}
	if !s.cfg.legacy && !hasAudience(claims["aud"], zumoURN) {
		return nil, jwtError("jwt audience invalid. expected: " + zumoURN)
	}
	if iss, _ := claims["iss"].(string); iss != zumoURN {
		return nil, jwtError("jwt issuer invalid. expected: " + zumoURN)
	}
	if s.cfg.legacy {
		u.ID, _ = claims["uid"].(string)
		if u.ID == "" {
			u.ID, _ = claims["sub"].(string)
		}
		u.Provider, _ = claims["aud"].(string)
	} else {
		u.ID, _ = claims["sub"].(string)
		u.Provider, _ = claims["idp"].(string)
	}
	return u, nil
}

func numClaim(c jwt.MapClaims, name string) (float64, bool) {
	switch v := c[name].(type) {
	case float64:
		return v, true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func secsToTime(sec float64) time.Time {
	return time.UnixMilli(int64(sec * 1000)).UTC()
}

func secsToISO(sec float64) string { return formatDate(secsToTime(sec)) }

func hasAudience(aud any, want string) bool {
	switch v := aud.(type) {
	case string:
		return v == want
	case []any:
		for _, a := range v {
			if s, _ := a.(string); s == want {
				return true
			}
		}
	}
	return false
}

// tokenFrom returns the token a request carries: X-ZUMO-AUTH, else an
// Authorization bearer token.
func tokenFrom(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get("X-ZUMO-AUTH")); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// writeUnauthorized is the official server's answer to a missing token.
func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, "You must be logged in to use this application")
}

func writeTokenError(w http.ResponseWriter, e *tokenError) {
	b, _ := json.Marshal(e)
	writeJSON(w, http.StatusUnauthorized, b)
}

// loginResponse is the body of a successful login or refresh.
type loginResponse struct {
	AuthenticationToken string    `json:"authenticationToken"`
	User                loginUser `json:"user"`
}

type loginUser struct {
	UserID string `json:"userId"`
}

func (s *Server) writeLogin(w http.ResponseWriter, userID, provider string) {
	tok := s.issue(userID, provider, s.cfg.tokenLifetime)
	b, _ := json.Marshal(loginResponse{AuthenticationToken: tok, User: loginUser{UserID: userID}})
	writeJSON(w, http.StatusOK, b)
}

// serveLogin handles POST /.auth/login/{provider} and legacy
// POST /login/{provider}.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, rt *route) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "zumotest supports client-directed login only: POST a provider token or credentials")
		return
	}
	name := strings.ToLower(rt.provider)
	p := s.cfg.providers[name]
	if p == nil && (s.cfg.disableProviderTok || !wellKnown[name]) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The login provider '%s' is not configured", rt.provider))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request body")
		return
	}
	obj, err := decodeObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var userID string
	switch {
	case p != nil && p.fn != nil:
		id, err := p.fn(json.RawMessage(body))
		if err != nil {
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		userID = id
	case p != nil && p.users != nil:
		user, _ := obj["username"].(string)
		pass, _ := obj["password"].(string)
		acct, ok := p.users[user]
		if !ok || acct.password != pass || user == "" {
			writeError(w, http.StatusUnauthorized, "Invalid username or password")
			return
		}
		userID = acct.userID
	default:
		tok := ""
		for _, k := range []string{"access_token", "id_token", "authenticationToken", "authorization_code"} {
			if v, _ := obj[k].(string); v != "" {
				tok = v
				break
			}
		}
		if tok == "" {
			writeError(w, http.StatusBadRequest, "The request body must carry the provider's token (access_token, id_token or authenticationToken)")
			return
		}
		sum := sha256.Sum256([]byte(name + "\x00" + tok))
		if s.cfg.legacy {
			userID = rt.provider + ":" + hex.EncodeToString(sum[:8])
		} else {
			userID = "sid:" + hex.EncodeToString(sum[:16])
		}
	}
	s.log.count(func(c *Stats) { c.Logins++ })
	s.writeLogin(w, userID, name)
}

// serveRefresh handles GET /.auth/refresh: a new token for the same user.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, "use GET /.auth/refresh")
		return
	}
	u := userFrom(r.Context())
	if u == nil {
		writeUnauthorized(w)
		return
	}
	s.log.count(func(c *Stats) { c.Refreshes++ })
	s.writeLogin(w, u.ID, u.Provider)
}

// serveMe handles GET /.auth/me in App Service's shape (no tokens).
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r.Context())
	if u == nil {
		writeUnauthorized(w)
		return
	}
	type claim struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	type me struct {
		ProviderName string  `json:"provider_name"`
		UserID       string  `json:"user_id"`
		UserClaims   []claim `json:"user_claims"`
		ExpiresOn    string  `json:"expires_on,omitempty"`
	}
	m := me{ProviderName: u.Provider, UserID: u.ID, UserClaims: []claim{{"sub", u.ID}, {"idp", u.Provider}}}
	if !u.Expires.IsZero() {
		m.ExpiresOn = formatDate(u.Expires)
	}
	b, _ := json.Marshal([]me{m})
	writeJSON(w, http.StatusOK, b)
}
