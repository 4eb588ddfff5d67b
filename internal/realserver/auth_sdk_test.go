//go:build integration

package realserver_test

// The SDK's auth handler against the official server's token checks:
// login, refresh, expiry judged before sending, a secret changed under a
// running client, and a file-cached user.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/internal/realserver"
)

// SecretItem is the item of the authenticated secretitem table.
type SecretItem struct {
	ID      string `json:"id,omitempty"`
	Text    string `json:"text"`
	Version string `json:"version,omitempty"`
}

type secretReply struct {
	Method string         `json:"method"`
	UserID string         `json:"userId"`
	Claims map[string]any `json:"claims"`
}

// customLogin is the SDK's authenticator for server.js's custom login.
func customLogin(user, password string) auth.Authenticator {
	return auth.Credentials("custom", map[string]string{"username": user, "password": password})
}

func TestSDKAuthLogin(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()
	uid := realserver.UserID(realserver.DefaultUsername)

	// Without a user and without an authenticator: 401s, no login tried.
	anon := newSDK(t, s)
	resetCounters(t, s)
	_, err := zumo.GetTable[SecretItem](anon, "secretitem").ToSlice(ctx)
	require.ErrorIs(t, err, zumo.ErrUnauthorized)
	assert.ErrorIs(t, err, auth.ErrNoAuthenticator, "the error says why no login was tried")
	_, err = zumo.InvokeAPI[secretReply](ctx, anon, "secret", nil, zumo.WithMethod("GET"))
	require.ErrorIs(t, err, zumo.ErrUnauthorized)
	_, err = zumo.GetTable[SecretItem](anon, "secretitem").Insert(ctx, SecretItem{Text: "x"})
	require.ErrorIs(t, err, zumo.ErrUnauthorized)
	expectCounters(t, s, realserver.Counters{Requests: 3, Unauthorized: 3})

	// A wrong password: the login's 401 is on the error, the request is
	// sent once without a token.
	bad := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, "wrong")))
	resetCounters(t, s)
	_, err = zumo.GetTable[SecretItem](bad, "secretitem").ToSlice(ctx)
	require.ErrorIs(t, err, zumo.ErrUnauthorized)
	var le *auth.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 401, le.StatusCode)
	expectCounters(t, s, realserver.Counters{Requests: 2, Logins: 1, Unauthorized: 2})

	// Explicit Login, then requests succeed with the token.
	c := newSDK(t, s)
	resetCounters(t, s)
	u, err := c.Login(ctx, "custom", map[string]string{"username": realserver.DefaultUsername, "password": realserver.DefaultPassword})
	require.NoError(t, err)
	assert.Equal(t, uid, u.ID())
	exp, ok := u.ExpiresAt()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, 5*time.Second)
	secrets := zumo.GetTable[SecretItem](c, "secretitem")
	ins, err := secrets.Insert(ctx, SecretItem{Text: "hidden"})
	require.NoError(t, err)
	got, err := secrets.Lookup(ctx, ins.ID)
	require.NoError(t, err)
	assert.Equal(t, "hidden", got.Text)
	r, err := zumo.InvokeAPI[secretReply](ctx, c, "secret", nil, zumo.WithMethod("GET"))
	require.NoError(t, err)
	assert.Equal(t, uid, r.UserID)
	r, err = zumo.InvokeAPI[secretReply](ctx, c, "secret", map[string]any{"a": 1})
	require.NoError(t, err)
	assert.Equal(t, "POST", r.Method)
	expectCounters(t, s, realserver.Counters{Requests: 5, Logins: 1})

	// An authenticator logs in at the first request, once for 50 concurrent
	// first requests.
	lazy := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	resetCounters(t, s)
	lt := zumo.GetTable[SecretItem](lazy, "secretitem")
	noErrors(t, parallel(50, 50, func(i int) error {
		_, err := lt.Lookup(ctx, ins.ID)
		return err
	}))
	expectCounters(t, s, realserver.Counters{Requests: 51, Logins: 1})
	assert.Equal(t, auth.Stats{Logins: 1}, lazy.Auth().Stats())

	// Refresh: an explicit one, then the user is the refreshed one.
	resetCounters(t, s)
	before := lazy.CurrentUser()
	ru, err := lazy.RefreshUser(ctx)
	require.NoError(t, err)
	assert.Equal(t, uid, ru.ID())
	assert.Same(t, ru, lazy.CurrentUser())
	assert.NotSame(t, before, ru)
	_, err = lt.Lookup(ctx, ins.ID)
	require.NoError(t, err)
	expectCounters(t, s, realserver.Counters{Requests: 2, Refreshes: 1})

	// The per-user table sees only the user's rows.
	other := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.OtherUsername, realserver.OtherPassword)))
	mine := c.Table("useritem")
	_, err = mine.Insert(ctx, map[string]any{"text": "mine"})
	require.NoError(t, err)
	l, err := mine.ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, l, 1)
	l, err = other.Table("useritem").ToSlice(ctx)
	require.NoError(t, err)
	assert.Empty(t, l)
}

// TestSDKRefreshBeforeExpiry: a token within the skew of its expiry (but
// not expired) is refreshed, once for 50 concurrent requests, before any of
// them is sent.
func TestSDKRefreshBeforeExpiry(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()
	uid := realserver.UserID(realserver.DefaultUsername)
	// Valid for one more minute; the default skew is two.
	tok := s.MintToken(uid, time.Now().Add(-59*time.Minute), time.Now().Add(time.Minute))
	c := newSDK(t, s, zumo.WithUser(zumo.NewUser(uid, tok)),
		zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	secrets := zumo.GetTable[SecretItem](c, "secretitem")

	resetCounters(t, s)
	noErrors(t, parallel(50, 50, func(i int) error {
		_, err := secrets.Insert(ctx, SecretItem{Text: fmt.Sprint("r", i)})
		return err
	}))
	expectCounters(t, s, realserver.Counters{Requests: 51, Refreshes: 1})
	assert.Equal(t, auth.Stats{Refreshes: 1}, c.Auth().Stats())
	exp, ok := c.CurrentUser().ExpiresAt()
	require.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, 5*time.Second)

	// An expired token inside the refresh grace: the SDK tries
	// .auth/refresh first (App Service refreshes for 72 hours after
	// expiry); this server refuses (401), so the SDK logs in. The table
	// request itself never carries the expired token.
	c2 := newSDK(t, s, zumo.WithUser(zumo.NewUser(uid, s.MintToken(uid, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)))),
		zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	resetCounters(t, s)
	l, err := zumo.GetTable[SecretItem](c2, "secretitem").Query().Take(100).ToSlice(ctx)
	require.NoError(t, err)
	assert.Len(t, l, 50)
	got, err := s.Counters(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Refreshes, "refresh tried inside the grace")
	assert.Equal(t, 1, got.Unauthorized, "only the refused refresh is a 401")
	assert.Equal(t, 1, got.Logins)
}

// TestSDKRestartWithNewSecret: the server's secret changes under a running
// client. Its cached token gets exactly one 401, exactly one login follows,
// every request succeeds, and the rows written before are still there.
func TestSDKRestartWithNewSecret(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{Secret: "first secret"})
	ctx := context.Background()
	c := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	secrets := zumo.GetTable[SecretItem](c, "secretitem")
	todos := zumo.GetTable[TodoItem](c, "todoitem")

	var written []SecretItem
	for i := 0; i < 10; i++ {
		it, err := secrets.Insert(ctx, SecretItem{ID: fmt.Sprintf("keep-%02d", i), Text: fmt.Sprint("before ", i)})
		require.NoError(t, err)
		written = append(written, it)
	}
	_, err := todos.Insert(ctx, TodoItem{ID: "keep-todo", Text: "anonymous table"})
	require.NoError(t, err)
	require.Equal(t, auth.Stats{Logins: 1}, c.Auth().Stats())

	require.NoError(t, s.Restart(ctx, "second secret"))
	resetCounters(t, s) // the restart zeroed them anyway

	// One request: 401 (invalid signature), one login, resent → 200.
	got, err := secrets.Lookup(ctx, written[0].ID)
	require.NoError(t, err)
	assert.Equal(t, written[0], got)
	expectCounters(t, s, realserver.Counters{Requests: 3, Unauthorized: 1, Logins: 1})

	// Then 50 concurrent requests, reads and writes, on both tables: no
	// 401 and no login.
	resetCounters(t, s)
	noErrors(t, parallel(50, 50, func(i int) error {
		switch i % 3 {
		case 0:
			it, err := secrets.Lookup(ctx, written[i%len(written)].ID)
			if err == nil && it != written[i%len(written)] {
				return fmt.Errorf("row %s changed: %+v", it.ID, it)
			}
			return err
		case 1:
			_, err := secrets.Insert(ctx, SecretItem{Text: fmt.Sprint("after ", i)})
			return err
		default:
			_, err := todos.Lookup(ctx, "keep-todo")
			return err
		}
	}))
	expectCounters(t, s, realserver.Counters{Requests: 50})
	assert.Equal(t, auth.Stats{Logins: 2, Resends: 1}, c.Auth().Stats())

	// No data lost: every row written before the restart is there.
	all, err := secrets.Where(zumo.Field("text").Ne(nil)).OrderBy("id").Take(1000).ToSlice(ctx)
	require.NoError(t, err)
	var kept []SecretItem
	for _, it := range all {
		if len(it.ID) > 5 && it.ID[:5] == "keep-" {
			kept = append(kept, it)
		}
	}
	assert.Equal(t, written, kept)
	assert.Len(t, all, 10+17, "10 before, 17 inserted after")
}

// TestSDKRestartStorm: 50 requests already in flight with the old token
// after the secret changed: each gets at most one 401, and all of them
// share one login.
func TestSDKRestartStorm(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{Secret: "first secret"})
	ctx := context.Background()
	c := newSDK(t, s, zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)))
	secrets := zumo.GetTable[SecretItem](c, "secretitem")
	it, err := secrets.Insert(ctx, SecretItem{ID: "storm", Text: "before"})
	require.NoError(t, err)

	require.NoError(t, s.Restart(ctx, "second secret"))
	resetCounters(t, s)
	noErrors(t, parallel(50, 50, func(i int) error {
		got, err := secrets.Lookup(ctx, "storm")
		if err == nil && got != it {
			return fmt.Errorf("row changed: %+v", got)
		}
		return err
	}))
	got := counters(t, s)
	st := c.Auth().Stats()
	assert.Equal(t, 1, got.Logins, "one login for the whole storm")
	assert.Equal(t, 0, got.Refreshes)
	assert.GreaterOrEqual(t, got.Unauthorized, 1)
	assert.LessOrEqual(t, got.Unauthorized, 50, "at most one 401 per request")
	assert.EqualValues(t, got.Unauthorized, st.Resends, "every 401 was resent once")
	assert.Equal(t, 50+got.Unauthorized+1, got.Requests)
	assert.EqualValues(t, 2, st.Logins)
}

// TestSDKFileCachedUser: a user cached in a file by one client is used by
// the next one with no login.
func TestSDKFileCachedUser(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()
	store, err := cache.NewFile(t.TempDir())
	require.NoError(t, err)
	opts := func() []zumo.Option {
		return []zumo.Option{
			zumo.WithAuthenticator(customLogin(realserver.DefaultUsername, realserver.DefaultPassword)),
			zumo.WithUserStore(store, realserver.DefaultUsername),
		}
	}

	resetCounters(t, s)
	first := newSDK(t, s, opts()...)
	ins, err := zumo.GetTable[SecretItem](first, "secretitem").Insert(ctx, SecretItem{Text: "cached"})
	require.NoError(t, err)
	expectCounters(t, s, realserver.Counters{Requests: 2, Logins: 1})
	assert.Equal(t, auth.Stats{Logins: 1}, first.Auth().Stats())

	resetCounters(t, s)
	second := newSDK(t, s, opts()...)
	got, err := zumo.GetTable[SecretItem](second, "secretitem").Lookup(ctx, ins.ID)
	require.NoError(t, err)
	assert.Equal(t, ins, got)
	r, err := zumo.InvokeAPI[secretReply](ctx, second, "secret", nil, zumo.WithMethod("GET"))
	require.NoError(t, err)
	assert.Equal(t, realserver.UserID(realserver.DefaultUsername), r.UserID)
	expectCounters(t, s, realserver.Counters{Requests: 2}, "no login: the cached user was used")
	assert.Equal(t, auth.Stats{StoreLoads: 1}, second.Auth().Stats())
	assert.Equal(t, first.CurrentUser().ID(), second.CurrentUser().ID())

	// A stale cached token (the secret changed) costs one 401 and one login,
	// and the new token replaces it in the file.
	require.NoError(t, s.Restart(ctx, ""))
	third := newSDK(t, s, opts()...)
	resetCounters(t, s)
	_, err = zumo.GetTable[SecretItem](third, "secretitem").Lookup(ctx, ins.ID)
	require.NoError(t, err)
	expectCounters(t, s, realserver.Counters{Requests: 3, Unauthorized: 1, Logins: 1})
	fourth := newSDK(t, s, opts()...)
	resetCounters(t, s)
	_, err = zumo.GetTable[SecretItem](fourth, "secretitem").Lookup(ctx, ins.ID)
	require.NoError(t, err)
	expectCounters(t, s, realserver.Counters{Requests: 1})
}
