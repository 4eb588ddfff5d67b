package zumo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/internal/redact"
	"github.com/zumo-go/zumo/internal/wire"
)

// Feature codes for X-ZUMO-FEATURES (docs/protocol.md §3).
const (
	featTypedTable   = "TT"
	featUntypedTable = "TU"
	featTypedAPI     = "AT"
	featJSONAPI      = "AJ"
	featRawAPI       = "AG"
	featQueryParams  = "QS"
	featLinkHeader   = "LH"
	featOptimistic   = "OC"
)

var (
	valJSON     = []string{"application/json"}
	valJSONBody = []string{"application/json; charset=utf-8"}
)

// call describes one request the client is about to build.
type call struct {
	method   string
	url      *url.URL
	body     []byte // JSON; nil for none
	rawBody  io.Reader
	rawType  string
	features []string
	header   http.Header // extra headers from the caller; never overwritten
	ifMatch  string      // version for If-Match, "" for none
}

// newRequest builds the http.Request for cl with every protocol header.
// Its body, when there is one, is replayable (GetBody is set).
func (c *Client) newRequest(ctx context.Context, cl *call) (*http.Request, error) {
	var body io.Reader
	switch {
	case cl.body != nil:
		body = bytes.NewReader(cl.body)
	case cl.rawBody != nil:
		body = cl.rawBody
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("zumo: building request: %w", err)
	}
	if cl.rawBody != nil && req.GetBody == nil {
		// An arbitrary reader: buffer it once so that it can be replayed
		// after a 401 or by a retry handler.
		b, err := io.ReadAll(cl.rawBody)
		if err != nil {
			return nil, fmt.Errorf("zumo: reading request body: %w", err)
		}
		req, err = http.NewRequestWithContext(ctx, cl.method, cl.url.String(), bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("zumo: building request: %w", err)
		}
	}
	h := req.Header
	for k, v := range cl.header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	setIfAbsent(h, "Accept", valJSON)
	setIfAbsent(h, headerInstallation, c.hdrInstall)
	setIfAbsent(h, "User-Agent", c.hdrUA)
	setIfAbsent(h, headerVersion, c.hdrSDK)
	setIfAbsent(h, c.hdrAPIName, c.hdrAPIVal)
	if cl.body != nil {
		setIfAbsent(h, "Content-Type", valJSONBody)
	} else if cl.rawBody != nil && cl.rawType != "" {
		setIfAbsent(h, "Content-Type", []string{cl.rawType})
	}
	if cl.ifMatch != "" {
		h["If-Match"] = []string{versionToETag(cl.ifMatch)}
	}
	if len(cl.features) > 0 {
		setIfAbsent(h, wire.HeaderFeatures, []string{strings.Join(cl.features, ",")})
	}
	return req, nil
}

func setIfAbsent(h http.Header, k string, v []string) {
	if _, ok := h[k]; !ok {
		h[k] = v
	}
}

// send sends req through the chain. A response outside 2xx is read (capped),
// closed and returned as an *Error; the caller owns the body of a 2xx.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		// url.Error prints the URL; redact it.
		var ue *url.Error
		var re *RedirectError
		if errors.As(err, &re) {
			return nil, re // it names the request and the target's origin only
		}
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("zumo: %s %s: %w", req.Method, redact.URLString(ue.URL), ue.Err)
		}
		return nil, fmt.Errorf("zumo: %s %s: %w", req.Method, redact.URL(req.URL), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	return nil, c.statusError(req, resp)
}

// statusError reads a non-2xx response into an *Error and closes it.
func (c *Client) statusError(req *http.Request, resp *http.Response) *Error {
	defer resp.Body.Close()
	cause := auth.Cause(resp)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	// A server may echo what it was sent ("invalid token eyJ…"): the
	// request's secrets never reach the error, in its message or body.
	secrets := append(redact.HeaderSecrets(req.Header), redact.URLSecrets(req.URL)...)
	if sent := resp.Request; sent != nil && sent != req {
		secrets = append(secrets, redact.HeaderSecrets(sent.Header)...) // a resend after a new login
	}
	if r := redact.String(string(body), secrets...); r != string(body) {
		body = []byte(r)
	}
	return &Error{
		StatusCode: resp.StatusCode,
		Method:     req.Method,
		URL:        redact.URL(req.URL),
		Message:    redact.String(errorMessage(resp.StatusCode, body), secrets...), // also as the server escaped them
		Body:       body,
		Header:     resp.Header,
		Err:        cause,
	}
}

// limitedBody reads at most limit bytes of r and reports when there was
// more.
type limitedBody struct {
	r     io.Reader
	left  int64
	over  bool
	limit int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: is there more than the limit?
		var one [1]byte
		n, _ := l.r.Read(one[:])
		if n > 0 {
			l.over = true
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

var errTooLarge = errors.New("response body exceeds the client's limit")

// decodeJSON decodes resp's body, one JSON value and nothing after it,
// into v, closing the body. A custom API's answer (api) may be empty (v is
// left untouched) or any JSON value; a table's item must be a JSON object.
// Anything else is a *ResponseError.
func (c *Client) decodeJSON(req *http.Request, resp *http.Response, v any, api bool) error {
	defer closeBody(resp)
	lb := &limitedBody{r: resp.Body, left: c.maxBody, limit: c.maxBody}
	br := bufio.NewReader(lb)
	first, err := peekNonSpace(br)
	if err == io.EOF {
		if api {
			return nil
		}
		return c.responseError(req, resp, "empty body", errEmptyBody)
	}
	if err != nil {
		return c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	if !api && first != '{' {
		if strings.IndexByte(`["-0123456789tfn`, first) < 0 {
			return c.responseError(req, resp, "not JSON", nil)
		}
		return c.responseError(req, resp, "not a JSON object", nil)
	}
	dec := json.NewDecoder(br)
	if err := dec.Decode(v); err != nil {
		return c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	if err := onlySpaceLeft(dec, br); err != nil {
		return c.responseError(req, resp, describeDecodeErr(err, lb), err)
	}
	return nil
}

// errTrailingData is the cause of a *ResponseError for a body with more
// than white space after its JSON value.
var errTrailingData = errors.New("data after the JSON value")

// onlySpaceLeft reads what is left of a body after dec decoded its value
// (dec's buffer, then br) and fails unless it is JSON white space.
func onlySpaceLeft(dec *json.Decoder, br *bufio.Reader) error {
	if rest, ok := dec.Buffered().(io.ByteReader); ok { // a *bytes.Reader
		if err := spaceOnly(rest); err != nil {
			return err
		}
	}
	return spaceOnly(br)
}

// spaceOnly reads r to its end and fails unless all of it is white space.
func spaceOnly(r io.ByteReader) error {
	for {
		b, err := r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
		default:
			return errTrailingData
		}
	}
}

// peekNonSpace skips JSON white space and returns the next byte without
// consuming it.
func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		_ = br.UnreadByte()
		return b, nil
	}
}

func describeDecodeErr(err error, lb *limitedBody) string {
	switch {
	case lb.over || errors.Is(err, errTooLarge):
		return fmt.Sprintf("body larger than %d bytes", lb.limit)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "truncated JSON"
	case errors.Is(err, errTrailingData):
		return "data after the JSON value"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "not JSON"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "JSON of an unexpected shape"
	}
	return "cannot decode JSON"
}

// responseError is the error for a 2xx body that could not be read or
// decoded: a *ResponseError, unless the request's context ended meanwhile
// (a deadline hit while the body was arriving), in which case the context's
// error comes first and the body is not blamed.
func (c *Client) responseError(req *http.Request, resp *http.Response, reason string, err error) error {
	if cerr := req.Context().Err(); cerr != nil {
		return fmt.Errorf("zumo: %s %s: %w while reading the response", req.Method, redact.URL(req.URL), cerr)
	}
	return &ResponseError{StatusCode: resp.StatusCode, Method: req.Method, URL: redact.URL(req.URL), Reason: reason, Err: err}
}

// errEmptyBody is the cause of a *ResponseError for an empty body where an
// item was expected.
var errEmptyBody = errors.New("empty body")

// versionToETag quotes a version for If-Match: wrapped in double quotes,
// each inner double quote escaped with a backslash.
func versionToETag(v string) string {
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}

// etagToVersion turns a strong ETag back into a version. A weak ETag
// (W/"…") is a body hash, not a version: it gives "", false.
func etagToVersion(etag string) (string, bool) {
	if len(etag) < 2 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		return "", false
	}
	return strings.ReplaceAll(etag[1:len(etag)-1], `\"`, `"`), true
}

// closeBody drains a little of a body and closes it so the connection can
// be reused (wire.CloseBody, shared with the auth package).
func closeBody(resp *http.Response) { wire.CloseBody(resp) }
