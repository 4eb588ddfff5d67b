package auth

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zumo-go/zumo/handler"
)

// hotPathChain returns the chain with or without the auth handler, a
// canned-response base and a request.
func hotPathChain(b *testing.B, withAuth bool) (http.RoundTripper, *http.Request, *http.Response) {
	canned := &http.Response{StatusCode: 200, Body: http.NoBody}
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return canned, nil })
	var hs []handler.Handler
	if withAuth {
		u := NewUser("sid:1", makeToken(b, "sid:1", time.Now().Add(24*time.Hour)))
		hs = append(hs, NewHandler(&Service{AppURL: mustURL(b, appURL)}, WithUser(u)))
	}
	req, err := http.NewRequest(http.MethodGet, appURL+"tables/todo", nil)
	if err != nil {
		b.Fatal(err)
	}
	return handler.Chain(base, hs...), req, canned
}

func benchChain(b *testing.B, withAuth bool) {
	rt, req, canned := hotPathChain(b, withAuth)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil || resp != canned {
			b.Fatal("unexpected response")
		}
	}
}

// BenchmarkHandlerHotPath: a valid cached token, attached to a copy of
// the request.
func BenchmarkHandlerHotPath(b *testing.B) { benchChain(b, true) }

// BenchmarkNoAuthHandler: the same chain without the auth handler.
func BenchmarkNoAuthHandler(b *testing.B) { benchChain(b, false) }

const stormSize = 1000
const stormLogin = 50 * time.Millisecond

// slowAuthn takes 50 ms of real time per login.
type slowAuthn struct {
	auth  *authority
	calls atomic.Int64
}

func (s *slowAuthn) Authenticate(ctx context.Context, _ *Service) (*User, error) {
	s.calls.Add(1)
	select {
	case <-time.After(stormLogin):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.auth.user(time.Time{}), nil
}

// storm sends stormSize concurrent requests through a fresh handler
// per iteration and reports logins per storm and wall time per 50 ms login.
func storm(b *testing.B, relogin bool) {
	var logins int64
	var wall time.Duration
	b.ReportAllocs()
	for b.Loop() {
		a := newAuthority()
		authn := &slowAuthn{auth: a}
		var old *User
		if relogin {
			old = a.user(time.Time{})
			a.revoke(old.Token())
		} else {
			old = a.user(time.Now().Add(-time.Minute))
		}
		// The fake server remembers each token's verdict (nothing is
		// revoked during a storm): a real server checks tokens on its own
		// machine, and the storm should measure the client's coordination,
		// not 2,000 JWT parses on the client's 2 cores.
		var verdicts sync.Map
		valid := func(tok string) bool {
			if v, ok := verdicts.Load(tok); ok {
				return v.(bool)
			}
			ok := a.valid(tok)
			verdicts.Store(tok, ok)
			return ok
		}
		base := handler.RoundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if !valid(req.Header.Get(headerAuth)) {
				return &http.Response{StatusCode: 401, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}}, nil
			}
			return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
		})
		h := NewHandler(&Service{AppURL: mustURL(b, appURL)}, WithUser(old), WithAuthenticator(authn))
		rt := handler.Chain(base, h)
		reqs := make([]*http.Request, stormSize)
		for i := range reqs {
			reqs[i], _ = http.NewRequest(http.MethodGet, appURL+"tables/todo", nil)
		}
		var failed atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for _, req := range reqs {
			wg.Go(func() {
				resp, err := rt.RoundTrip(req)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					return
				}
				resp.Body.Close()
			})
		}
		wg.Wait()
		wall += time.Since(start)
		if n := failed.Load(); n != 0 {
			b.Fatalf("%d requests failed", n)
		}
		logins += authn.calls.Load()
	}
	b.ReportMetric(float64(logins)/float64(b.N), "logins")
	b.ReportMetric(float64(wall)/float64(b.N)/float64(stormLogin), "ratio")
}

// BenchmarkLoginStorm: 1,000 concurrent requests with an expired token.
func BenchmarkLoginStorm(b *testing.B) { storm(b, false) }

// BenchmarkReloginStorm: 1,000 concurrent requests refused for the old token.
func BenchmarkReloginStorm(b *testing.B) { storm(b, true) }
