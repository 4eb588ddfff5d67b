package rediscache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/zumotest"
)

// hungOpTimeout is the op timeout of the tests against a hung Redis: each
// costs a few of them.
const hungOpTimeout = 100 * time.Millisecond

// hungServer is a Redis that hangs: it accepts TCP connections on loopback,
// reads what it is sent, and never answers.
type hungServer struct {
	addr     string
	accepted atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func newHungServer(t *testing.T) *hungServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &hungServer{addr: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			_ = c.Close() // ends the client's abandoned reads
		}
	})
	return h
}

// switchClient returns a client that dials whatever address target holds
// at the time. Its own timeouts are long and it ignores contexts, as with
// go-redis's defaults, and it never retries: only the store's op timeout
// can keep it from stalling a caller.
func switchClient(t *testing.T, target *atomic.Pointer[string]) (*redis.Client, *countHook) {
	c := redis.NewClient(&redis.Options{
		Addr: "switch",
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, *target.Load())
		},
		DialTimeout:  30 * time.Second,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		MaxRetries:   -1,
	})
	h := new(countHook)
	c.AddHook(h)
	t.Cleanup(func() { _ = c.Close() })
	return c, h
}

// TestCoordinateHungRedis: Redis accepts connections and never answers.
// Coordinate logs in locally after one op timeout and saves in the
// background; during the back-off it sends Redis nothing at all; once the
// back-off has passed it uses Redis again (here a real server that took
// the hung one's place).
func TestCoordinateHungRedis(t *testing.T) {
	hung := newHungServer(t)
	var target atomic.Pointer[string]
	target.Store(&hung.addr)
	c, cmds := switchClient(t, &target)
	clock := zumotest.NewClock(time.Now())
	var logs syncBuffer
	s := New(c, WithPrefix(testPrefix(t)), WithOpTimeout(hungOpTimeout),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	s.clock = clock.Now
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logins atomic.Int64
	login := countingLogin(&logins)

	// Redis hangs: one local login, no error.
	u1, err := s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	require.NotNil(t, u1)
	assert.Equal(t, int64(1), logins.Load())
	s.bg.Wait() // the background save gives up after the op timeout
	assert.Positive(t, cmds.n.Load(), "Redis was tried")
	assert.Positive(t, hung.accepted.Load(), "the hung server was reached")
	left, cause, down := s.down()
	require.True(t, down, "backing off")
	assert.Equal(t, backoffMin, left)
	assert.ErrorIs(t, cause, context.DeadlineExceeded)
	assert.Contains(t, logs.String(), "without the fleet lock")
	assert.Contains(t, logs.String(), "saving the new user failed", "the background save was tried")

	// Load, Save and Clear are bounded by the op timeout too.
	_, err = s.Load(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, s.Save(ctx, "k", u1), context.DeadlineExceeded)
	require.ErrorIs(t, s.Clear(ctx, "k"), context.DeadlineExceeded)

	// During the back-off: straight to a local login, no Redis command,
	// no connection.
	n0, a0 := cmds.n.Load(), hung.accepted.Load()
	u2, err := s.Coordinate(ctx, "k", u1.Token(), freshFor(u1.Token()), login)
	require.NoError(t, err)
	require.NotNil(t, u2)
	assert.Equal(t, int64(2), logins.Load())
	s.bg.Wait()
	assert.Equal(t, n0, cmds.n.Load(), "Redis commands during the back-off")
	assert.Equal(t, a0, hung.accepted.Load(), "connections during the back-off")
	assert.Contains(t, logs.String(), "backing off")

	// A real Redis takes the hung one's place; until the back-off has
	// passed the store does not know.
	r := startRedis(t)
	target.Store(&r.addr)
	clock.Advance(backoffMin - time.Millisecond)
	_, err = s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	assert.Equal(t, int64(3), logins.Load())
	assert.Equal(t, n0, cmds.n.Load(), "Redis commands during the back-off")

	// The back-off has passed: Redis again, under the lock, and the user is
	// shared.
	clock.Advance(time.Millisecond)
	locks := cmds.locks.Load()
	u4, err := s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	for i := 0; cmds.locks.Load() == locks; i++ {
		// The first command over a new connection took longer than the
		// op timeout (a loaded machine): another back-off began. Let it
		// pass too.
		require.Less(t, i, 5, "Redis never used again")
		clock.Advance(backoffMax)
		u4, err = s.Coordinate(ctx, "k", "", freshFor(), login)
		require.NoError(t, err)
	}
	assert.Greater(t, cmds.n.Load(), n0, "Redis is used again")
	assert.Equal(t, locks+1, cmds.locks.Load(), "the login took the fleet's lock")
	_, _, down = s.down()
	assert.False(t, down, "the back-off is over")
	assert.Contains(t, logs.String(), "Redis answers again")
	stored, err := s.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, u4.Token(), stored.Token(), "saved in Redis")
	before := logins.Load()
	u5, err := s.Coordinate(ctx, "k", "", freshFor(), login)
	require.NoError(t, err)
	assert.Equal(t, u4.Token(), u5.Token())
	assert.Equal(t, before, logins.Load(), "the shared user, no login")

	for _, tok := range []string{u1.Token(), u2.Token(), u4.Token()} {
		assert.NotContains(t, logs.String(), tok)
	}
}

// TestFleetHungRedis: a zumo client whose Redis hangs keeps serving
// requests: it logs in locally, and after a key rotation logs in locally
// again without touching Redis during the back-off.
func TestFleetHungRedis(t *testing.T) {
	hung := newHungServer(t)
	var target atomic.Pointer[string]
	target.Store(&hung.addr)
	rc, cmds := switchClient(t, &target)
	srv, clock := backend(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := New(rc, WithPrefix(testPrefix(t)), WithClock(clock.Now), WithOpTimeout(hungOpTimeout), WithLogger(log))
	backoff := zumotest.NewClock(time.Now())
	s.clock = backoff.Now
	c, err := zumo.NewClient(srv.URL,
		zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "s3cret"})),
		zumo.WithUserStore(s, "ann"),
		zumo.WithAuth(auth.WithLogger(log)),
	)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	require.NoError(t, lookup(ctx, c), "first request, Redis hung")
	assert.Equal(t, 1, srv.Stats().Logins)
	s.bg.Wait()
	n0 := cmds.n.Load()
	assert.Positive(t, n0)

	srv.RotateKey()
	require.NoError(t, lookup(ctx, c), "after a key rotation, during the back-off")
	assert.Equal(t, 2, srv.Stats().Logins)
	s.bg.Wait()
	assert.Equal(t, n0, cmds.n.Load(), "Redis commands during the back-off")

	// Redis answers again after the back-off: the next login decision goes
	// through it and the fleet can share the user.
	r := startRedis(t)
	target.Store(&r.addr)
	key := auth.Key(c.AppURL(), "ann")
	n1 := cmds.n.Load()
	for i := 0; ; i++ {
		require.Less(t, i, 5, "Redis never used again")
		backoff.Advance(backoffMax) // another back-off if a first command was slow
		srv.RotateKey()
		require.NoError(t, lookup(ctx, c))
		s.bg.Wait()
		if _, _, down := s.down(); !down {
			break
		}
	}
	assert.Greater(t, cmds.n.Load(), n1, "Redis is used again")
	stored, err := s.Load(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, c.CurrentUser().Token(), stored.Token(), "the user is in Redis for the fleet")
	assert.NotContains(t, logs.String(), "eyJ", "no token (JWT) in the logs")
}

// TestBackoff: the back-off starts at backoffMin, doubles with every
// failed retry up to backoffMax, ends with the first success, and ignores
// results older than the latest opposite one.
func TestBackoff(t *testing.T) {
	unused := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer unused.Close()
	s := New(unused)
	clock := zumotest.NewClock(time.Now())
	s.clock = clock.Now
	ctx := context.Background()
	errDown := errors.New("down")

	_, _, down := s.down()
	require.False(t, down)
	want := backoffMin
	for range 8 {
		s.failed(s.begin(), errDown)
		left, cause, down := s.down()
		require.True(t, down)
		assert.Equal(t, want, left)
		assert.Equal(t, errDown, cause)
		s.failed(s.begin(), errDown) // during the back-off: no change
		left, _, _ = s.down()
		assert.Equal(t, want, left)
		clock.Advance(want)
		_, _, down = s.down()
		require.False(t, down, "over after %v", want)
		want = min(2*want, backoffMax)
	}
	assert.Equal(t, backoffMax, want)

	// A command that started before the failure and succeeds after it
	// does not end the back-off; one that started after it does.
	old := s.begin()
	s.failed(s.begin(), errDown)
	s.note(ctx, old, nil)
	_, _, down = s.down()
	require.True(t, down, "a stale success")
	s.note(ctx, s.begin(), redis.Nil) // an answer, even "no such key"
	_, _, down = s.down()
	require.False(t, down)

	// A failure of a command older than a success does not start one.
	old = s.begin()
	s.note(ctx, s.begin(), nil)
	s.failed(old, errDown)
	_, _, down = s.down()
	require.False(t, down, "a stale failure")

	// After the success the back-off starts small again.
	s.note(ctx, s.begin(), redis.ErrClosed)
	left, _, down := s.down()
	require.True(t, down)
	assert.Equal(t, backoffMin, left)
	s.note(ctx, s.begin(), nil)

	// Neither a caller that gave up nor an error reply (Redis is there)
	// starts one.
	cctx, cancelC := context.WithCancel(ctx)
	cancelC()
	s.note(cctx, s.begin(), context.Canceled)
	_, _, down = s.down()
	assert.False(t, down, "the caller's cancellation")
	reply := startRedis(t).client(t).Do(ctx, "no-such-command").Err()
	require.Error(t, reply)
	s.note(ctx, s.begin(), reply)
	_, _, down = s.down()
	assert.False(t, down, "an error reply")
	assert.True(t, unavailable(redis.ErrClosed))
	assert.True(t, unavailable(&opTimeoutError{d: time.Second}))
}

// TestOffer: a user logged in without the lock is saved only where it
// replaces nobody else's: the entry is absent or holds the rejected token,
// and no login holds the lock.
func TestOffer(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	n := s.names("k")
	old, other, mine := newUser("sid:1", time.Now().Add(time.Hour)), newUser("sid:1", time.Now().Add(time.Hour)), newUser("sid:1", time.Now().Add(time.Hour))
	stored := func() string {
		u, err := s.Load(ctx, "k")
		if err != nil {
			return err.Error()
		}
		return u.Token()
	}

	saved, err := s.offer(ctx, n, "k", "", mine)
	require.NoError(t, err)
	assert.True(t, saved, "absent")
	assert.Equal(t, mine.Token(), stored())
	assert.Positive(t, c.PTTL(ctx, n.entry).Val(), "with a TTL")

	require.NoError(t, s.Save(ctx, "k", other))
	saved, err = s.offer(ctx, n, "k", "", mine)
	require.NoError(t, err)
	assert.False(t, saved, "another user, nothing rejected")
	saved, err = s.offer(ctx, n, "k", tokenHash(old.Token()), mine)
	require.NoError(t, err)
	assert.False(t, saved, "another user than the rejected one")
	assert.Equal(t, other.Token(), stored())

	require.NoError(t, s.Save(ctx, "k", old))
	require.NoError(t, c.Set(ctx, n.lock, "holder", time.Minute).Err())
	saved, err = s.offer(ctx, n, "k", tokenHash(old.Token()), mine)
	require.NoError(t, err)
	assert.False(t, saved, "a login holds the lock")
	require.NoError(t, c.Del(ctx, n.lock).Err())
	saved, err = s.offer(ctx, n, "k", tokenHash(old.Token()), mine)
	require.NoError(t, err)
	assert.True(t, saved, "the rejected user is replaced")
	assert.Equal(t, mine.Token(), stored())

	require.NoError(t, c.Set(ctx, n.entry, "not json", 0).Err())
	saved, err = s.offer(ctx, n, "k", tokenHash(old.Token()), other)
	require.NoError(t, err)
	assert.False(t, saved, "a corrupt entry is left to the locked path")
}

// A Clear (a logout) while a lockless login runs: the login's background
// offer is dropped, or it would bring the logged-out user back.
func TestUnlockedOfferDroppedAfterClear(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	s := New(r.client(t), WithPrefix(testPrefix(t)))
	n := s.names("k")
	for _, clear := range []bool{false, true} {
		require.NoError(t, s.Clear(ctx, "k"))
		login := func(ctx context.Context) (*auth.User, error) {
			if clear {
				require.NoError(t, s.Clear(ctx, "k"))
			}
			return newUser("sid:1", time.Now().Add(time.Hour)), nil
		}
		u, err := s.unlocked(ctx, n, "k", "", login, errors.New("Redis was away"))
		require.NoError(t, err)
		require.NotNil(t, u)
		s.bg.Wait()
		got, err := s.Load(ctx, "k")
		if clear {
			assert.ErrorIs(t, err, auth.ErrNoUser, "cleared during the login: not offered")
		} else {
			require.NoError(t, err)
			assert.Equal(t, u.Token(), got.Token(), "offered to the fleet")
		}
	}
}
