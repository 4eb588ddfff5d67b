package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/handler"
)

// exampleToken returns an HS256 JWT for sub expiring at exp. The client
// never checks signatures; it only reads exp.
func exampleToken(sub string, exp time.Time) string {
	t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "exp": exp.Unix(), "idp": "google",
	}).SignedString([]byte("example key"))
	if err != nil {
		panic(err)
	}
	return t
}

func ExampleNewUser() {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	u := auth.NewUser("sid:0123", exampleToken("sid:0123", exp))

	// Printing a user never shows its token.
	fmt.Println(u)
	fmt.Printf("%+v\n", u)
	at, known := u.ExpiresAt()
	fmt.Println(at, known, u.Provider())
	fmt.Println(u.ExpiredWithin(exp.Add(-time.Hour), auth.DefaultSkew))
	fmt.Println(u.ExpiredWithin(exp.Add(-time.Minute), auth.DefaultSkew))

	// A token whose claims cannot be read counts as expired: a user given
	// to SetUser or loaded from a store with one needs a login first.
	opaque := auth.NewUser("Facebook:42", "not-a-jwt")
	fmt.Println(opaque, opaque.ExpiredWithin(time.Now(), 0))
	// Output:
	// user "sid:0123" (token redacted, expires 2030-01-02T03:04:05Z)
	// user "sid:0123" (token redacted, expires 2030-01-02T03:04:05Z)
	// 2030-01-02 03:04:05 +0000 UTC true google
	// false
	// true
	// user "Facebook:42" (token redacted, unreadable) true
}

func ExampleCredentials() {
	// A backend with a custom login and a table that needs a user.
	tok := exampleToken("sid:alice", time.Now().Add(time.Hour))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /.auth/login/custom", func(w http.ResponseWriter, r *http.Request) {
		var creds map[string]string
		if json.NewDecoder(r.Body).Decode(&creds) != nil || creds["password"] != "secret" {
			http.Error(w, `{"error":"bad credentials"}`, http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"authenticationToken": tok, "user": map[string]string{"userId": "sid:alice"}})
	})
	mux.HandleFunc("GET /tables/todo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-ZUMO-AUTH") != tok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `[{"id":"1","text":"write tests"}]`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	appURL, _ := url.Parse(srv.URL + "/")
	svc := &auth.Service{AppURL: appURL}
	h := auth.NewHandler(svc,
		auth.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "alice", "password": "secret"})),
		auth.WithOnUser(func(u *auth.User) { fmt.Println("logged in:", u.ID()) }))
	client := &http.Client{Transport: handler.Chain(nil, h)}

	// The first request has no user: the handler logs in, then sends.
	for range 2 {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/tables/todo", nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Printf("%+v\n", h.Stats())
	// Output:
	// logged in: sid:alice
	// 200 [{"id":"1","text":"write tests"}]
	// 200 [{"id":"1","text":"write tests"}]
	// {Logins:1 Refreshes:0 StoreLoads:0 Failures:0 Resends:0}
}
