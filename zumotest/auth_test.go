package zumotest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// login posts a login body and returns the token and user id.
func login(t testing.TB, s *Server, path, body string) (token, userID string) {
	t.Helper()
	r := do(t, s, req{method: http.MethodPost, path: path, body: body, noVer: true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var lr struct {
		AuthenticationToken string `json:"authenticationToken"`
		User                struct {
			UserID string `json:"userId"`
		} `json:"user"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	require.NotEmpty(t, lr.AuthenticationToken)
	return lr.AuthenticationToken, lr.User.UserID
}

func claimsOf(t testing.TB, tok string, key []byte) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	require.NoError(t, err)
	return c
}

func TestLogin(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithSigningKey(testKey), WithTokenLifetime(2*time.Hour),
		WithUser("custom", "ann", "s3cret", "sid:ann"),
		WithUser("custom", "bob", "pw", "sid:bob"),
		WithLogin("corp", func(body json.RawMessage) (string, error) {
			var b struct{ Badge string }
			if err := json.Unmarshal(body, &b); err != nil || b.Badge != "42" {
				return "", errors.New("unknown badge")
			}
			return "sid:badge42", nil
		}),
	)

	tok, uid := login(t, s, "/.auth/login/custom", `{"username":"ann","password":"s3cret"}`)
	assert.Equal(t, "sid:ann", uid)
	c := claimsOf(t, tok, testKey)
	assert.Equal(t, "sid:ann", c["sub"])
	assert.Equal(t, zumoURN, c["aud"])
	assert.Equal(t, zumoURN, c["iss"])
	assert.Equal(t, float64(epoch.Unix()), c["iat"])
	assert.Equal(t, float64(epoch.Add(2*time.Hour).Unix()), c["exp"])
	assert.Equal(t, "custom", c["idp"])

	_, uid = login(t, s, "/.auth/login/CUSTOM", `{"username":"bob","password":"pw"}`)
	assert.Equal(t, "sid:bob", uid)
	_, uid = login(t, s, "/.auth/login/corp", `{"badge":"42"}`)
	assert.Equal(t, "sid:badge42", uid)

	fbTok, fbUser := login(t, s, "/.auth/login/facebook", `{"access_token":"fb-token-1"}`)
	assert.True(t, strings.HasPrefix(fbUser, "sid:"), fbUser)
	assert.Equal(t, "facebook", claimsOf(t, fbTok, testKey)["idp"])
	_, again := login(t, s, "/.auth/login/facebook", `{"access_token":"fb-token-1"}`)
	assert.Equal(t, fbUser, again, "the same provider token is the same user")
	_, g := login(t, s, "/.auth/login/google", `{"id_token":"g"}`)
	assert.NotEqual(t, fbUser, g)
	login(t, s, "/.auth/login/microsoftaccount", `{"authenticationToken":"m"}`)

	failures := []struct {
		name, path, body string
		status           int
	}{
		{"wrong password", "/.auth/login/custom", `{"username":"ann","password":"nope"}`, http.StatusUnauthorized},
		{"unknown user", "/.auth/login/custom", `{"username":"zed","password":""}`, http.StatusUnauthorized},
		{"login func error", "/.auth/login/corp", `{"badge":"7"}`, http.StatusUnauthorized},
		{"no provider token", "/.auth/login/facebook", `{"token":""}`, http.StatusBadRequest},
		{"malformed body", "/.auth/login/custom", `{"username":`, http.StatusBadRequest},
		{"unknown provider", "/.auth/login/myspace", `{"access_token":"x"}`, http.StatusNotFound},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, req{method: http.MethodPost, path: tt.path, body: tt.body, noVer: true})
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			assert.NotEmpty(t, r.errMsg(t))
		})
	}
	r := do(t, s, req{path: "/.auth/login/custom", noVer: true})
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status, "server-directed login is not supported")

	st := s.Stats()
	assert.Equal(t, 7, st.Logins)
	assert.Equal(t, 3, st.Unauthorized)
	assert.Equal(t, 5, st.Routes["POST /.auth/login/custom"])
	assert.Equal(t, 1, st.Routes["GET /.auth/login/custom"])

	off := NewServer(t, WithoutProviderTokens())
	r = do(t, off, req{method: http.MethodPost, path: "/.auth/login/facebook", body: `{"access_token":"x"}`})
	assert.Equal(t, http.StatusNotFound, r.Status)
}

func TestTokenVerification(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithSigningKey(testKey),
		WithTable("private", Authenticated()), WithTable("public"),
		WithUser("custom", "ann", "pw", "sid:ann"))
	tok, _ := login(t, s, "/.auth/login/custom", `{"username":"ann","password":"pw"}`)

	foreign := func(mutate func(jwt.MapClaims), key []byte, method jwt.SigningMethod) string {
		c := jwt.MapClaims{"sub": "sid:x", "iat": epoch.Unix(), "exp": epoch.Add(time.Hour).Unix(), "aud": zumoURN, "iss": zumoURN}
		if mutate != nil {
			mutate(c)
		}
		tok, err := jwt.NewWithClaims(method, c).SignedString(key)
		require.NoError(t, err)
		return tok
	}

	tests := []struct {
		name     string
		path     string
		header   map[string]string
		status   int
		wantName string // name in a JSON 401, "" for the plain-text one
		wantMsg  string
	}{
		{"no token on a protected table", "/tables/private", nil, http.StatusUnauthorized, "", "You must be logged in to use this application"},
		{"token on a protected table", "/tables/private", auth(tok), http.StatusOK, "", ""},
		{"bearer token", "/tables/private", map[string]string{"Authorization": "Bearer " + tok}, http.StatusOK, "", ""},
		{"no token on a public table", "/tables/public", nil, http.StatusOK, "", ""},
		{"malformed token", "/tables/public", auth("not.a.jwt"), http.StatusUnauthorized, "JsonWebTokenError", "jwt malformed"},
		{"foreign key", "/tables/public", auth(foreign(nil, []byte("other key"), jwt.SigningMethodHS256)), http.StatusUnauthorized, "JsonWebTokenError", "invalid signature"},
		{"wrong algorithm", "/tables/public", auth(foreign(nil, testKey, jwt.SigningMethodHS512)), http.StatusUnauthorized, "JsonWebTokenError", "invalid algorithm"},
		{"wrong audience", "/tables/public", auth(foreign(func(c jwt.MapClaims) { c["aud"] = "someone" }, testKey, jwt.SigningMethodHS256)), http.StatusUnauthorized, "JsonWebTokenError", "jwt audience invalid. expected: " + zumoURN},
		{"wrong issuer", "/tables/public", auth(foreign(func(c jwt.MapClaims) { c["iss"] = "x" }, testKey, jwt.SigningMethodHS256)), http.StatusUnauthorized, "JsonWebTokenError", "jwt issuer invalid. expected: " + zumoURN},
		{"not yet valid", "/tables/public", auth(foreign(func(c jwt.MapClaims) { c["nbf"] = epoch.Add(time.Minute).Unix() }, testKey, jwt.SigningMethodHS256)), http.StatusUnauthorized, "NotBeforeError", "jwt not active"},
		{"expired foreign token", "/tables/public", auth(foreign(func(c jwt.MapClaims) { c["exp"] = epoch.Unix() }, testKey, jwt.SigningMethodHS256)), http.StatusUnauthorized, "TokenExpiredError", "jwt expired"},
		{"IssueToken", "/tables/private", auth(s.IssueToken("sid:t", time.Minute)), http.StatusOK, "", ""},
		{"IssueToken already expired", "/tables/public", auth(s.IssueToken("sid:t", -time.Second)), http.StatusUnauthorized, "TokenExpiredError", "jwt expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, req{path: tt.path, header: tt.header})
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.status != http.StatusUnauthorized {
				return
			}
			assert.Empty(t, r.Header.Get("WWW-Authenticate"))
			if tt.wantName == "" {
				assert.Equal(t, tt.wantMsg, string(r.Body))
				assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"))
				return
			}
			m := r.obj(t)
			assert.Equal(t, tt.wantName, m["name"])
			assert.Equal(t, tt.wantMsg, m["message"])
		})
	}
}

func TestTokenExpiryAndRefresh(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTokenLifetime(time.Hour),
		WithTable("private", Authenticated()), WithTable("public"),
		WithUser("custom", "ann", "pw", "sid:ann"))
	tok, _ := login(t, s, "/.auth/login/custom", `{"username":"ann","password":"pw"}`)

	clk.Advance(59*time.Minute + 59*time.Second)
	require.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/private", header: auth(tok)}).Status)

	// Refresh while still valid: a new token for the same user.
	r := do(t, s, req{path: "/.auth/refresh", header: map[string]string{"X-ZUMO-AUTH": tok, "X-ZUMO-FEATURES": "RT"}, noVer: true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var lr struct {
		AuthenticationToken string
		User                struct{ UserID string }
	}
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	assert.Equal(t, "sid:ann", lr.User.UserID)
	assert.NotEqual(t, tok, lr.AuthenticationToken)
	fresh := lr.AuthenticationToken

	clk.Advance(time.Second) // exactly exp: expired, no clock tolerance
	for _, path := range []string{"/tables/private", "/tables/public", "/api/anything", "/.auth/refresh", "/.auth/me"} {
		r := do(t, s, req{path: path, header: auth(tok)})
		require.Equal(t, http.StatusUnauthorized, r.Status, path)
		m := r.obj(t)
		assert.Equal(t, "TokenExpiredError", m["name"], path)
		assert.Equal(t, "jwt expired", m["message"], path)
		assert.Equal(t, "2024-01-02T04:04:05.000Z", m["expiredAt"], path)
	}
	require.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/private", header: auth(fresh)}).Status)

	r = do(t, s, req{path: "/.auth/me", header: auth(fresh)})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"user_id":"sid:ann"`)
	assert.NotContains(t, string(r.Body), fresh)

	assert.Equal(t, http.StatusUnauthorized, do(t, s, req{path: "/.auth/refresh"}).Status, "refresh needs a token")
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, s, req{method: http.MethodPost, path: "/.auth/refresh", header: auth(fresh)}).Status)

	st := s.Stats()
	assert.Equal(t, 1, st.Logins)
	assert.Equal(t, 1, st.Refreshes)
	assert.Equal(t, 6, st.Unauthorized)
}

func TestRefreshGrace(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTokenLifetime(time.Hour), WithRefreshGrace(72*time.Hour),
		WithTable("private", Authenticated()))
	tok := s.IssueToken("sid:ann", time.Hour)
	refresh := func(tok string) resp {
		return do(t, s, req{path: "/.auth/refresh", header: auth(tok), noVer: true})
	}
	tests := []struct {
		name    string
		advance time.Duration // from the token's issue
		status  int           // of the refresh
	}{
		{"valid", 30 * time.Minute, http.StatusOK},
		{"just expired", time.Hour, http.StatusOK},
		{"expired a day ago", 25 * time.Hour, http.StatusOK},
		{"a second inside the grace", 73*time.Hour - time.Second, http.StatusOK},
		{"grace over", 73 * time.Hour, http.StatusUnauthorized},
	}
	start := clk.Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Set(start.Add(tt.advance))
			r := refresh(tok)
			require.Equal(t, tt.status, r.Status, "%s", r.Body)
			if tt.status == http.StatusOK {
				var lr struct{ AuthenticationToken string }
				require.NoError(t, json.Unmarshal(r.Body, &lr))
				assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/private", header: auth(lr.AuthenticationToken)}).Status)
			}
			if tt.advance >= time.Hour {
				// Only the refresh route has a grace.
				assert.Equal(t, http.StatusUnauthorized, do(t, s, req{path: "/tables/private", header: auth(tok)}).Status)
			}
		})
	}
}

func TestRotateKey(t *testing.T) {
	s := NewServer(t, WithTable("public"), WithTable("private", Authenticated()))
	old := s.IssueToken("sid:a", 0)
	require.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/private", header: auth(old)}).Status)
	s.RotateKey()
	for _, path := range []string{"/tables/private", "/tables/public", "/.auth/refresh"} {
		r := do(t, s, req{path: path, header: auth(old)})
		require.Equal(t, http.StatusUnauthorized, r.Status)
		assert.JSONEq(t, `{"name":"JsonWebTokenError","message":"invalid signature"}`, string(r.Body))
	}
	require.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/private", header: auth(s.IssueToken("sid:a", 0))}).Status)
}

func TestCustomAPI(t *testing.T) {
	var gotUser User
	var gotOK bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotOK = UserFromRequest(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"method":"` + r.Method + `","path":"` + r.URL.Path + `","q":"` + r.URL.Query().Get("$x") + `"}`))
	})
	s := NewServer(t, WithAPI("Hello", h), WithAPI("secret", h, Authenticated()))
	tok := s.IssueToken("sid:ann", time.Hour)

	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r := do(t, s, req{method: m, path: "/api/hello/sub?$x=1", body: `{}`})
		require.Equal(t, http.StatusAccepted, r.Status, m)
		assert.JSONEq(t, `{"method":"`+m+`","path":"/api/hello/sub","q":"1"}`, string(r.Body))
	}
	assert.False(t, gotOK)

	r := do(t, s, req{path: "/api/secret"})
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "You must be logged in to use this application", string(r.Body))

	r = do(t, s, req{path: "/api/secret", header: auth(tok)})
	assert.Equal(t, http.StatusAccepted, r.Status)
	assert.True(t, gotOK)
	assert.Equal(t, "sid:ann", gotUser.ID)
	assert.Equal(t, "custom", gotUser.Provider)

	assert.Equal(t, http.StatusNotFound, do(t, s, req{path: "/api/nope"}).Status)
	require.NoError(t, s.HandleAPI("late", h))
	assert.Equal(t, http.StatusAccepted, do(t, s, req{path: "/api/late"}).Status)
	require.Error(t, s.HandleAPI("HELLO", h))
	require.Error(t, s.HandleAPI("x", nil))
}

func TestLegacyGeneration(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithLegacy("app-key"), WithClock(clk.Now), WithSigningKey(testKey),
		WithTable("todoitem", SoftDelete()), WithTable("private", Authenticated()),
		WithUser("custom", "ann", "pw", "Custom:ann"))
	key := map[string]string{"X-ZUMO-APPLICATION": "app-key"}
	legacy := func(rq req) resp {
		rq.noVer = true
		if rq.header == nil {
			rq.header = map[string]string{}
		}
		for k, v := range key {
			if _, set := rq.header[k]; !set {
				rq.header[k] = v
			}
		}
		return do(t, s, rq)
	}

	r := do(t, s, req{path: "/tables/todoitem", noVer: true})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "missing app key")
	r = legacy(req{path: "/tables/todoitem", header: map[string]string{"X-ZUMO-APPLICATION": "wrong"}})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "wrong app key")
	r = legacy(req{path: "/tables/todoitem", header: map[string]string{"ZUMO-API-VERSION": "2.0.0"}})
	assert.Equal(t, http.StatusBadRequest, r.Status, "a 2.0 header on a legacy server")

	r = legacy(req{method: http.MethodPost, path: "/tables/todoitem", body: `{"id":"1","text":"a"}`})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	assert.Equal(t, map[string]any{"id": "1", "text": "a"}, r.obj(t), "no system properties unless asked")
	etag := r.Header.Get("ETag")
	require.NotEmpty(t, etag)

	r = legacy(req{path: "/tables/todoitem/1?__systemproperties=*"})
	row := r.obj(t)
	assert.Equal(t, "2024-01-02T03:04:05.678Z", row["__createdAt"])
	assert.Equal(t, "2024-01-02T03:04:05.678Z", row["__updatedAt"])
	assert.Equal(t, false, row["__deleted"])
	assert.Equal(t, etag, `"`+row["__version"].(string)+`"`)
	assert.NotContains(t, row, "createdAt")

	r = legacy(req{path: "/tables/todoitem?__systemproperties=__version,createdAt"})
	assert.Equal(t, []string{"__createdAt", "__version", "id", "text"}, keysOf(r.arr(t)[0]))

	r = legacy(req{path: "/tables/todoitem?$filter=" + "(__createdAt%20ge%20datetime'2024-01-01T00:00:00.000Z')"})
	assert.Len(t, r.arr(t), 1)

	r = legacy(req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"__updatedAt":"x"}`})
	assert.Equal(t, http.StatusBadRequest, r.Status)
	r = legacy(req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"__version":"stale"}`})
	assert.Equal(t, http.StatusConflict, r.Status)
	r = legacy(req{method: http.MethodPatch, path: "/tables/todoitem/1", body: `{"createdAt":"a user column"}`})
	assert.Equal(t, http.StatusOK, r.Status, "2.0 names are ordinary columns in legacy")

	r = legacy(req{method: http.MethodDelete, path: "/tables/todoitem/1"})
	require.Equal(t, http.StatusOK, r.Status)
	r = legacy(req{path: "/tables/todoitem?__includeDeleted=true&__systemproperties=deleted"})
	assert.Equal(t, true, r.arr(t)[0]["__deleted"])

	r = legacy(req{method: http.MethodPost, path: "/login/custom", body: `{"username":"ann","password":"pw"}`})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var lr struct {
		AuthenticationToken string
		User                struct{ UserID string }
	}
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	assert.Equal(t, "Custom:ann", lr.User.UserID)
	c := claimsOf(t, lr.AuthenticationToken, testKey)
	assert.Equal(t, "custom", c["aud"])
	assert.Equal(t, "Custom:ann", c["uid"])
	assert.Equal(t, float64(epoch.Add(30*24*time.Hour).Unix()), c["exp"], "30 days")

	r = legacy(req{path: "/tables/private", header: map[string]string{"X-ZUMO-AUTH": lr.AuthenticationToken}})
	assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = legacy(req{method: http.MethodPost, path: "/login/facebook", body: `{"access_token":"x"}`})
	require.Equal(t, http.StatusOK, r.Status)
	assert.Contains(t, string(r.Body), `"userId":"facebook:`)

	assert.Equal(t, http.StatusNotFound, legacy(req{method: http.MethodPost, path: "/.auth/login/custom", body: `{}`}).Status)
	assert.Equal(t, http.StatusNotFound, legacy(req{path: "/.auth/refresh"}).Status)
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
