package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
)

// TestServiceExampleAgainstServe runs examples/service, the repository's
// Go service that does typed CRUD through zumo, unchanged against zumo
// serve (an authenticated soft-delete table, a custom login), and checks
// through the emulator that its writes landed.
func TestServiceExampleAgainstServe(t *testing.T) {
	bin := buildExample(t, "service")
	url, _ := startServe(t, "--user", "ann:pw", "--table", "todoitem:authenticated,soft-delete")

	svc := exec.Command(bin, "-addr", "127.0.0.1:0", "-app-url", url, "-username", "ann", "-user-cache", t.TempDir())
	svc.Env = append(os.Environ(), "ZUMO_PASSWORD=pw")
	stderr, err := svc.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, svc.Start())
	exited := make(chan error, 1)
	addrs := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		addrRE := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrs <- m[1]:
				default:
				}
			}
		}
		exited <- svc.Wait()
	}()
	t.Cleanup(func() { svc.Process.Signal(os.Interrupt); <-exited })
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a
	case err := <-exited:
		t.Fatalf("examples/service exited: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("examples/service did not start")
	}

	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	status, created := call(http.MethodPost, "/todos", `{"text":"buy milk"}`)
	require.Equal(t, http.StatusCreated, status, "%v", created)
	id, _ := created["id"].(string)
	require.NotEmpty(t, id)
	status, got := call(http.MethodGet, "/todos/"+id, "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "buy milk", got["text"])
	status, _ = call(http.MethodPut, "/todos/"+id, `{"text":"buy oat milk","version":"`+got["version"].(string)+`"}`)
	assert.Equal(t, http.StatusOK, status)
	status, stale := call(http.MethodPut, "/todos/"+id, `{"text":"stale","version":"`+got["version"].(string)+`"}`)
	assert.Equal(t, http.StatusConflict, status, "a 412 upstream is the service's 409: %v", stale)

	// What the emulator holds, read with a client of its own.
	c, err := zumo.NewClient(url, zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "pw"})))
	require.NoError(t, err)
	row, err := c.Table("todoitem").Lookup(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "buy oat milk", row["text"])

	status, _ = call(http.MethodDelete, "/todos/"+id, "")
	assert.Equal(t, http.StatusNoContent, status)
	_, err = c.Table("todoitem").Lookup(context.Background(), id)
	assert.ErrorIs(t, err, zumo.ErrNotFound)
	rows, err := c.Table("todoitem").Query().IncludeDeleted().ToSlice(context.Background())
	require.NoError(t, err)
	require.Len(t, rows, 1, "soft deleted, kept")
	assert.Equal(t, true, rows[0]["deleted"])
}

// buildExample builds examples/NAME of the root module, in the workspace
// (go.work), and returns the program's path.
func buildExample(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), name)
	build := exec.Command("go", "build", "-o", bin, "github.com/zumo-go/zumo/examples/"+name)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/%s: %v: %s", name, err, out)
	}
	return bin
}
