package handler_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"

	"github.com/zumo-go/zumo/handler"
)

// exampleLogger writes text records without the parts that change from run
// to run (time, duration, the test server's address).
func exampleLogger(serverURL string) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, handler.LogKeyDuration:
				return slog.Attr{}
			case handler.LogKeyURL:
				return slog.String(a.Key, strings.TrimPrefix(a.Value.String(), serverURL))
			}
			return a
		},
	}))
}

// A chain with a custom handler and the stock ones, used as an
// http.Client's transport.
func ExampleChain() {
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tries.Add(1) == 1 {
			w.Header().Set("Retry-After", "0") // busy: try again at once
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "version=%s request=%s", r.Header.Get("ZUMO-API-VERSION"), r.Header.Get("X-Request-Id"))
	}))
	defer srv.Close()

	// A custom handler: stamp every request with an ID. It clones the
	// request before changing it, as every handler must.
	var ids atomic.Int32
	requestID := handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		r2 := req.Clone(req.Context())
		r2.Header.Set("X-Request-Id", fmt.Sprintf("req-%d", ids.Add(1)))
		return next.RoundTrip(r2)
	})

	client := &http.Client{Transport: handler.Chain(srv.Client().Transport,
		requestID, // outermost: one ID for the call, however many tries
		handler.Headers(http.Header{"ZUMO-API-VERSION": {"2.0.0"}}),
		handler.Retry(),
		handler.Logging(exampleLogger(srv.URL)), // innermost: one record per try
	)}

	resp, err := client.Get(srv.URL + "/tables/todo?token=secret-value")
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// level=WARN msg="http request" method=GET url="/tables/todo?token=REDACTED" status=503 content_length=0
	// level=INFO msg="http request" method=GET url="/tables/todo?token=REDACTED" status=200 content_length=27
	// 200 version=2.0.0 request=req-1
}

func ExampleRetry() {
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tries.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "stored %s", body)
	}))
	defer srv.Close()

	client := &http.Client{Transport: handler.Chain(srv.Client().Transport,
		handler.Retry(handler.RetryMaxAttempts(5)))}

	// PUT is idempotent, and NewRequest sets GetBody for a strings.Reader,
	// so every try sends the whole body.
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/tables/todo/1", strings.NewReader(`{"done":true}`))
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), "after", tries.Load(), "tries")
	// Output: 200 stored {"done":true} after 3 tries
}

func ExampleLogging() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such table", http.StatusNotFound)
	}))
	defer srv.Close()

	client := &http.Client{Transport: handler.Chain(srv.Client().Transport,
		handler.Logging(exampleLogger(srv.URL)))}

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/tables/missing", nil)
	req.Header.Set("X-ZUMO-AUTH", "secret-token") // never logged
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	resp.Body.Close()
	// Output:
	// level=WARN msg="http request" method=GET url=/tables/missing status=404 content_length=14
}

func ExampleHeadersIfAbsent() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("ZUMO-API-VERSION"))
	}))
	defer srv.Close()

	client := &http.Client{Transport: handler.Chain(srv.Client().Transport,
		handler.HeadersIfAbsent(http.Header{"ZUMO-API-VERSION": {"2.0.0"}}))}

	for _, v := range []string{"", "3.0.0"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if v != "" {
			req.Header.Set("ZUMO-API-VERSION", v)
		}
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// 2.0.0
	// 3.0.0
}
