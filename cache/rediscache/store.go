package rediscache

import (
	"context"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
)

// Store is an auth.Store and auth.Coordinator kept in Redis, shared by
// every process (every instance of a service) that uses the same Redis and
// prefix: one of them logs in, the others use its user. Make one with New;
// it is safe for concurrent use.
//
// The auth handler keeps the current user in memory and consults the store
// only when it needs a user it does not have, so requests with a valid token
// send no Redis command at all.
type Store struct {
	client     redis.UniversalClient
	prefix     string
	defaultTTL time.Duration
	lockTTL    time.Duration
	aead       cipher.AEAD
	log        *slog.Logger
	now        func() time.Time
	opTimeout  time.Duration

	// clock drives the back-off after a Redis failure (time.Now; tests
	// set a fake one). It is not WithClock's clock, which may be a test
	// clock that only moves when told to.
	clock  func() time.Time
	health health
	// bg counts background saves and releases (tests wait for them).
	bg sync.WaitGroup
	// clears counts Clear calls, so that a background offer of a user
	// logged in before a Clear is dropped.
	clears atomic.Uint64
}

var (
	_ auth.Store       = (*Store)(nil)
	_ auth.Coordinator = (*Store)(nil)
)

// New returns a store that keeps its entries in Redis through client, which
// the caller builds (address, TLS, ACL user and password, timeouts, pool)
// and closes. Any redis.UniversalClient works: a single server, Sentinel or
// Cluster. New sends nothing.
//
// New panics when client is nil or an option is invalid (an encryption key
// that is not 16, 24 or 32 bytes long): both are programming errors.
func New(client redis.UniversalClient, opts ...Option) *Store {
	if client == nil {
		panic("rediscache: New needs a Redis client")
	}
	c := config{prefix: DefaultPrefix, defaultTTL: DefaultTTL, lockTTL: DefaultLockTTL, now: time.Now,
		opTimeout: DefaultOpTimeout}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.keyErr != nil {
		panic(c.keyErr.Error())
	}
	return &Store{client: client, prefix: c.prefix, defaultTTL: c.defaultTTL, lockTTL: c.lockTTL,
		aead: c.aead, log: c.log, now: c.now, opTimeout: c.opTimeout, clock: time.Now}
}

// maxPlainKey is the longest auth key used as it is inside a Redis key;
// longer ones are hashed.
const maxPlainKey = 200

// keyID is the part of the Redis keys that names an auth key: the key
// itself when it is short and printable ASCII without braces, otherwise
// "sha256:" and its hex SHA-256. It becomes a Redis Cluster hash tag, so
// an entry, its lock and its channel share a slot.
func keyID(key string) string {
	plain := key != "" && len(key) <= maxPlainKey
	for i := 0; plain && i < len(key); i++ {
		c := key[i]
		plain = c > ' ' && c < 0x7f && c != '{' && c != '}'
	}
	if plain && strings.HasPrefix(key, "sha256:") {
		plain = false // never mistaken for a hashed key
	}
	if plain {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// names are the Redis names for one auth key.
type names struct {
	entry, lock, channel string
}

func (s *Store) names(key string) names {
	base := s.prefix + "{" + keyID(key) + "}"
	return names{entry: base, lock: base + ":lock", channel: base + ":saved"}
}

// EntryKey returns the Redis key the entry for key is kept under:
// prefix + "{" + key + "}", with key replaced by "sha256:" and its hex
// SHA-256 when it is long, empty or has characters other than printable
// ASCII (or braces). The login lock is EntryKey + ":lock" and the pub/sub
// channel that announces new users is EntryKey + ":saved".
func (s *Store) EntryKey(key string) string { return s.names(key).entry }

// Load returns the user saved under key.
//
// It returns auth.ErrNoUser when there is no entry, ctx.Err() when ctx is
// already done, and an error wrapping Redis's when Redis cannot be reached
// or does not answer within the op timeout (see WithOpTimeout; the auth
// handler treats both as no user). A value that cannot be used
// gives a *CorruptEntryError, which wraps auth.ErrCorruptEntry; the caller
// treats it as absent, and the next Save replaces it. Load never returns a
// partly read user, and no error contains the value.
func (s *Store) Load(ctx context.Context, key string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := s.names(key)
	data, err := call(s, ctx, nil, func(ctx context.Context) ([]byte, error) {
		return s.client.Get(ctx, n.entry).Bytes()
	})
	return s.decode(n, key, data, err)
}

// decode turns the answer to a GET of n.entry into Load's result.
func (s *Store) decode(n names, key string, data []byte, err error) (*auth.User, error) {
	switch {
	case errors.Is(err, redis.Nil):
		return nil, auth.ErrNoUser
	case isWrongType(err):
		return nil, &CorruptEntryError{Entry: n.entry, Err: errors.New("not a Redis string")}
	case err != nil:
		return nil, fmt.Errorf("rediscache: loading user: %w", err)
	}
	return decodeEntry(s.aead, n.entry, key, data)
}

func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && len(re.Error()) >= 9 && re.Error()[:9] == "WRONGTYPE"
}

// Save stores u under key, replacing what was there, with a TTL that
// follows the token: its remaining lifetime plus ExpiryMargin, or the
// default TTL when its expiry is unknown.
//
// Save fails with ctx.Err() when ctx is already done, with an error
// wrapping auth.ErrInvalidUser when u is nil or has no id or no token, and
// with an error wrapping Redis's when Redis cannot be reached or does not
// answer within the op timeout. Errors never contain the token.
func (s *Store) Save(ctx context.Context, key string, u *auth.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.save(ctx, s.names(key), key, u)
}

func (s *Store) save(ctx context.Context, n names, key string, u *auth.User) error {
	data, px, err := s.encode(n, key, u)
	if err != nil {
		return err
	}
	args := []any{"set", n.entry, data}
	if px != "" {
		args = append(args, "px", px)
	}
	if err := s.exec(ctx, func(ctx context.Context) error { return s.client.Do(ctx, args...).Err() }); err != nil {
		return fmt.Errorf("rediscache: saving user: %w", err)
	}
	return nil
}

// encode returns u's entry under n and its TTL in milliseconds ("" for
// none).
func (s *Store) encode(n names, key string, u *auth.User) (data []byte, px string, err error) {
	if err := cache.CheckUser(u); err != nil {
		return nil, "", err
	}
	now := s.now()
	data, err = encodeEntry(s.aead, n.entry, key, u, now)
	if err != nil {
		return nil, "", errors.New("rediscache: cannot save user: encoding the entry failed")
	}
	if len(data) > DefaultMaxEntrySize {
		return nil, "", fmt.Errorf("rediscache: cannot save user: entry of %d bytes is larger than the limit of %d bytes", len(data), DefaultMaxEntrySize)
	}
	if ttl := s.ttl(u, now); ttl > 0 {
		px = strconv.FormatInt(ttl.Milliseconds(), 10)
	}
	return data, px, nil
}

// ttl is how long u's entry lives: 0 for ever.
func (s *Store) ttl(u *auth.User, now time.Time) time.Duration {
	exp, ok := u.ExpiresAt()
	if !ok {
		return s.defaultTTL
	}
	left := exp.Sub(now)
	if left < 0 {
		left = 0
	}
	ttl := left + ExpiryMargin
	if ttl < left { // overflow: time.Duration saturates near 292 years
		ttl = left
	}
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	return ttl
}

// Clear removes the entry under key, corrupt or not. Clearing an absent
// entry is not an error. It fails with ctx.Err() when ctx is already done
// and with an error wrapping Redis's when Redis cannot be reached or does
// not answer within the op timeout.
func (s *Store) Clear(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entry := s.names(key).entry
	s.clears.Add(1)
	if err := s.exec(ctx, func(ctx context.Context) error { return s.client.Del(ctx, entry).Err() }); err != nil {
		return fmt.Errorf("rediscache: clearing user: %w", err)
	}
	return nil
}
