package rediscache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// makeToken returns an unsigned JWT for sub expiring at exp (none when exp
// is zero), unique per call.
func makeToken(sub string, exp time.Time) string {
	var jti [8]byte
	_, _ = rand.Read(jti[:])
	claims := map[string]any{"sub": sub, "jti": hex.EncodeToString(jti[:]), "idp": "custom"}
	if !exp.IsZero() {
		claims["exp"] = exp.Unix()
	}
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(b) + "." + enc.EncodeToString([]byte("sig"))
}

func newUser(sub string, exp time.Time) *auth.User { return auth.NewUser(sub, makeToken(sub, exp)) }

// noToken asserts that err's message holds no part of tok.
func noToken(t *testing.T, err error, tok string) {
	t.Helper()
	if err != nil {
		assert.NotContains(t, err.Error(), tok)
		assert.NotContains(t, err.Error(), strings.Split(tok, ".")[1])
	}
}

func TestSaveLoadClear(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	s := New(r.client(t), WithPrefix(testPrefix(t)))
	key := auth.Key("https://app.example/", "alice")

	_, err := s.Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)
	require.NoError(t, s.Clear(ctx, key), "clearing an absent entry")

	u := newUser("sid:alice", time.Now().Add(time.Hour))
	require.NoError(t, s.Save(ctx, key, u))
	got, err := s.Load(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, u.ID(), got.ID())
	assert.Equal(t, u.Token(), got.Token())

	// Another key sees nothing.
	_, err = s.Load(ctx, auth.Key("https://app.example/", "bob"))
	require.ErrorIs(t, err, auth.ErrNoUser)
	// Another prefix sees nothing.
	_, err = New(r.client(t), WithPrefix(testPrefix(t))).Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)

	u2 := newUser("sid:alice", time.Now().Add(2*time.Hour))
	require.NoError(t, s.Save(ctx, key, u2))
	got, err = s.Load(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, u2.Token(), got.Token())

	require.NoError(t, s.Clear(ctx, key))
	_, err = s.Load(ctx, key)
	require.ErrorIs(t, err, auth.ErrNoUser)
}

func TestSaveInvalid(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	s := New(r.client(t), WithPrefix(testPrefix(t)))
	require.ErrorIs(t, s.Save(ctx, "k", nil), auth.ErrInvalidUser)
	require.ErrorIs(t, s.Save(ctx, "k", auth.NewUser("", "tok")), auth.ErrInvalidUser)
	require.ErrorIs(t, s.Save(ctx, "k", auth.NewUser("sid:1", "")), auth.ErrInvalidUser)

	done, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.Save(done, "k", newUser("sid:1", time.Time{})), context.Canceled)
	_, err := s.Load(done, "k")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Clear(done, "k"), context.Canceled)
	_, err = s.Coordinate(done, "k", "", nil, func(context.Context) (*auth.User, error) {
		t.Error("login called with a done context")
		return nil, nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestTTLFollowsExpiry(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(c, WithPrefix(testPrefix(t)), WithClock(func() time.Time { return now }), WithDefaultTTL(3*time.Hour))

	require.NoError(t, s.Save(ctx, "exp", newUser("sid:1", now.Add(time.Hour))))
	ttl := c.PTTL(ctx, s.EntryKey("exp")).Val()
	want := time.Hour + ExpiryMargin
	assert.LessOrEqual(t, ttl, want)
	assert.Greater(t, ttl, want-time.Minute, "TTL is the token's lifetime plus the margin")

	require.NoError(t, s.Save(ctx, "noexp", newUser("sid:1", time.Time{})))
	ttl = c.PTTL(ctx, s.EntryKey("noexp")).Val()
	assert.LessOrEqual(t, ttl, 3*time.Hour)
	assert.Greater(t, ttl, 3*time.Hour-time.Minute, "no expiry: the default TTL")

	require.NoError(t, s.Save(ctx, "expired", newUser("sid:1", now.Add(-time.Hour))))
	ttl = c.PTTL(ctx, s.EntryKey("expired")).Val()
	assert.LessOrEqual(t, ttl, ExpiryMargin)
	assert.Greater(t, ttl, time.Duration(0), "an expired token is kept for the margin only")

	forever := New(c, WithPrefix(testPrefix(t)), WithDefaultTTL(0))
	require.NoError(t, forever.Save(ctx, "noexp", newUser("sid:1", time.Time{})))
	assert.Equal(t, time.Duration(-1), c.PTTL(ctx, forever.EntryKey("noexp")).Val(), "WithDefaultTTL(0): no expiry")
}

func TestEntryKey(t *testing.T) {
	s := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), WithPrefix("app:"))
	key := auth.Key("https://app.example/", "alice")
	assert.Equal(t, "app:{"+key+"}", s.EntryKey(key))
	assert.Equal(t, "zumo:{k}", New(redis.NewClient(&redis.Options{})).EntryKey("k"))

	for _, k := range []string{"", strings.Repeat("x", maxPlainKey+1), "a{b}", "has space", "naïve", "sha256:abc", "a\nb"} {
		ek := s.EntryKey(k)
		assert.True(t, strings.HasPrefix(ek, "app:{sha256:"), "key %q is hashed: %s", k, ek)
		assert.Len(t, ek, len("app:{sha256:}")+64)
	}
	assert.NotEqual(t, s.EntryKey(strings.Repeat("x", 300)), s.EntryKey(strings.Repeat("x", 301)))
}

func TestCorruptEntries(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	s := New(c, WithPrefix(testPrefix(t)))
	const key = "zumo|https://app.example/|alice"
	u := newUser("sid:alice", time.Now().Add(time.Hour))
	tok := u.Token()
	th := tokenHash(tok)
	good := func(mod func(m map[string]any)) string {
		m := map[string]any{"v": 1, "th": th, "key": key, "user": map[string]any{"userId": "sid:alice", "authenticationToken": tok}, "savedAt": "2025-01-02T03:04:05Z"}
		mod(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := map[string]string{
		"not json":         "garbage " + tok,
		"truncated":        good(func(map[string]any) {})[:40],
		"null":             "null",
		"array":            `["` + tok + `"]`,
		"no version":       good(func(m map[string]any) { delete(m, "v") }),
		"future version":   good(func(m map[string]any) { m["v"] = 2 }),
		"no token hash":    good(func(m map[string]any) { delete(m, "th") }),
		"wrong token hash": good(func(m map[string]any) { m["th"] = tokenHash("other") }),
		"no key":           good(func(m map[string]any) { delete(m, "key") }),
		"another key":      good(func(m map[string]any) { m["key"] = "zumo|https://app.example/|bob" }),
		"no user":          good(func(m map[string]any) { delete(m, "user") }),
		"user not object":  good(func(m map[string]any) { m["user"] = tok }),
		"no token":         good(func(m map[string]any) { m["user"] = map[string]any{"userId": "sid:alice"} }),
		"no user id":       good(func(m map[string]any) { m["user"] = map[string]any{"authenticationToken": tok} }),
		"token wrong type": good(func(m map[string]any) { m["user"] = map[string]any{"userId": "x", "authenticationToken": 5} }),
		"bad savedAt":      good(func(m map[string]any) { m["savedAt"] = tok }),
		"too large":        good(func(m map[string]any) { m["pad"] = strings.Repeat("x", DefaultMaxEntrySize) }),
	}
	cases["encrypted, no key"] = `{"v":1,"th":"` + th + `","enc":"AAAA"}`
	ek := s.EntryKey(key)
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, c.Set(ctx, ek, val, 0).Err())
			got, err := s.Load(ctx, key)
			require.ErrorIs(t, err, auth.ErrCorruptEntry)
			var ce *CorruptEntryError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, ek, ce.Entry)
			assert.Nil(t, got, "never a partial user")
			noToken(t, err, tok)
		})
	}
	t.Run("not a string", func(t *testing.T) {
		require.NoError(t, c.Del(ctx, ek).Err())
		require.NoError(t, c.RPush(ctx, ek, "x").Err())
		_, err := s.Load(ctx, key)
		require.ErrorIs(t, err, auth.ErrCorruptEntry)
		// Coordinate treats it as absent: logs in and replaces it.
		var logins int
		got, err := s.Coordinate(ctx, key, tok, nil, func(context.Context) (*auth.User, error) {
			logins++
			return u, nil
		})
		require.NoError(t, err)
		assert.Equal(t, tok, got.Token())
		assert.Equal(t, 1, logins)
	})
	t.Run("saved under another key, copied", func(t *testing.T) {
		require.NoError(t, s.Save(ctx, "other", u))
		raw := c.Get(ctx, s.EntryKey("other")).Val()
		require.NoError(t, c.Set(ctx, ek, raw, 0).Err())
		_, err := s.Load(ctx, key)
		require.ErrorIs(t, err, auth.ErrCorruptEntry)
		assert.Contains(t, err.Error(), "another key")
	})
}

func TestCoordinateReportsCorruptEntry(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	var logBuf bytes.Buffer
	s := New(c, WithPrefix(testPrefix(t)), WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	u := newUser("sid:alice", time.Now().Add(time.Hour))
	require.NoError(t, c.Set(ctx, s.EntryKey("k"), "{not json "+u.Token(), 0).Err())
	var logins int
	got, err := s.Coordinate(ctx, "k", "", nil, func(context.Context) (*auth.User, error) {
		logins++
		return u, nil
	})
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, 1, logins)
	assert.Contains(t, logBuf.String(), "unreadable entry")
	assert.NotContains(t, logBuf.String(), u.Token())
	// The login replaced it.
	got, err = s.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())
}

func TestEncryption(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	c := r.client(t)
	prefix := testPrefix(t)
	key1 := bytes.Repeat([]byte{1}, 32)
	key2 := bytes.Repeat([]byte{2}, 32)
	enc := New(c, WithPrefix(prefix), WithEncryptionKey(key1))
	u := newUser("sid:alice", time.Now().Add(time.Hour))

	require.NoError(t, enc.Save(ctx, "alice", u))
	raw := c.Get(ctx, enc.EntryKey("alice")).Val()
	assert.NotContains(t, raw, u.Token(), "the token is not stored in the clear")
	assert.NotContains(t, raw, strings.Split(u.Token(), ".")[1])
	assert.NotContains(t, raw, "sid:alice", "neither is the user id")

	got, err := enc.Load(ctx, "alice")
	require.NoError(t, err, "round trip")
	assert.Equal(t, u.Token(), got.Token())
	assert.Equal(t, "sid:alice", got.ID())

	// Same key, new nonce: two saves differ.
	require.NoError(t, enc.Save(ctx, "alice", u))
	assert.NotEqual(t, raw, c.Get(ctx, enc.EntryKey("alice")).Val())

	for _, size := range []int{16, 24} {
		s := New(c, WithPrefix(prefix), WithEncryptionKey(bytes.Repeat([]byte{3}, size)))
		require.NoError(t, s.Save(ctx, fmt.Sprint(size), u))
		got, err := s.Load(ctx, fmt.Sprint(size))
		require.NoError(t, err)
		assert.Equal(t, u.Token(), got.Token())
	}

	check := func(t *testing.T, s *Store, key, want string) {
		t.Helper()
		got, err := s.Load(ctx, key)
		require.ErrorIs(t, err, auth.ErrCorruptEntry)
		assert.Nil(t, got)
		assert.Contains(t, err.Error(), want)
		noToken(t, err, u.Token())
	}
	t.Run("wrong key", func(t *testing.T) {
		check(t, New(c, WithPrefix(prefix), WithEncryptionKey(key2)), "alice", "cannot decrypt")
	})
	t.Run("no key", func(t *testing.T) {
		check(t, New(c, WithPrefix(prefix)), "alice", "no encryption key")
	})
	t.Run("plain entry, key configured", func(t *testing.T) {
		require.NoError(t, New(c, WithPrefix(prefix)).Save(ctx, "plain", u))
		check(t, enc, "plain", "not encrypted")
	})
	t.Run("value moved to another key", func(t *testing.T) {
		require.NoError(t, c.Set(ctx, enc.EntryKey("bob"), c.Get(ctx, enc.EntryKey("alice")).Val(), 0).Err())
		check(t, enc, "bob", "cannot decrypt")
	})
	t.Run("token hash swapped", func(t *testing.T) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(c.Get(ctx, enc.EntryKey("alice")).Val()), &m))
		m["th"] = tokenHash("another token")
		b, _ := json.Marshal(m)
		require.NoError(t, c.Set(ctx, enc.EntryKey("alice"), b, 0).Err())
		check(t, enc, "alice", "cannot decrypt")
	})
	t.Run("tampered ciphertext", func(t *testing.T) {
		require.NoError(t, enc.Save(ctx, "alice", u))
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(c.Get(ctx, enc.EntryKey("alice")).Val()), &m))
		sealed, _ := base64.StdEncoding.DecodeString(m["enc"].(string))
		sealed[len(sealed)-1] ^= 1
		m["enc"] = base64.StdEncoding.EncodeToString(sealed)
		b, _ := json.Marshal(m)
		require.NoError(t, c.Set(ctx, enc.EntryKey("alice"), b, 0).Err())
		check(t, enc, "alice", "cannot decrypt")
	})
	t.Run("bad sizes", func(t *testing.T) {
		for _, n := range []int{0, 8, 15, 31, 33} {
			assert.Panics(t, func() { New(c, WithEncryptionKey(make([]byte, n))) }, "key of %d bytes", n)
		}
	})
	t.Run("CAS on encrypted entries", func(t *testing.T) {
		require.NoError(t, enc.Save(ctx, "alice", u))
		other := newUser("sid:alice", time.Now().Add(time.Hour))
		got, err := enc.Coordinate(ctx, "alice", u.Token(), nil, func(context.Context) (*auth.User, error) { return other, nil })
		require.NoError(t, err)
		assert.Equal(t, other.Token(), got.Token(), "the rejected encrypted entry was cleared")
	})
}

func TestNewPanicsWithoutClient(t *testing.T) {
	assert.Panics(t, func() { New(nil) })
}

// TestLoadRedisDown: an unreachable Redis is an error, not ErrNoUser and
// not a corrupt entry.
func TestLoadRedisDown(t *testing.T) {
	port, err := freePort()
	require.NoError(t, err)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	s := New(c)
	ctx := context.Background()
	_, err = s.Load(ctx, "k")
	require.Error(t, err)
	assert.False(t, errors.Is(err, auth.ErrNoUser) || errors.Is(err, auth.ErrCorruptEntry))
	u := newUser("sid:1", time.Time{})
	err = s.Save(ctx, "k", u)
	require.Error(t, err)
	noToken(t, err, u.Token())
	require.Error(t, s.Clear(ctx, "k"))
}
