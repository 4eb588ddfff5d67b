package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zumo-go/zumo/auth"
)

// CorruptEntryError is the error a user store returns for an entry that
// exists but cannot be used. File.Load returns it for a file that is
// unreadable, not a regular file, too large, not JSON, of an unknown
// format version, saved under another key, or holding no user id or no
// token; rediscache's Store returns it for a Redis value with the same
// faults and more (see there). It wraps auth.ErrCorruptEntry, so
// errors.Is(err, auth.ErrCorruptEntry) holds, and Err.
//
// Neither Entry nor Err ever holds the entry's contents, so the error is
// safe to log even though the entry holds a token.
type CorruptEntryError struct {
	// Entry names the entry: a file's path, a Redis key.
	Entry string
	// Err says what is wrong: an *os.PathError or *fs.PathError when a file
	// could not be read, otherwise a description of the fault.
	Err error
}

// Error returns a message naming the entry and the fault, never its
// contents.
func (e *CorruptEntryError) Error() string {
	msg := "cache: unreadable user entry " + e.Entry
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

// CheckUser reports whether a store can save u and load it back: non-nil,
// with a user id and a token. The error wraps auth.ErrInvalidUser. Every
// store in this module and in rediscache checks users with it before
// saving.
func CheckUser(u *auth.User) error {
	if u == nil {
		return fmt.Errorf("cache: cannot save a nil user: %w", auth.ErrInvalidUser)
	}
	if u.ID() == "" || u.Token() == "" {
		return fmt.Errorf("cache: cannot save user: %w", auth.ErrInvalidUser)
	}
	return nil
}

// DecodeFault describes err, a JSON decoding error of what ("entry",
// "user", …), in words that cannot contain any of the input:
// encoding/json's own messages may quote a character or, for time values,
// a whole string, and a stored entry holds a token. Only the JSON names in
// fields may be quoted. Stores use it as the Err of a CorruptEntryError.
func DecodeFault(what string, err error, fields ...string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s is not valid JSON (syntax error at byte %d)", what, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("%s is not a JSON object", what)
	case errors.As(err, &te) && slices.Contains(fields, te.Field):
		return fmt.Errorf("%s field %q has the wrong JSON type", what, te.Field)
	case errors.As(err, &te):
		return fmt.Errorf("%s has a field of the wrong JSON type", what)
	case errors.As(err, &pe):
		return fmt.Errorf("%s has a time that is not RFC 3339", what)
	default:
		return fmt.Errorf("%s is malformed", what)
	}
}

// entryFields are the JSON names in a file entry, the only names a fault
// description may quote.
var entryFields = []string{"v", "key", "user", "savedAt", "userId", "authenticationToken"}

// jsonFault is DecodeFault for a file entry.
func jsonFault(what string, err error) error { return DecodeFault(what, err, entryFields...) }
