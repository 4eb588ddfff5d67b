package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
)

// queueLocal opens the store at path, lets f make local changes (queued
// operations), and closes it; it returns how many operations are queued.
func queueLocal(t *testing.T, appURL, path string, f func(tbl *offline.Table[map[string]any])) int {
	t.Helper()
	c, err := zumo.NewClient(appURL)
	require.NoError(t, err)
	store, err := sqlitestore.Open(path)
	require.NoError(t, err)
	defer store.Close()
	sc, err := offline.New(c, store)
	require.NoError(t, err)
	if f != nil {
		f(offline.GetTable[map[string]any](sc, "todoitem"))
	}
	ops, err := sc.PendingOperations(context.Background())
	require.NoError(t, err)
	return len(ops)
}

// zumoRun runs the command line in this process.
func zumoRun(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// TestPush sends queued local changes: with the server down nothing is
// lost; a conflict stays queued and is reported; the rest is applied.
func TestPush(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	url, _ := startServe(t)
	db := filepath.Join(t.TempDir(), "local.db")
	ctx := context.Background()

	// A row on the server, pulled, then changed on the server: the local
	// update of it carries a stale version.
	online, err := zumo.NewClient(url)
	require.NoError(t, err)
	srvTbl := online.Table("todoitem")
	_, err = srvTbl.Insert(ctx, map[string]any{"id": "shared", "text": "v1"})
	require.NoError(t, err)
	code, out, errOut := zumoRun("--app", url, "pull", "todoitem", "--db", db, "--query-id", "all")
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "pulled todoitem: 1 rows")
	_, err = srvTbl.Update(ctx, map[string]any{"id": "shared", "text": "server"})
	require.NoError(t, err)

	queued := queueLocal(t, url, db, func(tbl *offline.Table[map[string]any]) {
		for _, id := range []string{"a", "b", "c"} {
			_, err := tbl.Insert(ctx, map[string]any{"id": id, "text": "local " + id})
			require.NoError(t, err)
		}
		item, err := tbl.Lookup(ctx, "shared")
		require.NoError(t, err)
		item["text"] = "client"
		_, err = tbl.Update(ctx, item)
		require.NoError(t, err)
	})
	require.Equal(t, 4, queued)

	// Server down: exit 1, one line, the queue untouched.
	code, _, errOut = zumoRun("--app", "http://127.0.0.1:1", "push", "--db", db)
	assert.Equal(t, exitFailure, code)
	assert.Regexp(t, `^zumo: push stopped, the queue is kept: .*refused`, errOut)
	assert.Equal(t, 4, queueLocal(t, url, db, nil), "nothing lost")

	// The three inserts go; the stale update stays queued and is named.
	code, out, errOut = zumoRun("--app", url, "push", "--db", db)
	assert.Equal(t, exitFailure, code)
	assert.Equal(t, "pushed 3 operations (0 conflicts resolved), 1 left in the queue\n", out)
	assert.Contains(t, errOut, "shared")
	assert.Contains(t, errOut, "zumo: push incomplete: 1 operation(s) refused, kept in the queue")
	assert.Equal(t, 1, queueLocal(t, url, db, nil))
	for _, id := range []string{"a", "b", "c"} {
		row, err := srvTbl.Lookup(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "local "+id, row["text"])
	}
	row, err := srvTbl.Lookup(ctx, "shared")
	require.NoError(t, err)
	assert.Equal(t, "server", row["text"], "the conflict did not overwrite the server's row")
}
