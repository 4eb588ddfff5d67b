package main

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
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

// FuzzListFlags: whatever --filter, --orderby and --select hold, the list
// flags give a usage error or a query; one that builds orders by exactly
// the keys --orderby names, in their order.
func FuzzListFlags(f *testing.F) {
	for _, s := range [][3]string{
		{"complete eq false", "priority desc, text", "id,text"},
		{"", " , ,", ""},
		{"(", "a asc,b DESC", "*"},
		{"", "a sideways", "a,,b"},
		{"", " desc", ""},
		{"", "a/b desc", "a b"},
	} {
		f.Add(s[0], s[1], s[2], 2, 0)
	}
	c, err := zumo.NewClient("http://127.0.0.1:1/")
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, filter, orderby, sel string, top, skip int) {
		flags := &listFlags{filter: filter, orderby: orderby, sel: sel, top: top, skip: skip}
		q, err := applyList(c.Table("items").Query(), flags)
		if err != nil {
			var ue *usageError
			require.ErrorAs(t, err, &ue)
			return
		}
		qs, err := q.QueryString()
		if err != nil {
			return // the SDK refuses a name or the filter: its own typed errors
		}
		vals, err := url.ParseQuery(qs)
		require.NoError(t, err, qs)
		var want []string
		for _, key := range splitList(orderby) {
			field, dir, _ := strings.Cut(key, " ")
			k := strings.TrimSpace(field)
			if strings.EqualFold(strings.TrimSpace(dir), "desc") {
				k += " desc"
			}
			want = append(want, k)
		}
		if len(want) > 0 {
			assert.Equal(t, strings.Join(want, ","), vals.Get("$orderby"), "--orderby %q", orderby)
		}
	})
}

// FuzzTableDecl: a --table value is NAME or NAME:opt,opt; anything else is
// a usage error, and an accepted one keeps its name and each option.
func FuzzTableDecl(f *testing.F) {
	for _, s := range []string{"todo", "todo:authenticated", "todo:soft-delete, authenticated", "todo:", ":x", "a:b:c", "t:,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, decl string) {
		name, opts, err := tableDecl(decl)
		if err != nil {
			var ue *usageError
			require.ErrorAs(t, err, &ue)
			return
		}
		before, after, _ := strings.Cut(decl, ":")
		assert.Equal(t, before, name)
		assert.Len(t, opts, len(splitList(after)))
	})
}
