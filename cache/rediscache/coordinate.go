package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zumo-go/zumo/auth"
)

// Polling bounds for processes waiting for the lock holder: the first wait
// is pollMin, each later one twice the previous, up to a quarter of the
// lock TTL but never more than pollMax. Pub/sub normally wakes the waiters
// long before; polling covers a lost notification and a crashed holder.
const (
	pollMin = 25 * time.Millisecond
	pollMax = time.Second
	// confirmTimeout bounds waiting for Redis to confirm a subscription.
	confirmTimeout = time.Second
)

// Coordinate implements auth.Coordinator: it returns a usable user for key,
// logging in at most once across every process sharing the Redis entry.
//
//  1. When rejected is not "", the entry is deleted if it still holds that
//     token (a Lua script compares the SHA-256 of the token; the token is
//     never sent), so a newer token another process saved survives.
//  2. The entry is read; a user for which usable returns true is returned.
//     A corrupt entry is reported through the logger and treated as absent.
//  3. Otherwise Coordinate takes the fleet's lock (SET lock owner NX PX
//     ttl). The holder reads the entry again (another process may have
//     saved one just before), else calls login, saves its user, releases
//     the lock if it still owns it and PUBLISHes on the key's channel.
//     While login runs the holder extends the lock every third of its TTL.
//  4. A process that does not get the lock subscribes to the channel and
//     waits for a notification, or a bounded, growing, jittered poll
//     interval, whichever comes first; then it reads the entry again and
//     retries the lock, which a crashed holder gives up when it expires.
//
// Coordinate returns ctx.Err() when ctx is done while it waits. Each Redis
// command is bounded by the op timeout (WithOpTimeout). When Redis cannot
// be reached or does not answer in time, Coordinate calls login without
// the lock (a local login beats no login), reports the Redis error through
// the logger, offers the user to the fleet in the background (never
// delaying the caller; it is saved only where the entry is absent or still
// holds the rejected token, and no login holds the lock), and returns
// login's result as is. It then backs off: for a
// second after the failure, doubling with each failed retry up to 30 s,
// Coordinate logs in locally at once without sending anything to Redis;
// the first command that succeeds ends the back-off. A failed login
// releases the lock, so a waiting process logs in for itself.
func (s *Store) Coordinate(ctx context.Context, key, rejected string, usable func(*auth.User) bool,
	login func(context.Context) (*auth.User, error)) (*auth.User, error) {
	if login == nil {
		return nil, errors.New("rediscache: Coordinate needs a login function")
	}
	if usable == nil {
		usable = func(*auth.User) bool { return true }
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := s.names(key)
	var th string
	if rejected != "" {
		th = tokenHash(rejected)
	}
	rejectedTH := th
	var w *waiter
	defer func() { w.close() }()
	backoff := pollMin
	reported := false // a corrupt entry is logged once per call
	for {
		if left, cause, down := s.down(); down {
			return s.local(ctx, n, login, left, cause)
		}
		u, err := s.loadCAS(ctx, n, key, th)
		th = "" // compare and swap once: later saves are newer tokens
		switch {
		case err == nil && usable(u):
			return u, nil
		case err == nil || errors.Is(err, auth.ErrNoUser):
		case errors.Is(err, auth.ErrCorruptEntry):
			if !reported {
				reported = true
				s.warn(ctx, "rediscache: ignoring an unreadable entry", n, err)
			}
		default:
			return s.unlocked(ctx, n, key, rejectedTH, login, err)
		}
		owner, err := newOwner()
		if err != nil {
			return s.unlocked(ctx, n, key, rejectedTH, login, err)
		}
		got, err := s.acquire(ctx, n, owner)
		if err != nil {
			return s.unlocked(ctx, n, key, rejectedTH, login, err)
		}
		if got {
			return s.lead(ctx, n, key, owner, usable, login)
		}
		if w == nil {
			// Subscribe, then look again at once: the holder may have
			// published before the subscription was in place.
			w = s.subscribe(ctx, n)
			continue
		}
		if err := w.wait(ctx, jitter(backoff)); err != nil {
			return nil, err
		}
		backoff = min(backoff*2, s.pollCap())
	}
}

// pollCap is the longest a waiter sleeps between two looks.
func (s *Store) pollCap() time.Duration {
	return max(pollMin, min(pollMax, s.lockTTL/4))
}

// jitter spreads d by ±20% so waiters do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + time.Duration(mrand.Int64N(int64(d)*2/5+1))
}

// loadCAS reads the entry, first deleting it when th is the hash of its
// token (th "" reads only).
func (s *Store) loadCAS(ctx context.Context, n names, key, th string) (*auth.User, error) {
	if th == "" {
		data, err := call(s, ctx, nil, func(ctx context.Context) ([]byte, error) {
			return s.client.Get(ctx, n.entry).Bytes()
		})
		return s.decode(n, key, data, err)
	}
	res, err := call(s, ctx, nil, func(ctx context.Context) (any, error) {
		return casLoadScript.Run(ctx, s.client, []string{n.entry}, th).Result()
	})
	if err != nil {
		return s.decode(n, key, nil, err) // redis.Nil: absent or just deleted
	}
	switch v := res.(type) {
	case string:
		return s.decode(n, key, []byte(v), nil)
	case int64:
		return nil, &CorruptEntryError{Entry: n.entry, Err: errors.New("not a Redis string")}
	default:
		return nil, errors.New("rediscache: unexpected reply from the compare-and-swap script")
	}
}

// newOwner returns a random lock owner token.
func newOwner() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("rediscache: making a lock owner: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (s *Store) lockMillis() string { return strconv.FormatInt(s.lockTTL.Milliseconds(), 10) }

// acquire tries to take the lock for owner: SET lock owner PX ttl NX.
func (s *Store) acquire(ctx context.Context, n names, owner string) (bool, error) {
	err := s.exec(ctx, func(ctx context.Context) error {
		return s.client.Do(ctx, "set", n.lock, owner, "px", s.lockMillis(), "nx").Err()
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	default:
		return false, fmt.Errorf("rediscache: taking the login lock: %w", err)
	}
}

// lead runs while this process holds the lock.
func (s *Store) lead(ctx context.Context, n names, key, owner string, usable func(*auth.User) bool,
	login func(context.Context) (*auth.User, error)) (*auth.User, error) {
	stop := s.keepLock(ctx, n, owner)
	defer func() {
		stop()
		if _, _, down := s.down(); down {
			// Redis just failed: the caller does not wait for it again.
			// Should the release fail too, the lock expires by itself.
			s.background(ctx, func(ctx context.Context) { s.release(ctx, n, owner) })
			return
		}
		s.release(ctx, n, owner)
	}()
	// Another process may have saved a user between our read and our lock.
	u, err := s.loadCAS(ctx, n, key, "")
	switch {
	case err == nil && usable(u):
		return u, nil
	case err == nil || errors.Is(err, auth.ErrNoUser) || errors.Is(err, auth.ErrCorruptEntry):
	default:
		s.warn(ctx, "rediscache: reading the entry under the lock failed; logging in", n, err)
	}
	nu, err := login(ctx)
	if err != nil || nu == nil {
		return nu, err
	}
	// Save even when ctx ended meanwhile: the login is done, and the
	// others are waiting for its user.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.lockTTL) // and the op timeout
	defer cancel()
	if err := s.save(sctx, n, key, nu); err != nil {
		s.warn(ctx, "rediscache: saving the new user failed", n, err)
	}
	return nu, nil
}

// keepLock extends the lock every third of its TTL until stop is called or
// ctx is done, so a login slower than the TTL keeps it. A process that dies
// stops extending, and the lock expires.
func (s *Store) keepLock(ctx context.Context, n names, owner string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := call(s, ctx, nil, func(ctx context.Context) (int, error) {
					return extendScript.Run(ctx, s.client, []string{n.lock}, owner, s.lockMillis()).Int()
				})
				if err != nil {
					s.warn(ctx, "rediscache: extending the login lock failed", n, err)
					continue
				}
				if ok == 0 {
					s.warn(ctx, "rediscache: lost the login lock during a login", n, errors.New("lock expired or taken over"))
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// release gives the lock up if owner still holds it and tells the waiters
// to look again. It runs even when ctx is done.
func (s *Store) release(ctx context.Context, n names, owner string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.lockTTL)
	defer cancel()
	if err := s.exec(rctx, func(ctx context.Context) error {
		return releaseScript.Run(ctx, s.client, []string{n.lock}, owner).Err()
	}); err != nil {
		s.warn(ctx, "rediscache: releasing the login lock failed; it expires by itself", n, err)
	}
	if err := s.exec(rctx, func(ctx context.Context) error {
		return s.client.Publish(ctx, n.channel, "saved").Err()
	}); err != nil {
		s.warn(ctx, "rediscache: notifying waiting processes failed; they will poll", n, err)
	}
}

// unlocked is the fallback when Redis cannot be reached: log in without
// the lock, and offer the user to the fleet in the background, so that the
// caller does not wait for Redis again (the offer is bounded by the op
// timeout, and by the lock TTL when there is none). th is the hash of the
// token the caller rejected, or "".
func (s *Store) unlocked(ctx context.Context, n names, key, th string, login func(context.Context) (*auth.User, error),
	cause error) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var attrs []slog.Attr
	if left, _, down := s.down(); down {
		attrs = append(attrs, retryIn(left))
	}
	s.warn(ctx, "rediscache: shared store unavailable; logging in without the fleet lock", n, cause, attrs...)
	clears := s.clears.Load()
	u, err := login(ctx)
	if err != nil || u == nil {
		return u, err
	}
	s.background(ctx, func(ctx context.Context) {
		if s.clears.Load() != clears {
			// This process cleared the store (a logout) since the login
			// began: an offer landing now would bring the user back.
			s.debug(ctx, "rediscache: not saving the user logged in without the lock: the store was cleared since", n, nil)
			return
		}
		sctx, cancel := context.WithTimeout(ctx, s.lockTTL)
		defer cancel()
		saved, err := s.offer(sctx, n, key, th, u)
		switch {
		case err != nil:
			s.warn(ctx, "rediscache: saving the new user failed", n, err)
		case !saved:
			s.debug(ctx, "rediscache: not saving the user logged in without the lock: the fleet has another one", n, nil)
		}
	})
	return u, nil
}

// offer saves u under n unless that would replace a user someone else
// saved (see offerScript), and reports whether it did. th is the hash of
// the token the caller rejected, or "".
func (s *Store) offer(ctx context.Context, n names, key, th string, u *auth.User) (bool, error) {
	data, px, err := s.encode(n, key, u)
	if err != nil {
		return false, err
	}
	saved, err := call(s, ctx, nil, func(ctx context.Context) (int, error) {
		return offerScript.Run(ctx, s.client, []string{n.entry, n.lock}, data, px, th).Int()
	})
	if err != nil {
		return false, fmt.Errorf("rediscache: saving user: %w", err)
	}
	return saved == 1, nil
}

// local is Coordinate during the back-off after a Redis failure: log in
// without the lock and without sending anything to Redis (not even a save:
// the back-off is there so that nothing waits for Redis until it is tried
// again).
func (s *Store) local(ctx context.Context, n names, login func(context.Context) (*auth.User, error),
	left time.Duration, cause error) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.warn(ctx, "rediscache: shared store unavailable (backing off); logging in without the fleet lock", n, cause, retryIn(left))
	return login(ctx)
}

// waiter waits for the lock holder's notification.
type waiter struct {
	ps   *redis.PubSub
	msgs <-chan *redis.Message // nil: poll only
}

// subscribe subscribes to n's channel and waits (at most the op timeout,
// or confirmTimeout without one) for Redis to confirm, so a notification
// published after the next look is received. When that fails the waiter
// only polls.
func (s *Store) subscribe(ctx context.Context, n names) *waiter {
	wait := s.opTimeout
	if wait <= 0 {
		wait = confirmTimeout
	}
	closePS := func(ps *redis.PubSub) {
		if ps != nil {
			_ = ps.Close()
		}
	}
	ps, err := call(s, ctx, closePS, func(ctx context.Context) (*redis.PubSub, error) {
		ps := s.client.Subscribe(ctx, n.channel)
		if _, err := ps.ReceiveTimeout(ctx, wait); err != nil {
			_ = ps.Close()
			return nil, err
		}
		return ps, nil
	})
	if err != nil {
		s.debug(ctx, "rediscache: subscribing failed; polling instead", n, err)
		return &waiter{}
	}
	return &waiter{ps: ps, msgs: ps.Channel(redis.WithChannelSize(4))}
}

// wait returns after a notification or d, or with ctx.Err().
func (w *waiter) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case _, ok := <-w.msgs:
		if !ok {
			w.msgs = nil
		}
	}
	return nil
}

func (w *waiter) close() {
	if w != nil && w.ps != nil {
		_ = w.ps.Close()
	}
}

func (s *Store) warn(ctx context.Context, msg string, n names, err error, attrs ...slog.Attr) {
	if s.log != nil {
		all := []slog.Attr{slog.String("key", n.entry)}
		if err != nil {
			all = append(all, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, msg, append(all, attrs...)...)
	}
}

func (s *Store) debug(ctx context.Context, msg string, n names, err error) {
	if s.log != nil {
		attrs := []slog.Attr{slog.String("key", n.entry)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}
