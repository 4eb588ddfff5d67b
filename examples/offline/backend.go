package main

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

// backend is the service the example syncs with, and the one power the
// story needs that a real service does not give: losing the network.
type backend struct {
	url     string
	options []zumo.Option // for the example's client
	network network
	id      func(name string) string // the id of the row called name
	close   func()
}

// network is switched off in step 3 and on again in step 4.
type network interface {
	down()
	up()
}

// openBackend starts the in-process fake when appURL is "", and
// otherwise uses the backend at appURL.
func openBackend(appURL string) (*backend, error) {
	if appURL == "" {
		srv := zumotest.New(zumotest.WithTable("todoitem", zumotest.SoftDelete()))
		srv.Start()
		return &backend{
			url:     srv.URL,
			network: faults{srv},
			id:      func(name string) string { return name },
			close:   srv.Close,
		}, nil
	}
	u, err := url.Parse(appURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("the app URL is not an http(s) URL")
	}
	// Rows of their own on a backend that may keep those of earlier runs.
	run := rand.Text()[:8]
	sw := &switchTransport{base: http.DefaultTransport}
	return &backend{
		url:     appURL,
		options: []zumo.Option{zumo.WithTransport(sw)},
		network: sw,
		id:      func(name string) string { return name + "-" + run },
		close:   func() {},
	}, nil
}

// faults takes the in-process fake's network away by fault injection:
// every request is answered 503 until the faults are cleared.
type faults struct{ srv *zumotest.Server }

func (f faults) down() { f.srv.AddFault(zumotest.Fault{Status: 503, Count: -1}) }
func (f faults) up()   { f.srv.ClearFaults() }

// errNoNetwork is what every request fails with while the switch is off.
var errNoNetwork = errors.New("no network (the example switched it off)")

// switchTransport takes a remote backend's network away on this side, as
// a device without a connection sees it: while it is off every request
// fails before it is sent.
type switchTransport struct {
	base http.RoundTripper
	off  atomic.Bool
}

func (s *switchTransport) down() { s.off.Store(true) }
func (s *switchTransport) up()   { s.off.Store(false) }

func (s *switchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.off.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errNoNetwork
	}
	return s.base.RoundTrip(r)
}
