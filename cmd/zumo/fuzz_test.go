package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeItem: the JSON a user gives table insert/update is exactly
// one object or a clear error; never a panic, never a nil item.
func FuzzDecodeItem(f *testing.F) {
	for _, s := range []string{`{"id":"1","n":1}`, `{}`, `null`, `[1]`, `{"a":1} {"b":2}`, `{"a":`, ``, " \n ", `"x"`, `{"a":{"b":[1,{}]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		item, err := decodeItem([]byte(s))
		if err != nil {
			assert.Nil(t, item)
			assert.NotContains(t, err.Error(), "\n")
			return
		}
		require.NotNil(t, item)
		var v map[string]any
		require.NoError(t, json.NewDecoder(strings.NewReader(s)).Decode(&v), "accepted input must start with an object")
	})
}

// logSecrets are the parameters whose values the request log must not
// show (the SDK's list; spelled out here so the test checks it).
var logSecrets = map[string]bool{
	"code": true, "code_verifier": true, "authorization_code": true, "token": true,
	"access_token": true, "id_token": true, "authenticationtoken": true, "refresh_token": true,
	"client_secret": true, "password": true,
}

// FuzzRedactQuery: a secret parameter's value never reaches the request
// log, however the query is written.
func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{"code=abc&state=1", "a=1&access_token=xyz", "%63ode=abc", "Password=p%20w", "token", "=&&=", "code=a=b", "authorization_code=s3cr3t&state=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := redactQuery(raw)
		vals, err := url.ParseQuery(out)
		if err != nil {
			return
		}
		for k, vs := range vals {
			if logSecrets[strings.ToLower(k)] {
				for _, v := range vs {
					assert.Contains(t, []string{"", "REDACTED"}, v, "query %q logged as %q", raw, out)
				}
			}
		}
	})
}
