package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// checkUser reports whether u can be stored and loaded back: it must be
// non-nil with a user id and a token (auth.User.UnmarshalJSON rejects the
// rest).
func checkUser(u *auth.User) error {
	if u == nil {
		return fmt.Errorf("cache: cannot save a nil user: %w", auth.ErrInvalidUser)
	}
	if u.ID() == "" || u.Token() == "" {
		return fmt.Errorf("cache: cannot save user: %w", auth.ErrInvalidUser)
	}
	return nil
}

// entryFields are the JSON names in an entry, the only names a fault
// description may quote.
var entryFields = map[string]bool{
	"v": true, "key": true, "user": true, "savedAt": true,
	"userId": true, "authenticationToken": true,
}

// jsonFault describes a JSON decoding error of what ("entry" or "user") in
// words that cannot contain any of the input: encoding/json's own messages
// may quote a character or, for time values, a whole string from the file,
// and the file holds a token.
func jsonFault(what string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s is not valid JSON (syntax error at byte %d)", what, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("%s is not a JSON object", what)
	case errors.As(err, &te) && entryFields[te.Field]:
		return fmt.Errorf("%s field %q has the wrong JSON type", what, te.Field)
	case errors.As(err, &te):
		return fmt.Errorf("%s has a field of the wrong JSON type", what)
	case errors.As(err, &pe):
		return fmt.Errorf("%s has a time that is not RFC 3339", what)
	default:
		return fmt.Errorf("%s is malformed", what)
	}
}
