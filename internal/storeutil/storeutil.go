// Package storeutil holds what every user store shares: the check that a
// user can be stored, and descriptions of decoding faults that never quote
// the stored bytes (which hold a token).
package storeutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zumo-go/zumo/auth"
)

// CheckUser reports whether u can be stored and loaded back: non-nil, with
// a user id and a token. The error names pkg and wraps auth.ErrInvalidUser.
func CheckUser(pkg string, u *auth.User) error {
	if u == nil {
		return fmt.Errorf("%s: cannot save a nil user: %w", pkg, auth.ErrInvalidUser)
	}
	if u.ID() == "" || u.Token() == "" {
		return fmt.Errorf("%s: cannot save user: %w", pkg, auth.ErrInvalidUser)
	}
	return nil
}

// JSONFault describes a JSON decoding error of what ("entry", "user", …)
// in words that cannot contain any of the input: encoding/json's own
// messages may quote a character or, for time values, a whole string, and
// the input holds a token. Only the field names in fields may be quoted.
func JSONFault(what string, err error, fields map[string]bool) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%s is not valid JSON (syntax error at byte %d)", what, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("%s is not a JSON object", what)
	case errors.As(err, &te) && fields[te.Field]:
		return fmt.Errorf("%s field %q has the wrong JSON type", what, te.Field)
	case errors.As(err, &te):
		return fmt.Errorf("%s has a field of the wrong JSON type", what)
	case errors.As(err, &pe):
		return fmt.Errorf("%s has a time that is not RFC 3339", what)
	default:
		return fmt.Errorf("%s is malformed", what)
	}
}
