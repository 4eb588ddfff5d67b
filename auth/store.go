package auth

import (
	"context"
	"errors"
)

// A Store keeps the logged-in user between runs, so that the next start
// needs no login. Implementations (package cache has an in-memory and a file
// store) must be safe for concurrent use.
//
// The key names one app and one identity (see Key); two keys never see each
// other's entry.
type Store interface {
	// Load returns the user saved under key, or ErrNoUser when there is
	// none. An entry that cannot be read (corrupt, foreign) is reported
	// with an error wrapping ErrCorruptEntry and is otherwise treated as
	// absent; Load never returns a partly read user.
	Load(ctx context.Context, key string) (*User, error)
	// Save stores u under key, replacing what was there.
	Save(ctx context.Context, key string, u *User) error
	// Clear removes the entry under key; clearing an absent entry is not an
	// error.
	Clear(ctx context.Context, key string) error
}

// ErrNoUser is returned by Store.Load when no user is saved under the key.
var ErrNoUser = errors.New("auth: no user stored")

// ErrCorruptEntry is wrapped by the error a Store returns for an entry it
// cannot read. The caller treats the entry as absent.
var ErrCorruptEntry = errors.New("auth: stored user cannot be read")

// Key returns the store key for an app and an identity: the app's URL and a
// caller-chosen identity (a provider and account name, say), joined so that
// distinct pairs give distinct keys.
func Key(appURL, identity string) string {
	return "zumo|" + escapeKeyPart(appURL) + "|" + escapeKeyPart(identity)
}

func escapeKeyPart(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '|', '%':
			out = append(out, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

// A Coordinator is a Store shared by many processes (a fleet of service
// instances) that can make sure only one of them logs in at a time. When
// the handler's store implements it, the handler calls Coordinate instead
// of logging in by itself; within one process the handler's single flight
// already makes that one call at a time.
type Coordinator interface {
	Store
	// Coordinate returns a usable user for key, logging in at most once
	// across every process that shares the store:
	//   - rejected is a token the server refused ("" for none): the
	//     shared entry is cleared only if it still holds that token
	//     (compare-and-swap), so a token another process saved meanwhile
	//     survives;
	//   - usable reports whether a stored user can be used as it is (not
	//     expiring within the skew, not rejected); such a user is
	//     returned without a login;
	//   - login logs in (or refreshes); Coordinate calls it only while it
	//     holds the fleet's lock, saves its user, and wakes the processes
	//     waiting for it.
	// When the shared store cannot be reached, Coordinate may call login
	// without the lock (a local login beats no login) and report the store
	// error through its own logging; it returns login's error as is.
	Coordinate(ctx context.Context, key, rejected string, usable func(*User) bool, login func(context.Context) (*User, error)) (*User, error)
}

// local is the Coordinator of a store that no fleet shares, or of no store
// at all, so that the handler has one path: within one process the single
// flight already makes its calls one at a time. It adopts the stored user
// when usable, else calls login. It saves nothing: the flight saves a new
// user itself, unless SetUser or Logout has overruled it meanwhile.
type local struct {
	Store // nil: no store
	logf  func(ctx context.Context, msg string, err error)
}

// Coordinate implements Coordinator.
func (l local) Coordinate(ctx context.Context, key, rejected string, usable func(*User) bool, login func(context.Context) (*User, error)) (*User, error) {
	if l.Store != nil {
		u, err := l.Load(ctx, key)
		switch {
		case err == nil:
			if u != nil && u.Token() != rejected && usable(u) {
				return u, nil
			}
		case !errors.Is(err, ErrNoUser):
			l.logf(ctx, "auth: user store load failed; treating it as empty", err)
		}
	}
	return login(ctx)
}
