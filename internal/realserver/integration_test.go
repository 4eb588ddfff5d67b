//go:build integration

package realserver_test

// These tests check, against the real azure-mobile-apps 4.0.2 server, the
// behaviour that docs/protocol.md §8 describes, using plain net/http.
//
// Details found on the wire that a client could easily get wrong:
//   - Declared columns that an insert does not set come back as null in the
//     row (todoitem insert of {text} answers "due":null,"category":null).
//   - The Link header keeps every query parameter of the request: with
//     $orderby it is http://127.0.0.1/?%24orderby=…&%24top=50&%24skip=50; rel=next.
//   - $top between 51 and 1000 is not capped at the page size: $top=55 gives
//     55 rows; the page size of 50 applies when $top is missing or 0.
//   - __includeDeleted with an empty value ("__includeDeleted=") does not
//     include deleted rows (the server tests the string's truthiness);
//     "false", "0" or "no" do include them.
//   - A next link appears exactly when the page is full (rows == $top), so a
//     full last page gets a link to an empty page, as documented.
//
// Found later through the SDK (sdk_test.go, diff_test.go):
//   - tolower/toupper change ASCII letters only (sqlite's lower/upper):
//     tolower('ÜBER') is 'Über'.
//   - Numbers are stored as floats, so div is float division: 5 div 2 is 2.5.
//   - Column names in $filter are case-insensitive (sqlite's): Priority
//     matches the priority column.
//   - A column that dynamic schema adds for one insert appears as null in
//     every other row, as the declared ones do.
//   - The Link keeps Node's own escaping of the parameters: "(" ")" "'" stay
//     as they are (%24filter=(category%20eq%20'x')).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/realserver"
)

// ---------------------------------------------------------------------------
// a tiny client

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

func (r response) List(t testing.TB) []map[string]any {
	t.Helper()
	var l []map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &l), "body: %s", r.Body)
	return l
}

type client struct {
	base   string
	token  string
	header map[string]string // extra headers; "" value deletes
}

// Redirects are not followed: the tests look at the 302 itself.
var httpClient = &http.Client{
	Timeout:       15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func newClient(s *realserver.Server) *client { return &client{base: s.URL} }

func (c *client) withToken(tok string) *client {
	cp := *c
	cp.token = tok
	return &cp
}

func (c *client) do(t testing.TB, method, path string, body any, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(t, err)
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.token != "" {
		req.Header.Set("X-ZUMO-AUTH", c.token)
	}
	for k, v := range c.header {
		setOrDelete(req.Header, k, v)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		setOrDelete(req.Header, hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

func setOrDelete(h http.Header, k, v string) {
	if v == "" {
		h.Del(k)
	} else {
		h.Set(k, v)
	}
}

var idSeq atomic.Int64

func newID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), idSeq.Add(1))
}

func login(t testing.TB, s *realserver.Server, user, pass string) (string, string) {
	t.Helper()
	tok, uid, err := s.Login(context.Background(), user, pass)
	require.NoError(t, err)
	return tok, uid
}

func claimsOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// ---------------------------------------------------------------------------

func TestTables(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newClient(s)

	t.Run("EmptyTableQueries", func(t *testing.T) {
		r := c.do(t, "GET", "tables/secretitem", nil, "X-ZUMO-AUTH", s.MintToken("sid:x", time.Now(), time.Now().Add(time.Hour)))
		require.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, "[]", string(r.Body))
	})

	t.Run("InsertStrongETagDuplicate409", func(t *testing.T) {
		id := newID("ins")
		r := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "first", "complete": false, "priority": 1})
		require.Equal(t, 201, r.Status, "%s", r.Body)
		row := r.JSON(t)
		assert.Equal(t, id, row["id"])
		assert.Equal(t, "MQ==", row["version"], "every new sqlite row starts at MQ==")
		assert.Equal(t, `"`+row["version"].(string)+`"`, r.Header.Get("ETag"), "strong ETag")
		for _, k := range []string{"createdAt", "updatedAt", "deleted"} {
			assert.Contains(t, row, k)
		}
		// Declared columns absent from the insert come back null (docs/protocol.md §8).
		assert.Contains(t, row, "due")
		assert.Nil(t, row["due"])

		dup := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "second"})
		require.Equal(t, 409, dup.Status, "%s", dup.Body)
		body := dup.JSON(t)
		assert.Equal(t, "second", body["text"], "409 body echoes the request item, not the stored row")
		assert.NotContains(t, body, "createdAt")

		// Server-made id when none is sent.
		r = c.do(t, "POST", "tables/todoitem", map[string]any{"text": "no id"})
		require.Equal(t, 201, r.Status, "%s", r.Body)
		assert.NotEmpty(t, r.JSON(t)["id"])
	})

	t.Run("ReservedPropertiesRejected", func(t *testing.T) {
		for _, k := range []string{"createdAt", "updatedAt", "deleted"} {
			r := c.do(t, "POST", "tables/todoitem", map[string]any{"id": newID("res"), "text": "x", k: false})
			assert.Equal(t, 400, r.Status, "%s: %s", k, r.Body)
		}
	})

	t.Run("PatchPartialAndConcurrency", func(t *testing.T) {
		id := newID("upd")
		ins := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "keep me", "complete": false, "priority": 5})
		require.Equal(t, 201, ins.Status)
		v1 := ins.JSON(t)["version"].(string)

		up := c.do(t, "PATCH", "tables/todoitem/"+url.PathEscape(id), map[string]any{"complete": true}, "If-Match", `"`+v1+`"`)
		require.Equal(t, 200, up.Status, "%s", up.Body)
		row := up.JSON(t)
		assert.Equal(t, "keep me", row["text"], "PATCH is partial")
		assert.Equal(t, true, row["complete"])
		assert.EqualValues(t, 5, row["priority"])
		v2 := row["version"].(string)
		assert.NotEqual(t, v1, v2)
		assert.Equal(t, `"`+v2+`"`, up.Header.Get("ETag"))

		// Stale If-Match → 412 with the current row and its ETag.
		for _, m := range []struct{ method, path string }{
			{"PATCH", "tables/todoitem/" + id},
			{"DELETE", "tables/todoitem/" + id},
		} {
			var body any
			if m.method == "PATCH" {
				body = map[string]any{"text": "lost"}
			}
			r := c.do(t, m.method, m.path, body, "If-Match", `"`+v1+`"`)
			require.Equal(t, 412, r.Status, "%s %s", m.method, r.Body)
			cur := r.JSON(t)
			assert.Equal(t, "keep me", cur["text"])
			assert.Equal(t, v2, cur["version"])
			assert.Equal(t, `"`+v2+`"`, r.Header.Get("ETag"))
		}
		// If-Match: * → 412 as well.
		r := c.do(t, "PATCH", "tables/todoitem/"+id, map[string]any{"text": "star"}, "If-Match", "*")
		assert.Equal(t, 412, r.Status, "%s", r.Body)
		// Stale version in the body without If-Match → 409.
		r = c.do(t, "PATCH", "tables/todoitem/"+id, map[string]any{"text": "stale", "version": v1})
		require.Equal(t, 409, r.Status, "%s", r.Body)
		// Nothing was changed by any of these.
		r = c.do(t, "GET", "tables/todoitem/"+id, nil)
		require.Equal(t, 200, r.Status)
		assert.Equal(t, "keep me", r.JSON(t)["text"])
		assert.Equal(t, `"`+v2+`"`, r.Header.Get("ETag"))
	})

	t.Run("SoftDeleteAndUndelete", func(t *testing.T) {
		cat := newID("cat")
		id := newID("del")
		ins := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "doomed", "category": cat})
		require.Equal(t, 201, ins.Status)

		del := c.do(t, "DELETE", "tables/todoitem/"+id, nil)
		require.Equal(t, 200, del.Status, "%s", del.Body)
		row := del.JSON(t)
		assert.Equal(t, id, row["id"], "delete answers the deleted row")
		assert.Equal(t, true, row["deleted"])

		filter := "$filter=" + url.QueryEscape(fmt.Sprintf("(category eq '%s')", cat))
		assert.Equal(t, 404, c.do(t, "GET", "tables/todoitem/"+id, nil).Status)
		assert.Equal(t, 404, c.do(t, "GET", "tables/todoitem/"+id+"?__includeDeleted=true", nil).Status,
			"lookups never see deleted rows")
		assert.Empty(t, c.do(t, "GET", "tables/todoitem?"+filter, nil).List(t))
		for _, v := range []string{"true", "false", "0", "no"} {
			l := c.do(t, "GET", "tables/todoitem?"+filter+"&__includeDeleted="+v, nil).List(t)
			require.Len(t, l, 1, "__includeDeleted=%q", v)
			assert.Equal(t, true, l[0]["deleted"])
		}
		// Any non-empty value includes them; an empty value does not (docs/protocol.md §8).
		assert.Empty(t, c.do(t, "GET", "tables/todoitem?"+filter+"&__includeDeleted=", nil).List(t))

		und := c.do(t, "POST", "tables/todoitem/"+id, nil)
		require.Equal(t, 201, und.Status, "%s", und.Body)
		assert.Equal(t, false, und.JSON(t)["deleted"])
		assert.Equal(t, 200, c.do(t, "GET", "tables/todoitem/"+id, nil).Status)

		// Stale If-Match on undelete → 412.
		del = c.do(t, "DELETE", "tables/todoitem/"+id, nil)
		require.Equal(t, 200, del.Status)
		r := c.do(t, "POST", "tables/todoitem/"+id, nil, "If-Match", `"AAAAAAAAB9E="`)
		assert.Equal(t, 412, r.Status, "%s", r.Body)
	})

	t.Run("APIVersionHeader", func(t *testing.T) {
		id := newID("ver")
		for _, v := range []string{"", "3.0.0", "1.0.0"} {
			r := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "x"}, "ZUMO-API-VERSION", v)
			assert.Equal(t, 400, r.Status, "version %q: %s", v, r.Body)
		}
		assert.Equal(t, 404, c.do(t, "GET", "tables/todoitem/"+id, nil).Status, "nothing was inserted")
		r := c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "x"}, "ZUMO-API-VERSION", "2.0.1")
		assert.Equal(t, 201, r.Status, "2.0.x is accepted: %s", r.Body)
		// Only /tables checks it.
		assert.Equal(t, 200, c.do(t, "GET", "api/echo", nil, "ZUMO-API-VERSION", "").Status)
	})

	t.Run("PagingInlineCountAndLink", func(t *testing.T) {
		cat := newID("page")
		const n = 120
		for i := 0; i < n; i++ {
			r := c.do(t, "POST", "tables/todoitem", map[string]any{
				"id": fmt.Sprintf("%s-%03d", cat, i), "text": fmt.Sprintf("row %03d", i), "category": cat, "priority": i, "complete": i%2 == 0,
			})
			require.Equal(t, 201, r.Status, "%s", r.Body)
		}
		filter := "$filter=" + url.QueryEscape(fmt.Sprintf("(category eq '%s')", cat))

		r := c.do(t, "GET", "tables/todoitem?"+filter, nil)
		require.Equal(t, 200, r.Status)
		assert.Len(t, r.List(t), 50, "page size 50 without $top")
		assert.True(t, strings.HasPrefix(r.Header.Get("ETag"), `W/"`), "list ETag is a weak body hash: %q", r.Header.Get("ETag"))
		assert.Len(t, c.do(t, "GET", "tables/todoitem?"+filter+"&$top=0", nil).List(t), 50, "$top=0 → page size")
		assert.Len(t, c.do(t, "GET", "tables/todoitem?"+filter+"&$top=55", nil).List(t), 55, "$top above the page size is not capped")
		assert.Len(t, c.do(t, "GET", "tables/todoitem?"+filter+"&$top=1000", nil).List(t), n)
		assert.Equal(t, 400, c.do(t, "GET", "tables/todoitem?"+filter+"&$top=1001", nil).Status)

		// $inlinecount=allpages → {"results":[…],"count":N}.
		r = c.do(t, "GET", "tables/todoitem?"+filter+"&$orderby=priority&$top=10&$inlinecount=allpages", nil)
		require.Equal(t, 200, r.Status, "%s", r.Body)
		var counted struct {
			Results []map[string]any `json:"results"`
			Count   int              `json:"count"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &counted))
		assert.Equal(t, n, counted.Count)
		require.Len(t, counted.Results, 10)
		assert.EqualValues(t, 0, counted.Results[0]["priority"])

		// The broken Link header: no port, path "/", no angle brackets.
		r = c.do(t, "GET", "tables/todoitem?$top=50", nil)
		assert.Equal(t, "http://127.0.0.1/?%24top=50&%24skip=50; rel=next", r.Header.Get("Link"))
		r = c.do(t, "GET", "tables/todoitem?"+filter+"&$orderby=priority", nil)
		link := r.Header.Get("Link")
		require.True(t, strings.HasSuffix(link, "; rel=next"), "link %q", link)
		u, err := url.Parse(strings.TrimSuffix(link, "; rel=next"))
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", u.Host, "no port")
		assert.Equal(t, "/", u.Path, "path / instead of /tables/todoitem")
		assert.Equal(t, "50", u.Query().Get("$top"))
		assert.Equal(t, "50", u.Query().Get("$skip"))
		assert.Equal(t, "priority", u.Query().Get("$orderby"), "other parameters are kept")
		// Last full page (rows 100..119 with $top=20) still links to an empty page.
		r = c.do(t, "GET", "tables/todoitem?"+filter+"&$orderby=priority&$skip=100&$top=20", nil)
		require.Len(t, r.List(t), 20)
		assert.Contains(t, r.Header.Get("Link"), "%24skip=120")
		r = c.do(t, "GET", "tables/todoitem?"+filter+"&$orderby=priority&$skip=120&$top=20", nil)
		assert.Empty(t, r.List(t))
		assert.Empty(t, r.Header.Get("Link"))
		// A short page has no link.
		r = c.do(t, "GET", "tables/todoitem?"+filter+"&$orderby=priority&$skip=110&$top=20", nil)
		assert.Len(t, r.List(t), 10)
		assert.Empty(t, r.Header.Get("Link"))
	})

	t.Run("Filters", func(t *testing.T) {
		cat := newID("flt")
		for i, text := range []string{"Alpha", "beta", "Gamma"} {
			require.Equal(t, 201, c.do(t, "POST", "tables/todoitem", map[string]any{
				"id": newID("f"), "text": text, "category": cat, "priority": i, "complete": i == 1,
			}).Status)
		}
		q := func(f string) response {
			return c.do(t, "GET", "tables/todoitem?$filter="+url.QueryEscape(fmt.Sprintf("(category eq '%s') and %s", cat, f)), nil)
		}
		assert.Len(t, q("(complete eq false)").List(t), 2)
		assert.Len(t, q("((priority add 1) gt 1)").List(t), 2)
		assert.Len(t, q("(tolower(text) eq 'alpha')").List(t), 1)
		assert.Len(t, q("not(complete)").List(t), 2)
		assert.Len(t, q("(due eq null)").List(t), 3)
		assert.Len(t, q("(createdAt gt datetimeoffset'2000-01-01T00:00:00.0000000+00:00')").List(t), 3)
		// On sqlite these silently match nothing.
		assert.Empty(t, q("startswith(text,'Al')").List(t))
		assert.Empty(t, q("substringof('et',text)").List(t))
		// Unknown column → 200 [].
		r := q("(nosuchcolumn eq 1)")
		assert.Equal(t, 200, r.Status)
		assert.Empty(t, r.List(t))
		// Parse error → 500, not 400; length() → 500 on sqlite.
		assert.Equal(t, 500, c.do(t, "GET", "tables/todoitem?$filter="+url.QueryEscape("(text eq"), nil).Status)
		assert.Equal(t, 500, q("(length(text) eq 5)").Status)
	})

	t.Run("OddRoutes", func(t *testing.T) {
		assert.Equal(t, 500, c.do(t, "HEAD", "tables/todoitem", nil).Status)
		r := c.do(t, "GET", "no/such/route", nil)
		assert.Equal(t, 404, r.Status)
		assert.Contains(t, r.Header.Get("Content-Type"), "text/html")
	})
}

func TestCustomAPIs(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newClient(s)

	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		var body any
		if m != "GET" && m != "DELETE" {
			body = map[string]any{"n": 1, "$odd": "ok"}
		}
		r := c.do(t, m, "api/echo?$a=1&b=two", body, "X-ZUMO-FEATURES", "AJ,QS")
		require.Equal(t, 200, r.Status, "%s %s", m, r.Body)
		e := r.JSON(t)
		assert.Equal(t, m, e["method"])
		assert.Equal(t, map[string]any{"$a": "1", "b": "two"}, e["query"])
		if body != nil {
			assert.Equal(t, map[string]any{"n": 1.0, "$odd": "ok"}, e["body"])
		}
		h := e["headers"].(map[string]any)
		assert.Equal(t, "2.0.0", h["zumo-api-version"])
		assert.Equal(t, "AJ,QS", h["x-zumo-features"])
		assert.Nil(t, e["userId"])
		assert.True(t, strings.HasPrefix(r.Header.Get("ETag"), `W/"`), "custom API ETag is weak")
	}
	// A raw text body is echoed as a string.
	r := c.do(t, "POST", "api/echo", "plain words", "Content-Type", "text/plain")
	require.Equal(t, 200, r.Status)
	assert.Equal(t, "plain words", r.JSON(t)["body"])

	// Authenticated API.
	r = c.do(t, "GET", "api/secret", nil)
	assert.Equal(t, 401, r.Status)
	tok, uid := login(t, s, realserver.DefaultUsername, realserver.DefaultPassword)
	for _, m := range []string{"GET", "POST"} {
		r = c.withToken(tok).do(t, m, "api/secret", map[string]any{})
		require.Equal(t, 200, r.Status, "%s", r.Body)
		assert.Equal(t, uid, r.JSON(t)["userId"])
	}

	// api/status answers the asked status.
	r = c.do(t, "GET", "api/status?code=418&message=teapot", nil)
	assert.Equal(t, 418, r.Status)
	assert.Equal(t, "teapot", r.JSON(t)["error"])
}

func TestAuth(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newClient(s)

	// No token on an authenticated table → 401 with a plain-text body.
	r := c.do(t, "GET", "tables/secretitem", nil)
	require.Equal(t, 401, r.Status)
	assert.Equal(t, "You must be logged in to use this application", string(r.Body))
	assert.Empty(t, r.Header.Get("WWW-Authenticate"))
	assert.Equal(t, 401, c.do(t, "POST", "tables/secretitem", map[string]any{"text": "x"}).Status)

	// Wrong password → 401.
	r = c.do(t, "POST", ".auth/login/custom", map[string]any{"username": "testuser", "password": "nope"})
	assert.Equal(t, 401, r.Status)
	r = c.do(t, "POST", ".auth/login/custom", map[string]any{"username": "nobody", "password": ""})
	assert.Equal(t, 401, r.Status)

	// Custom login → 200 with the login response shape.
	r = c.do(t, "POST", ".auth/login/custom", map[string]any{"username": "testuser", "password": "testpassword"})
	require.Equal(t, 200, r.Status, "%s", r.Body)
	var lr struct {
		Token string `json:"authenticationToken"`
		User  struct {
			UserID string `json:"userId"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	require.NotEmpty(t, lr.Token)
	assert.Equal(t, realserver.UserID("testuser"), lr.User.UserID)
	cl := claimsOf(t, lr.Token)
	assert.Equal(t, lr.User.UserID, cl["sub"])
	assert.Equal(t, realserver.Issuer, cl["iss"])
	assert.Equal(t, realserver.Audience, cl["aud"])
	now := float64(time.Now().Unix())
	assert.InDelta(t, now, cl["iat"], 5)
	assert.Equal(t, cl["iat"], cl["nbf"])
	assert.InDelta(t, now+3600, cl["exp"], 5)

	// The token works, through X-ZUMO-AUTH or Authorization: Bearer.
	id := newID("sec")
	r = c.withToken(lr.Token).do(t, "POST", "tables/secretitem", map[string]any{"id": id, "text": "hidden"})
	require.Equal(t, 201, r.Status, "%s", r.Body)
	r = c.do(t, "GET", "tables/secretitem/"+id, nil, "Authorization", "Bearer "+lr.Token)
	require.Equal(t, 200, r.Status, "%s", r.Body)

	// The stub login of azure-mobile-apps still answers other providers with a
	// 302 to "done#token=<login JSON>" for a fixed user.
	r = c.do(t, "GET", ".auth/login/facebook", nil)
	assert.Equal(t, 302, r.Status)
	assert.True(t, strings.HasPrefix(r.Header.Get("Location"), "done#token="), "location %q", r.Header.Get("Location"))

	// Refresh → a fresh token for the same user.
	r = c.withToken(lr.Token).do(t, "GET", ".auth/refresh", nil, "X-ZUMO-FEATURES", "RT")
	require.Equal(t, 200, r.Status, "%s", r.Body)
	var rr struct {
		Token string `json:"authenticationToken"`
		User  struct {
			UserID string `json:"userId"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &rr))
	assert.Equal(t, lr.User.UserID, rr.User.UserID)
	assert.Equal(t, lr.User.UserID, claimsOf(t, rr.Token)["sub"])
	assert.Equal(t, 200, c.withToken(rr.Token).do(t, "GET", "tables/secretitem/"+id, nil).Status)
	assert.Equal(t, 401, c.do(t, "GET", ".auth/refresh", nil).Status, "refresh without a token")

	// Bad tokens are rejected on every route, anonymous tables included.
	expired := s.MintToken(lr.User.UserID, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	foreign := realserver.SignToken("another key", lr.User.UserID, time.Now(), time.Now().Add(time.Hour))
	for _, tc := range []struct{ token, name, message string }{
		{expired, "TokenExpiredError", "jwt expired"},
		{foreign, "JsonWebTokenError", "invalid signature"},
		{"not-a-jwt", "JsonWebTokenError", "jwt malformed"},
	} {
		for _, path := range []string{"tables/todoitem", "tables/secretitem", "api/echo"} {
			r := c.withToken(tc.token).do(t, "GET", path, nil)
			require.Equal(t, 401, r.Status, "%s on %s: %s", tc.message, path, r.Body)
			e := r.JSON(t)
			assert.Equal(t, tc.name, e["name"])
			assert.Equal(t, tc.message, e["message"])
		}
		r := c.withToken(tc.token).do(t, "GET", ".auth/refresh", nil)
		assert.Equal(t, 401, r.Status, "refresh with %s", tc.message)
	}

	// A token that is not yet valid (nbf in the future).
	future := s.MintToken(lr.User.UserID, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
	r = c.withToken(future).do(t, "GET", "tables/todoitem", nil)
	assert.Equal(t, 401, r.Status)
	assert.Equal(t, "jwt not active", r.JSON(t)["message"])

	// Per-user table: each user sees only its own rows.
	tokA := lr.Token
	tokB, _ := login(t, s, realserver.OtherUsername, realserver.OtherPassword)
	r = c.withToken(tokA).do(t, "POST", "tables/useritem", map[string]any{"text": "mine"})
	require.Equal(t, 201, r.Status, "%s", r.Body)
	assert.Len(t, c.withToken(tokA).do(t, "GET", "tables/useritem", nil).List(t), 1)
	assert.Empty(t, c.withToken(tokB).do(t, "GET", "tables/useritem", nil).List(t))
}

// The one test that waits for the server's clock (≤ 2.5 s): a token issued
// with TOKEN_LIFETIME_SECONDS=1 expires with no clock tolerance.
func TestTokenExpiresOnTheServersClock(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{TokenLifetime: time.Second})
	c := newClient(s)

	// exp = floor(now)+1 on the server (same machine clock): log in early in a
	// second so the token is certainly still valid for the first request.
	if frac := time.Duration(time.Now().Nanosecond()); frac > 400*time.Millisecond {
		time.Sleep(time.Second - frac + 10*time.Millisecond)
	}
	tok, _ := login(t, s, realserver.DefaultUsername, realserver.DefaultPassword)
	exp := int64(claimsOf(t, tok)["exp"].(float64))
	iat := int64(claimsOf(t, tok)["iat"].(float64))
	assert.Equal(t, int64(1), exp-iat)

	r := c.withToken(tok).do(t, "GET", "tables/secretitem", nil)
	require.Equal(t, 200, r.Status, "fresh token: %s", r.Body)

	// jsonwebtoken rejects once floor(now) >= exp.
	wait := time.Until(time.Unix(exp, 50*int64(time.Millisecond)))
	require.LessOrEqual(t, wait, 2500*time.Millisecond)
	time.Sleep(wait)

	for _, path := range []string{"tables/secretitem", "tables/todoitem"} {
		r = c.withToken(tok).do(t, "GET", path, nil)
		require.Equal(t, 401, r.Status, "%s: %s", path, r.Body)
		e := r.JSON(t)
		assert.Equal(t, "TokenExpiredError", e["name"])
		assert.Equal(t, "jwt expired", e["message"])
	}
	r = c.withToken(tok).do(t, "GET", ".auth/refresh", nil)
	assert.Equal(t, 401, r.Status)
	assert.Equal(t, "jwt expired", r.JSON(t)["message"])
}

func TestRestartWithNewSecret(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{Secret: "first secret"})
	c := newClient(s)
	url0, db0 := s.URL, s.DBPath

	tok, _ := login(t, s, realserver.DefaultUsername, realserver.DefaultPassword)
	id := newID("keep")
	require.Equal(t, 201, c.do(t, "POST", "tables/todoitem", map[string]any{"id": id, "text": "survives"}).Status)
	require.Equal(t, 200, c.withToken(tok).do(t, "GET", "tables/secretitem", nil).Status)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, s.Restart(ctx, "second secret"))
	assert.Equal(t, url0, s.URL, "same port")
	assert.Equal(t, db0, s.DBPath)
	assert.Equal(t, "second secret", s.Secret)

	r := c.withToken(tok).do(t, "GET", "tables/todoitem", nil)
	require.Equal(t, 401, r.Status, "%s", r.Body)
	assert.Equal(t, "JsonWebTokenError", r.JSON(t)["name"])
	assert.Equal(t, "invalid signature", r.JSON(t)["message"])

	r = c.do(t, "GET", "tables/todoitem/"+id, nil)
	require.Equal(t, 200, r.Status, "data survives a restart: %s", r.Body)
	assert.Equal(t, "survives", r.JSON(t)["text"])

	tok2, _ := login(t, s, realserver.DefaultUsername, realserver.DefaultPassword)
	assert.Equal(t, 200, c.withToken(tok2).do(t, "GET", "tables/secretitem", nil).Status)
}

func TestCounters(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	c := newClient(s)
	ctx := context.Background()

	// Start-up polling of /counters is not counted.
	got, err := s.Counters(ctx)
	require.NoError(t, err)
	assert.Equal(t, realserver.Counters{}, got)

	tok, _ := login(t, s, realserver.DefaultUsername, realserver.DefaultPassword)                                               // login 1
	assert.Equal(t, 401, c.do(t, "POST", ".auth/login/custom", map[string]any{"username": "testuser", "password": "x"}).Status) // login 2, 401 #1
	assert.Equal(t, 401, c.do(t, "GET", "tables/secretitem", nil).Status)                                                       // 401 #2
	assert.Equal(t, 401, c.withToken("garbage").do(t, "GET", "api/echo", nil).Status)                                           // 401 #3
	assert.Equal(t, 200, c.withToken(tok).do(t, "GET", ".auth/refresh", nil).Status)                                            // refresh 1
	assert.Equal(t, 401, c.do(t, "GET", ".auth/refresh", nil).Status)                                                           // refresh 2, 401 #4
	assert.Equal(t, 200, c.do(t, "GET", "tables/todoitem", nil).Status)

	got, err = s.Counters(ctx)
	require.NoError(t, err)
	assert.Equal(t, realserver.Counters{Logins: 2, Refreshes: 2, Unauthorized: 4, Requests: 7}, got)

	require.NoError(t, s.ResetCounters(ctx))
	got, err = s.Counters(ctx)
	require.NoError(t, err)
	assert.Equal(t, realserver.Counters{}, got)
}
