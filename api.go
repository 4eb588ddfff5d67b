package zumo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// An APIOption configures a custom API call.
type APIOption func(*apiCall)

type apiCall struct {
	method string
	params []param
	header http.Header
	err    error
}

// WithMethod sets the HTTP method of a custom API call (default POST, as
// the official clients).
func WithMethod(method string) APIOption {
	return func(a *apiCall) { a.method = strings.ToUpper(method) }
}

// WithParam adds a query parameter to a custom API call; unlike table
// queries, keys may start with "$".
func WithParam(key, value string) APIOption {
	return func(a *apiCall) { a.params = append(a.params, param{key, value}) }
}

// WithParams adds query parameters from a url.Values, a map[string]string
// or a struct encoded with github.com/google/go-querystring.
func WithParams(v any) APIOption {
	return func(a *apiCall) {
		ps, err := paramsOf(v)
		if err != nil && a.err == nil {
			a.err = err
		}
		a.params = append(a.params, ps...)
	}
}

// WithHeader sets a request header on a custom API call. A caller's
// X-ZUMO-FEATURES is sent as it is.
func WithHeader(key, value string) APIOption {
	return func(a *apiCall) {
		if a.header == nil {
			a.header = http.Header{}
		}
		a.header.Set(key, value)
	}
}

// apiURL resolves a custom API name: "name" or "name/sub" is api/name
// under the app URL; a name starting with "/" is an absolute path on the
// app's host ("/.auth/me").
func (c *Client) apiURL(name string, params []param) (*url.URL, error) {
	if name == "" || name == "/" {
		return nil, checkName("API", name, "")
	}
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		return nil, fmt.Errorf("%w: API name %q: contains %q", ErrInvalidName, name, name[i])
	}
	abs := strings.HasPrefix(name, "/")
	segs := strings.Split(strings.TrimPrefix(name, "/"), "/")
	esc := make([]string, len(segs))
	for i, s := range segs {
		if s == "" && i == len(segs)-1 {
			continue // a trailing "/"
		}
		if err := checkName("API", name, s); err != nil {
			return nil, err
		}
		esc[i] = url.PathEscape(s)
	}
	u := *c.base
	if abs {
		u.Path, u.RawPath = "/"+strings.Join(segs, "/"), "/"+strings.Join(esc, "/")
	} else {
		u.Path = c.base.Path + "api/" + strings.Join(segs, "/")
		u.RawPath = c.base.EscapedPath() + "api/" + strings.Join(esc, "/")
	}
	var q []byte
	for _, p := range params {
		if len(q) > 0 {
			q = append(q, '&')
		}
		q = appendEscaped(q, p.k, unreserved)
		q = append(q, '=')
		q = appendEscaped(q, p.v, unreserved)
	}
	u.RawQuery = string(q)
	return &u, nil
}

func (c *Client) apiCall(name, feature string, opts []APIOption) (*apiCall, *call, error) {
	a := &apiCall{method: http.MethodPost}
	for _, o := range opts {
		if o != nil {
			o(a)
		}
	}
	if a.err != nil {
		return nil, nil, a.err
	}
	u, err := c.apiURL(name, a.params)
	if err != nil {
		return nil, nil, err
	}
	cl := &call{method: a.method, url: u, header: a.header, features: []string{feature}}
	if len(a.params) > 0 {
		cl.features = append(cl.features, featQueryParams)
	}
	return a, cl, nil
}

// InvokeAPI calls the custom API name with body marshalled as JSON (nil:
// no body; a json.RawMessage is sent as it is, once checked) and decodes
// the answer into a TOut; an empty answer leaves the zero TOut. For the
// answer as it came, use InvokeAPI[json.RawMessage]; for a body that is
// not JSON, InvokeAPIRaw. Options set the method (default POST),
// parameters and headers. It fails with *Error for a status outside 2xx,
// *ResponseError for an answer that does not decode, or the transport's
// error.
//
// InvokeAPI is a function, not a method, because Go methods cannot have
// type parameters (see the package documentation).
func InvokeAPI[TOut any](ctx context.Context, c *Client, name string, body any, opts ...APIOption) (TOut, error) {
	var out TOut
	_, cl, err := c.apiCall(name, apiFeature[TOut](), opts)
	if err != nil {
		return out, err
	}
	if body != nil {
		if cl.body, err = json.Marshal(body); err != nil {
			return out, fmt.Errorf("zumo: encoding API body: %w", err)
		}
	}
	req, err := c.newRequest(ctx, cl)
	if err != nil {
		return out, err
	}
	resp, err := c.send(req)
	if err != nil {
		return out, err
	}
	return out, c.decodeJSON(req, resp, &out, true)
}

// apiFeature is the X-ZUMO-FEATURES code of a custom API call answered
// as TOut: untyped JSON (AJ) or a typed value (AT), as the official
// clients tell their JSON and typed calls apart.
func apiFeature[TOut any]() string {
	switch any((*TOut)(nil)).(type) {
	case *json.RawMessage, *map[string]any, *[]any, *any:
		return featJSONAPI
	}
	return featTypedAPI
}

// InvokeAPIRaw calls the custom API name with a raw body (nil: none) of
// the given content type and returns the response of a 2xx answer as it
// is; the caller reads and closes its body. The body is read once up front
// so that it can be replayed after a 401. A status outside 2xx is an
// *Error (its body already read and closed).
func (c *Client) InvokeAPIRaw(ctx context.Context, name string, body io.Reader, contentType string, opts ...APIOption) (*http.Response, error) {
	_, cl, err := c.apiCall(name, featRawAPI, opts)
	if err != nil {
		return nil, err
	}
	cl.rawBody, cl.rawType = body, contentType
	req, err := c.newRequest(ctx, cl)
	if err != nil {
		return nil, err
	}
	return c.send(req)
}
