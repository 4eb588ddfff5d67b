package rediscache

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"log/slog"
	"time"
)

const (
	// DefaultPrefix starts every Redis key and channel the store uses,
	// unless WithPrefix says otherwise.
	DefaultPrefix = "zumo:"
	// DefaultTTL is how long an entry whose token has no known expiry is
	// kept, unless WithDefaultTTL says otherwise.
	DefaultTTL = 24 * time.Hour
	// DefaultLockTTL is how long the fleet's login lock lives unless it is
	// released or extended, unless WithLockTTL says otherwise. It bounds how
	// long a crashed lock holder can make the others wait.
	DefaultLockTTL = 10 * time.Second
	// ExpiryMargin is added to a token's remaining lifetime to get its
	// entry's TTL, so that clocks that disagree a little between machines
	// never see an entry vanish before its token has expired for them.
	ExpiryMargin = time.Minute
	// DefaultMaxEntrySize is the largest value Load accepts; a larger one
	// is reported as corrupt.
	DefaultMaxEntrySize = 64 << 10
	// DefaultOpTimeout bounds each Redis command the store sends, unless
	// WithOpTimeout says otherwise.
	DefaultOpTimeout = time.Second
)

// An Option configures a Store made by New.
type Option func(*config)

type config struct {
	prefix     string
	defaultTTL time.Duration
	lockTTL    time.Duration
	aead       cipher.AEAD
	keyErr     error
	log        *slog.Logger
	now        func() time.Time
	opTimeout  time.Duration
}

// WithPrefix starts every Redis key and pub/sub channel the store uses with
// p (default DefaultPrefix, "zumo:"). Give each application sharing a Redis
// database its own prefix. A prefix should not contain '{' or '}': the
// store puts a Redis Cluster hash tag after it.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithDefaultTTL sets how long an entry is kept when its token's expiry is
// unknown (default DefaultTTL). Zero or a negative d keeps such entries
// until they are replaced or cleared.
func WithDefaultTTL(d time.Duration) Option { return func(c *config) { c.defaultTTL = d } }

// WithLockTTL sets the lifetime of the fleet's login lock (default
// DefaultLockTTL). While a process logs in it extends the lock every third
// of this, so a slow login keeps it; a process that dies holding it blocks
// the others for at most d. Values below 100 ms count as 100 ms.
func WithLockTTL(d time.Duration) Option {
	return func(c *config) {
		if d < 100*time.Millisecond {
			d = 100 * time.Millisecond
		}
		c.lockTTL = d
	}
}

// WithEncryptionKey encrypts every entry at rest with AES-GCM under key,
// which must be 16, 24 or 32 bytes long (AES-128, -192 or -256); New panics
// otherwise. Each value gets a random nonce and is authenticated together
// with its Redis key, so a value copied to another key does not decrypt.
// Every process sharing the entries needs the same key. With a key set,
// Load reports an unencrypted entry (or one under another key) as corrupt.
func WithEncryptionKey(key []byte) Option {
	return func(c *config) {
		block, err := aes.NewCipher(key) // copies the key
		if err != nil {
			c.aead, c.keyErr = nil, fmt.Errorf("rediscache: encryption key must be 16, 24 or 32 bytes, got %d", len(key))
			return
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			c.aead, c.keyErr = nil, fmt.Errorf("rediscache: encryption: %w", err)
			return
		}
		c.aead, c.keyErr = aead, nil
	}
}

// WithOpTimeout bounds every Redis command the store sends — each step of
// Coordinate, and Load, Save and Clear — to d (default DefaultOpTimeout),
// whatever the caller's context and the go-redis client's own timeouts
// say: a Redis that accepts connections but never answers costs a login
// decision at most d before Coordinate falls back to a local login (see
// the package documentation, "When Redis is away"). A command that has
// not answered within d is abandoned with an error wrapping
// context.DeadlineExceeded; go-redis finishes it in the background within
// its own ReadTimeout and WriteTimeout, holding one pool connection until
// then. Zero or a negative d sets no bound of the store's own: only the
// caller's context (when the client has ContextTimeoutEnabled) and the
// client's timeouts and retries apply.
func WithOpTimeout(d time.Duration) Option { return func(c *config) { c.opTimeout = d } }

// WithLogger reports what Coordinate does on its slow path — Redis
// unreachable or too slow and a login made without the lock, Redis
// answering again, corrupt entries, a lock that could not be released — to
// l. Tokens never appear. Default: nothing is logged.
//
// The auth handler's logger (auth.WithLogger) does not see these faults:
// Coordinate hides them from the handler (it returns the local login's
// result as is), so give the store a logger too — the same one, typically.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the clock entry TTLs are computed with (default
// time.Now). Give it the clock the auth handler judges expiry by.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}
