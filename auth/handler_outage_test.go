package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// refused is what a dial to a stopped server returns.
func refused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// downable wraps a RoundTripper: while down, every request fails as a
// dial to a stopped server does.
type downable struct {
	rt   http.RoundTripper
	down atomic.Bool
}

func (d *downable) RoundTrip(req *http.Request) (*http.Response, error) {
	if d.down.Load() {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, refused()
	}
	return d.rt.RoundTrip(req)
}

// The service goes down while a renewal is due (the token expires during
// the outage) and comes back, with and without a key rotation meanwhile:
// refresh and login fail with "connection refused" during the outage, and
// that starts no back-off, so the first request after the outage renews
// (through .auth/refresh while the expired token is in its grace, else by
// logging in) and succeeds. Nothing fails once the service answers again.
func TestHandlerOutageAcrossRenewal(t *testing.T) {
	type row struct {
		name        string
		expired     bool // the token expires during the outage (else: only its renewal is due)
		rotate      bool
		outage      time.Duration
		wantRefresh int64 // refreshes that succeeded
		wantLogins  int64
	}
	var rows []row
	for _, expired := range []bool{false, true} {
		for _, rotate := range []bool{false, true} {
			for _, outage := range []time.Duration{2 * time.Second, 30 * time.Second} {
				r := row{name: fmt.Sprintf("%v outage, expired %v, key rotated %v", outage, expired, rotate),
					expired: expired, rotate: rotate, outage: outage, wantRefresh: 1}
				if rotate {
					r.wantRefresh, r.wantLogins = 0, 1
				}
				rows = append(rows, r)
			}
		}
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				api := &downable{rt: e.srv}
				login := &downable{rt: handler.RoundTripperFunc(e.loginServer)}
				e.svc.Client = &http.Client{Transport: login}
				// The outage starts in a second; the token's renewal (or
				// its expiry, with no skew) falls at its start.
				skew := DefaultSkew
				if tt.expired {
					skew = 0
				}
				u := e.auth.user(time.Now().Add(time.Second + skew + 200*time.Millisecond))
				e.build(WithUser(u), WithSkew(skew))
				e.rt = handler.Chain(api, e.h)

				require.Equal(t, 200, e.get(context.Background()).status)
				time.Sleep(time.Second)
				api.down.Store(true)
				login.down.Store(true)
				e.authn.setErr(refused())
				for end := time.Now().Add(tt.outage); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
					r := e.get(context.Background())
					require.Error(t, r.err, "a request during the outage")
				}
				if tt.rotate {
					e.auth.mu.Lock()
					e.auth.notBefore = time.Now()
					e.auth.mu.Unlock()
				}
				require.Equal(t, tt.expired, u.ExpiredWithin(time.Now(), 0), "the token expired during the outage")
				require.True(t, u.ExpiredWithin(time.Now(), skew), "the renewal was due during the outage")
				api.down.Store(false)
				login.down.Store(false)
				e.authn.setErr(nil)
				before := e.h.Stats()

				for i := range 50 { // 5 s of traffic after the outage
					r := e.get(context.Background())
					require.NoError(t, r.err)
					require.Equal(t, 200, r.status, "request %d after the outage (%v)", i, r.cause)
					time.Sleep(100 * time.Millisecond)
				}
				after := e.h.Stats()
				assert.Equal(t, tt.wantRefresh, after.Refreshes-before.Refreshes, "refreshes after the outage")
				assert.Equal(t, tt.wantLogins, after.Logins-before.Logins, "logins after the outage")
				assert.Zero(t, after.Resends-before.Resends, "401s after the outage")
				assert.NotContains(t, e.logBuf.String(), "backing off")
			})
		})
	}
}
