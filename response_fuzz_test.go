package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/zumo-go/zumo/handler"
)

// fuzzClient answers every request with status and body, as a server that
// can send anything would.
func fuzzClient(t *testing.T, legacy bool, status int, body string) *Client {
	t.Helper()
	rt := handler.RoundTripperFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: status,
			Status:     http.StatusText(status),
			Header:     http.Header{"Content-Type": {"application/json"}},
			Body:       io.NopCloser(strings.NewReader(body)),
			Request:    r,
		}, nil
	})
	opts := []Option{WithTransport(rt), WithMaxResponseBytes(1 << 16)}
	if legacy {
		opts = append(opts, WithLegacyMobileServices("fuzz-app-key"))
	}
	c, err := NewClient("https://fuzz.example.net/", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkResponseErr is the contract for every body a server can send: a
// 2xx is decoded or refused with a *ResponseError (ErrInvalidResponse);
// any other status is a *Error carrying that status. Nothing panics, and
// the app key never appears in an error string.
func checkResponseErr(t *testing.T, op string, status int, err error) {
	t.Helper()
	if err == nil {
		if status < 200 || status > 299 {
			t.Fatalf("%s: status %d gave no error", op, status)
		}
		return
	}
	if strings.Contains(err.Error(), "fuzz-app-key") {
		t.Fatalf("%s: app key in error: %v", op, err)
	}
	if status >= 200 && status <= 299 {
		var re *ResponseError
		if !errors.As(err, &re) || !errors.Is(err, ErrInvalidResponse) {
			t.Fatalf("%s: status %d: want a *ResponseError, got %T: %v", op, status, err, err)
		}
		return
	}
	var ze *Error
	if !errors.As(err, &ze) || ze.StatusCode != status {
		t.Fatalf("%s: status %d: want a *Error with that status, got %T: %v", op, status, err, err)
	}
}

// FuzzResponse feeds arbitrary bodies, under the statuses that matter, to
// every call that decodes a response — query pages (array or envelope),
// item responses, custom APIs — in both protocol generations.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"id":"1","text":"a","version":"AAA="}]`, `{"results":[],"count":3}`,
		`{"results":null}`, `{"count":1}`, `{}`, `{"id":"1","__version":"x","__createdAt":"2020"}`,
		`[{"id":1}]`, `[{"text":5}]`, `[`, `{"results":[{"id":"1"}`, `"a string"`, `null`, ``, `  `,
		`<html>502</html>`, `{"error":"boom"}`, `[1,2,3]`, `{"results":[{"__deleted":true}],"count":"x"}`,
		"\xff\xfe", `[{"id":"1"}] trailing`,
	} {
		for _, st := range []int{200, 201, 204, 400, 404, 409, 412, 500} {
			f.Add(s, st, false)
			f.Add(s, st, true)
		}
	}
	statuses := []int{200, 201, 204, 400, 401, 404, 409, 412, 500}
	f.Fuzz(func(t *testing.T, body string, status int, legacy bool) {
		if status < 100 || status > 599 {
			status = statuses[(status%len(statuses)+len(statuses))%len(statuses)]
		}
		if status == http.StatusUnauthorized || (status >= 300 && status < 400) || status < 200 {
			return // 401 goes to the auth handler, 3xx to redirects, 1xx is not a final response
		}
		ctx := context.Background()
		c := fuzzClient(t, legacy, status, body)
		typed := GetTable[TodoItem](c, "todoitem")
		untyped := c.Table("todoitem")

		_, err := typed.Query().IncludeTotalCount().Page(ctx)
		checkResponseErr(t, "typed Page", status, err)
		_, err = untyped.Query().Page(ctx)
		checkResponseErr(t, "untyped Page", status, err)
		_, err = typed.Lookup(ctx, "1")
		checkResponseErr(t, "Lookup", status, err)
		_, err = typed.Insert(ctx, TodoItem{Text: "x"})
		checkResponseErr(t, "Insert", status, err)
		_, err = untyped.Update(ctx, map[string]any{"id": "1", "text": "x"})
		checkResponseErr(t, "untyped Update", status, err)
		_, err = InvokeAPI[map[string]any](ctx, c, "echo", nil)
		checkResponseErr(t, "InvokeAPI", status, err)
		_, err = InvokeAPI[json.RawMessage](ctx, c, "echo", nil)
		checkResponseErr(t, "InvokeAPI[json.RawMessage]", status, err)
		for _, err := range typed.Query().Take(3).All(ctx) {
			if err != nil {
				if !errors.Is(err, ErrNoProgress) {
					checkResponseErr(t, "All", status, err)
				}
				break
			}
		}
	})
}
