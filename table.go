package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Table is a typed table: items of type T, a struct whose JSON names match
// the table's columns (or map[string]any for an untyped table, see
// Client.Table). Its id field is the one named "id" in JSON (a string or an
// integer). System properties map onto fields by their JSON names
// ("version", "createdAt", "updatedAt", "deleted"; on legacy Mobile
// Services "__version" and so on, or the bare names, which the client maps).
// They are never sent in request bodies and are filled from responses; a
// write's ETag is written back into the version field.
//
// A Table is safe for concurrent use. Its methods return *Error for a
// failed status (with the sentinels ErrNotFound, ErrUnauthorized, …),
// *ConflictError[T] for 409, *PreconditionFailedError[T] for 412,
// *InvalidIDError for an id that cannot be valid (nothing is sent), and
// *ResponseError for a body that is not what the protocol promises.
type Table[T any] struct {
	c        *Client
	name     string
	url      *url.URL
	ti       *typeInfo
	feature  string
	sysQuery string // legacy: the __systemproperties list, "" for none
	// legacyBare: legacy Mobile Services, and a struct that names its
	// system properties without "__": queries rename them as bodies do.
	legacyBare bool
	err        error
}

// JSONTable is an untyped table: items are map[string]any as decoded from
// JSON (numbers are float64). Get one with Client.Table.
type JSONTable = Table[map[string]any]

// GetTable returns the typed table name of c. An invalid name or item type
// is reported by every call on the table.
func GetTable[T any](c *Client, name string) *Table[T] {
	t := &Table[T]{c: c, name: name, ti: typeInfoFor[T](), feature: featTypedTable}
	if t.ti.isMap {
		t.feature = featUntypedTable
	}
	t.err = t.ti.err
	if err := checkName("table", name, name); err != nil {
		t.err = err
	} else if strings.ContainsAny(name, "/?#") {
		t.err = fmt.Errorf("%w: table name %q: contains %q", ErrInvalidName, name, name[strings.IndexAny(name, "/?#")])
	}
	u := *c.base
	u.Path = c.base.Path + "tables/" + name
	u.RawPath = c.base.EscapedPath() + "tables/" + url.PathEscape(name)
	t.url = &u
	t.legacyBare = c.legacy && !t.ti.isMap && !t.ti.prefix
	if c.legacy && !t.ti.isMap && len(t.ti.sysJSON) > 0 {
		var names []string
		for _, i := range sortedSys(t.ti.sysJSON) {
			names = append(names, "__"+systemProps[i])
		}
		t.sysQuery = strings.Join(names, ",")
	}
	return t
}

func sortedSys(m map[string]int) []int {
	var seen [4]bool
	var out []int
	for _, i := range m {
		seen[i] = true
	}
	for i, s := range seen {
		if s {
			out = append(out, i)
		}
	}
	return out
}

// Table returns the untyped table name of c.
func (c *Client) Table(name string) *JSONTable { return GetTable[map[string]any](c, name) }

// Name returns the table's name.
func (t *Table[T]) Name() string { return t.name }

// urlFor returns the table URL (or an item URL for a non-empty id), with
// the legacy system-properties parameter.
func (t *Table[T]) urlFor(id string) *url.URL {
	u := t.url
	if id != "" {
		u = itemURL(t.url, id)
	}
	if t.sysQuery != "" {
		c := *u
		c.RawQuery = "__systemproperties=" + escapeParam(t.sysQuery)
		u = &c
	}
	return u
}

// Insert adds item to the table and returns the server's copy (with its
// id, when the server made one, and its system properties). An item
// without an id (an empty string or zero) gets one from the server. A
// duplicate id fails with *ConflictError[T].
func (t *Table[T]) Insert(ctx context.Context, item T) (T, error) {
	var zero T
	if t.err != nil {
		return zero, t.err
	}
	if id, ok := t.ti.itemID(item); ok {
		if _, err := formatID(id); err != nil {
			return zero, err
		}
	}
	body, err := encodeItem(item)
	if err != nil {
		return zero, err
	}
	return t.doItem(ctx, &call{method: http.MethodPost, url: t.urlFor(""), body: body, features: []string{t.feature}})
}

// Update sends item's fields (PATCH) and returns the server's copy. When
// the item has a version it is sent as If-Match, and a stale one fails with
// *PreconditionFailedError[T] carrying the server's current item.
func (t *Table[T]) Update(ctx context.Context, item T) (T, error) {
	var zero T
	id, err := t.idOf(item)
	if err != nil {
		return zero, err
	}
	body, err := encodeItem(item)
	if err != nil {
		return zero, err
	}
	cl := &call{method: http.MethodPatch, url: t.urlFor(id), body: body}
	t.concurrency(cl, item)
	return t.doItem(ctx, cl)
}

// Delete removes item (by its id; with If-Match when it has a version) and
// returns the server's final copy of it when the server sends one (Mobile
// Apps does; the zero T otherwise). A soft-delete table keeps the row,
// hidden, with a new version: pass the returned copy to Undelete. A stale
// version fails with *PreconditionFailedError[T].
func (t *Table[T]) Delete(ctx context.Context, item T) (T, error) {
	var zero T
	id, err := t.idOf(item)
	if err != nil {
		return zero, err
	}
	cl := &call{method: http.MethodDelete, url: t.urlFor(id)}
	t.concurrency(cl, item)
	out, err := t.doItem(ctx, cl)
	if errors.Is(err, errEmptyBody) {
		return zero, nil // deleted; the server sent no copy
	}
	return out, err
}

// Undelete restores a soft-deleted item (Mobile Apps only: ErrNotSupported
// on Mobile Services) and returns the server's copy.
func (t *Table[T]) Undelete(ctx context.Context, item T) (T, error) {
	var zero T
	if t.c.legacy {
		return zero, ErrNotSupported
	}
	id, err := t.idOf(item)
	if err != nil {
		return zero, err
	}
	cl := &call{method: http.MethodPost, url: t.urlFor(id)}
	t.concurrency(cl, item)
	return t.doItem(ctx, cl)
}

// Lookup returns the item with the given id (a string or an integer). A
// missing item is an *Error matching ErrNotFound.
func (t *Table[T]) Lookup(ctx context.Context, id any) (T, error) {
	var zero T
	if t.err != nil {
		return zero, t.err
	}
	s, err := formatID(id)
	if err != nil {
		return zero, err
	}
	return t.doItem(ctx, &call{method: http.MethodGet, url: t.urlFor(s), features: []string{t.feature}})
}

// Refresh returns the server's current copy of item, looked up by its id.
// It fails like Lookup: an *InvalidIDError when item has no valid id,
// *Error (ErrNotFound once it is gone), *ResponseError or the transport's
// error.
func (t *Table[T]) Refresh(ctx context.Context, item T) (T, error) {
	var zero T
	id, err := t.idOf(item)
	if err != nil {
		return zero, err
	}
	return t.doItem(ctx, &call{method: http.MethodGet, url: t.urlFor(id), features: []string{t.feature}})
}

// idOf checks the table and returns item's id, formatted.
func (t *Table[T]) idOf(item T) (string, error) {
	if t.err != nil {
		return "", t.err
	}
	id, ok := t.ti.itemID(item)
	if !ok {
		return "", &InvalidIDError{ID: id, Reason: "the item has no id"}
	}
	return formatID(id)
}

// concurrency adds If-Match for the item's version.
func (t *Table[T]) concurrency(cl *call, item T) {
	cl.features = []string{t.feature}
	if v := t.ti.itemVersion(item); v != "" {
		cl.ifMatch = v
		cl.features = append(cl.features, featOptimistic)
	}
}

// doItem sends cl and decodes the single item the server answers with,
// writing a strong ETag back as its version.
func (t *Table[T]) doItem(ctx context.Context, cl *call) (T, error) {
	var out T
	req, err := t.c.newRequest(ctx, cl)
	if err != nil {
		return out, err
	}
	resp, err := t.c.send(req)
	if err != nil {
		return out, t.typedError(err, cl.url)
	}
	etag := resp.Header.Get("ETag")
	if err := t.decode(req, resp, &out); err != nil {
		return out, err
	}
	if v, ok := etagToVersion(etag); ok {
		t.ti.setVersion(&out, v, t.c.legacy)
	}
	return out, nil
}

// decode decodes a response body into v (a *T or *[]T), mapping legacy
// system property names when the struct uses the bare ones.
func (t *Table[T]) decode(req *http.Request, resp *http.Response, v any) error {
	if !t.legacyBare {
		return t.c.decodeJSON(req, resp, v, false)
	}
	var raw json.RawMessage
	if err := t.c.decodeJSON(req, resp, &raw, false); err != nil {
		return err
	}
	mapped, err := legacyNames(raw)
	if err == nil {
		err = json.Unmarshal(mapped, v)
	}
	if err != nil {
		return t.c.responseError(req, resp, "JSON of an unexpected shape", err)
	}
	return nil
}

// typedError turns a 409 or 412 *Error into the typed error carrying the
// server's item. Its text is the status and the item's id, never the row:
// the row stays on the error's Item and the *Error's Body.
func (t *Table[T]) typedError(err error, u *url.URL) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.StatusCode {
	case http.StatusConflict:
		e.Message = http.StatusText(e.StatusCode)
		ce := &ConflictError[T]{Err: e}
		ce.HasItem, ce.ServerCopy = t.decodeBody(e, &ce.Item)
		ce.id = t.errorID(u, ce.HasItem, ce.Item)
		return ce
	case http.StatusPreconditionFailed:
		e.Message = http.StatusText(e.StatusCode)
		pe := &PreconditionFailedError[T]{Err: e}
		pe.HasItem, _ = t.decodeBody(e, &pe.Item)
		pe.id = t.errorID(u, pe.HasItem, pe.Item)
		return pe
	}
	return err
}

// errorID is the id a conflict is about: the item URL's last segment, or
// for an insert the id of the item in the answer.
func (t *Table[T]) errorID(u *url.URL, has bool, item T) string {
	if u.Path != t.url.Path {
		return u.Path[len(t.url.Path)+1:]
	}
	if has {
		if id, ok := t.ti.itemID(item); ok {
			s, _ := formatID(id)
			return s
		}
	}
	return ""
}

// decodeBody decodes an error body as T: whether it is one, and whether it
// is the server's copy (it carries a version, in the body or as a strong
// ETag) rather than the request echoed back (the client never sends a
// version in a body).
func (t *Table[T]) decodeBody(e *Error, item *T) (has, server bool) {
	body := e.Body
	if len(strings.TrimSpace(string(body))) == 0 || body[0] != '{' {
		return false, false
	}
	if t.legacyBare {
		m, err := legacyNames(body)
		if err != nil {
			return false, false
		}
		body = m
	}
	if json.Unmarshal(body, item) != nil {
		return false, false
	}
	server = t.ti.itemVersion(*item) != ""
	if v, ok := etagToVersion(e.Header.Get("ETag")); ok {
		t.ti.setVersion(item, v, t.c.legacy)
		server = true
	}
	return true, server
}
