package zumotest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zumo-go/zumo/zumotest"
)

// get sends a 2.0 request and returns the status and body.
func get(method, u, body, token string) (int, string) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		panic(err)
	}
	req.Header.Set("ZUMO-API-VERSION", "2.0.0")
	if body != "" {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if token != "" {
		req.Header.Set("X-ZUMO-AUTH", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func Example() {
	// In a test: srv := zumotest.NewServer(t, ...), closed by t.Cleanup.
	clock := zumotest.NewClock(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC))
	srv := zumotest.New(
		zumotest.WithClock(clock.Now),
		zumotest.WithTable("todoitem", zumotest.Authenticated(), zumotest.SoftDelete(),
			zumotest.Seed(map[string]any{"id": "1", "text": "milk", "complete": false})),
		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
	)
	srv.Start()
	defer srv.Close()

	status, _ := get(http.MethodGet, srv.URL+"/tables/todoitem", "", "")
	fmt.Println("anonymous:", status)

	_, login := get(http.MethodPost, srv.URL+"/.auth/login/custom", `{"username":"ann","password":"s3cret"}`, "")
	token := strings.Split(login, `"`)[3] // {"authenticationToken":"<jwt>",…}

	q := url.Values{"$filter": {"(complete eq false)"}, "$select": {"id,text"}}
	status, body := get(http.MethodGet, srv.URL+"/tables/todoitem?"+q.Encode(), "", token)
	fmt.Println("logged in:", status, body)

	clock.Advance(time.Hour) // the default token lifetime
	status, body = get(http.MethodGet, srv.URL+"/tables/todoitem", "", token)
	fmt.Println("expired:", status, body)
	fmt.Println("requests:", srv.Stats().Requests, "logins:", srv.Stats().Logins)

	// Output:
	// anonymous: 401
	// logged in: 200 [{"id":"1","text":"milk"}]
	// expired: 401 {"name":"TokenExpiredError","message":"jwt expired","expiredAt":"2024-01-02T04:04:05.000Z"}
	// requests: 4 logins: 1
}

func ExampleServer_FailNext() {
	srv := zumotest.New(zumotest.WithTable("todoitem"))
	srv.Start()
	defer srv.Close()

	srv.FailNext(1, http.StatusServiceUnavailable, "")
	s1, b1 := get(http.MethodGet, srv.URL+"/tables/todoitem", "", "")
	s2, b2 := get(http.MethodGet, srv.URL+"/tables/todoitem", "", "")
	fmt.Println(s1, b1)
	fmt.Println(s2, b2)
	// Output:
	// 503 {"error":"Service Unavailable"}
	// 200 []
}
