package auth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseFragment: any fragment gives exactly one of a code, a user or an
// error; errors are of the documented kinds and never contain the code or
// the token the fragment carried.
func FuzzParseFragment(f *testing.F) {
	tok := mintToken("sid:1", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	login := `{"authenticationToken":"` + tok + `","user":{"userId":"sid:1"}}`
	for _, s := range []string{
		"authorization_code=abc",
		"#authorization_code=abc",
		"authorization_code=",
		"authorization_code=a&authorization_code=b",
		"token=" + url.QueryEscape(login),
		"#token=" + url.QueryEscape(login),
		"token=" + url.QueryEscape(login) + "&authorization_code=abc",
		"token=%7B%7D",
		"token=" + login,
		"error=access_denied",
		"error=access_denied&error_description=The+user+said+no",
		"error=abc12345&authorization_code=abc12345",
		"", "#", "state=x", "%zz", "a=%", ";", "token=&error=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frag string) {
		code, u, err := parseFragment(frag)
		vals, _ := url.ParseQuery(strings.TrimPrefix(frag, "#"))
		switch {
		case err != nil:
			if code != "" || u != nil {
				t.Fatalf("error %v with a result", err)
			}
			var le *LoginError
			if !errors.As(err, &le) && !errors.Is(err, ErrInvalidLoginResponse) && !errors.Is(err, ErrLoginCancelled) {
				t.Fatalf("undocumented error %T %v", err, err)
			}
			for _, k := range []string{"authorization_code", "token"} {
				// A value without a digit may be a piece of the message's
				// own words ("hori" of "authorization_code"), which hold
				// no digit; a value with one found there came from the
				// fragment.
				if v := vals.Get(k); len(v) >= 4 && strings.ContainsAny(v, "0123456789") && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q contains the %s", err, k)
				}
			}
		case code != "":
			if u != nil || code != vals.Get("authorization_code") {
				t.Fatalf("code %q from %q", code, frag)
			}
		case u != nil:
			if u.Token() == "" || u.ID() == "" || u.Token() != mustUser(t, vals.Get("token")).Token() {
				t.Fatalf("user %v from %q", u, frag)
			}
		default:
			t.Fatalf("nothing from %q", frag)
		}
	})
}

func mustUser(t *testing.T, body string) *User {
	u, err := ParseLoginResponse([]byte(body))
	if err != nil {
		t.Fatalf("token form accepted but does not parse: %v", err)
	}
	return u
}
