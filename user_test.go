package zumo

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// jwtFor returns an unsigned JWT for sub expiring at exp (the client only
// reads the claims).
func jwtFor(sub string, exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc(fmt.Appendf(nil, `{"sub":%q,"exp":%d}`, sub, exp.Unix())) + ".c2ln"
}

func TestRefreshUser(t *testing.T) {
	old, fresh := jwtFor("sid:1", time.Now().Add(time.Hour)), jwtFor("sid:1", time.Now().Add(2*time.Hour))
	c, mux, _, _ := setup(t, WithUser(NewUser("sid:1", old)))
	mux.HandleFunc("GET /.auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ZUMO-AUTH", old)
		writeJSON(w, 200, map[string]any{"authenticationToken": fresh, "user": map[string]any{"userId": "sid:1"}})
	})
	u, err := c.RefreshUser(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fresh, u.Token())
	assert.Same(t, u, c.CurrentUser())

	// Without a user there is nothing to refresh; nothing is sent.
	c2, _, _, requests := setup(t)
	_, err = c2.RefreshUser(context.Background())
	assert.ErrorIs(t, err, auth.ErrNoUser)
	assert.Zero(t, requests.Load())

	// Legacy Mobile Services has no refresh.
	c3, _, _, _ := setup(t, WithLegacyMobileServices("key"), WithUser(NewUser("sid:1", old)))
	_, err = c3.RefreshUser(context.Background())
	assert.ErrorIs(t, err, auth.ErrRefreshNotSupported)
}
