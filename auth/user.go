package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// legacyIssuer is the issuer of tokens minted by a legacy Mobile Services
// backend; their audience names the identity provider.
const legacyIssuer = "urn:microsoft:windows-azure:zumo"

// User is a logged-in user: the user id the service assigned and the
// authentication token sent as X-ZUMO-AUTH.
//
// A User is immutable and safe for concurrent use. Its token's claims are
// read once, when the User is made (NewUser or UnmarshalJSON), never per
// request. Printing a User with fmt or log/slog never shows its token.
type User struct {
	id string
	// token is behind a pointer so that printing a User value (a copy, or
	// a field of a struct printed with %+v) shows an address, not the
	// token: fmt cannot call methods on unexported fields.
	token      *string
	exp        time.Time // zero: no exp claim (or unreadable)
	hasExp     bool
	unreadable bool      // the claims cannot be read: expired by the rule
	iat        time.Time // zero: unknown issue time
	prov       string
}

// NewUser returns the user with the given id and token. It never fails.
// Expiry follows one rule (see ExpiredWithin): a token whose claims cannot
// be read (not a JWT, bad base64, exp not a number) counts as expired, so a
// user read from a store or given to SetUser with such a token needs a
// login before it is sent. The signature is not verified; a client does
// not have the key.
func NewUser(userID, token string) *User {
	u := &User{id: userID, token: &token}
	c, err := ReadClaims(token)
	if err != nil {
		u.unreadable = true
		return u
	}
	u.exp, u.hasExp = c.ExpiresAt, !c.ExpiresAt.IsZero()
	u.iat = c.IssuedAt
	u.prov = c.Provider
	return u
}

// ID returns the user id, such as "sid:0123…" or "Facebook:1234".
func (u *User) ID() string { return u.id }

// Token returns the authentication token. Treat it as a secret: never log it.
func (u *User) Token() string {
	if u.token == nil {
		return ""
	}
	return *u.token
}

// ExpiresAt returns when the token expires, read from its exp claim, and
// false when the token has no exp claim (it does not expire). A token whose
// claims cannot be read counts as expired long ago: ExpiresAt returns the
// zero time and true.
func (u *User) ExpiresAt() (time.Time, bool) { return u.exp, u.hasExp || u.unreadable }

// IssuedAt returns when the token was issued, read from its iat claim, and
// false when the token has none (or one that cannot be read).
func (u *User) IssuedAt() (time.Time, bool) { return u.iat, !u.iat.IsZero() }

// Lifetime returns how long the token was issued for (exp minus iat), and
// false when either claim is missing or exp is not after iat.
func (u *User) Lifetime() (time.Duration, bool) {
	if !u.hasExp || u.iat.IsZero() || !u.exp.After(u.iat) {
		return 0, false
	}
	return u.exp.Sub(u.iat), true
}

// ExpiredWithin reports whether the token expires at or before now+skew.
// The rule, the same one the auth handler applies before sending: a token
// is expired when its claims cannot be read or when now ≥ exp (exp ≤ 0
// included); a token without exp never expires.
func (u *User) ExpiredWithin(now time.Time, skew time.Duration) bool {
	return u.unreadable || u.hasExp && !now.Add(skew).Before(u.exp)
}

// Provider returns the identity provider the token names (the idp claim, or
// the audience of a legacy Mobile Services token), or "" when it names none.
func (u *User) Provider() string { return u.prov }

// String describes the user without its token.
func (u *User) String() string {
	if u == nil {
		return "<nil user>"
	}
	switch {
	case u.unreadable:
		return fmt.Sprintf("user %q (token redacted, unreadable)", u.id)
	case u.hasExp:
		return fmt.Sprintf("user %q (token redacted, expires %s)", u.id, u.exp.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("user %q (token redacted)", u.id)
}

// GoString is String, so %#v does not show the token either.
func (u *User) GoString() string { return u.String() }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q)
// prints String and never the token.
func (u *User) Format(f fmt.State, verb rune) {
	printAs(f, verb, u.String())
}

// printAs prints s for verb: quoted for %q, as it is for every other verb.
// The Format methods of the types that hold secrets use it, so that no
// verb reaches their fields.
func printAs(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	fmt.Fprint(f, s)
}

// LogValue implements slog.LogValuer: the id and expiry, never the token.
func (u *User) LogValue() slog.Value {
	if u == nil {
		return slog.StringValue("<nil user>")
	}
	attrs := []slog.Attr{slog.String("id", u.id), slog.String("token", "REDACTED")}
	switch {
	case u.unreadable:
		attrs = append(attrs, slog.Bool("unreadable", true))
	case u.hasExp:
		attrs = append(attrs, slog.Time("expires", u.exp))
	}
	return slog.GroupValue(attrs...)
}

// userJSON is the stored form of a user, the same names the login response uses.
type userJSON struct {
	UserID string `json:"userId"`
	Token  string `json:"authenticationToken"`
}

// MarshalJSON writes {"userId":…,"authenticationToken":…}. The output holds
// the token: it is for a user store, not for a log.
func (u *User) MarshalJSON() ([]byte, error) {
	return json.Marshal(userJSON{UserID: u.id, Token: u.Token()})
}

// ErrInvalidUser is returned (wrapped) when stored or received user data
// has no token or no user id.
var ErrInvalidUser = errors.New("auth: invalid user: no user id or no token")

// UnmarshalJSON reads the form MarshalJSON writes. It fails with an error
// wrapping ErrInvalidUser when the user id or the token is missing or empty.
func (u *User) UnmarshalJSON(b []byte) error {
	var j userJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("auth: decoding user: %w", err)
	}
	if j.UserID == "" || j.Token == "" {
		return ErrInvalidUser
	}
	*u = *NewUser(j.UserID, j.Token)
	return nil
}

// Claims are the facts zumo reads from a token.
type Claims struct {
	// ExpiresAt is the exp claim; zero when the token has none. An exp of
	// 0 or less is a time at or before 1970 (expired); one beyond
	// 9999-12-31 reads as that date (far future).
	ExpiresAt time.Time
	// IssuedAt is the iat claim; zero when the token has none, or one that
	// is not a number between 1970 and 9999 (iat is advisory: a bad one
	// does not make the token malformed).
	IssuedAt time.Time
	// Subject is the sub (or legacy uid) claim.
	Subject string
	// Provider is the idp claim, or the audience of a legacy token.
	Provider string
}

// maxExp is the largest exp read as it is: 9999-12-31T23:59:59Z. Larger
// values (2^64, 1e300) are clamped to it: far future, never an error.
const maxExp = 253402300799

// ErrMalformedToken is returned (wrapped) by ReadClaims when a token is not
// a JWT whose claims can be read.
var ErrMalformedToken = errors.New("auth: malformed token")

// ReadClaims reads a token's claims without verifying its signature. It
// fails with an error wrapping ErrMalformedToken when the token is not three
// base64url parts with a JSON object in the middle, or when exp is present
// but not a number. The error never contains the token.
func ReadClaims(token string) (Claims, error) {
	var mc jwt.MapClaims
	p := jwt.NewParser(jwt.WithoutClaimsValidation())
	if _, _, err := p.ParseUnverified(token, &mc); err != nil {
		// The claims do not depend on the header's alg: a token whose alg
		// is missing or unknown to the jwt library still has a readable
		// exp. Read the claims segment with the library's decoder.
		if !errors.Is(err, jwt.ErrTokenUnverifiable) || !claimsOnly(p, token, &mc) {
			return Claims{}, fmt.Errorf("%w: %s", ErrMalformedToken, reason(err))
		}
	}
	if mc == nil {
		return Claims{}, fmt.Errorf("%w: claims are not a JSON object", ErrMalformedToken)
	}
	var c Claims
	// exp is read here rather than with jwt's GetExpirationTime, which
	// truncates fractional seconds and overflows on huge values.
	if v, ok := mc["exp"]; ok {
		f, isNum := v.(float64)
		if !isNum {
			return Claims{}, fmt.Errorf("%w: exp is not a number", ErrMalformedToken)
		}
		// RFC 7519: exp is a NumericDate, so 0 and negative values are
		// in the past (not "no expiry"), and huge ones the far future.
		f = min(max(f, -maxExp), maxExp)
		sec, frac := math.Modf(f)
		c.ExpiresAt = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	if f, ok := mc["iat"].(float64); ok && f > 0 && f <= maxExp {
		sec, frac := math.Modf(f)
		c.IssuedAt = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	c.Subject, _ = mc["sub"].(string)
	if c.Subject == "" {
		c.Subject, _ = mc["uid"].(string)
	}
	if idp, ok := mc["idp"].(string); ok && idp != "" {
		c.Provider = idp
	} else if iss, _ := mc["iss"].(string); iss == legacyIssuer {
		if aud, ok := mc["aud"].(string); ok && aud != legacyIssuer {
			c.Provider = aud
		}
	}
	return c, nil
}

// claimsOnly decodes the claims segment of a three-part token into mc.
func claimsOnly(p *jwt.Parser, token string, mc *jwt.MapClaims) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	b, err := p.DecodeSegment(parts[1])
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return false
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return false
			}
			m[k] = f
		}
	}
	*mc = m
	return true
}

// reason turns a jwt parse error into words that cannot contain the token.
func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "not a JWT (want three base64url parts with JSON claims)"
	default:
		return "claims cannot be read"
	}
}
