package rediscache

import (
	"github.com/zumo-go/zumo/internal/storeutil"

	"github.com/zumo-go/zumo/auth"
)

// CorruptEntryError is the error Load returns for a value under the key
// that cannot be used: not this package's JSON, an unknown format version,
// saved under another key, encrypted when no key is configured (or not
// encrypted when one is), failing to decrypt (a wrong key, a value moved
// from another Redis key), larger than DefaultMaxEntrySize, or holding no
// user id or no token. It wraps auth.ErrCorruptEntry, so
// errors.Is(err, auth.ErrCorruptEntry) holds, and Err.
//
// Neither Key nor Err ever holds the value, so the error is safe to log even
// though the value holds a token.
type CorruptEntryError struct {
	// Key is the Redis key.
	Key string
	// Err says what is wrong.
	Err error
}

// Error names the Redis key and the fault, never the value.
func (e *CorruptEntryError) Error() string {
	msg := "rediscache: unreadable user entry " + e.Key
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns auth.ErrCorruptEntry and, when set, Err.
func (e *CorruptEntryError) Unwrap() []error {
	if e.Err == nil {
		return []error{auth.ErrCorruptEntry}
	}
	return []error{auth.ErrCorruptEntry, e.Err}
}

// checkUser reports whether u can be stored and loaded back.
func checkUser(u *auth.User) error { return storeutil.CheckUser("rediscache", u) }

// entryFields are the JSON names in an entry, the only names a fault
// description may quote.
var entryFields = map[string]bool{
	"v": true, "th": true, "enc": true, "key": true, "user": true, "savedAt": true,
	"userId": true, "authenticationToken": true,
}

// jsonFault describes a JSON decoding error of what without quoting the
// input (which holds a token).
func jsonFault(what string, err error) error { return storeutil.JSONFault(what, err, entryFields) }
