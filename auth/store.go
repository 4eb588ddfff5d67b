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
