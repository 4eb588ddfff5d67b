package cache

import (
	"context"
	"sync"

	"github.com/zumo-go/zumo/auth"
)

// Memory is an auth.Store that keeps users in a map for the life of the
// process. It is safe for concurrent use. The zero value is an empty store
// ready to use; NewMemory is the same thing spelled as a constructor.
type Memory struct {
	mu    sync.RWMutex
	users map[string]*auth.User
}

var _ auth.Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store. It never fails.
func NewMemory() *Memory {
	return &Memory{users: make(map[string]*auth.User)}
}

// Load returns the user saved under key. It returns auth.ErrNoUser when
// there is none, and ctx.Err() when ctx is already done. A memory store
// never holds a corrupt entry.
func (m *Memory) Load(ctx context.Context, key string) (*auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	u, ok := m.users[key]
	m.mu.RUnlock()
	if !ok {
		return nil, auth.ErrNoUser
	}
	// A User is immutable, so handing out the stored pointer is safe.
	return u, nil
}

// Save stores u under key, replacing what was there. It fails with an
// error wrapping auth.ErrInvalidUser when u is nil or has no id or no token
// (such a user could not be loaded back from a file store either), and with
// ctx.Err() when ctx is already done; on failure the store is unchanged.
func (m *Memory) Save(ctx context.Context, key string, u *auth.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckUser(u); err != nil {
		return err
	}
	m.mu.Lock()
	if m.users == nil {
		m.users = make(map[string]*auth.User)
	}
	m.users[key] = u
	m.mu.Unlock()
	return nil
}

// Clear removes the user saved under key. Clearing an absent key is not an
// error; the only failure is ctx.Err() when ctx is already done.
func (m *Memory) Clear(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.users, key)
	m.mu.Unlock()
	return nil
}
