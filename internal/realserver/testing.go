package realserver

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// RequiredEnv, set to 1, makes StartForTest fail instead of skip when the
// server cannot be installed or started (as CI=true does).
const RequiredEnv = "ZUMO_REALSERVER"

// Required reports whether a missing real server is a test failure rather
// than a skip: when CI=true or ZUMO_REALSERVER=1.
func Required() bool {
	return strings.EqualFold(os.Getenv("CI"), "true") || os.Getenv(RequiredEnv) == "1"
}

// StartForTest installs the Node project if needed, starts a server and stops
// it when the test ends (showing its output if the test failed). When the
// server cannot be installed or started, the test fails if Required() and is
// skipped with the reason otherwise.
func StartForTest(t testing.TB, opts Options) *Server {
	t.Helper()
	// npm ci compiles sqlite3: minutes on a busy machine. Stop before the
	// test binary's own deadline so the failure says why.
	timeout := 15 * time.Minute
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok && time.Until(dl)-30*time.Second < timeout {
			timeout = time.Until(dl) - 30*time.Second
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := Install(ctx); err != nil {
		unavailable(t, "install", err)
	}
	s, err := Start(ctx, opts)
	if err != nil {
		unavailable(t, "start", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("realserver %s output:\n%s", s.URL, s.Logs())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("realserver: stop: %v", err)
		}
	})
	return s
}

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("realserver: %s failed (CI=true or %s=1, so this is not skipped): %v", what, RequiredEnv, err)
	}
	t.Skipf("realserver: %s failed, skipping (set %s=1 to make this a failure): %v", what, RequiredEnv, err)
}
