//go:build integration

package realserver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/internal/realserver"
)

// TestSDKTwoSecondTokens: with 2-second tokens (TOKEN_LIFETIME_SECONDS=2),
// whose iat and exp the server writes in whole seconds, 8 s of traffic
// from 4 goroutines never sends a token at or after its exp: the
// server's unauthorized counter stays 0. The tokens are renewed (refresh
// or login) about every 1.5 s, not per request. Client and server share
// this machine's clock. This is the one auth test that runs on real time;
// it takes 8 s.
func TestSDKTwoSecondTokens(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{TokenLifetime: 2 * time.Second})
	ctx := context.Background()
	c := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	secrets := zumo.GetTable[SecretItem](c, "secretitem")
	ins, err := secrets.Insert(ctx, SecretItem{Text: "two-second tokens"})
	require.NoError(t, err)

	resetCounters(t, s)
	end := time.Now().Add(8 * time.Second)
	var wg sync.WaitGroup
	errs := make([][]error, 4)
	for w := range errs {
		wg.Go(func() {
			for time.Now().Before(end) {
				if _, err := secrets.Lookup(ctx, ins.ID); err != nil {
					errs[w] = append(errs[w], err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for w, e := range errs {
		assert.Empty(t, e, "worker %d", w)
	}
	got, err := s.Counters(ctx)
	require.NoError(t, err)
	assert.Zero(t, got.Unauthorized, "401s: a token was sent at or after its exp")
	assert.Greater(t, got.Requests, 200, "traffic")
	renewals := got.Logins + got.Refreshes
	assert.GreaterOrEqual(t, renewals, 4, "renewals in 8 s of 2-second tokens")
	assert.LessOrEqual(t, renewals, 12, "renewals in 8 s: about one per 1.5 s, not per request")
}
