package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/zumotest"
)

// testService runs the service's routes over a fresh fake backend holding
// two rows, and returns the service's URL and the backend.
func testService(t *testing.T, password string) (string, *zumotest.Server) {
	t.Helper()
	fake := zumotest.NewServer(t,
		zumotest.WithTable("todoitem", zumotest.Authenticated(), zumotest.SoftDelete(), zumotest.Seed(
			map[string]any{"id": "a", "text": "open", "complete": false},
			map[string]any{"id": "b", "text": "done", "complete": true},
		)),
		zumotest.WithUser("custom", "svc", "right", "sid:svc"),
	)
	client, err := zumo.NewClient(fake.URL, zumo.WithAuthenticator(
		auth.Credentials("custom", map[string]string{"username": "svc", "password": password})))
	require.NoError(t, err)
	svc := httptest.NewServer(newAPI(zumo.GetTable[Todo](client, "todoitem"), slog.New(slog.DiscardHandler)))
	t.Cleanup(svc.Close)
	return svc.URL, fake
}

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		password   string                 // the service's own login; "" means the right one
		setup      func(*zumotest.Server) // faults or changes on the backend before the call
		method     string
		path       string
		body       string
		wantStatus int
		wantBody   []string // substrings of the answer
		wantRows   int      // rows in the backend afterwards (soft-deleted included)
	}{
		{name: "list all", method: "GET", path: "/todos", wantStatus: 200, wantBody: []string{`"id":"a"`, `"id":"b"`}, wantRows: 2},
		{name: "list filtered", method: "GET", path: "/todos?complete=true", wantStatus: 200, wantBody: []string{`"id":"b"`}, wantRows: 2},
		{name: "list bad filter", method: "GET", path: "/todos?complete=maybe", wantStatus: 400, wantRows: 2},
		{name: "create", method: "POST", path: "/todos", body: `{"text":"new"}`, wantStatus: 201, wantBody: []string{`"text":"new"`, `"version":`}, wantRows: 3},
		{name: "create with a taken id", method: "POST", path: "/todos", body: `{"id":"a","text":"dup"}`, wantStatus: 409, wantRows: 2},
		{name: "create, not JSON", method: "POST", path: "/todos", body: `{"text":`, wantStatus: 400, wantBody: []string{"invalid JSON"}, wantRows: 2},
		{name: "create, unknown field", method: "POST", path: "/todos", body: `{"txt":"x"}`, wantStatus: 400, wantRows: 2},
		{name: "get", method: "GET", path: "/todos/a", wantStatus: 200, wantBody: []string{`"text":"open"`}, wantRows: 2},
		{name: "get missing", method: "GET", path: "/todos/zzz", wantStatus: 404, wantRows: 2},
		{name: "get with a control character in the id", method: "GET", path: "/todos/a%00b", wantStatus: 400, wantRows: 2},
		{name: "update with a stale version", method: "PUT", path: "/todos/a", body: `{"text":"x","version":"stale"}`,
			wantStatus: 409, wantBody: []string{`"current":{"id":"a","text":"open"`}, wantRows: 2},
		{name: "update without a version", method: "PUT", path: "/todos/a", body: `{"text":"changed"}`, wantStatus: 200, wantBody: []string{`"text":"changed"`}, wantRows: 2},
		{name: "delete", method: "DELETE", path: "/todos/b", wantStatus: 204, wantRows: 2},
		{name: "delete missing", method: "DELETE", path: "/todos/zzz", wantStatus: 404, wantRows: 2},
		{name: "backend answers 503", setup: func(s *zumotest.Server) {
			s.AddFault(zumotest.Fault{PathPrefix: "/tables/", Status: 503, Count: -1})
		}, method: "GET", path: "/todos/a", wantStatus: 502, wantRows: 2},
		{name: "backend drops the connection", setup: func(s *zumotest.Server) {
			s.AddFault(zumotest.Fault{PathPrefix: "/tables/", Drop: true, Count: -1})
		}, method: "POST", path: "/todos", body: `{"text":"lost"}`, wantStatus: 502, wantRows: 2},
		{name: "service's own login refused", password: "wrong", method: "GET", path: "/todos/a", wantStatus: 502, wantRows: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pw := tc.password
			if pw == "" {
				pw = "right"
			}
			url, fake := testService(t, pw)
			if tc.setup != nil {
				tc.setup(fake)
			}
			status, body := call(t, tc.method, url+tc.path, tc.body)
			assert.Equal(t, tc.wantStatus, status, body)
			for _, s := range tc.wantBody {
				assert.Contains(t, body, s)
			}
			if status >= 400 {
				var e errorBody
				require.NoError(t, json.Unmarshal([]byte(body), &e), body)
				assert.NotEmpty(t, e.Error)
				assert.NotContains(t, body, "right", "the service's password leaked")
			}
			rows, err := fake.Rows("todoitem")
			require.NoError(t, err)
			assert.Len(t, rows, tc.wantRows)
		})
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	t.Parallel()
	url, fake := testService(t, "right")
	_, body := call(t, "GET", url+"/todos/a", "")
	var got Todo
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.NotEmpty(t, got.Version)

	// The version read back makes the update conditional; it succeeds once…
	got.Complete = true
	in, _ := json.Marshal(got)
	status, body := call(t, "PUT", url+"/todos/a", string(in))
	require.Equal(t, 200, status, body)
	row, _ := fake.Row("todoitem", "a")
	assert.Equal(t, true, row["complete"])
	// …and the same version again is now stale: 409 with the current item.
	status, body = call(t, "PUT", url+"/todos/a", string(in))
	assert.Equal(t, 409, status, body)
	var e errorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e))
	require.NotNil(t, e.Current)
	assert.Equal(t, row["version"], e.Current.Version)
}

func TestRunOfflineServesAndShutsDown(t *testing.T) {
	t.Parallel()
	cacheDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-offline", "-addr", "127.0.0.1:0", "-user-cache", cacheDir},
			func(string) string { return "" }, slog.New(slog.DiscardHandler), func(a string) { addr <- a })
	}()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-done:
		t.Fatalf("run ended before listening: %v", err)
	}
	status, body := call(t, "POST", url+"/todos", `{"text":"from the test"}`)
	assert.Equal(t, 201, status, body)
	status, body = call(t, "GET", url+"/todos", "")
	assert.Equal(t, 200, status)
	assert.Contains(t, body, "try zumo offline")
	assert.Contains(t, body, "from the test")

	entries, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "the login was not cached")

	cancel()
	require.NoError(t, <-done)
	_, err = http.Get(url + "/todos")
	assert.Error(t, err, "still serving after shutdown")
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "environment", env: map[string]string{"ZUMO_APP_URL": "https://x/", "ZUMO_USERNAME": "ann", "ZUMO_PASSWORD": "pw", "ZUMO_USER_CACHE": "c", "SERVICE_ADDR": ":9"},
			want: config{addr: ":9", appURL: "https://x/", username: "ann", password: "pw", userCache: "c"}},
		{name: "flags win over the environment", args: []string{"-app-url", "https://y/", "-username", "bob"},
			env:  map[string]string{"ZUMO_APP_URL": "https://x/", "ZUMO_USERNAME": "ann", "ZUMO_PASSWORD": "pw", "ZUMO_USER_CACHE": "c"},
			want: config{addr: "127.0.0.1:8080", appURL: "https://y/", username: "bob", password: "pw", userCache: "c"}},
		{name: "offline needs nothing", args: []string{"-offline", "-user-cache", "c"},
			want: config{addr: "127.0.0.1:8080", username: "demo", password: "demo", userCache: "c", offline: true}},
		{name: "no app URL", env: map[string]string{"ZUMO_USERNAME": "ann", "ZUMO_PASSWORD": "pw"}, wantErr: "-app-url"},
		{name: "no password", args: []string{"-app-url", "https://x/", "-username", "ann"}, wantErr: "ZUMO_PASSWORD"},
		{name: "no password flag", args: []string{"-password", "pw"}, wantErr: "-password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseConfig(tc.args, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			got.grace = 0
			assert.Equal(t, tc.want, got)
		})
	}
}
