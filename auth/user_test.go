package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey signs every token the tests make; the client never checks it.
var testKey = []byte("zumo-test-signing-key")

// signClaims returns an HS256 JWT carrying claims. It panics on failure
// (signing with an HMAC key cannot fail), so it may run in any goroutine.
func signClaims(claims jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testKey)
	if err != nil {
		panic(err)
	}
	return s
}

// mintToken returns a JWT for sub that expires at exp (no exp claim when
// exp is zero), issued at iat (none when zero).
func mintToken(sub string, exp, iat time.Time) string {
	c := jwt.MapClaims{"sub": sub, "idp": "custom"}
	if !exp.IsZero() {
		c["exp"] = exp.Unix()
	}
	if !iat.IsZero() {
		c["iat"] = iat.Unix()
	}
	return signClaims(c)
}

// makeToken returns a JWT for sub that expires at exp (no exp claim when exp
// is zero).
func makeToken(t testing.TB, sub string, exp time.Time) string {
	t.Helper()
	return mintToken(sub, exp, time.Time{})
}

// rawToken joins header, claims and signature as base64url without padding.
func rawToken(header, claims string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString([]byte("sig"))
}

func TestReadClaimsExp(t *testing.T) {
	exp := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	c, err := ReadClaims(makeToken(t, "sid:abc", exp))
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExpiresAt.Equal(exp) || c.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC", c.ExpiresAt, exp)
	}
	if c.Subject != "sid:abc" || c.Provider != "custom" {
		t.Errorf("Subject, Provider = %q, %q", c.Subject, c.Provider)
	}

	// Fractional seconds.
	tok := signClaims(jwt.MapClaims{"sub": "x", "exp": 1900000000.5})
	c, err = ReadClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1900000000, 5e8).UTC(); !c.ExpiresAt.Equal(want) {
		t.Errorf("fractional exp: got %v, want %v", c.ExpiresAt, want)
	}
	u := NewUser("x", tok)
	if got, ok := u.ExpiresAt(); !ok || !got.Equal(time.Unix(1900000000, 5e8)) {
		t.Errorf("User.ExpiresAt = %v, %v", got, ok)
	}

	// Legacy uid as subject.
	c, err = ReadClaims(signClaims(jwt.MapClaims{"uid": "Facebook:1"}))
	if err != nil || c.Subject != "Facebook:1" {
		t.Errorf("uid subject: %q, %v", c.Subject, err)
	}
}

func TestReadClaimsNoExp(t *testing.T) {
	tok := makeToken(t, "sid:abc", time.Time{})
	c, err := ReadClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt = %v, want zero", c.ExpiresAt)
	}
	u := NewUser("sid:abc", tok)
	if _, ok := u.ExpiresAt(); ok {
		t.Error("ExpiresAt reports a known expiry for a token without exp")
	}
	if u.ExpiredWithin(time.Now().Add(100*365*24*time.Hour), time.Hour) {
		t.Error("a token with unknown expiry is reported expired")
	}
}

func TestReadClaimsMalformed(t *testing.T) {
	hdr := `{"alg":"HS256","typ":"JWT"}`
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"one part", "abc"},
		{"two parts", "abc.def"},
		{"four parts", rawToken(hdr, `{"exp":1}`) + ".x"},
		{"bad base64 claims", enc([]byte(hdr)) + ".!!!notbase64!!!." + enc([]byte("s"))},
		{"bad base64 header", "%%%." + enc([]byte(`{"exp":1900000000}`)) + ".c2ln"},
		{"padded base64", enc([]byte(hdr)) + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":1900000000,"x":"y"}`)) + ".c2ln"},
		{"claims not JSON", rawToken(hdr, `not json`)},
		{"claims an array", rawToken(hdr, `[1,2,3]`)},
		{"claims a string", rawToken(hdr, `"exp"`)},
		{"header not JSON", rawToken(`nope`, `{"exp":1900000000}`)},
		{"exp a string", rawToken(hdr, `{"exp":"1900000000"}`)},
		{"exp an object", rawToken(hdr, `{"exp":{"n":1}}`)},
		{"exp a bool", rawToken(hdr, `{"exp":true}`)},
		{"exp null", rawToken(hdr, `{"exp":null}`)},
		{"binary", "\x00\xff.\x00\xff.\x00\xff"},
		{"dots only", ".."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ReadClaims(tt.token)
			if !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("ReadClaims error = %v (claims %+v), want ErrMalformedToken", err, c)
			}
			if tt.token != "" && len(tt.token) > 4 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
			u := NewUser("sid:x", tt.token)
			if at, ok := u.ExpiresAt(); !ok || !at.IsZero() {
				t.Errorf("malformed token: ExpiresAt = %v, %v; want the zero time (expired)", at, ok)
			}
			if !u.ExpiredWithin(time.Unix(-maxExp, 0), 0) {
				t.Error("malformed token not reported expired")
			}
			if u.Token() != tt.token || u.ID() != "sid:x" {
				t.Error("NewUser changed the id or token")
			}
		})
	}
}

func TestReadClaimsProvider(t *testing.T) {
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   string
	}{
		{"idp", jwt.MapClaims{"sub": "sid:1", "idp": "google", "iss": "https://app/", "aud": "https://app/"}, "google"},
		{"legacy aud", jwt.MapClaims{"uid": "Facebook:1", "iss": legacyIssuer, "aud": "facebook"}, "facebook"},
		{"idp wins over legacy aud", jwt.MapClaims{"iss": legacyIssuer, "aud": "facebook", "idp": "aad"}, "aad"},
		{"App Service aud is a site", jwt.MapClaims{"sub": "sid:1", "iss": "https://app/", "aud": "https://app/"}, ""},
		{"legacy aud equal to the issuer", jwt.MapClaims{"iss": legacyIssuer, "aud": legacyIssuer}, ""},
		{"empty idp", jwt.MapClaims{"idp": ""}, ""},
		{"idp not a string", jwt.MapClaims{"idp": 5}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := signClaims(tt.claims)
			c, err := ReadClaims(tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.Provider != tt.want {
				t.Errorf("Provider = %q, want %q", c.Provider, tt.want)
			}
			if p := NewUser("u", tok).Provider(); p != tt.want {
				t.Errorf("User.Provider = %q, want %q", p, tt.want)
			}
		})
	}
}

func TestExpiredWithin(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	u := NewUser("u", makeToken(t, "u", exp))
	skew := 2 * time.Minute
	tests := []struct {
		name string
		now  time.Time
		skew time.Duration
		want bool
	}{
		{"long before", exp.Add(-time.Hour), skew, false},
		{"just outside the skew", exp.Add(-skew - time.Nanosecond), skew, false},
		{"exactly at exp-skew", exp.Add(-skew), skew, true},
		{"inside the skew", exp.Add(-time.Minute), skew, true},
		{"just before exp, no skew", exp.Add(-time.Nanosecond), 0, false},
		{"at exp, no skew", exp, 0, true},
		{"after exp", exp.Add(time.Second), 0, true},
		{"after exp with skew", exp.Add(time.Hour), skew, true},
	}
	for _, tt := range tests {
		if got := u.ExpiredWithin(tt.now, tt.skew); got != tt.want {
			t.Errorf("%s: ExpiredWithin = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Another time zone changes nothing.
	loc := time.FixedZone("X", 5*3600)
	if u.ExpiredWithin(exp.Add(-time.Hour).In(loc), 0) {
		t.Error("time zone changed the answer")
	}
}

func TestUserNeverPrintsToken(t *testing.T) {
	tok := makeToken(t, "sid:abc", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	noExp := makeToken(t, "sid:abc", time.Time{})
	for _, u := range []*User{NewUser("sid:abc", tok), NewUser("sid:abc", noExp), NewUser("sid:abc", "opaque-token-value")} {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T %v", "%10.3v"} {
			outs = append(outs, fmt.Sprintf(verb, u))
		}
		outs = append(outs, u.String(), u.GoString(), fmt.Sprint(u), fmt.Sprintln(u), fmt.Sprint([]*User{u}))
		outs = append(outs, fmt.Sprintf("%+v", struct{ U *User }{u}), fmt.Sprintf("%#v", map[string]*User{"a": u}))
		// A User value (a copy, or a field of a struct) must not show the
		// token either.
		outs = append(outs, fmt.Sprintf("%v", *u), fmt.Sprintf("%+v", *u), fmt.Sprintf("%#v", *u),
			fmt.Sprintf("%+v", struct{ U User }{*u}), fmt.Sprintf("%#v", struct{ U User }{*u}))

		var buf bytes.Buffer
		l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		l.Info("user", "user", u, "value", *u)
		l.Info("user", slog.Any("user", u))
		tl := slog.New(slog.NewTextHandler(&buf, nil))
		tl.Info("user", "user", u, "value", *u)
		outs = append(outs, buf.String())
		if !strings.Contains(buf.String(), `"id":"sid:abc"`) {
			t.Errorf("slog JSON output lacks the id: %s", buf.String())
		}

		for _, o := range outs {
			if strings.Contains(o, u.Token()) {
				t.Errorf("output contains the token: %s", o)
			}
		}
	}
	if s := fmt.Sprint((*User)(nil)); strings.Contains(s, "panic") {
		t.Errorf("printing a nil user: %s", s)
	}
	if s := (*User)(nil).String(); s != "<nil user>" {
		t.Errorf("nil String = %q", s)
	}
	u := NewUser("sid:abc", tok)
	if got, want := u.String(), `user "sid:abc" (token redacted, expires 2030-01-01T00:00:00Z)`; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := fmt.Sprintf("%q", u), `"user \"sid:abc\" (token redacted, expires 2030-01-01T00:00:00Z)"`; got != want {
		t.Errorf("%%q = %s, want %s", got, want)
	}
}

func TestUserJSONRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := signClaims(jwt.MapClaims{"sub": "sid:1", "exp": exp.Unix(), "idp": "aad"})
	u := NewUser("sid:1", tok)
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["userId"] != "sid:1" || m["authenticationToken"] != tok || len(m) != 2 {
		t.Errorf("marshalled form %s", b)
	}
	var back User
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID() != "sid:1" || back.Token() != tok || back.Provider() != "aad" {
		t.Errorf("round trip: %v %q", &back, back.Provider())
	}
	if got, ok := back.ExpiresAt(); !ok || !got.Equal(exp) {
		t.Errorf("round trip expiry %v %v", got, ok)
	}
	// An opaque token survives too, and counts as expired.
	b, _ = json.Marshal(NewUser("Facebook:1", "opaque"))
	var back2 User
	if err := json.Unmarshal(b, &back2); err != nil || back2.Token() != "opaque" {
		t.Fatalf("opaque: %v %v", err, &back2)
	}
	if !back2.ExpiredWithin(time.Now(), 0) {
		t.Error("opaque token not expired")
	}
}

func TestUserUnmarshalInvalid(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"userId":"sid:1"}`,
		`{"authenticationToken":"t"}`,
		`{"userId":"","authenticationToken":"t"}`,
		`{"userId":"sid:1","authenticationToken":""}`,
		`{"userId":null,"authenticationToken":null}`,
		`null`,
	} {
		var u User
		if err := json.Unmarshal([]byte(in), &u); !errors.Is(err, ErrInvalidUser) {
			t.Errorf("%s: error %v, want ErrInvalidUser", in, err)
		}
	}
	for _, in := range []string{`[]`, `"x"`, `{"userId":5,"authenticationToken":"t"}`, `{`} {
		var u User
		if err := json.Unmarshal([]byte(in), &u); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func TestKey(t *testing.T) {
	pairs := [][2]string{
		{"https://a/", "alice"}, {"https://a/", "bob"}, {"https://b/", "alice"},
		{"https://a/|x", "y"}, {"https://a/", "x|y"}, {"https://a/%7C", "x"}, {"https://a/|", "x"},
		{"", ""}, {"|", ""}, {"", "|"},
	}
	seen := map[string][2]string{}
	for _, p := range pairs {
		k := Key(p[0], p[1])
		if q, dup := seen[k]; dup {
			t.Errorf("Key(%q) == Key(%q) == %q", p, q, k)
		}
		seen[k] = p
		if Key(p[0], p[1]) != k {
			t.Error("Key is not deterministic")
		}
	}
}

func TestReadClaimsIgnoresTheHeadersAlg(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	claims := enc([]byte(`{"sub":"sid:x","exp":1900000000.5}`))
	for name, header := range map[string]string{
		"no alg":      `{"typ":"JWT"}`,
		"unknown alg": `{"alg":"XYZ999","typ":"JWT"}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ReadClaims(enc([]byte(header)) + "." + claims + ".sig")
			require.NoError(t, err)
			assert.Equal(t, time.Unix(1900000000, 5e8).UTC(), c.ExpiresAt)
			assert.Equal(t, "sid:x", c.Subject)
		})
	}
	_, err := ReadClaims(enc([]byte(`{"typ":"JWT"}`)) + ".bm90IGpzb24.sig")
	assert.ErrorIs(t, err, ErrMalformedToken)
}

// TestExpiryRule: one rule for every token shape. A token is expired when
// its claims cannot be read or when now ≥ exp; no exp means no expiry;
// exp ≤ 0 is in the past; huge values are the far future. User's expiry
// API and the handler's decision before sending agree on each.
func TestExpiryRule(t *testing.T) {
	hdr := `{"alg":"HS256","typ":"JWT"}`
	enc := base64.RawURLEncoding.EncodeToString
	// claims builds a token whose claims segment is exactly js.
	claims := func(js string) string { return rawToken(hdr, js) }
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's epoch
	at := func(d time.Duration) string { return fmt.Sprint(now.Add(d).Unix()) }
	tests := []struct {
		name    string
		token   string
		expired bool
	}{
		{"an hour ahead", claims(`{"exp":` + at(time.Hour) + `}`), false},
		{"a second ahead", claims(`{"exp":` + at(time.Second) + `}`), false},
		{"exactly now", claims(`{"exp":` + at(0) + `}`), true},
		{"a second ago", claims(`{"exp":` + at(-time.Second) + `}`), true},
		{"an hour ago", claims(`{"exp":` + at(-time.Hour) + `}`), true},
		{"float a half second ahead", claims(`{"exp":` + at(0) + `.5}`), false},
		{"float a half second ago", claims(`{"exp":` + at(-time.Second) + `.5}`), true},
		{"exponent form", claims(`{"exp":9.4668481e8}`), false},
		{"no exp", claims(`{"sub":"x"}`), false},
		{"exp 0", claims(`{"exp":0}`), true},
		{"exp -0.0", claims(`{"exp":-0.0}`), true},
		{"exp negative", claims(`{"exp":-5}`), true},
		{"exp hugely negative", claims(`{"exp":-1e300}`), true},
		{"exp year 9999", claims(`{"exp":253402300799}`), false},
		{"exp past year 9999", claims(`{"exp":253402300800}`), false},
		{"exp 2^64", claims(`{"exp":18446744073709551616}`), false},
		{"exp 1e300", claims(`{"exp":1e300}`), false},
		{"exp a string", claims(`{"exp":"` + at(time.Hour) + `"}`), true},
		{"exp null", claims(`{"exp":null}`), true},
		{"exp a bool", claims(`{"exp":true}`), true},
		{"exp an array", claims(`{"exp":[1]}`), true},
		{"padded base64url", enc([]byte(hdr)) + "." + base64.URLEncoding.EncodeToString([]byte(`{"exp":`+at(time.Hour)+`,"a":"bc"}`)) + ".c2ln", true},
		{"+ and / alphabet", enc([]byte(hdr)) + "." + base64.StdEncoding.EncodeToString([]byte(`{"exp":`+at(time.Hour)+`,"n":">>>???"}`)) + ".c2ln", true},
		{"one part", "abc", true},
		{"two parts", "abc.def", true},
		{"four parts", claims(`{"exp":`+at(time.Hour)+`}`) + ".x", true},
		{"empty", "", true},
		{"payload not JSON", claims(`not json`), true},
		{"payload an array", claims(`[1]`), true},
		{"payload a number", claims(`5`), true},
		{"payload null", claims(`null`), true},
		{"opaque (Facebook)", "EAAB-not-a-jwt", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				require.Equal(t, now, time.Now().UTC(), "synctest's clock")
				u := NewUser("sid:x", tt.token)
				assert.Equal(t, tt.expired, u.ExpiredWithin(time.Now(), 0), "User.ExpiredWithin")
				_, hasExp := u.ExpiresAt()
				assert.True(t, hasExp || !tt.expired, "an expired token reports an expiry")

				// The handler's decision before sending: a login first
				// (expired) or the token as it is.
				e := newEnv(t)
				e.build(WithUser(u), WithSkew(0), WithRefresh(false))
				r := e.get(context.Background())
				_, by := e.srv.count()
				if tt.expired {
					assert.EqualValues(t, 1, e.authn.calls.Load(), "logins before sending")
					assert.Zero(t, by[tt.token], "the expired token was sent")
					assert.Equal(t, 200, r.status)
				} else {
					assert.Zero(t, e.authn.calls.Load(), "logins before sending")
					assert.Equal(t, 1, by[tt.token], "the token was not sent")
				}
			})
		})
	}
}
