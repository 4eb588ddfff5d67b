package auth

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func FuzzReadClaims(f *testing.F) {
	hdr := `{"alg":"HS256","typ":"JWT"}`
	for _, s := range []string{
		mintToken("sid:1", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}),
		mintToken("sid:1", time.Time{}, time.Time{}),
		signClaims(jwt.MapClaims{"exp": 1900000000.25, "iss": legacyIssuer, "aud": "facebook", "uid": "Facebook:1"}),
		signClaims(jwt.MapClaims{"exp": 1e300}),
		signClaims(jwt.MapClaims{"exp": -1.5}),
		rawToken(hdr, `{"exp":"soon"}`),
		rawToken(hdr, `{"exp":null}`),
		rawToken(hdr, `[]`),
		rawToken(`{"alg":"none"}`, `{"exp":1}`),
		rawToken(hdr, `{"exp":253402300799}`),
		rawToken(hdr, `{"exp":253402300800}`),
		"a.b.c", "..", "", "not a token", "a.b.c.d",
	} {
		f.Add(s)
	}
	reasons := []string{
		"auth: malformed token: not a JWT (want three base64url parts with JSON claims)",
		"auth: malformed token: claims cannot be read",
		"auth: malformed token: exp is not a number",
		"auth: malformed token: claims are not a JSON object",
	}
	lo, hi := time.Unix(-maxExp, 0), time.Unix(maxExp+1, 0)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := ReadClaims(token)
		u := NewUser("sid:x", token)
		if u.Token() != token {
			t.Fatal("NewUser changed the token")
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("error %v does not wrap ErrMalformedToken", err)
			}
			// Fixed messages only: the error can never echo the token.
			found := false
			for _, r := range reasons {
				found = found || err.Error() == r
			}
			if !found {
				t.Fatalf("unexpected error text %q", err)
			}
			if !u.ExpiredWithin(time.Unix(-maxExp, 0), 0) {
				t.Fatal("a malformed token is not expired")
			}
			return
		}
		if c.ExpiresAt.IsZero() {
			if _, ok := u.ExpiresAt(); ok || u.ExpiredWithin(time.Unix(maxExp, 0), time.Hour) {
				t.Fatal("no exp but an expiry")
			}
			return
		}
		if c.ExpiresAt.Location() != time.UTC || c.ExpiresAt.Before(lo) || !c.ExpiresAt.Before(hi) {
			t.Fatalf("insane exp %v", c.ExpiresAt)
		}
		exp, ok := u.ExpiresAt()
		if !ok || !exp.Equal(c.ExpiresAt) {
			t.Fatal("User disagrees with ReadClaims")
		}
		if u.ExpiredWithin(exp.Add(-time.Nanosecond), 0) || !u.ExpiredWithin(exp, 0) {
			t.Fatal("ExpiredWithin inconsistent at exp")
		}
	})
}

func FuzzParseLoginResponse(f *testing.F) {
	for _, s := range []string{
		`{"authenticationToken":"tok","user":{"userId":"sid:1"}}`,
		`{"authenticationToken":"tok","user":{"userId":"sid:1"}}}`,
		`{"authenticationToken":"tok","user":{"userId":"sid:1"}} x`,
		`{"authenticationToken":"","user":{"userId":"sid:1"}}`,
		`{"authenticationToken":1,"user":{"userId":"sid:1"}}`,
		`{"authenticationToken":"t","user":null}`,
		`{"AUTHENTICATIONTOKEN":"t","USER":{"USERID":"u"}}`,
		`<html></html>`, `null`, `[]`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := ParseLoginResponse(body)
		if err != nil {
			if !errors.Is(err, ErrInvalidLoginResponse) || u != nil {
				t.Fatalf("%v, %v", u, err)
			}
			if len(body) > 0 && strings.Contains(err.Error(), string(body)) && len(body) > 3 {
				t.Fatalf("error echoes the body: %v", err)
			}
			return
		}
		if u == nil || u.ID() == "" || u.Token() == "" {
			t.Fatalf("accepted without id or token: %v", u)
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not one JSON value: %q", body)
		}
	})
}

func FuzzParseLoginDone(f *testing.F) {
	login := url.QueryEscape(`{"authenticationToken":"tok","user":{"userId":"sid:1"}}`)
	for _, s := range []string{
		"https://app/.auth/login/done#token=" + login,
		"https://app/.auth/login/done#error=denied",
		"https://app/.auth/login/done#token=%7B",
		"https://app/.auth/login/done#token=%zz",
		"https://app/.auth/login/done",
		"https://app/.auth/login/done#token=" + login + "&error=x",
		"%zz", "", "#token=" + login,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseLoginDone(s)
		if err != nil {
			var le *LoginError
			if u != nil || !(errors.Is(err, ErrInvalidLoginResponse) || errors.Is(err, ErrLoginCancelled) || errors.As(err, &le)) {
				t.Fatalf("%v, %v", u, err)
			}
			_ = err.Error()
			return
		}
		if u == nil || u.ID() == "" || u.Token() == "" {
			t.Fatalf("accepted without id or token: %v", u)
		}
	})
}
