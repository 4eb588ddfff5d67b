package zumo

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// idleConnsPerHost is how many idle connections the default transport
// keeps to one host. A client talks to one service, often from many
// goroutines at once: net/http's default of 2 makes every request beyond
// the second open (and, over TLS, handshake) a new connection.
const idleConnsPerHost = 100

// defaultTransport is the transport of every client made without
// WithTransport or WithHTTPClient (and of its login service), shared like
// http.DefaultTransport so that clients of one process share a pool. It is
// made on first use and never changed.
var defaultTransport = sync.OnceValue(func() http.RoundTripper { return newDefaultTransport() })

// newDefaultTransport returns a transport tuned for one service and many
// goroutines, in the manner of the Azure SDK's default: the proxy from the
// environment, HTTP/2 attempted over TLS, bounded dial, TLS handshake and
// idle times, and idle connections per host sized for concurrency.
func newDefaultTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          idleConnsPerHost,
		MaxIdleConnsPerHost:   idleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
}
