package zumo

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/zumo-go/zumo/internal/wire"
)

// Sentinel errors, matched with errors.Is against the errors the client
// returns.
var (
	// ErrNotFound matches an *Error with status 404.
	ErrNotFound = errors.New("zumo: not found")
	// ErrUnauthorized matches an *Error with status 401.
	ErrUnauthorized = errors.New("zumo: unauthorized")
	// ErrConflict matches an *Error with status 409.
	ErrConflict = errors.New("zumo: conflict")
	// ErrPreconditionFailed matches an *Error with status 412.
	ErrPreconditionFailed = errors.New("zumo: precondition failed")
	// ErrInvalidID is wrapped by an *InvalidIDError.
	ErrInvalidID = errors.New("zumo: invalid id")
	// ErrInvalidName is wrapped by the error of every call on a table, or
	// of a custom API call, whose name cannot be valid: empty, a path step
	// ("." or ".."), not valid UTF-8, or holding a control character (and
	// for a table "/", "?" or "#"). Nothing is sent.
	ErrInvalidName = errors.New("zumo: invalid name")
	// ErrInvalidQuery is wrapped by every error about a query that cannot
	// be sent (a bad literal, a "$" user parameter, …).
	ErrInvalidQuery = errors.New("zumo: invalid query")
	// ErrInvalidResponse is wrapped by a *ResponseError: the server
	// answered, but not with what the protocol promises.
	ErrInvalidResponse = errors.New("zumo: invalid response")
	// ErrNoProgress is wrapped by the error of Query.All and ToSlice when
	// the server keeps sending pages already read (it ignores $skip, or
	// cycles through pages), instead of looping for ever; the wrapping
	// error says which pages repeated and why paging stopped.
	ErrNoProgress = errors.New("zumo: paging stopped: the server keeps sending pages already read")
	// ErrNotSupported is returned for an operation the client's protocol
	// generation does not have (undelete on legacy Mobile Services).
	ErrNotSupported = errors.New("zumo: not supported by this protocol generation")
)

// maxErrorBody caps how much of an error response is read and kept.
const maxErrorBody = 64 << 10

// Error is the error for every response with a status outside 2xx. It
// matches ErrNotFound, ErrUnauthorized, ErrConflict and
// ErrPreconditionFailed with errors.Is by status code.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Method and URL are the request's; secrets in the URL are redacted.
	Method string
	URL    string
	// Message is chosen from the body as docs/protocol.md §5 says: a JSON
	// string body, else its "error", "description" or "message" field,
	// else the raw text, else the status text. For a table write's 409 or
	// 412 it is the status text: the body is a row, kept on the typed
	// error's Item and in Body, not in messages that reach logs.
	Message string
	// Body is the raw response body, at most 64 KiB of it, with every
	// secret the request carried (token, app key) replaced by a placeholder.
	Body []byte
	// Header is the response's header.
	Header http.Header
	// Err is why the client did not recover, when it tried: on a 401, why
	// the auth handler did not log in again and resend (a *auth.LoginError,
	// a context error, auth.ErrNoAuthenticator, …). Often nil.
	Err error
}

// Error describes the failure; it never contains a token or an app key.
func (e *Error) Error() string {
	s := fmt.Sprintf("zumo: %s %s: %d %s", e.Method, e.URL, e.StatusCode, e.Message)
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel for e's status code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	}
	return false
}

// ConflictError is returned by table writes answered 409 Conflict (a
// duplicate insert, or a stale version sent without If-Match). Item is the
// body decoded as T when the server sent one (HasItem tells). ServerCopy
// tells what it is: the server's stored copy (it carries a version), or,
// as the official Node server answers a duplicate insert, only the request
// item echoed back — do not resolve a conflict against that.
type ConflictError[T any] struct {
	// Err is the response's error: status, raw body.
	Err *Error
	// Item is the response body decoded as T; the zero T unless HasItem.
	Item T
	// HasItem reports whether the body held an item that decoded as T.
	HasItem bool
	// ServerCopy reports whether Item is the server's copy (it has a
	// version) rather than an echo of the request.
	ServerCopy bool

	id string
}

// Error gives the request, the status and the item's id; never the row
// (it is on Item and Err.Body), a token or an app key.
func (e *ConflictError[T]) Error() string { return conflictText(e.Err, e.id) }

// Unwrap returns Err, so errors.Is matches the status sentinels.
func (e *ConflictError[T]) Unwrap() error { return e.Err }

// PreconditionFailedError is returned by table writes answered 412
// Precondition Failed: the If-Match version was stale. Item is the server's
// current item decoded as T, with its version, when the server sent it
// (HasItem tells); resolve the conflict and retry with that version.
type PreconditionFailedError[T any] struct {
	// Err is the response's error: status, raw body.
	Err *Error
	// Item is the response body decoded as T; the zero T unless HasItem.
	Item T
	// HasItem reports whether the body held an item that decoded as T.
	HasItem bool

	id string
}

// Error gives the request, the status and the item's id; never the row
// (it is on Item and Err.Body), a token or an app key.
func (e *PreconditionFailedError[T]) Error() string { return conflictText(e.Err, e.id) }

// Unwrap returns Err, so errors.Is matches the status sentinels.
func (e *PreconditionFailedError[T]) Unwrap() error { return e.Err }

func conflictText(e *Error, id string) string {
	s := fmt.Sprintf("zumo: %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if id != "" {
		s += fmt.Sprintf(" (id %s)", describeID(id))
	}
	return s
}

// InvalidIDError is returned before anything is sent when an id cannot be
// valid. It wraps ErrInvalidID.
type InvalidIDError struct {
	// ID is the id as given (a string or an integer).
	ID any
	// Reason says what is wrong with it, such as "empty" or "longer than 255 characters".
	Reason string
}

// Error describes the failure; it never contains a token or an app key.
func (e *InvalidIDError) Error() string {
	return fmt.Sprintf("zumo: invalid id %s: %s", describeID(e.ID), e.Reason)
}

// Unwrap returns ErrInvalidID.
func (e *InvalidIDError) Unwrap() error { return ErrInvalidID }

func describeID(id any) string {
	s, ok := id.(string)
	if !ok {
		return fmt.Sprintf("%v (%T)", id, id)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// ResponseError reports a 2xx response whose body is not what the protocol
// promises: not JSON, truncated, of the wrong shape, or larger than the
// client's limit. It wraps ErrInvalidResponse and the decoding error.
type ResponseError struct {
	// StatusCode is the HTTP status of the response (a 2xx).
	StatusCode int
	// Method and URL are the request's; secrets in the URL are redacted.
	Method string
	URL    string
	// Reason says what is wrong: "not JSON", "truncated JSON", "body
	// larger than N bytes", "data after the JSON value", …
	Reason string
	// Err is the decoding error, when there is one.
	Err error
}

// Error describes the failure; it never contains a token or an app key.
func (e *ResponseError) Error() string {
	s := fmt.Sprintf("zumo: %s %s: %d: invalid response: %s", e.Method, e.URL, e.StatusCode, e.Reason)
	if e.Err != nil && e.Err.Error() != e.Reason {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrInvalidResponse and the underlying error.
func (e *ResponseError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidResponse}
	}
	return []error{ErrInvalidResponse, e.Err}
}

// errorMessage picks the message of an error body as docs/protocol.md §5 says.
func errorMessage(status int, body []byte) string { return wire.Message(status, body) }
