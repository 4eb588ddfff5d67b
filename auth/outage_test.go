package auth_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/zumotest"
)

// outageTransport serves the fake backend in memory (so the test runs in
// a synctest bubble, on its clock) and can take it down: while down, every
// request — table, login, refresh — fails as a dial to a stopped server
// does.
type outageTransport struct {
	srv  *zumotest.Server
	down atomic.Bool
	sent atomic.Int64 // requests that reached the server
}

func (o *outageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if o.down.Load() {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	o.sent.Add(1)
	rec := httptest.NewRecorder()
	o.srv.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// TestOutageAcrossRenewal: the fake server goes down while the client's
// token renewal is due (and, in the long outage, while the token
// expires), with and without a key rotation meanwhile, and comes back.
// Requests during the outage fail with the dial error; once the server
// answers again, not one request fails and no table request is answered
// 401 (only a refresh the fake refuses may be).
func TestOutageAcrossRenewal(t *testing.T) {
	for _, outage := range []time.Duration{2 * time.Second, 5 * time.Minute} {
		for _, rotate := range []bool{false, true} {
			for _, grace := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v, key rotated %v, refresh grace %v", outage, rotate, grace), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						var graceOpt []zumotest.Option
						if grace {
							// App Service renews a token up to 72 h after it expired.
							graceOpt = append(graceOpt, zumotest.WithRefreshGrace(auth.DefaultRefreshGrace))
						}
						srv := zumotest.New(append(graceOpt, zumotest.WithTokenLifetime(time.Hour),
							zumotest.WithTable("todoitem", zumotest.Authenticated(),
								zumotest.Seed(map[string]any{"id": "1", "text": "milk"})),
							zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"))...)
						tr := &outageTransport{srv: srv}
						c, err := zumo.NewClient("http://127.0.0.1:1/", zumo.WithTransport(tr),
							zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "s3cret"})))
						require.NoError(t, err)
						ctx := context.Background()
						lookup := func() error { _, err := c.Table("todoitem").Lookup(ctx, "1"); return err }

						require.NoError(t, lookup())
						exp, ok := c.CurrentUser().ExpiresAt()
						require.True(t, ok)
						// Down a second before the renewal is due (2 minutes
						// before exp), for the whole outage.
						time.Sleep(time.Until(exp.Add(-auth.DefaultSkew - time.Second)))
						require.NoError(t, lookup())
						tr.down.Store(true)
						for end := time.Now().Add(outage); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
							err := lookup()
							var oe *net.OpError
							require.ErrorAs(t, err, &oe, "a request during the outage")
						}
						if rotate {
							srv.RotateKey()
						}
						tr.down.Store(false)
						srv.Reset()

						for i := range 100 { // 10 s of traffic after the outage
							require.NoError(t, lookup(), "request %d after the outage", i)
							time.Sleep(100 * time.Millisecond)
						}
						st := srv.Stats()
						assert.Equal(t, 1, st.Logins+st.Refreshes, "one renewal once the server answers")
						switch {
						case rotate:
							// Every old token is refused: a login.
							assert.Equal(t, 1, st.Logins, "logged in")
						case outage < auth.DefaultSkew || grace:
							// Not expired yet, or expired within the
							// server's refresh grace: renewed silently,
							// without the authenticator.
							assert.Equal(t, 1, st.Refreshes, "refreshed")
							assert.Equal(t, 0, st.Logins, "no login")
						default:
							// Expired, and the server (like the Node
							// server) refreshes no expired token: the
							// refused refresh is followed by a login.
							assert.Equal(t, 1, st.Logins, "logged in")
						}
						for _, rq := range srv.Requests() {
							assert.False(t, rq.Route != "" && rq.Path != "/.auth/refresh" && rq.Status == http.StatusUnauthorized,
								"%s %s answered 401 after the outage", rq.Method, rq.Path)
						}
					})
				})
			}
		}
	}
}
