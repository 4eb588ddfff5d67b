package zumo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// tlsPageServer serves pageServer's 50-row page over TLS and counts the
// connections it accepts. h2 enables HTTP/2 on it.
func tlsPageServer(tb testing.TB, h2 bool) (*httptest.Server, *atomic.Int64) {
	tb.Helper()
	body, _ := json.Marshal(benchPage())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	conns := new(atomic.Int64)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short at Close
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv, conns
}

// trusting returns tr with the test server's certificate as its only root.
func trusting(tr *http.Transport, srv *httptest.Server) *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr.TLSClientConfig.RootCAs = pool
	return tr
}

// oldDefault is the transport the client used before it had its own:
// a clone of http.DefaultTransport (2 idle connections per host).
func oldDefault() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = new(tls.Config)
	}
	return tr
}

// concurrentGoroutines is N of the connection benchmark: a service
// answering many callers at once through one client.
const concurrentGoroutines = 32

// runConcurrent runs b.N calls of do spread over concurrentGoroutines
// goroutines and reports the connections the server accepted per 1,000
// requests.
func runConcurrent(b *testing.B, conns *atomic.Int64, do func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrentGoroutines)
	conns.Store(0)
	b.ResetTimer()
	for range concurrentGoroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := do(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(conns.Load())*1000/float64(b.N), "newconns/1000req")
	b.ReportMetric(concurrentGoroutines, "goroutines")
}

// BenchmarkConcurrentTLS: 32 goroutines read a 50-row page over TLS
// (HTTP/1.1, and HTTP/2 where the server offers it) through one client,
// and by hand with net/http on the same transport. "default" is the
// client's default transport configuration; "old-default" is a clone of
// http.DefaultTransport (2 idle connections per host), what the client
// used before. Reported: new connections per 1,000 requests (goal for the
// default transport: at most N + a few connections in all).
func BenchmarkConcurrentTLS(b *testing.B) {
	for _, tc := range []struct {
		name string
		h2   bool
		tr   func() *http.Transport
	}{
		{"default/http1", false, newDefaultTransport},
		{"default/http2", true, newDefaultTransport},
		{"old-default/http1", false, oldDefault},
	} {
		b.Run(tc.name+"/sdk", func(b *testing.B) {
			srv, conns := tlsPageServer(b, tc.h2)
			c, err := NewClient(srv.URL, WithTransport(trusting(tc.tr(), srv)))
			if err != nil {
				b.Fatal(err)
			}
			q, ctx := benchQuery(c), context.Background()
			b.ReportAllocs()
			runConcurrent(b, conns, func() error { return readPage(ctx, q) })
		})
		b.Run(tc.name+"/by-hand", func(b *testing.B) {
			srv, conns := tlsPageServer(b, tc.h2)
			hc := &http.Client{Transport: trusting(tc.tr(), srv)}
			url, ua, ctx := srv.URL+handPath, sdkHeader(), context.Background()
			b.ReportAllocs()
			runConcurrent(b, conns, func() error { return readPageByHand(ctx, hc, url, ua) })
		})
	}
}
