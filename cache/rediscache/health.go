package rediscache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The back-off after Redis failed: Coordinate logs in locally, without
// sending anything to Redis, for backoffMin after the first failure, twice
// as long after each failed retry, at most backoffMax; the first command
// that succeeds ends it.
const (
	backoffMin = time.Second
	backoffMax = 30 * time.Second
)

// health remembers whether Redis answered lately. Every command the store
// sends gets a sequence number when it starts; a result counts only when
// no command that started later has already given the opposite verdict, so
// a slow old failure does not undo a recovery and vice versa.
type health struct {
	mu      sync.Mutex
	seq     uint64        // commands started
	okSeq   uint64        // the latest-started command that succeeded
	failSeq uint64        // the command whose failure started the back-off
	until   time.Time     // no coordination through Redis before this
	next    time.Duration // the back-off the next failure starts
	cause   error         // the failure that started the back-off
}

// begin numbers a command about to be sent.
func (s *Store) begin() uint64 {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	s.health.seq++
	return s.health.seq
}

// down reports whether Coordinate is backing off after a Redis failure,
// for how much longer, and the failure.
func (s *Store) down() (left time.Duration, cause error, ok bool) {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until.IsZero() {
		return 0, nil, false
	}
	left = h.until.Sub(s.clock())
	return left, h.cause, left > 0
}

// succeeded records that Redis answered command seq.
func (s *Store) succeeded(ctx context.Context, seq uint64) {
	h := &s.health
	h.mu.Lock()
	h.okSeq = max(h.okSeq, seq)
	recovered := !h.until.IsZero() && seq > h.failSeq
	if recovered {
		h.until, h.next, h.cause = time.Time{}, 0, nil
	}
	h.mu.Unlock()
	if recovered && s.log != nil {
		s.log.InfoContext(ctx, "rediscache: Redis answers again; logins are coordinated through it again")
	}
}

// failed records that command seq found Redis unreachable or too slow, and
// starts a back-off unless one is running or a later command succeeded.
func (s *Store) failed(seq uint64, err error) {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	now := s.clock()
	if seq < h.okSeq || now.Before(h.until) {
		return
	}
	d := h.next
	if d <= 0 {
		d = backoffMin
	}
	h.until, h.failSeq, h.cause = now.Add(d), seq, err
	h.next = min(2*d, backoffMax)
}

// note records the outcome of command seq sent for a caller with ctx.
func (s *Store) note(ctx context.Context, seq uint64, err error) {
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		s.succeeded(ctx, seq)
	case ctx.Err() != nil:
		// The caller gave up: that says nothing about Redis.
	case unavailable(err):
		s.failed(seq, err)
	default:
		s.succeeded(ctx, seq) // Redis answered, with an error reply
	}
}

// unavailable reports whether err means Redis could not serve a command:
// no connection, no answer in time, or a server that is loading, a replica
// that lost its master, a cluster that is down. An error reply to the
// command itself (WRONGTYPE, NOPERM, …) means Redis is there.
func unavailable(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsClusterDownError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) || redis.IsReadOnlyError(err)
}

// opTimeoutError is returned for a command abandoned after the op timeout.
type opTimeoutError struct{ d time.Duration }

func (e *opTimeoutError) Error() string {
	return fmt.Sprintf("Redis did not answer within %v (WithOpTimeout)", e.d)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *opTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true, as net.Error's does.
func (e *opTimeoutError) Timeout() bool { return true }

// call runs one Redis command (f) bounded by the op timeout: f gets a
// context that ends after it, and call returns when f does or when the
// timeout passes, whichever comes first — a client without
// ContextTimeoutEnabled keeps waiting for the server past the deadline, so
// call does not wait for f. An abandoned f finishes in its goroutine;
// drop, when not nil, receives the value it returns too late. The outcome
// is recorded for the back-off. When ctx ends first, call returns
// ctx.Err().
func call[T any](s *Store, ctx context.Context, drop func(T), f func(context.Context) (T, error)) (T, error) {
	seq := s.begin()
	if s.opTimeout <= 0 {
		v, err := f(ctx)
		s.note(ctx, seq, err)
		return v, err
	}
	octx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	var state atomic.Int32 // 0 running, 1 delivered, 2 abandoned
	go func() {
		v, err := f(octx)
		done <- result{v, err}
		if !state.CompareAndSwap(0, 1) && drop != nil {
			drop(v)
		}
	}()
	select {
	case r := <-done:
		s.note(ctx, seq, r.err)
		return r.v, r.err
	case <-octx.Done():
	}
	if !state.CompareAndSwap(0, 2) { // f returned just now: use its result
		r := <-done
		s.note(ctx, seq, r.err)
		return r.v, r.err
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	err := &opTimeoutError{d: s.opTimeout}
	s.failed(seq, err)
	return zero, err
}

// exec is call for a command with no value.
func (s *Store) exec(ctx context.Context, f func(context.Context) error) error {
	_, err := call(s, ctx, nil, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// background runs f in a goroutine the store's tests can wait for, with
// ctx's values but not its cancellation.
func (s *Store) background(ctx context.Context, f func(context.Context)) {
	ctx = context.WithoutCancel(ctx)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(ctx)
	}()
}

// retryIn is a log attribute: how long until Coordinate tries Redis again.
func retryIn(left time.Duration) slog.Attr {
	return slog.Duration("retry_in", left.Round(time.Millisecond))
}
