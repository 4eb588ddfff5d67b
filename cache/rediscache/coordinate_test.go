package rediscache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

const fleetSize = 20

// instance is one member of a simulated fleet: its own client and store.
type instance struct {
	store *Store
	cmds  *countHook
}

func fleet(t *testing.T, r *redisServer, n int, opts ...Option) []instance {
	prefix := testPrefix(t)
	out := make([]instance, n)
	for i := range out {
		c := r.client(t)
		h := new(countHook)
		c.AddHook(h)
		out[i] = instance{store: New(c, append([]Option{WithPrefix(prefix)}, opts...)...), cmds: h}
	}
	return out
}

// freshFor is a usable func: the user's token is not expiring within a
// minute and is not one of the rejected tokens.
func freshFor(rejected ...string) func(*auth.User) bool {
	return func(u *auth.User) bool {
		for _, r := range rejected {
			if u.Token() == r {
				return false
			}
		}
		return !u.ExpiredWithin(time.Now(), time.Minute)
	}
}

// countingLogin is a login that counts its calls in logins and returns a
// new user valid for an hour.
func countingLogin(logins *atomic.Int64) func(context.Context) (*auth.User, error) {
	return func(context.Context) (*auth.User, error) {
		logins.Add(1)
		return newUser("sid:1", time.Now().Add(time.Hour)), nil
	}
}

// stormLogin is a login that, before answering, waits until every other
// instance of the fleet has tried the lock (at least minCmds times since
// the storm began) and lost, so the test proves they all contended.
func stormLogin(t *testing.T, fl []instance, self *instance, base []int64, minCmds int64, logins *atomic.Int64) func(context.Context) (*auth.User, error) {
	return func(ctx context.Context) (*auth.User, error) {
		logins.Add(1)
		deadline := time.Now().Add(20 * time.Second)
		for i := range fl {
			if &fl[i] == self {
				continue
			}
			for fl[i].cmds.locks.Load()-base[i] < minCmds {
				if time.Now().After(deadline) || ctx.Err() != nil {
					t.Errorf("instance %d never contended", i)
					return nil, errLoginFailed
				}
				time.Sleep(time.Millisecond) // bounded polling for an event
			}
		}
		return newUser("sid:alice", time.Now().Add(time.Hour)), nil
	}
}

// runStorm makes every instance call Coordinate at once and returns the
// tokens they got.
func runStorm(t *testing.T, fl []instance, key, rejected string, usable func(*auth.User) bool) (tokens []string, logins int64) {
	var n atomic.Int64
	base := make([]int64, len(fl))
	for i := range fl {
		base[i] = fl[i].cmds.locks.Load()
	}
	tokens = make([]string, len(fl))
	var wg sync.WaitGroup
	for i := range fl {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			u, err := fl[i].store.Coordinate(ctx, key, rejected, usable, stormLogin(t, fl, &fl[i], base, 1, &n))
			if assert.NoError(t, err) && assert.NotNil(t, u) {
				tokens[i] = u.Token()
			}
		}()
	}
	wg.Wait()
	return tokens, n.Load()
}

func allEqual(t *testing.T, tokens []string) {
	t.Helper()
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("instance %d got another token than instance 0", i)
		}
	}
}

// TestCoordinateOneLoginAcrossFleet: 20 instances, each with its own
// client and store, need a user at once: exactly one logs in.
func TestCoordinateOneLoginAcrossFleet(t *testing.T) {
	r := startRedis(t)
	fl := fleet(t, r, fleetSize)
	tokens, logins := runStorm(t, fl, "k", "", freshFor())
	assert.Equal(t, int64(1), logins, "logins across the fleet")
	allEqual(t, tokens)

	// The token expires: again exactly one login.
	expiring := newUser("sid:alice", time.Now().Add(30*time.Second)) // within the 1-minute skew
	require.NoError(t, fl[0].store.Save(context.Background(), "k", expiring))
	tokens, logins = runStorm(t, fl, "k", "", freshFor())
	assert.Equal(t, int64(1), logins, "logins after expiry")
	allEqual(t, tokens)
	assert.NotEqual(t, expiring.Token(), tokens[0])
}

// TestCoordinateOneReloginAfterRotation: every instance got a 401 for the
// same token (the server's key was rotated): exactly one logs in again,
// and an instance that arrives late does not clear the new token.
func TestCoordinateOneReloginAfterRotation(t *testing.T) {
	r := startRedis(t)
	fl := fleet(t, r, fleetSize)
	old := newUser("sid:alice", time.Now().Add(time.Hour))
	require.NoError(t, fl[0].store.Save(context.Background(), "k", old))
	tokens, logins := runStorm(t, fl, "k", old.Token(), freshFor(old.Token()))
	assert.Equal(t, int64(1), logins, "re-logins across the fleet")
	allEqual(t, tokens)
	assert.NotEqual(t, old.Token(), tokens[0])

	// A straggler reports the same 401 later: the new token survives.
	u, err := fl[3].store.Coordinate(context.Background(), "k", old.Token(), freshFor(old.Token()), func(context.Context) (*auth.User, error) {
		t.Error("straggler logged in")
		return nil, errLoginFailed
	})
	require.NoError(t, err)
	assert.Equal(t, tokens[0], u.Token())
}

// TestCoordinateCAS: a 401 for an old token does not clear a newer token
// another instance saved; a 401 for the stored token clears it.
func TestCoordinateCAS(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	fl := fleet(t, r, 2)
	a, b := fl[0].store, fl[1].store
	t1 := newUser("sid:alice", time.Now().Add(time.Hour))
	t2 := newUser("sid:alice", time.Now().Add(time.Hour))
	all := func(*auth.User) bool { return true } // even the rejected token: only the CAS protects

	require.NoError(t, b.Save(ctx, "k", t2)) // b logged in meanwhile
	var logins int
	got, err := a.Coordinate(ctx, "k", t1.Token(), all, func(context.Context) (*auth.User, error) {
		logins++
		return nil, errLoginFailed
	})
	require.NoError(t, err)
	assert.Equal(t, t2.Token(), got.Token(), "the newer token survives")
	assert.Equal(t, 0, logins)
	stored, err := b.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, t2.Token(), stored.Token())

	t3 := newUser("sid:alice", time.Now().Add(time.Hour))
	got, err = a.Coordinate(ctx, "k", t2.Token(), all, func(context.Context) (*auth.User, error) {
		logins++
		return t3, nil
	})
	require.NoError(t, err)
	assert.Equal(t, t3.Token(), got.Token(), "the rejected token was cleared")
	assert.Equal(t, 1, logins)
	stored, err = b.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, t3.Token(), stored.Token(), "and the new one saved")
}

// TestCoordinateLoginError: login's error comes back as is and the lock is
// released, so the next caller logs in at once.
func TestCoordinateLoginError(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	_, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) { return nil, errLoginFailed })
	require.ErrorIs(t, err, errLoginFailed)
	assert.Equal(t, int64(0), c.Exists(ctx, s.EntryKey("k")+":lock").Val(), "lock released")
	_, err = s.Load(ctx, "k")
	require.ErrorIs(t, err, auth.ErrNoUser)

	u := newUser("sid:1", time.Now().Add(time.Hour))
	got, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) { return u, nil })
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, int64(0), c.Exists(ctx, s.EntryKey("k")+":lock").Val(), "lock released")

	_, err = s.Coordinate(ctx, "k", "", nil, nil)
	require.Error(t, err, "no login function")
}

// TestCoordinateTakesOverExpiredLock: a holder that never releases (it
// crashed) blocks the others only until its lock expires.
func TestCoordinateTakesOverExpiredLock(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)), WithLockTTL(300*time.Millisecond))
	require.NoError(t, c.Set(ctx, s.EntryKey("k")+":lock", "crashed-holder", 300*time.Millisecond).Err())
	var logins atomic.Int64
	u := newUser("sid:1", time.Now().Add(time.Hour))
	got, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) {
		logins.Add(1)
		return u, nil
	})
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, int64(1), logins.Load())
}

// TestCoordinateContextDone: a waiter gives up when its context ends, and
// does not log in.
func TestCoordinateContextDone(t *testing.T) {
	r := startRedis(t)
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	require.NoError(t, c.Set(context.Background(), s.EntryKey("k")+":lock", "live-holder", time.Minute).Err())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) {
		t.Error("logged in while another process holds the lock")
		return nil, errLoginFailed
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Coordinate(ctx2, "k", "", nil, func(context.Context) (*auth.User, error) { return nil, errLoginFailed })
		done <- err
	}()
	cancel2()
	require.ErrorIs(t, <-done, context.Canceled)
}

// TestLockExtendedDuringLogin: a login slower than the lock TTL keeps the
// lock: its TTL is renewed while login runs.
func TestLockExtendedDuringLogin(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)), WithLockTTL(time.Second))
	lock := s.EntryKey("k") + ":lock"
	u := newUser("sid:1", time.Now().Add(time.Hour))
	got, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) {
		// Wait until the lock's remaining TTL goes up: only an extension
		// can do that.
		prev := c.PTTL(ctx, lock).Val()
		waitFor(t, "the lock to be extended", func() bool {
			cur := c.PTTL(ctx, lock).Val()
			if cur > prev {
				return true
			}
			prev = cur
			return false
		})
		return u, nil
	})
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, int64(0), c.Exists(ctx, lock).Val(), "lock released")
}

// TestReleaseOnlyOwnLock: a holder whose lock expired and was taken over
// must not release the new holder's lock.
func TestReleaseOnlyOwnLock(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	n := s.names("k")
	require.NoError(t, c.Set(ctx, n.lock, "other-owner", time.Minute).Err())
	s.release(ctx, n, "me")
	assert.Equal(t, "other-owner", c.Get(ctx, n.lock).Val())
	ok, err := extendScript.Run(ctx, c, []string{n.lock}, "me", "100").Int()
	require.NoError(t, err)
	assert.Equal(t, 0, ok, "no extension of another owner's lock")
	s.release(ctx, n, "other-owner")
	assert.Equal(t, int64(0), c.Exists(ctx, n.lock).Val())
}

// TestNotificationWakesWaiter: a PUBLISH on the key's channel wakes a
// waiter long before its poll interval.
func TestNotificationWakesWaiter(t *testing.T) {
	r := startRedis(t)
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	n := s.names("k")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := s.subscribe(ctx, n)
	defer w.close()
	require.NotNil(t, w.msgs, "subscribed")
	require.NoError(t, c.Publish(ctx, n.channel, "saved").Err())
	require.NoError(t, w.wait(ctx, time.Hour), "woken by the notification, not the hour-long poll")
}

// TestCoordinateRedisDown: with Redis unreachable, Coordinate logs in
// without the lock, reports why, and never logs the token.
func TestCoordinateRedisDown(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	var logBuf syncBuffer
	s := New(c, WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	u := newUser("sid:1", time.Now().Add(time.Hour))
	var logins int
	got, err := s.Coordinate(context.Background(), "k", u.Token(), nil, func(context.Context) (*auth.User, error) {
		logins++
		return u, nil
	})
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, 1, logins)
	logged := logBuf.String()
	assert.Contains(t, logged, "without the fleet lock")
	assert.NotContains(t, logged, u.Token())
	assert.NotContains(t, logged, tokenHash(u.Token()))

	// login's error is returned as is.
	_, err = s.Coordinate(context.Background(), "k", "", nil, func(context.Context) (*auth.User, error) { return nil, errLoginFailed })
	require.ErrorIs(t, err, errLoginFailed)
}

// TestRedisRestart: Redis stops and comes back empty; the store fails
// (never with a wrong answer) while it is down and works again afterwards
// without being told.
func TestRedisRestart(t *testing.T) {
	r := ownRedis(t)
	ctx := context.Background()
	var logBuf syncBuffer
	s := New(r.client(t), WithPrefix(testPrefix(t)), WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	var logins atomic.Int64
	login := countingLogin(&logins)
	_, err := s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	require.Equal(t, int64(1), logins.Load())

	require.NoError(t, r.stop())
	_, err = s.Load(ctx, "k")
	require.Error(t, err)
	assert.False(t, errors.Is(err, auth.ErrNoUser))
	got, err := s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err, "a login without the lock")
	require.NotNil(t, got)
	assert.Equal(t, int64(2), logins.Load())
	assert.Contains(t, logBuf.String(), "without the fleet lock")

	r.restart(t)
	waitFor(t, "the store to work again", func() bool {
		return s.Save(ctx, "probe", newUser("sid:1", time.Time{})) == nil
	})
	_, err = s.Load(ctx, "k")
	require.ErrorIs(t, err, auth.ErrNoUser, "the restarted server is empty")
	got, err = s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	assert.Equal(t, int64(3), logins.Load())
	stored, err := s.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, got.Token(), stored.Token(), "saved again")
	_, err = s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	assert.Equal(t, int64(3), logins.Load(), "and shared again")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (log handlers
// may be called from several goroutines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
