package zumo

import (
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zumo-go/zumo/internal/wire"
)

// formatID checks an id and returns it as a string ready to escape. Valid
// ids are strings (non-empty, at most 255 characters, valid UTF-8, no
// control characters, not "." or "..") and integers (any value but zero
// for lookups, as the service makes ids from 1). Anything else is an
// *InvalidIDError, returned before anything is sent.
func formatID(id any) (string, error) {
	switch v := id.(type) {
	case string:
		return checkStringID(v)
	case nil:
		return "", &InvalidIDError{ID: id, Reason: "no id"}
	}
	rv := reflect.ValueOf(id)
	switch rv.Kind() {
	case reflect.String:
		return checkStringID(rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Int() == 0 {
			return "", &InvalidIDError{ID: id, Reason: "zero is not an id"}
		}
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if rv.Uint() == 0 {
			return "", &InvalidIDError{ID: id, Reason: "zero is not an id"}
		}
		return strconv.FormatUint(rv.Uint(), 10), nil
	}
	return "", &InvalidIDError{ID: id, Reason: fmt.Sprintf("type %T is not a string or an integer", id)}
}

func checkStringID(s string) (string, error) {
	if reason := wire.IDProblem(s); reason != "" {
		return "", &InvalidIDError{ID: s, Reason: reason}
	}
	return s, nil
}

// checkName checks a table name (kind "table") or a custom API name or
// path segment (kind "API"): not empty, not a path step, valid UTF-8, no
// control character. The error wraps ErrInvalidName.
func checkName(kind, name, segment string) error {
	reason := ""
	switch {
	case segment == "":
		reason = "empty"
	case segment == "." || segment == "..":
		reason = "a path step"
	case !utf8.ValidString(segment):
		reason = "not valid UTF-8"
	case strings.IndexFunc(segment, unicode.IsControl) >= 0:
		reason = "contains a control character"
	default:
		return nil
	}
	return fmt.Errorf("%w: %s name %q: %s", ErrInvalidName, kind, name, reason)
}

// itemURL returns base/{escaped id}: the id is one path segment, so "/",
// "?", "#" and "%" in it are escaped.
func itemURL(base *url.URL, id string) *url.URL {
	u := *base
	u.Path = base.Path + "/" + id
	u.RawPath = base.EscapedPath() + "/" + url.PathEscape(id)
	return &u
}
