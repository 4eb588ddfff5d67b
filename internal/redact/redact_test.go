package redact_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/redact"
)

func TestIsSecretHeader(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"X-ZUMO-AUTH", true},
		{"x-zumo-auth", true},
		{"X-Zumo-Application", true},
		{"Authorization", true},
		{"authorization", true},
		{"Proxy-Authorization", true},
		{"Cookie", true},
		{"set-cookie", true},
		{"ZUMO-API-VERSION", false},
		{"Content-Type", false},
		{"X-Zumo-Auth-Extra", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, redact.IsSecretHeader(tt.name))
		})
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{"nil", nil, http.Header{}},
		{"empty", http.Header{}, http.Header{}},
		{
			name: "secrets redacted, others kept",
			in: http.Header{
				"X-Zumo-Auth":        {"tok"},
				"X-Zumo-Application": {"key"},
				"Authorization":      {"Bearer abc", "Basic def"},
				"Zumo-Api-Version":   {"2.0.0"},
				"Accept":             {"a", "b"},
			},
			want: http.Header{
				"X-Zumo-Auth":        {"REDACTED"},
				"X-Zumo-Application": {"REDACTED"},
				"Authorization":      {"REDACTED", "REDACTED"},
				"Zumo-Api-Version":   {"2.0.0"},
				"Accept":             {"a", "b"},
			},
		},
		{
			name: "non-canonical names",
			in:   http.Header{"x-zumo-auth": {"tok"}, "set-cookie": {"a=b"}, "x-other": {"v"}},
			want: http.Header{"x-zumo-auth": {"REDACTED"}, "set-cookie": {"REDACTED"}, "x-other": {"v"}},
		},
		{
			name: "empty values stay empty",
			in:   http.Header{"Authorization": {}},
			want: http.Header{"Authorization": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.in.Clone()
			got := redact.Header(tt.in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, tt.in, "the input is not changed")
			if len(got["Accept"]) > 0 {
				got["Accept"][0] = "changed"
				assert.NotEqual(t, "changed", tt.in["Accept"][0], "the copy shares no slices")
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "https://app.example.test/tables/todo", "https://app.example.test/tables/todo"},
		{"ordinary query kept byte for byte", "https://h/t?$filter=a%20eq%20'b'&$top=5", "https://h/t?$filter=a%20eq%20'b'&$top=5"},
		{"user info", "https://alice:s3cret@h/p", "https://REDACTED@h/p"},
		{"user only", "https://alice@h/p", "https://REDACTED@h/p"},
		{"token", "https://h/p?token=abc&x=1", "https://h/p?token=REDACTED&x=1"},
		{"every secret param", "https://h/p?access_token=1&id_token=2&authenticationToken=3&authorization_code=4&code=5&code_verifier=6&refresh_token=7&client_secret=8&password=9",
			"https://h/p?access_token=REDACTED&id_token=REDACTED&authenticationToken=REDACTED&authorization_code=REDACTED&code=REDACTED&code_verifier=REDACTED&refresh_token=REDACTED&client_secret=REDACTED&password=REDACTED"},
		{"case-insensitive name", "https://h/p?TOKEN=abc&Access_Token=def", "https://h/p?TOKEN=REDACTED&Access_Token=REDACTED"},
		{"escaped name", "https://h/p?%74oken=abc", "https://h/p?%74oken=REDACTED"},
		{"value with '='", "https://h/p?token=a=b=c&x=1", "https://h/p?token=REDACTED&x=1"},
		{"semicolon separator", "https://h/p?x=1;token=abc", "https://h/p?x=1;token=REDACTED"},
		{"repeated", "https://h/p?token=a&token=b", "https://h/p?token=REDACTED&token=REDACTED"},
		{"name without value", "https://h/p?token&x=1", "https://h/p?token&x=1"},
		{"empty value", "https://h/p?token=", "https://h/p?token=REDACTED"},
		{"similar names kept", "https://h/p?tokens=1&mytoken=2&token_type=bearer", "https://h/p?tokens=1&mytoken=2&token_type=bearer"},
		{"fragment token", "https://h/.auth/login/done#token=%7B%22authenticationToken%22%3A%22abc%22%7D",
			"https://h/.auth/login/done#token=REDACTED"},
		{"fragment OAuth implicit", "https://h/cb#access_token=abc&token_type=bearer&expires_in=3600",
			"https://h/cb#access_token=REDACTED&token_type=bearer&expires_in=3600"},
		{"fragment route with query", "https://h/#/callback?token=abc&x=1", "https://h/#/callback?token=REDACTED&x=1"},
		{"ordinary fragment kept", "https://h/p#section-2", "https://h/p#section-2"},
		{"everything at once", "https://u:p@h/p?token=a&b=c#id_token=d",
			"https://REDACTED@h/p?token=REDACTED&b=c#id_token=REDACTED"},
		{"secret after a non-secret value", "https://h/p?next=/a?token=abc&x=1", "https://h/p?next=/a?token=REDACTED&x=1"},
		{"secret value containing '?'", "https://h/p?token=ab?cd=ef&x=1", "https://h/p?token=REDACTED&x=1"},
		{"escaped '?' before the name", "https://h/p?x=1%3Ftoken=abc", "https://h/p?x=1%3Ftoken=REDACTED"},
		{"fragment with '#' inside", "https://h/p#frag?x=1%23/cb?code=abc", "https://h/p#frag?x=1%23/cb?code=REDACTED"},
		{"relative", "/tables/todo?token=abc", "/tables/todo?token=REDACTED"},
		{"secret in an escaped value", "https://h/p?next=%2Fcb%3Ftoken%3Dabc&x=1", "https://h/p?next=REDACTED&x=1"},
		{"secret escaped twice", "https://h/p?next=%252Fcb%253Fcode%253Dabc", "https://h/p?next=REDACTED"},
		{"escaped secret after another escaped param", "https://h/p?r=%2Fcb%3Fx%3D1%26authorization_code%3Dabc", "https://h/p?r=REDACTED"},
		{"escaped secret in a name without a value", "https://h/p?x%3Dtoken%3Dabc&y=1", "https://h/p?REDACTED&y=1"},
		{"escaped non-secret value kept", "https://h/p?$filter=text%20eq%20'a%3Db'&next=%2Fcb%3Fstate%3D1", "https://h/p?$filter=text%20eq%20'a%3Db'&next=%2Fcb%3Fstate%3D1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.in)
			require.NoError(t, err)
			before := *u
			assert.Equal(t, tt.want, redact.URL(u))
			assert.Equal(t, before, *u, "the URL is not changed")
			assert.Equal(t, tt.want, redact.URLString(tt.in))
		})
	}
	t.Run("nil", func(t *testing.T) {
		assert.Empty(t, redact.URL(nil))
	})
}

func TestURLStringUnparsable(t *testing.T) {
	for _, in := range []string{"https://h/p%zz?token=abc", "http://[::1", "https://h:port/?token=abc", "\x7f://token=abc"} {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, redact.Placeholder, redact.URLString(in))
		})
	}
}

func TestURLSecrets(t *testing.T) {
	u, err := url.Parse("https://alice:p%40ss@h/p?token=a%2Bb&x=1;code=xyz#/cb?access_token=frag")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"alice", "p@ss", "a%2Bb", "a+b", "xyz", "frag"}, redact.URLSecrets(u))
	assert.Nil(t, redact.URLSecrets(nil))
	u, err = url.Parse("https://h/p?next=%2Fcb%3Ftoken%3Dabcd")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"%2Fcb%3Ftoken%3Dabcd", "/cb?token=abcd", "abcd"}, redact.URLSecrets(u),
		"a secret in an escaped value: the value as written and unescaped, and the secret")
	u, err = url.Parse("https://h/p?x=1")
	require.NoError(t, err)
	assert.Empty(t, redact.URLSecrets(u))
}

func TestHeaderSecrets(t *testing.T) {
	h := http.Header{
		"X-Zumo-Auth":   {"tok"},
		"Authorization": {"Bearer abc", "Basic  def "},
		"Accept":        {"secret-looking-but-not"},
	}
	assert.ElementsMatch(t, []string{"tok", "Bearer abc", "abc", "Basic  def ", "def"}, redact.HeaderSecrets(h))
	assert.Empty(t, redact.HeaderSecrets(nil))
}

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"no secrets", "hello", nil, "hello"},
		{"one", "token abcd1234 rejected", []string{"abcd1234"}, "token REDACTED rejected"},
		{"every occurrence", "abcd1234/abcd1234", []string{"abcd1234"}, "REDACTED/REDACTED"},
		{"several", "a=key1234 b=tok5678", []string{"key1234", "tok5678"}, "a=REDACTED b=REDACTED"},
		{"short secrets ignored", "a b abc", []string{"", "a", "abc"}, "a b abc"},
		{"four bytes redacted", "pin 1234", []string{"1234"}, "pin REDACTED"},
		{"absent secret", "nothing here", []string{"abcdef"}, "nothing here"},
		{"containing secret replaced first", "x abcdefgh y", []string{"abcd", "abcdefgh"}, "x REDACTED y"},
		{"contained secret alone", "x abcd y abcdefgh", []string{"abcd", "abcdefgh"}, "x REDACTED y REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]string(nil), tt.secrets...)
			assert.Equal(t, tt.want, redact.String(tt.in, tt.secrets...))
			assert.Equal(t, in, tt.secrets, "the secrets slice is not reordered")
		})
	}
}

func TestToken(t *testing.T) {
	assert.Equal(t, "<none>", redact.Token(""))
	got := redact.Token("eyJhbGciOiJIUzI1NiJ9.payload.signature")
	assert.Equal(t, redact.Placeholder, got)
	assert.NotContains(t, got, "eyJ")
}

// isAlnum reports whether s is made of ASCII letters and digits only.
func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func FuzzURLString(f *testing.F) {
	seeds := []struct{ raw, secret string }{
		{"https://app.example.test/tables/todo?$top=5", "s3cretTokenValue"},
		{"https://alice:pw@h/p?token=abc#access_token=def", "abcdefgh12"},
		{"https://h/#/cb?code=1;x=2", "zzzzzzzz"},
		{"a=1&b=2", "TOKENVALUE"},
		{"%zz", "abcdefgh"},
		{"#frag?x=1", "abcdefgh"},
		{"?token", "abcdefgh"},
		{"", "REDACTED"},
	}
	for _, s := range seeds {
		f.Add(s.raw, s.secret)
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		// Any input: no panic, and a result that parses has no secret
		// value left in it.
		out := redact.URLString(raw)
		if u, err := url.Parse(out); err == nil {
			for _, v := range redact.URLSecrets(u) {
				if v != redact.Placeholder {
					t.Fatalf("URLString(%q) = %q still carries %q", raw, out, v)
				}
			}
		}

		// A distinctive secret put where secrets go never survives,
		// whatever surrounds it.
		if len(secret) < 8 || !isAlnum(secret) || strings.Contains(redact.Placeholder, secret) {
			return
		}
		if strings.Contains(raw, secret) {
			return
		}
		for _, tmpl := range []string{
			"https://u:SECRET@h/p?" + raw,
			"https://h/p?" + raw + "&token=SECRET",
			"https://h/p?" + raw + ";access_token=SECRET",
			"https://h/p?x=1#" + raw + "&id_token=SECRET",
			"https://h/" + raw + "#/cb?code=SECRET",
			"https://h/p?" + raw + "&next=" + url.QueryEscape("/cb?"+raw+"&token=SECRET"),
		} {
			// Escaping raw may itself spell the secret ("%20" then
			// "0000000"); a control without the secret rules that out.
			if control := redact.URLString(strings.ReplaceAll(tmpl, "SECRET", "-")); strings.Contains(control, secret) {
				continue
			}
			in := strings.ReplaceAll(tmpl, "SECRET", secret)
			if got := redact.URLString(in); strings.Contains(got, secret) {
				t.Fatalf("URLString(%q) = %q leaks the secret", in, got)
			}
		}
	})
}
