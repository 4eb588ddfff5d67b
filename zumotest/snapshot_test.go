package zumotest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotRestoreKeepsRowsVersionsAndSoftDeletes(t *testing.T) {
	a := NewServer(t, WithTable("todo", SoftDelete()), WithTable("empty"))
	kept := insert(t, a, "todo", map[string]any{"id": "a/b ü", "text": "milk", "n": 12345678901234567, "f": 1.5, "z": nil})
	gone := insert(t, a, "todo", map[string]any{"id": "2", "text": "eggs"})
	upd := do(t, a, req{method: http.MethodPatch, path: "/tables/todo/2", body: map[string]any{"text": "ham"}})
	require.Equal(t, http.StatusOK, upd.Status)
	del := do(t, a, req{method: http.MethodDelete, path: "/tables/todo/2"})
	require.Equal(t, http.StatusOK, del.Status)
	_ = gone

	var snap bytes.Buffer
	require.NoError(t, a.Snapshot(&snap))
	before, err := a.Rows("todo")
	require.NoError(t, err)

	b := NewServer(t)
	require.NoError(t, b.Restore(bytes.NewReader(snap.Bytes()), SoftDelete()))
	assert.Equal(t, []string{"empty", "todo"}, b.Tables())
	after, err := b.Rows("todo")
	require.NoError(t, err)
	assert.Equal(t, before, after, "rows, dates, versions and deleted flags survive")
	assert.Contains(t, snap.String(), `"n":12345678901234567`, "numbers keep their exact text")

	// The soft-deleted row stays hidden and can be undeleted with its version.
	assert.Equal(t, http.StatusNotFound, do(t, b, req{path: "/tables/todo/2"}).Status)
	assert.Equal(t, http.StatusCreated, do(t, b, req{method: http.MethodPost, path: "/tables/todo/2"}).Status)

	// A new write gets a version no restored row has.
	next := do(t, b, req{method: http.MethodPatch, path: "/tables/todo/a%2Fb%20%C3%BC", body: map[string]any{"text": "oat"}})
	require.Equal(t, http.StatusOK, next.Status, "body: %s", next.Body)
	for _, row := range before {
		assert.NotEqual(t, row["version"], next.obj(t)["version"])
	}
	assert.NotEqual(t, kept["version"], next.obj(t)["version"])
}

func TestRestoreRejectsBadSnapshotsAndChangesNothing(t *testing.T) {
	good := `{"format":"zumotest-snapshot/1","legacy":false,"versions":1,"tables":[{"name":"t","rows":[` +
		`{"id":"1","createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-01-01T00:00:00.000Z","version":"AAAAAAAAAAE=","deleted":false}]}]}`
	tests := []struct {
		name, doc, want string
	}{
		{"not json", `{"format":`, "invalid snapshot"},
		{"other format", `{"format":"x/9"}`, `format "x/9"`},
		{"legacy", strings.Replace(good, `"legacy":false`, `"legacy":true`, 1), "legacy=true"},
		{"no id", strings.Replace(good, `"id":"1",`, ``, 1), "no string id"},
		{"bad date", strings.Replace(good, `"createdAt":"2024-01-01T00:00:00.000Z"`, `"createdAt":"yesterday"`, 1), "createdAt"},
		{"no version", strings.Replace(good, `"version":"AAAAAAAAAAE=",`, ``, 1), "version"},
		{"bad table name", strings.Replace(good, `"name":"t"`, `"name":"a/b"`, 1), "invalid table name"},
		{"nested value", strings.Replace(good, `"id":"1",`, `"id":"1","x":{"a":1},`, 1), "objects and arrays"},
		{"empty table name after a good table", strings.Replace(good, `]}]}`, `]},{"name":"","rows":[]}]}`, 1), `invalid table name ""`},
		{"slash in a table name after a good table", strings.Replace(good, `]}]}`, `]},{"name":"a/b","rows":[]}]}`, 1), `invalid table name "a/b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t)
			err := s.Restore(strings.NewReader(tc.doc))
			require.ErrorIs(t, err, ErrSnapshot)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, s.Tables(), "nothing declared by a failed restore")
		})
	}
	s := NewServer(t)
	require.NoError(t, s.Restore(strings.NewReader(good)))
	row, ok := s.Row("t", "1")
	require.True(t, ok)
	assert.Equal(t, "AAAAAAAAAAE=", row["version"])
}
