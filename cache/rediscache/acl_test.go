package rediscache

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// TestACLUser: the store works as a Redis 6+ ACL user limited to its
// prefix and to the commands the package documentation lists.
func TestACLUser(t *testing.T) {
	r := ownRedis(t) // creates a user on the server
	ctx := context.Background()
	admin := r.client(t)
	prefix := testPrefix(t)
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "zumo", "reset", "on", ">pw",
		"~"+prefix+"*", "&"+prefix+"*", "+@connection",
		"+get", "+set", "+del", "+eval", "+evalsha", "+publish", "+subscribe", "+type", "+pexpire").Err())

	newStore := func() *Store {
		c := redis.NewClient(&redis.Options{Addr: r.addr, Username: "zumo", Password: "pw", DialerRetries: 1})
		t.Cleanup(func() { _ = c.Close() })
		return New(c, WithPrefix(prefix))
	}
	a, b := newStore(), newStore()
	u := newUser("sid:1", time.Now().Add(time.Hour))
	require.NoError(t, a.Save(ctx, "k", u))
	got, err := b.Load(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, u.Token(), got.Token())

	w := b.subscribe(ctx, b.names("k"))
	assert.NotNil(t, w.msgs, "subscribing is allowed")
	w.close()

	// The full slow path: CAS, lock, wait with pub/sub, release, publish.
	require.NoError(t, admin.Set(ctx, a.EntryKey("k")+":lock", "other", 200*time.Millisecond).Err())
	n := 0
	got, err = b.Coordinate(ctx, "k", u.Token(), freshFor(u.Token()), func(context.Context) (*auth.User, error) {
		n++
		return newUser("sid:1", time.Now().Add(time.Hour)), nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.NotEqual(t, u.Token(), got.Token())
	require.NoError(t, a.Clear(ctx, "k"))

	// Outside the prefix: refused.
	oc := redis.NewClient(&redis.Options{Addr: r.addr, Username: "zumo", Password: "pw"})
	defer oc.Close()
	other := New(oc, WithPrefix("elsewhere:"))
	require.Error(t, other.Save(ctx, "k", u))
}
