package zumo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/handler"
)

// Delete hands back the server's final copy, whose new version lets the
// soft-deleted row be undeleted with the value in hand.
func TestDeleteReturnsTheServersCopy(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("DELETE /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "If-Match", `"v1"`)
		w.Header().Set("ETag", `"v2"`)
		writeJSON(w, 200, map[string]any{"id": "a1", "text": "milk", "version": "v2", "deleted": true})
	})
	mux.HandleFunc("POST /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-Match") != `"v2"` {
			writeJSON(w, 412, map[string]any{"id": "a1", "text": "milk", "version": "v2", "deleted": true})
			return
		}
		w.Header().Set("ETag", `"v3"`)
		writeJSON(w, 201, map[string]any{"id": "a1", "text": "milk", "version": "v3"})
	})
	mux.HandleFunc("DELETE /tables/todoitem/nobody", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	tbl := GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	gone, err := tbl.Delete(ctx, TodoItem{ID: "a1", Text: "milk", Version: "v1"})
	require.NoError(t, err)
	assert.Equal(t, TodoItem{ID: "a1", Text: "milk", Version: "v2", Deleted: true}, gone)
	back, err := tbl.Undelete(ctx, gone)
	require.NoError(t, err)
	assert.Equal(t, "v3", back.Version)

	// A server that sends no copy: deleted, and the zero T.
	got, err := tbl.Delete(ctx, TodoItem{ID: "nobody"})
	require.NoError(t, err)
	assert.Zero(t, got)
}

// A 409 or 412 error's text is the request, the status and the id; the
// row's data is only on the typed error's Item and the raw Body.
func TestConflictErrorTextHoldsNoRowData(t *testing.T) {
	c, mux, _, _ := setup(t)
	row := map[string]any{"id": "a1", "text": "private diary", "version": "sv"}
	mux.HandleFunc("PATCH /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 412, row)
	})
	mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 409, map[string]any{"id": "a1", "text": "private diary"})
	})
	tbl := GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()

	_, err := tbl.Update(ctx, TodoItem{ID: "a1", Text: "mine", Version: "old"})
	var pe *PreconditionFailedError[TodoItem]
	require.ErrorAs(t, err, &pe)
	assert.Regexp(t, `^zumo: PATCH http://127\.0\.0\.1:\d+/tables/todoitem/a1: 412 Precondition Failed \(id "a1"\)$`, err.Error())
	assert.NotContains(t, pe.Err.Error(), "diary", "the wrapped *Error's text holds no row either")
	assert.Equal(t, "private diary", pe.Item.Text)
	assert.Contains(t, string(pe.Err.Body), "private diary")

	_, err = tbl.Insert(ctx, TodoItem{ID: "a1", Text: "private diary"})
	var ce *ConflictError[TodoItem]
	require.ErrorAs(t, err, &ce)
	assert.Regexp(t, `^zumo: POST http://127\.0\.0\.1:\d+/tables/todoitem: 409 Conflict \(id "a1"\)$`, err.Error())
	assert.NotContains(t, fmt.Sprint(errors.Unwrap(err)), "diary")
}

// ConflictError tells the server's copy (it has a version) from the
// request echoed back, as the Node server answers a duplicate insert.
func TestConflictErrorSaysWhetherItIsTheServersCopy(t *testing.T) {
	tests := []struct {
		name       string
		etag       string
		body       string
		has, serve bool
	}{
		{"echo of the request", "", `{"id":"a1","text":"mine"}`, true, false},
		{"server copy with version", "", `{"id":"a1","text":"theirs","version":"sv"}`, true, true},
		{"server copy by ETag", `"sv"`, `{"id":"a1","text":"theirs"}`, true, true},
		{"weak ETag is no version", `W/"x"`, `{"id":"a1","text":"mine"}`, true, false},
		{"no item", "", `conflict`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
				if tt.etag != "" {
					w.Header().Set("ETag", tt.etag)
				}
				w.WriteHeader(409)
				fmt.Fprint(w, tt.body)
			})
			_, err := GetTable[TodoItem](c, "todoitem").Insert(context.Background(), TodoItem{ID: "a1", Text: "mine"})
			var ce *ConflictError[TodoItem]
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.has, ce.HasItem)
			assert.Equal(t, tt.serve, ce.ServerCopy)
		})
	}
}

// deadlineCtx is a context whose deadline the test declares passed: Done
// closes and Err says DeadlineExceeded, with no clock involved.
type deadlineCtx struct {
	context.Context
	once sync.Once
	done chan struct{}
}

func newDeadlineCtx() *deadlineCtx {
	return &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
}

func (d *deadlineCtx) expire()                                 { d.once.Do(func() { close(d.done) }) }
func (d *deadlineCtx) Done() <-chan struct{}                   { return d.done }
func (d *deadlineCtx) Deadline() (deadline time.Time, ok bool) { return time.Time{}, false }
func (d *deadlineCtx) Err() error {
	select {
	case <-d.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// A deadline hit while a 2xx body is arriving is reported as the
// context's error, not as a body that "cannot decode".
func TestDeadlineWhileReadingTheBodyIsTheContextsError(t *testing.T) {
	calls := []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"lookup", func(ctx context.Context, c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").Lookup(ctx, "a1")
			return err
		}},
		{"list", func(ctx context.Context, c *Client) error {
			_, err := GetTable[TodoItem](c, "todoitem").ToSlice(ctx)
			return err
		}},
		{"api", func(ctx context.Context, c *Client) error {
			_, err := InvokeAPI[map[string]any](ctx, c, "slow", nil)
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			ctx := newDeadlineCtx()
			// The deadline passes once the answer's header is in: while
			// the client reads the body.
			expire := handler.Func(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
				resp, err := next.RoundTrip(req)
				ctx.expire()
				return resp, err
			})
			c, mux, _, _ := setup(t, WithHandlers(expire))
			half := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				if strings.HasSuffix(r.URL.Path, "todoitem") {
					fmt.Fprint(w, `[{"id":"a1","text":"hal`)
				} else {
					fmt.Fprint(w, `{"id":"a1","text":"hal`)
				}
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
			mux.HandleFunc("GET /tables/todoitem/a1", half)
			mux.HandleFunc("GET /tables/todoitem", half)
			mux.HandleFunc("POST /api/slow", half)

			err := tc.call(ctx, c)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.NotErrorIs(t, err, ErrInvalidResponse)
			assert.Contains(t, err.Error(), "context deadline exceeded while reading the response")
		})
	}
}

func TestNamesWithControlCharactersAreRejected(t *testing.T) {
	c, _, _, requests := setup(t)
	ctx := context.Background()
	for _, name := range []string{"a\x00b", "todo\nitem", "tab\there", "del\x7f", "bad\xffutf8", "", ".", "..", "a/b", "q?x", "f#g"} {
		_, err := GetTable[TodoItem](c, name).Lookup(ctx, "x")
		assert.ErrorIs(t, err, ErrInvalidName, "table %q", name)
	}
	for _, name := range []string{"a\x00b", "api\nname", "/.auth/m\re", "x/\x01/y", "bad\xff", "", "/", "a//b", "a/../b", "q?x", "f#g"} {
		_, err := InvokeAPI[map[string]any](ctx, c, name, nil)
		assert.ErrorIs(t, err, ErrInvalidName, "API %q", name)
	}
	assert.Zero(t, requests.Load(), "nothing is sent for an invalid name")
}

func TestAppURLPortOutOfRangeIsRejected(t *testing.T) {
	for _, u := range []string{"https://host:99999/", "http://host:65536/", "http://host:0/", "https://host:00000/"} {
		_, err := NewClient(u)
		assert.ErrorIs(t, err, ErrInvalidAppURL, u)
	}
	_, err := NewClient("https://host/", WithLoginHost("https://login:70000/"))
	assert.ErrorIs(t, err, ErrInvalidAppURL)
	for _, u := range []string{"https://host:65535/", "http://host:1/", "http://host:8080/app"} {
		_, err := NewClient(u)
		assert.NoError(t, err, u)
	}
}
