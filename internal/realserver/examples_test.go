//go:build integration

package realserver_test

// The quickstart and offline examples, built and run as programs against
// Microsoft's Node server: -app-url makes them run against any Mobile Apps
// backend, and this is the one that is not ours.

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/realserver"
)

// TestExamplesAgainstNodeServer runs each example twice against one
// server (anonymous todoitem with soft delete; the harness's custom login
// testuser), so the second run meets the first run's rows, and checks the
// exit status and the lines of the steps a remote backend changes.
func TestExamplesAgainstNodeServer(t *testing.T) {
	srv := realserver.StartForTest(t, realserver.Options{})
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "quickstart", args: []string{"-app-url", srv.URL, "-username", "testuser"}, want: []string{
			"2. inserted 4 todo items; the client logged in by itself: logins made = 1",
			"the insert got 1 × 401, the client logged in 1 time and resent",
			"All steps behaved as stated.",
		}},
		{name: "offline", args: []string{"-app-url", srv.URL}, want: []string{
			"3. a push without network stops; 2 operations stay queued",
			"4. reconnected: pushed 2 operations, 1 conflict resolved",
			"(1 deleted); 2 rows locally",
			"All steps behaved as stated.",
		}},
	}
	bins := map[string]string{}
	for _, tt := range tests {
		bins[tt.name] = filepath.Join(t.TempDir(), tt.name)
		build := exec.Command("go", "build", "-o", bins[tt.name], "./examples/"+tt.name)
		build.Dir = "../.."
		out, err := build.CombinedOutput()
		require.NoError(t, err, "go build examples/%s: %s", tt.name, out)
	}
	for run := 1; run <= 2; run++ {
		for _, tt := range tests {
			cmd := exec.Command(bins[tt.name], tt.args...)
			cmd.Env = append(os.Environ(), "ZUMO_PASSWORD=testpassword")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s, run %d:\n%s", tt.name, run, out)
			for _, w := range tt.want {
				assert.Contains(t, string(out), w, "%s, run %d", tt.name, run)
			}
			assert.NotContains(t, string(out), "testpassword", "%s: the password is never printed", tt.name)
		}
	}
}
