package rediscache

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/zumotest"
)

// backend is a fake Mobile Apps server with one authenticated table and
// one custom account.
func backend(t *testing.T) (*zumotest.Server, *zumotest.Clock) {
	clock := zumotest.NewClock(time.Now())
	srv := zumotest.NewServer(t,
		zumotest.WithClock(clock.Now),
		zumotest.WithTable("todoitem", zumotest.Authenticated(),
			zumotest.Seed(map[string]any{"id": "1", "text": "milk"})),
		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
	)
	return srv, clock
}

// member is one service instance: a zumo client whose user store is its
// own Store on the shared Redis.
type member struct {
	c     *zumo.Client
	store *Store
	cmds  *countHook
}

func members(t *testing.T, r *redisServer, srv *zumotest.Server, clock *zumotest.Clock, n int, log *slog.Logger) []member {
	prefix := testPrefix(t)
	out := make([]member, n)
	for i := range out {
		rc := r.client(t)
		h := new(countHook)
		rc.AddHook(h)
		opts := []Option{WithPrefix(prefix), WithClock(clock.Now)}
		var authOpts []auth.Option
		if log != nil {
			opts = append(opts, WithLogger(log))
			authOpts = append(authOpts, auth.WithLogger(log))
		}
		s := New(rc, opts...)
		c, err := zumo.NewClient(srv.URL,
			zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "s3cret"})),
			zumo.WithUserStore(s, "ann"),
			zumo.WithAuth(authOpts...),
		)
		require.NoError(t, err)
		out[i] = member{c: c, store: s, cmds: h}
	}
	return out
}

func lookup(ctx context.Context, c *zumo.Client) error {
	row, err := c.Table("todoitem").Lookup(ctx, "1")
	if err == nil && row["text"] != "milk" {
		err = fmt.Errorf("unexpected row %v", row)
	}
	return err
}

// allLookup makes every member send one request at once; all must succeed.
func allLookup(t *testing.T, ms []member) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			assert.NoError(t, lookup(ctx, ms[i].c), "member %d", i)
		}()
	}
	wg.Wait()
}

func handlerLogins(ms []member) (n int64) {
	for _, m := range ms {
		n += m.c.Auth().Stats().Logins
	}
	return n
}

// TestFleetOfClients: 20 zumo clients, each with its own Store on one
// Redis, against one backend: one login at start, one after the tokens
// expire, one after the server's key is rotated and every client gets a 401.
func TestFleetOfClients(t *testing.T) {
	r := startRedis(t)
	srv, clock := backend(t)
	ms := members(t, r, srv, clock, fleetSize, nil)

	allLookup(t, ms)
	assert.Equal(t, 1, srv.Stats().Logins, "logins at start")
	assert.Equal(t, int64(1), handlerLogins(ms))

	// Every member's token expired: SetUser with a token that expired an
	// hour ago. One member renews for all (the fake refuses to refresh an
	// expired token, so through a login).
	expired := zumo.NewUser("sid:ann", srv.IssueToken("sid:ann", -time.Hour))
	for _, m := range ms {
		require.NoError(t, m.c.SetUser(context.Background(), expired))
	}
	srv.Reset()
	allLookup(t, ms)
	st := srv.Stats()
	assert.Equal(t, 1, st.Logins+st.Refreshes, "logins after expiry")
	for _, rq := range srv.Requests() {
		assert.False(t, strings.HasPrefix(rq.Path, "/tables/") && rq.Status == http.StatusUnauthorized,
			"a table request was sent with the expired token")
	}

	srv.RotateKey() // every token now gets 401
	srv.Reset()
	allLookup(t, ms)
	st = srv.Stats()
	assert.Equal(t, 1, st.Logins, "re-logins after the key rotation")
	assert.Equal(t, fleetSize, st.Unauthorized, "each client got one 401")

	tok := ms[0].c.CurrentUser().Token()
	for i, m := range ms {
		assert.Equal(t, tok, m.c.CurrentUser().Token(), "member %d shares the token", i)
	}
}

// TestHotPathSendsNoRedisCommand: a request with a valid token in memory
// makes no Redis command at all.
func TestHotPathSendsNoRedisCommand(t *testing.T) {
	r := startRedis(t)
	srv, clock := backend(t)
	ms := members(t, r, srv, clock, 2, nil)
	ctx := context.Background()
	require.NoError(t, lookup(ctx, ms[0].c)) // logs in
	require.NoError(t, lookup(ctx, ms[1].c)) // adopts the stored user
	require.Equal(t, 1, srv.Stats().Logins)
	before := []int64{ms[0].cmds.n.Load(), ms[1].cmds.n.Load()}
	for range 50 {
		require.NoError(t, lookup(ctx, ms[0].c))
		require.NoError(t, lookup(ctx, ms[1].c))
	}
	assert.Equal(t, before[0], ms[0].cmds.n.Load(), "Redis commands on the hot path (logged-in client)")
	assert.Equal(t, before[1], ms[1].cmds.n.Load(), "Redis commands on the hot path (adopting client)")
}

// TestFleetSurvivesRedisRestart: requests keep flowing while Redis is
// stopped (a key rotation forces every client to log in during the
// outage) and after it restarts empty; afterwards the fleet shares one
// login again. No token reaches the logs.
func TestFleetSurvivesRedisRestart(t *testing.T) {
	r := ownRedis(t)
	srv, clock := backend(t)
	var logs syncBuffer
	ms := members(t, r, srv, clock, 5, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

	const workers = 3 // per member
	// Phases: 0 Redis up, 1 Redis down after a key rotation, 2 Redis back
	// after another rotation. ok[p][i] counts member i's requests that
	// started in phase p and succeeded.
	var phase atomic.Int64
	var stop atomic.Bool
	var failures atomic.Int64
	var firstErr atomic.Value
	ok := make([][]atomic.Int64, 3)
	for p := range ok {
		ok[p] = make([]atomic.Int64, len(ms))
	}
	var wg sync.WaitGroup
	for i := range ms {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					p := phase.Load()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					err := lookup(ctx, ms[i].c)
					cancel()
					if err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					ok[p][i].Add(1)
				}
			}()
		}
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	// progress waits until every member has completed requests that
	// started in phase p: then none of them is still logging in for an
	// earlier phase.
	progress := func(p int64, what string) {
		t.Helper()
		waitFor(t, what, func() bool {
			for i := range ms {
				if ok[p][i].Load() < 3 {
					return false
				}
			}
			return true
		})
	}

	progress(0, "requests before the outage")
	require.Equal(t, 1, srv.Stats().Logins, "one login while Redis is up")

	require.NoError(t, r.stop())
	srv.RotateKey() // everyone must log in again, with Redis down
	phase.Store(1)
	progress(1, "requests during the outage")

	r.restart(t)
	for _, m := range ms {
		waitFor(t, "the store to reconnect", func() bool {
			return m.store.Save(context.Background(), "probe", auth.NewUser("sid:probe", "x")) == nil
		})
	}
	srv.Reset()
	srv.RotateKey() // everyone needs a new user again, with Redis back
	phase.Store(2)
	progress(2, "requests after the restart")
	stop.Store(true)
	wg.Wait()

	assert.Zero(t, failures.Load(), "failed requests (first: %v)", firstErr.Load())
	assert.Equal(t, 1, srv.Stats().Logins, "one shared login again once Redis is back")
	u, err := ms[0].store.Load(context.Background(), auth.Key(ms[0].c.AppURL(), "ann"))
	require.NoError(t, err, "the store works again")
	assert.Equal(t, ms[0].c.CurrentUser().Token(), u.Token())
	assert.Contains(t, logs.String(), "without the fleet lock", "the outage was reported")
	assert.NotContains(t, logs.String(), "eyJ", "no token (JWT) in the logs")
}
