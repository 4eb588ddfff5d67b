package zumotest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestLog(t *testing.T) {
	clk := NewClock(epoch)
	s := NewServer(t, WithClock(clk.Now), WithTable("todoitem"), WithUser("custom", "ann", "hunter2", "sid:ann"))
	tok := s.IssueToken("sid:ann", time.Hour)

	do(t, s, req{method: http.MethodPost, path: "/tables/todoitem?x=1", body: `{"id":"a/b","text":"milk"}`,
		header: map[string]string{"X-ZUMO-AUTH": tok, "X-ZUMO-APPLICATION": "appkey-secret", "Authorization": "Bearer " + tok, "X-ZUMO-FEATURES": "TU"}})
	do(t, s, req{path: "/tables/todoitem/a%2Fb?$filter=" + url.QueryEscape("(text eq 'x y')") + "&token=" + tok + "&password=hunter2"})
	login(t, s, "/.auth/login/custom", `{"username":"ann","password":"hunter2"}`)

	log := s.Requests()
	require.Len(t, log, 3)
	ins := log[0]
	assert.Equal(t, epoch, ins.Time)
	assert.Equal(t, http.MethodPost, ins.Method)
	assert.Equal(t, "/tables/todoitem", ins.Path)
	assert.Equal(t, url.Values{"x": {"1"}}, ins.Query)
	assert.Equal(t, "REDACTED", ins.Header.Get("X-ZUMO-AUTH"))
	assert.Equal(t, "REDACTED", ins.Header.Get("X-ZUMO-APPLICATION"))
	assert.Equal(t, "REDACTED", ins.Header.Get("Authorization"))
	assert.Equal(t, "TU", ins.Header.Get("X-ZUMO-FEATURES"))
	assert.Equal(t, "2.0.0", ins.Header.Get("ZUMO-API-VERSION"))
	assert.Equal(t, `{"id":"a/b","text":"milk"}`, string(ins.Body))
	assert.Equal(t, http.StatusCreated, ins.Status)
	assert.Equal(t, "sid:ann", ins.UserID)
	assert.Equal(t, "POST /tables/todoitem", ins.Route)

	get := log[1]
	assert.Equal(t, "/tables/todoitem/a/b", get.Path)
	assert.Equal(t, "/tables/todoitem/a%2Fb", get.EscapedPath)
	assert.Equal(t, "(text eq 'x y')", get.Query.Get("$filter"))
	assert.Equal(t, "REDACTED", get.Query.Get("token"))
	assert.Equal(t, "REDACTED", get.Query.Get("password"))
	assert.Equal(t, "GET /tables/todoitem/{id}", get.Route)

	assert.Nil(t, log[2].Body, "login bodies carry credentials and are not logged")

	dump := fmt.Sprintf("%#v", log)
	assert.NotContains(t, dump, tok)
	assert.NotContains(t, dump, "hunter2")
	assert.NotContains(t, dump, "appkey-secret")

	last, ok := s.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "POST /.auth/login/custom", last.Route)

	// The log is a copy.
	log[0].Header.Set("X-Test", "changed")
	assert.Empty(t, s.Requests()[0].Header.Get("X-Test"))

	st := s.Stats()
	assert.Equal(t, 3, st.Requests)
	assert.Equal(t, map[string]int{"POST /tables/todoitem": 1, "GET /tables/todoitem/{id}": 1, "POST /.auth/login/custom": 1}, st.Routes)

	s.Reset()
	assert.Empty(t, s.Requests())
	_, ok = s.LastRequest()
	assert.False(t, ok)
	assert.Equal(t, Stats{Routes: map[string]int{}}, s.Stats())
	rows, _ := s.Rows("todoitem")
	assert.Len(t, rows, 1, "Reset keeps the data")
}

func TestRequestLogLimit(t *testing.T) {
	s := NewServer(t, WithTable("t"), WithRequestLogLimit(3))
	for i := range 10 {
		do(t, s, req{path: fmt.Sprintf("/tables/t?i=%d", i)})
	}
	log := s.Requests()
	require.Len(t, log, 3)
	assert.Equal(t, "7", log[0].Query.Get("i"))
	assert.Equal(t, "9", log[2].Query.Get("i"))
	assert.Equal(t, 10, s.Stats().Requests)
}

func TestFaults(t *testing.T) {
	s := NewServer(t, WithTable("todoitem"), WithTable("other"))

	t.Run("FailNext", func(t *testing.T) {
		s.FailNext(2, http.StatusServiceUnavailable, "")
		for range 2 {
			r := do(t, s, req{path: "/tables/todoitem"})
			require.Equal(t, http.StatusServiceUnavailable, r.Status)
			assert.JSONEq(t, `{"error":"Service Unavailable"}`, string(r.Body))
		}
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem"}).Status)
	})

	t.Run("method and path prefix", func(t *testing.T) {
		s.AddFault(Fault{Method: "post", PathPrefix: "/tables/todoitem", Status: http.StatusInternalServerError,
			Body: "boom", Header: http.Header{"Retry-After": {"1"}}})
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem"}).Status, "GET does not match")
		assert.Equal(t, http.StatusCreated, do(t, s, req{method: http.MethodPost, path: "/tables/other", body: `{}`}).Status)
		r := do(t, s, req{method: http.MethodPost, path: "/tables/todoitem", body: `{"id":"f"}`})
		require.Equal(t, http.StatusInternalServerError, r.Status)
		assert.Equal(t, "boom", string(r.Body))
		assert.Equal(t, "1", r.Header.Get("Retry-After"))
		assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"))
		_, ok := s.Row("todoitem", "f")
		assert.False(t, ok, "a failed request does nothing")
	})

	t.Run("until cleared", func(t *testing.T) {
		s.AddFault(Fault{PathPrefix: "/tables/other", Count: -1, Status: http.StatusUnauthorized, Body: `{"error":"nope"}`})
		for range 3 {
			r := do(t, s, req{path: "/tables/other"})
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
		}
		s.ClearFaults()
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/other"}).Status)
	})

	t.Run("DropNext", func(t *testing.T) {
		s.DropNext(1)
		// POST is not retried by http.Transport, so the drop is visible.
		_, err := send(context.Background(), s, req{method: http.MethodPost, path: "/tables/todoitem", body: `{"id":"d"}`})
		require.Error(t, err)
		_, ok := s.Row("todoitem", "d")
		assert.False(t, ok)
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem"}).Status)
		last := s.Requests()
		assert.Equal(t, 0, last[len(last)-2].Status, "a dropped request is logged with status 0")
	})

	t.Run("latency honours the client's context", func(t *testing.T) {
		s.AddFault(Fault{Latency: time.Hour, Status: http.StatusTeapot})
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := send(ctx, s, req{path: "/tables/todoitem"})
			errc <- err
		}()
		// Cancel once the request has reached the server.
		require.Eventually(t, func() bool {
			r, ok := s.LastRequest()
			return ok && r.Status == 0 && r.Path == "/tables/todoitem"
		}, 10*time.Second, time.Millisecond)
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem"}).Status, "the fault was used up")
	})

	t.Run("latency then normal handling", func(t *testing.T) {
		s.DelayNext(1, time.Millisecond)
		assert.Equal(t, http.StatusOK, do(t, s, req{path: "/tables/todoitem"}).Status)
	})

	assert.Equal(t, 9, s.Stats().Faults)
}

func TestCloseEndsLatency(t *testing.T) {
	s := New(WithTable("t"))
	s.Start()
	s.DelayNext(1, time.Hour)
	errc := make(chan error, 1)
	go func() {
		_, err := send(context.Background(), s, req{path: "/tables/t"})
		errc <- err
	}()
	require.Eventually(t, func() bool { return s.Stats().Faults == 1 }, 10*time.Second, time.Millisecond)
	s.Close() // must not wait an hour
	s.Close()
	<-errc
}

func TestUnstartedHandler(t *testing.T) {
	s := New(WithTable("todoitem", Seed(seedNumbered(3)...), PageSize(2)))
	assert.Empty(t, s.URL)

	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/tables/todoitem?$orderby=n", nil)
	r.Header.Set("ZUMO-API-VERSION", "2.0.0")
	s.ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "<http://example.com/tables/todoitem?$orderby=n&$skip=2>; rel=next", rec.Header().Get("Link"))

	// Mounted under a prefix, the Link keeps the full original path.
	mux := http.NewServeMux()
	mux.Handle("/mobile/", http.StripPrefix("/mobile", s))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	hr, _ := http.NewRequest(http.MethodGet, hs.URL+"/mobile/tables/todoitem?$orderby=n", nil)
	hr.Header.Set("ZUMO-API-VERSION", "2.0.0")
	res, err := hs.Client().Do(hr)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "<"+hs.URL+"/mobile/tables/todoitem?$orderby=n&$skip=2>; rel=next", res.Header.Get("Link"))
}

func TestStartTLS(t *testing.T) {
	s := New(WithTable("todoitem", Seed(seedNumbered(3)...), PageSize(2)))
	s.StartTLS()
	defer s.Close()
	require.True(t, strings.HasPrefix(s.URL, "https://"))
	r := do(t, s, req{path: "/tables/todoitem"})
	require.Equal(t, http.StatusOK, r.Status)
	link := parseLink(t, r.Header)
	require.NotNil(t, link)
	assert.Equal(t, "https", link.Scheme)
	assert.Panics(t, s.Start)
}

func TestClock(t *testing.T) {
	c := NewClock(epoch)
	assert.Equal(t, epoch, c.Now())
	assert.Equal(t, epoch.Add(time.Hour), c.Advance(time.Hour))
	c.Set(epoch)
	assert.Equal(t, epoch, c.Now())
	assert.False(t, NewClock(time.Time{}).Now().IsZero())
}
