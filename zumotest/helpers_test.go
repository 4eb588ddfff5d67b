package zumotest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// epoch is the start of the controlled clock in tests.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// obj decodes the body as a JSON object.
func (r resp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// arr decodes the body as a JSON array.
func (r resp) arr(t testing.TB) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &a), "body: %s", r.Body)
	return a
}

// errMsg returns the "error" of a JSON error body.
func (r resp) errMsg(t testing.TB) string {
	t.Helper()
	m := r.obj(t)
	s, _ := m["error"].(string)
	return s
}

// req describes a request; the zero value is a 2.0 anonymous GET.
type req struct {
	method string
	path   string
	body   any // string, []byte or a value to marshal
	header map[string]string
	noVer  bool // leave out ZUMO-API-VERSION
}

// do sends rq to s and reads the whole response.
func do(t testing.TB, s *Server, rq req) resp {
	t.Helper()
	return doCtx(context.Background(), t, s, rq)
}

func doCtx(ctx context.Context, t testing.TB, s *Server, rq req) resp {
	t.Helper()
	r, err := send(ctx, s, rq)
	require.NoError(t, err)
	return r
}

func send(ctx context.Context, s *Server, rq req) (resp, error) {
	var body io.Reader
	switch b := rq.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		body = bytes.NewReader(j)
	}
	method := rq.method
	if method == "" {
		method = http.MethodGet
	}
	hr, err := http.NewRequestWithContext(ctx, method, s.URL+rq.path, body)
	if err != nil {
		return resp{}, err
	}
	if !rq.noVer {
		hr.Header.Set("ZUMO-API-VERSION", "2.0.0")
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	res, err := s.Client().Do(hr)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// auth returns a header map carrying a token.
func auth(tok string) map[string]string { return map[string]string{"X-ZUMO-AUTH": tok} }

var (
	guidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	linkRE    = regexp.MustCompile(`^<([^>]+)>; rel=next$`)
	versionRE = regexp.MustCompile(`^[A-Za-z0-9+/]+=*$`)
)

// insert adds an item through the wire protocol and returns the stored row.
func insert(t testing.TB, s *Server, table string, item any) map[string]any {
	t.Helper()
	r := do(t, s, req{method: http.MethodPost, path: "/tables/" + table, body: item})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.obj(t)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func sortStrings(s []string) { sort.Strings(s) }
