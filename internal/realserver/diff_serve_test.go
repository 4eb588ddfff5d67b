//go:build integration

package realserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/internal/realserver"
)

// serveBackend is the zumo command's emulator (cmd/zumo, "zumo serve"),
// built from this workspace and run as its own process, set up like
// server.js: todoitem anonymous with soft delete, secretitem authenticated
// with soft delete, the custom login's users, and its --test-endpoints
// (the same /counters, /counters/reset and /seed routes as server.js).
func serveBackend(t testing.TB) backend {
	dir := t.TempDir()
	bin := filepath.Join(dir, "zumo")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/zumo-go/zumo/cmd/zumo").CombinedOutput(); err != nil {
		if realserver.Required() {
			t.Fatalf("go build cmd/zumo (it needs the workspace, go.work): %v: %s", err, out)
		}
		t.Skipf("cannot build cmd/zumo: %v: %s", err, out)
	}
	urlFile := filepath.Join(dir, "url")
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--url-file", urlFile, "--quiet", "--test-endpoints",
		"--table", "todoitem:soft-delete", "--table", "secretitem:soft-delete,authenticated",
		"--user", realserver.DefaultUsername+":"+realserver.DefaultPassword,
		"--user", realserver.OtherUsername+":"+realserver.OtherPassword)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); <-done })
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == "" && time.Now().Before(deadline); {
		if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
			base = strings.TrimSpace(string(b)) + "/"
			break
		}
		select {
		case <-done:
			t.Fatalf("zumo serve exited: %s", logs.Bytes())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if base == "" {
		// The logs are read only once the process is gone: until then
		// its output is still being copied into them.
		cmd.Process.Kill()
		<-done
		t.Fatalf("zumo serve did not start: %s", logs.Bytes())
	}
	call := func(t testing.TB, path string, body any, into any) {
		t.Helper()
		method, payload := http.MethodGet, []byte(nil)
		if body != nil {
			method = http.MethodPost
			var err error
			payload, err = json.Marshal(body)
			require.NoError(t, err)
		}
		req, err := http.NewRequestWithContext(context.Background(), method, base+path, bytes.NewReader(payload))
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Less(t, res.StatusCode, 300, "%s %s", method, path)
		if into != nil {
			require.NoError(t, json.NewDecoder(res.Body).Decode(into))
		}
	}
	return backend{
		name:  "zumo serve",
		url:   base,
		reset: func(t testing.TB) { call(t, "counters/reset", struct{}{}, nil) },
		counts: func(t testing.TB) (int, int, int) {
			var c realserver.Counters
			call(t, "counters", nil, &c)
			return c.Requests, c.Unauthorized, c.Logins
		},
		seed: func(t testing.TB, table string, rows []map[string]any) {
			call(t, "seed/"+table, rows, nil)
		},
		rotate: func(t testing.TB) { call(t, "rotate-key", struct{}{}, nil) },
	}
}

// TestDiffOfficialVsZumoServe is TestDiffOfficialVsZumotest with the fake
// behind the zumo command's standalone server: the same scenario, the
// same transcript, over a real listener and the emulator's own layer
// (dynamic tables, the request log, the next link in the Node server's
// form).
func TestDiffOfficialVsZumoServe(t *testing.T) {
	sameTranscript(t, scenario(t, realBackend(t)), scenario(t, serveBackend(t)), "zumo serve")
}
