package zumo

import (
	"context"
	"crypto/tls"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultTransportIsTunedForOneServiceAndManyGoroutines(t *testing.T) {
	tr := newDefaultTransport()
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64, "idle connections per host sized for concurrency")
	assert.GreaterOrEqual(t, tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
	assert.Zero(t, tr.MaxConnsPerHost, "no cap on concurrent connections")
	assert.True(t, tr.ForceAttemptHTTP2)
	assert.NotNil(t, tr.Proxy, "the proxy comes from the environment")
	assert.NotNil(t, tr.DialContext)
	assert.Equal(t, 10*time.Second, tr.TLSHandshakeTimeout)
	assert.Equal(t, 90*time.Second, tr.IdleConnTimeout)
	require.NotNil(t, tr.TLSClientConfig)
	assert.Equal(t, uint16(tls.VersionTLS12), tr.TLSClientConfig.MinVersion)
}

// Without a transport of its own, a client and its login service share
// the default transport; a transport or client the caller gives is used
// as given, by both.
func TestTransportWiring(t *testing.T) {
	c, err := NewClient("https://app.example/")
	require.NoError(t, err)
	assert.Same(t, defaultTransport().(*http.Transport), c.svc.Client.Transport.(*http.Transport))
	c2, err := NewClient("https://other.example/")
	require.NoError(t, err)
	assert.Same(t, c.svc.Client.Transport, c2.svc.Client.Transport, "one pool for the process")

	mine := &http.Transport{}
	c, err = NewClient("https://app.example/", WithTransport(mine))
	require.NoError(t, err)
	assert.Same(t, mine, c.svc.Client.Transport)
	assert.Zero(t, mine.MaxIdleConnsPerHost, "a caller's transport is not retuned")

	hc := &http.Client{Transport: mine}
	c, err = NewClient("https://app.example/", WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Same(t, mine, c.svc.Client.Transport)
}

// 32 goroutines through one client over TLS reuse their connections:
// once the pool is warm (a connection per goroutine, plus the few net/http
// dials while another connection is being freed), more requests open
// (almost) none. On a transport with 2 idle connections per host the
// second round opens hundreds.
func TestConcurrentRequestsReuseConnections(t *testing.T) {
	const goroutines, perGoroutine = 32, 20
	srv, conns := tlsPageServer(t, false)
	c, err := NewClient(srv.URL, WithTransport(trusting(newDefaultTransport(), srv)))
	require.NoError(t, err)
	q, ctx := benchQuery(c), context.Background()
	round := func() {
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range perGoroutine {
					assert.NoError(t, readPage(ctx, q))
				}
			})
		}
		wg.Wait()
	}
	round()
	warm := conns.Load()
	round()
	assert.LessOrEqual(t, conns.Load()-warm, int64(4), "new connections in a second round of %d requests (%d in the first)",
		goroutines*perGoroutine, warm)
}

// The default transport speaks HTTP/2 to a server that offers it.
func TestDefaultTransportAttemptsHTTP2(t *testing.T) {
	srv, _ := tlsPageServer(t, true)
	c, err := NewClient(srv.URL, WithTransport(trusting(newDefaultTransport(), srv)))
	require.NoError(t, err)
	resp, err := c.HTTPClient().Get(srv.URL + "/tables/todoitem")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 2, resp.ProtoMajor, resp.Proto)
}
