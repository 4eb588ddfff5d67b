package cache

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// fakeJWT returns a token with the given claims and a made-up signature;
// the stores never verify it and neither does auth.NewUser.
func fakeJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString(c) + "." + enc.EncodeToString([]byte("sekrit-signature"))
}

// testUser returns a user whose token expires at a known time.
func testUser(t testing.TB, id string) *auth.User {
	t.Helper()
	return auth.NewUser(id, fakeJWT(t, map[string]any{"sub": id, "exp": 1900000000, "idp": "aad"}))
}

// requireSameUser checks that got is want, field by field (a loaded user is
// a new value, not the saved pointer, for a file store).
func requireSameUser(t testing.TB, want, got *auth.User) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID(), got.ID())
	assert.Equal(t, want.Token(), got.Token())
	wantExp, wantOK := want.ExpiresAt()
	gotExp, gotOK := got.ExpiresAt()
	assert.Equal(t, wantOK, gotOK)
	assert.True(t, wantExp.Equal(gotExp), "expiry %v, want %v", gotExp, wantExp)
	assert.Equal(t, want.Provider(), got.Provider())
}

type storeCase struct {
	name string
	make func(t *testing.T) auth.Store
}

func storeCases() []storeCase {
	return []storeCase{
		{"memory", func(*testing.T) auth.Store { return NewMemory() }},
		{"memory zero value", func(*testing.T) auth.Store { return new(Memory) }},
		{"file", func(t *testing.T) auth.Store {
			s, err := NewFile(t.TempDir())
			require.NoError(t, err)
			return s
		}},
	}
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	users := []struct {
		name string
		user *auth.User
	}{
		{"jwt with expiry", testUser(t, "sid:0123456789abcdef")},
		{"jwt without expiry", auth.NewUser("Facebook:1234", fakeJWT(t, map[string]any{"sub": "x"}))},
		{"legacy token", auth.NewUser("Google:42", fakeJWT(t, map[string]any{
			"iss": "urn:microsoft:windows-azure:zumo", "aud": "Google", "uid": "Google:42", "exp": 1900000123}))},
		{"opaque token", auth.NewUser("sid:opaque", "not-a-jwt")},
		{"unicode id", auth.NewUser("sid:zoë|🙂", "tok\"en\\with<json>&chars\u2028")},
	}
	for _, sc := range storeCases() {
		for _, uc := range users {
			t.Run(sc.name+"/"+uc.name, func(t *testing.T) {
				s := sc.make(t)
				key := auth.Key("https://app.example", "alice")

				_, err := s.Load(ctx, key)
				require.ErrorIs(t, err, auth.ErrNoUser)

				require.NoError(t, s.Save(ctx, key, uc.user))
				got, err := s.Load(ctx, key)
				require.NoError(t, err)
				requireSameUser(t, uc.user, got)

				// Saving again replaces the entry.
				other := testUser(t, "sid:other")
				require.NoError(t, s.Save(ctx, key, other))
				got, err = s.Load(ctx, key)
				require.NoError(t, err)
				requireSameUser(t, other, got)
			})
		}
	}
}

func TestStoreKeysIsolated(t *testing.T) {
	ctx := context.Background()
	keys := []string{
		auth.Key("https://one.example", "alice"),
		auth.Key("https://one.example", "bob"),
		auth.Key("https://two.example", "alice"),
		auth.Key("https://two.example", "bob"),
		// Pairs that would collide if the parts were simply joined.
		auth.Key("a|b", "c"),
		auth.Key("a", "b|c"),
		"",
	}
	for _, sc := range storeCases() {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.make(t)
			users := make(map[string]*auth.User)
			for i, k := range keys {
				users[k] = testUser(t, fmt.Sprintf("sid:%d", i))
				require.NoError(t, s.Save(ctx, k, users[k]))
			}
			for _, k := range keys {
				got, err := s.Load(ctx, k)
				require.NoError(t, err, "key %q", k)
				requireSameUser(t, users[k], got)
			}

			// Clearing one key leaves the others.
			require.NoError(t, s.Clear(ctx, keys[0]))
			_, err := s.Load(ctx, keys[0])
			require.ErrorIs(t, err, auth.ErrNoUser)
			for _, k := range keys[1:] {
				got, err := s.Load(ctx, k)
				require.NoError(t, err, "key %q", k)
				requireSameUser(t, users[k], got)
			}
		})
	}
}

func TestStoreClear(t *testing.T) {
	ctx := context.Background()
	key := auth.Key("https://app.example", "alice")
	for _, sc := range storeCases() {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.make(t)
			require.NoError(t, s.Clear(ctx, key), "clearing an absent entry")
			require.NoError(t, s.Save(ctx, key, testUser(t, "sid:1")))
			require.NoError(t, s.Clear(ctx, key))
			_, err := s.Load(ctx, key)
			require.ErrorIs(t, err, auth.ErrNoUser)
			require.NoError(t, s.Clear(ctx, key), "clearing twice")
		})
	}
}

func TestStoreSaveRejectsInvalidUser(t *testing.T) {
	ctx := context.Background()
	key := auth.Key("https://app.example", "alice")
	tok := fakeJWT(t, map[string]any{"sub": "x"})
	bad := []struct {
		name string
		user *auth.User
	}{
		{"nil", nil},
		{"no id", auth.NewUser("", tok)},
		{"no token", auth.NewUser("sid:1", "")},
	}
	for _, sc := range storeCases() {
		for _, bc := range bad {
			t.Run(sc.name+"/"+bc.name, func(t *testing.T) {
				s := sc.make(t)
				good := testUser(t, "sid:good")
				require.NoError(t, s.Save(ctx, key, good))

				err := s.Save(ctx, key, bc.user)
				require.ErrorIs(t, err, auth.ErrInvalidUser)
				assert.NotContains(t, err.Error(), tok)

				got, err := s.Load(ctx, key)
				require.NoError(t, err, "a rejected Save leaves the entry")
				requireSameUser(t, good, got)
			})
		}
	}
}

func TestStoreCancelledContext(t *testing.T) {
	key := auth.Key("https://app.example", "alice")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	ctxs := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline exceeded", expired, context.DeadlineExceeded},
	}
	for _, sc := range storeCases() {
		for _, cc := range ctxs {
			t.Run(sc.name+"/"+cc.name, func(t *testing.T) {
				s := sc.make(t)
				bg := context.Background()
				u := testUser(t, "sid:1")

				require.ErrorIs(t, s.Save(cc.ctx, key, u), cc.want)
				_, err := s.Load(bg, key)
				require.ErrorIs(t, err, auth.ErrNoUser, "a cancelled Save stores nothing")

				require.NoError(t, s.Save(bg, key, u))
				_, err = s.Load(cc.ctx, key)
				require.ErrorIs(t, err, cc.want)
				require.ErrorIs(t, s.Clear(cc.ctx, key), cc.want)
				got, err := s.Load(bg, key)
				require.NoError(t, err, "a cancelled Clear removes nothing")
				requireSameUser(t, u, got)
			})
		}
	}
}

// TestStoreConcurrent runs Saves, Loads and Clears from many goroutines on
// a shared key and on keys of their own; run it with -race. Every Load must
// give ErrNoUser or a whole user that some goroutine saved.
func TestStoreConcurrent(t *testing.T) {
	const goroutines, iterations = 8, 40
	ctx := context.Background()
	shared := auth.Key("https://app.example", "shared")

	// Every user any goroutine saves, by id, so a Load can be checked whole.
	users := make(map[string]*auth.User)
	for g := range goroutines {
		for i := range iterations {
			id := fmt.Sprintf("sid:%d:%d", g, i)
			users[id] = testUser(t, id)
		}
	}
	checkLoad := func(u *auth.User, err error) error {
		if errors.Is(err, auth.ErrNoUser) {
			return nil
		}
		if err != nil {
			return err
		}
		want, ok := users[u.ID()]
		if !ok || want.Token() != u.Token() {
			return fmt.Errorf("loaded a user nobody saved: %v", u)
		}
		return nil
	}

	for _, sc := range storeCases() {
		t.Run(sc.name, func(t *testing.T) {
			s := sc.make(t)
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*iterations*4)
			for g := range goroutines {
				wg.Go(func() {
					own := auth.Key("https://app.example", fmt.Sprint("own", g))
					for i := range iterations {
						u := users[fmt.Sprintf("sid:%d:%d", g, i)]
						if err := s.Save(ctx, shared, u); err != nil {
							errs <- err
						}
						if err := checkLoad(s.Load(ctx, shared)); err != nil {
							errs <- err
						}
						if err := s.Save(ctx, own, u); err != nil {
							errs <- err
						}
						got, err := s.Load(ctx, own)
						if err != nil {
							errs <- err
						} else if got.ID() != u.ID() || got.Token() != u.Token() {
							errs <- fmt.Errorf("own key: got %v, want %v", got, u)
						}
						if i%5 == 4 {
							if err := s.Clear(ctx, shared); err != nil {
								errs <- err
							}
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			require.NoError(t, checkLoad(s.Load(ctx, shared)))
		})
	}
}
