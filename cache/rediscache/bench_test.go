package rediscache

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/handler"
)

const benchAppURL = "https://app.example/"

// benchChain returns the auth handler over store in a chain with a
// canned-response transport, and a request to the app.
func benchChain(b *testing.B, store auth.Store, authn auth.Authenticator) (http.RoundTripper, *auth.Handler) {
	u, err := url.Parse(benchAppURL)
	if err != nil {
		b.Fatal(err)
	}
	opts := []auth.Option{auth.WithStore(store, auth.Key(benchAppURL, "bench"))}
	if authn != nil {
		opts = append(opts, auth.WithAuthenticator(authn))
	}
	h := auth.NewHandler(&auth.Service{AppURL: u}, opts...)
	canned := &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}
	base := handler.RoundTripperFunc(func(*http.Request) (*http.Response, error) { return canned, nil })
	return handler.Chain(base, h), h
}

func benchHotPath(b *testing.B, store auth.Store, cmds *countHook) {
	ctx := context.Background()
	u := newUser("sid:bench", time.Now().Add(24*time.Hour))
	if err := store.Save(ctx, auth.Key(benchAppURL, "bench"), u); err != nil {
		b.Fatal(err)
	}
	rt, _ := benchChain(b, store, nil)
	req, err := http.NewRequest(http.MethodGet, benchAppURL+"tables/todo", nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := rt.RoundTrip(req); err != nil { // first request: loads the user from the store
		b.Fatal(err)
	}
	var before int64
	if cmds != nil {
		before = cmds.n.Load()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal("unexpected response")
		}
	}
	if cmds != nil {
		b.ReportMetric(float64(cmds.n.Load()-before)/float64(b.N), "redis-cmds/op")
		if cmds.n.Load() != before {
			b.Errorf("hot path sent %d Redis commands", cmds.n.Load()-before)
		}
	}
}

// BenchmarkHotPath: a request with a valid token through the auth handler,
// with the Redis store and with the memory store. They should be equal
// within noise: the hot path never reaches the store.
func BenchmarkHotPath(b *testing.B) {
	b.Run("store=memory", func(b *testing.B) { benchHotPath(b, cache.NewMemory(), nil) })
	b.Run("store=redis", func(b *testing.B) {
		r := startRedis(b)
		c := r.client(b)
		h := new(countHook)
		c.AddHook(h)
		benchHotPath(b, New(c, WithPrefix(testPrefix(b))), h)
	})
}

// benchAuthn logs in after latency, counting its calls.
type benchAuthn struct {
	calls   atomic.Int64
	latency time.Duration
}

func (a *benchAuthn) Authenticate(ctx context.Context, _ *auth.Service) (*auth.User, error) {
	a.calls.Add(1)
	select {
	case <-time.After(a.latency):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return newUser("sid:bench", time.Now().Add(time.Hour)), nil
}

// BenchmarkStorm: 20 service instances (auth handlers, each with its own
// Redis client and store) each receive 50 concurrent requests with no user
// yet; the 1000 requests must cause exactly one login (20 ms) across the
// fleet. Reports logins and Redis commands per storm, and the storm's wall
// time as a ratio to one login.
func BenchmarkStorm(b *testing.B) {
	const (
		perInstance  = 50
		loginLatency = 20 * time.Millisecond
	)
	r := startRedis(b)
	clients := make([]*countHook, fleetSize)
	stores := make([]func(prefix string) *Store, fleetSize)
	for i := range stores {
		c := r.client(b)
		h := new(countHook)
		c.AddHook(h)
		clients[i] = h
		stores[i] = func(prefix string) *Store { return New(c, WithPrefix(prefix)) }
	}
	var logins, cmds int64
	b.ReportAllocs()
	for b.Loop() {
		prefix := testPrefix(b)
		authn := &benchAuthn{latency: loginLatency}
		var before int64
		for _, h := range clients {
			before += h.n.Load()
		}
		var wg sync.WaitGroup
		for i := range fleetSize {
			rt, _ := benchChain(b, stores[i](prefix), authn)
			for range perInstance {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodGet, benchAppURL+"tables/todo", nil)
					if _, err := rt.RoundTrip(req); err != nil {
						b.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		logins += authn.calls.Load()
		for _, h := range clients {
			cmds += h.n.Load()
		}
		cmds -= before
		if authn.calls.Load() != 1 {
			b.Errorf("%d logins in one storm, want 1", authn.calls.Load())
		}
	}
	b.ReportMetric(float64(logins)/float64(b.N), "logins/op")
	b.ReportMetric(float64(cmds)/float64(b.N), "redis-cmds/op")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(loginLatency), "wall/login")
}
