package zumo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProtocolHeaders(t *testing.T) {
	c, mux, _, _ := setup(t, WithInstallationID("inst-1"), WithUserAgentSuffix("myapp/1.0"))
	mux.HandleFunc("GET /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "ZUMO-API-VERSION", "2.0.0")
		testHeader(t, r, "X-ZUMO-APPLICATION", "")
		testHeader(t, r, "X-ZUMO-INSTALLATION-ID", "inst-1")
		testHeader(t, r, "X-ZUMO-FEATURES", "TT")
		testHeader(t, r, "X-ZUMO-AUTH", "")
		assert.Regexp(t, `^ZUMO/0\.1 \(lang=Go; os=\w+; os_version=--; arch=\w+; version=0\.1\.0\) myapp/1\.0$`, r.Header.Get("User-Agent"))
		assert.Regexp(t, `^ZUMO/0\.1 \(lang=Go; .*version=0\.1\.0\)$`, r.Header.Get("X-ZUMO-VERSION"))
		testHeader(t, r, "Content-Type", "")
		writeJSON(w, 200, []any{})
	})
	_, err := GetTable[TodoItem](c, "todoitem").ToSlice(context.Background())
	require.NoError(t, err)

	// The untyped table says TU; user parameters add QS.
	mux.HandleFunc("GET /tables/untyped", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ZUMO-FEATURES", "TU,QS")
		writeJSON(w, 200, []any{})
	})
	_, err = c.Table("untyped").Query().Param("a", "b").ToSlice(context.Background())
	require.NoError(t, err)
}

func TestLegacyHeadersAndSystemProperties(t *testing.T) {
	type LegacyItem struct {
		ID        string `json:"id"`
		Text      string `json:"text"`
		Version   string `json:"version"`
		CreatedAt string `json:"createdAt"`
	}
	c, mux, _, _ := setup(t, WithLegacyMobileServices("app-key-123"))
	mux.HandleFunc("GET /tables/item/{id}", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "X-ZUMO-APPLICATION", "app-key-123")
		testHeader(t, r, "ZUMO-API-VERSION", "")
		testQuery(t, r, "__systemproperties=__createdAt,__version")
		writeJSON(w, 200, map[string]any{"id": "a", "text": "t", "__version": "v1", "__createdAt": "2024-01-01T00:00:00.000Z"})
	})
	it, err := GetTable[LegacyItem](c, "item").Lookup(context.Background(), "a")
	require.NoError(t, err)
	assert.Equal(t, LegacyItem{ID: "a", Text: "t", Version: "v1", CreatedAt: "2024-01-01T00:00:00.000Z"}, it)

	_, err = GetTable[LegacyItem](c, "item").Undelete(context.Background(), it)
	assert.ErrorIs(t, err, ErrNotSupported)

	_, err = NewClient("https://x.example/", WithLegacyMobileServices(""))
	assert.Error(t, err)
}

func TestInsert(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Content-Type", "application/json; charset=utf-8")
		testHeader(t, r, "If-Match", "")
		// System properties and an empty id are stripped.
		testJSONBody(t, r, `{"text":"milk","complete":false,"priority":2}`)
		w.Header().Set("ETag", `"v-from-etag"`)
		writeJSON(w, 201, map[string]any{"id": "gen-1", "text": "milk", "priority": 2, "version": "v-body",
			"createdAt": "2024-01-02T03:04:05.678Z", "updatedAt": "2024-01-02T03:04:05.678Z", "deleted": false})
	})
	got, err := GetTable[TodoItem](c, "todoitem").Insert(context.Background(),
		TodoItem{Text: "milk", Priority: 2, Version: "stale", CreatedAt: "x", Deleted: true})
	require.NoError(t, err)
	assert.Equal(t, TodoItem{ID: "gen-1", Text: "milk", Priority: 2, Version: "v-from-etag",
		CreatedAt: "2024-01-02T03:04:05.678Z", UpdatedAt: "2024-01-02T03:04:05.678Z"}, got)
}

func TestUpdateSendsQuotedIfMatch(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("PATCH /tables/todoitem/{id}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "a1", r.PathValue("id"))
		testHeader(t, r, "If-Match", `"ver\"sion"`)
		testHeader(t, r, "X-ZUMO-FEATURES", "TT,OC")
		testJSONBody(t, r, `{"id":"a1","text":"eggs","complete":true}`)
		w.Header().Set("ETag", `W/"weak-hash"`) // weak: not a version
		writeJSON(w, 200, map[string]any{"id": "a1", "text": "eggs", "complete": true, "version": "v2"})
	})
	got, err := GetTable[TodoItem](c, "todoitem").Update(context.Background(),
		TodoItem{ID: "a1", Text: "eggs", Complete: true, Version: `ver"sion`})
	require.NoError(t, err)
	assert.Equal(t, "v2", got.Version, "a weak ETag must not replace the version")
}

func TestUpdatePreconditionFailed(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("PATCH /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"server-v"`)
		writeJSON(w, 412, map[string]any{"id": "a1", "text": "server copy", "version": "server-v"})
	})
	_, err := GetTable[TodoItem](c, "todoitem").Update(context.Background(), TodoItem{ID: "a1", Text: "mine", Version: "old"})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrPreconditionFailed)
	var pe *PreconditionFailedError[TodoItem]
	require.True(t, errors.As(err, &pe))
	assert.True(t, pe.HasItem)
	assert.Equal(t, TodoItem{ID: "a1", Text: "server copy", Version: "server-v"}, pe.Item)
	assert.Equal(t, 412, pe.Err.StatusCode)
}

func TestInsertConflict(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("POST /tables/todoitem", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 409, map[string]any{"id": "dup", "text": "echo"})
	})
	_, err := GetTable[TodoItem](c, "todoitem").Insert(context.Background(), TodoItem{ID: "dup", Text: "echo"})
	assert.ErrorIs(t, err, ErrConflict)
	var ce *ConflictError[TodoItem]
	require.True(t, errors.As(err, &ce))
	assert.True(t, ce.HasItem)
	assert.Equal(t, "dup", ce.Item.ID)

	// A conflict without an item body still is a typed conflict.
	mux.HandleFunc("POST /tables/other", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "conflict", http.StatusConflict)
	})
	_, err = GetTable[TodoItem](c, "other").Insert(context.Background(), TodoItem{ID: "dup"})
	require.True(t, errors.As(err, &ce))
	assert.False(t, ce.HasItem)
}

func TestDeleteUndeleteLookupRefresh(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("DELETE /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "If-Match", `"v1"`)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "If-Match", `"v1"`)
		b := make([]byte, 1)
		n, _ := r.Body.Read(b)
		assert.Zero(t, n, "undelete has no body")
		w.Header().Set("ETag", `"v2"`)
		writeJSON(w, 201, map[string]any{"id": "a1", "text": "back"})
	})
	mux.HandleFunc("GET /tables/todoitem/a1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": "a1", "text": "fresh", "version": "v3"})
	})
	tbl := GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()
	_, err := tbl.Delete(ctx, TodoItem{ID: "a1", Version: "v1"})
	require.NoError(t, err)
	back, err := tbl.Undelete(ctx, TodoItem{ID: "a1", Version: "v1"})
	require.NoError(t, err)
	assert.Equal(t, TodoItem{ID: "a1", Text: "back", Version: "v2"}, back)
	got, err := tbl.Lookup(ctx, "a1")
	require.NoError(t, err)
	assert.Equal(t, "fresh", got.Text)
	got, err = tbl.Refresh(ctx, TodoItem{ID: "a1", Text: "old"})
	require.NoError(t, err)
	assert.Equal(t, "v3", got.Version)
}

func TestIDsAreEscapedAsOnePathSegment(t *testing.T) {
	c, mux, _, _ := setup(t)
	var gotIDs []string
	mux.HandleFunc("GET /tables/todoitem/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotIDs = append(gotIDs, r.PathValue("id"))
		assert.Empty(t, r.URL.RawQuery)
		writeJSON(w, 200, map[string]any{"id": r.PathValue("id")})
	})
	tbl := GetTable[TodoItem](c, "todoitem")
	ids := []string{"a/b", "what?x=1", "frag#ment", "100%", "héllo wörld 世界", "a+b", " space ", "..."}
	for _, id := range ids {
		it, err := tbl.Lookup(context.Background(), id)
		require.NoError(t, err, id)
		assert.Equal(t, id, it.ID)
	}
	assert.Equal(t, ids, gotIDs)
}

func TestInvalidIDsAreRejectedBeforeSending(t *testing.T) {
	c, _, _, requests := setup(t)
	tbl := GetTable[TodoItem](c, "todoitem")
	ctx := context.Background()
	for name, id := range map[string]any{
		"empty": "", "dot": ".", "dotdot": "..", "control": "a\x00b", "newline": "a\nb",
		"too long": strings.Repeat("x", 256), "bad utf8": "a\xffb", "zero int": 0, "float": 1.5,
		"too long in UTF-16": strings.Repeat("😀", 128), // 256 code units
		"nil":                nil, "struct": struct{}{},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tbl.Lookup(ctx, id)
			assert.ErrorIs(t, err, ErrInvalidID)
			var ie *InvalidIDError
			assert.True(t, errors.As(err, &ie))
		})
	}
	_, err := tbl.Insert(ctx, TodoItem{ID: "..", Text: "x"})
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = tbl.Update(ctx, TodoItem{Text: "no id"})
	assert.ErrorIs(t, err, ErrInvalidID)
	_, err = tbl.Delete(ctx, TodoItem{})
	assert.ErrorIs(t, err, ErrInvalidID)
	assert.Zero(t, requests.Load(), "nothing may be sent for an invalid id")

	// 255 UTF-16 code units is fine.
	_, err = formatID(strings.Repeat("é", 255))
	assert.NoError(t, err)
	_, err = formatID(strings.Repeat("😀", 127) + "x")
	assert.NoError(t, err)
}

func TestIntegerIDs(t *testing.T) {
	type IntItem struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	c, mux, _, _ := setup(t)
	mux.HandleFunc("GET /tables/ints/42", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": 42, "name": "x"})
	})
	mux.HandleFunc("POST /tables/ints", func(w http.ResponseWriter, r *http.Request) {
		testJSONBody(t, r, `{"name":"new"}`) // a zero id is the server's to make
		writeJSON(w, 201, map[string]any{"id": 7, "name": "new"})
	})
	tbl := GetTable[IntItem](c, "ints")
	it, err := tbl.Lookup(context.Background(), 42)
	require.NoError(t, err)
	assert.Equal(t, IntItem{ID: 42, Name: "x"}, it)
	it, err = tbl.Insert(context.Background(), IntItem{Name: "new"})
	require.NoError(t, err)
	assert.Equal(t, int64(7), it.ID)
}

func TestUntypedTable(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("PATCH /tables/things/t1", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "If-Match", `"v1"`)
		testHeader(t, r, "X-ZUMO-FEATURES", "TU,OC")
		testJSONBody(t, r, `{"id":"t1","n":1}`)
		w.Header().Set("ETag", `"v2"`)
		writeJSON(w, 200, map[string]any{"id": "t1", "n": 1, "version": "v1"})
	})
	got, err := c.Table("things").Update(context.Background(), map[string]any{"id": "t1", "n": 1, "version": "v1", "updatedAt": "x"})
	require.NoError(t, err)
	assert.Equal(t, "v2", got["version"])
}

func TestBadTableAndTypes(t *testing.T) {
	c, _, _, requests := setup(t)
	for _, name := range []string{"", "a/b", "..", "q?x"} {
		_, err := GetTable[TodoItem](c, name).Lookup(context.Background(), "x")
		assert.Error(t, err, name)
	}
	_, err := GetTable[int](c, "ints").Lookup(context.Background(), "x")
	assert.ErrorContains(t, err, "must be a struct")
	type BadID struct {
		ID []byte `json:"id"`
	}
	_, err = GetTable[BadID](c, "bad").Lookup(context.Background(), "x")
	assert.ErrorContains(t, err, "id field")
	assert.Zero(t, requests.Load())
}

func TestErrorMessages(t *testing.T) {
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   string
	}{
		{"json string", 400, "application/json", `"bad thing"`, "bad thing"},
		{"error field", 400, "application/json", `{"error":"from error","message":"m"}`, "from error"},
		{"description", 400, "application/json", `{"description":"from description"}`, "from description"},
		{"message", 401, "application/json", `{"name":"TokenExpiredError","message":"jwt expired"}`, "jwt expired"},
		{"plain text", 401, "text/plain", "You must be logged in to use this application", "You must be logged in to use this application"},
		{"html", 404, "text/html", "<html><body>Cannot GET</body></html>", "Not Found"},
		{"empty", 503, "", "", "Service Unavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _, _ := setup(t)
			mux.HandleFunc("/tables/t/x", func(w http.ResponseWriter, r *http.Request) {
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			_, err := GetTable[TodoItem](c, "t").Lookup(context.Background(), "x")
			var e *Error
			require.True(t, errors.As(err, &e), "%v", err)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.want, e.Message)
			assert.Equal(t, tc.body, string(e.Body))
			assert.Equal(t, "GET", e.Method)
			assert.Contains(t, e.URL, "/tables/t/x")
		})
	}
}

func TestStatusSentinels(t *testing.T) {
	for status, sentinel := range map[int]error{404: ErrNotFound, 401: ErrUnauthorized, 409: ErrConflict, 412: ErrPreconditionFailed} {
		e := &Error{StatusCode: status}
		assert.ErrorIs(t, e, sentinel)
		assert.NotErrorIs(t, &Error{StatusCode: 500}, sentinel)
	}
}

func TestInvalidResponses(t *testing.T) {
	cases := []struct {
		name, body string
		reason     string
	}{
		{"not json", "hello", "not JSON"},
		{"truncated", `{"id":"a","text":"tru`, "truncated"},
		{"empty", "", "empty body"},
		{"wrong shape", `{"id":{"x":1}}`, "unexpected shape"},
		{"too large", `{"id":"a","text":"` + strings.Repeat("x", 2000) + `"}`, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _, _ := setup(t, WithMaxResponseBytes(1000))
			mux.HandleFunc("/tables/t/a", func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, tc.body)
			})
			_, err := GetTable[TodoItem](c, "t").Lookup(context.Background(), "a")
			assert.ErrorIs(t, err, ErrInvalidResponse)
			var re *ResponseError
			require.True(t, errors.As(err, &re))
			assert.Contains(t, re.Error(), tc.reason)
		})
	}
}

func TestNewClientRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "relative/path", "/abs/path", "ftp://host/", "https://host/?q=1", "https://host/?",
		"https://host/#frag", "https://user:pw@host/", "https://", "http://[::1", "mailto:a@b"} {
		_, err := NewClient(u)
		assert.ErrorIs(t, err, ErrInvalidAppURL, u)
		if err != nil {
			assert.NotContains(t, err.Error(), "pw", "no secrets in errors")
		}
	}
	c, err := NewClient("https://host/app")
	require.NoError(t, err)
	assert.Equal(t, "https://host/app/", c.AppURL())
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, c.InstallationID())
	_, err = NewClient("https://host/", WithLoginHost("not a url"))
	assert.Error(t, err)
}

func TestCancelledContext(t *testing.T) {
	c, mux, _, _ := setup(t)
	mux.HandleFunc("/tables/t", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []any{}) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := GetTable[TodoItem](c, "t").ToSlice(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}
