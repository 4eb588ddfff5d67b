package cache

import (
	"github.com/zumo-go/zumo/internal/storeutil"

	"github.com/zumo-go/zumo/auth"
)

// CorruptEntryError is the error File.Load returns for an entry file that
// exists but cannot be used: unreadable, not a regular file, too large, not
// JSON, an unknown format version, saved under another key, or holding no
// user id or no token. It wraps auth.ErrCorruptEntry, so
// errors.Is(err, auth.ErrCorruptEntry) holds, and Err.
//
// Neither Path nor Err ever holds the file's contents, so the error is safe
// to log even though the file holds a token.
type CorruptEntryError struct {
	// Path is the entry file.
	Path string
	// Err says what is wrong: an *os.PathError or *fs.PathError when the file
	// could not be read, otherwise a description of the fault.
	Err error
}

// Error returns a message naming the file and the fault, never its contents.
func (e *CorruptEntryError) Error() string {
	msg := "cache: unreadable user entry " + e.Path
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
func checkUser(u *auth.User) error { return storeutil.CheckUser("cache", u) }

// entryFields are the JSON names in an entry, the only names a fault
// description may quote.
var entryFields = map[string]bool{
	"v": true, "key": true, "user": true, "savedAt": true,
	"userId": true, "authenticationToken": true,
}

// jsonFault describes a JSON decoding error of what without quoting the
// input (which holds a token).
func jsonFault(what string, err error) error { return storeutil.JSONFault(what, err, entryFields) }
