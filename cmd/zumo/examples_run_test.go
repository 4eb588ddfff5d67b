package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStoryExamplesAgainstServe builds examples/quickstart and
// examples/offline and runs them as programs, unchanged, against a zumo
// serve this test starts: the URL from -app-url or ZUMO_APP_URL, the
// quickstart's login from ZUMO_USERNAME and ZUMO_PASSWORD. Each runs twice
// against one emulator, since a backend keeps the rows of earlier runs.
// It checks the exit status and the lines that show each step happened,
// and that a wrong or missing password fails as documented without the
// password in the output.
func TestStoryExamplesAgainstServe(t *testing.T) {
	tests := []struct {
		name    string
		serve   []string
		args    func(url string) []string
		env     func(url string) []string
		code    int
		want    []string // lines (substrings) the output must have
		notWant string   // never in the output
	}{
		{
			name:  "quickstart",
			serve: []string{"--user", "ann:s3cr3t-pw", "--table", "todoitem:authenticated"},
			env: func(url string) []string {
				return []string{"ZUMO_APP_URL=" + url, "ZUMO_USERNAME=ann", "ZUMO_PASSWORD=s3cr3t-pw"}
			},
			want: []string{
				"1. using the backend at http://127.0.0.1:",
				"2. inserted 4 todo items; the client logged in by itself: logins made = 1",
				`   logged in as user "sid:ann"`,
				"3. Take(3).ToSlice returned 3 items:",
				"new logins = 0",
				"5. replaced the cached token's signature, as a key rotation would spoil it; the insert got 1 × 401, the client logged in 1 time and resent",
				"6. a third client read all",
				"All steps behaved as stated.",
			},
			notWant: "s3cr3t-pw",
		},
		{
			name:  "offline",
			serve: []string{"--table", "todoitem:soft-delete"},
			args:  func(url string) []string { return []string{"-app-url", url} },
			want: []string{
				"1. pulled 2 rows in",
				"2. offline: edited and inserted locally; 2 open items: buy bread, buy eggs",
				"3. a push without network stops; 2 operations stay queued",
				"4. reconnected: pushed 2 operations, 1 conflict resolved",
				`the server now has "buy oat milk", complete=true`,
				"(1 deleted); 2 rows locally",
				"6. a pull with nothing new: 1 request",
				"All steps behaved as stated.",
			},
		},
		{
			name:  "quickstart wrong password",
			serve: []string{"--user", "ann:s3cr3t-pw", "--table", "todoitem:authenticated"},
			env: func(url string) []string {
				return []string{"ZUMO_APP_URL=" + url, "ZUMO_USERNAME=ann", "ZUMO_PASSWORD=wrong-pw-123"}
			},
			code:    1,
			want:    []string{"FAILED:"},
			notWant: "wrong-pw-123",
		},
		{
			name:  "quickstart without password",
			serve: []string{"--user", "ann:s3cr3t-pw"},
			args:  func(url string) []string { return []string{"-app-url", url, "-username", "ann"} },
			code:  2,
			want:  []string{"set -username (or ZUMO_USERNAME) and ZUMO_PASSWORD"},
		},
	}
	bins := map[string]string{"quickstart": buildExample(t, "quickstart"), "offline": buildExample(t, "offline")}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			example, _, _ := strings.Cut(tt.name, " ")
			url, _ := startServe(t, tt.serve...)
			runs := 1
			if tt.code == 0 {
				runs = 2
			}
			for i := range runs {
				var args, env []string
				if tt.args != nil {
					args = tt.args(url)
				}
				if tt.env != nil {
					env = tt.env(url)
				}
				cmd := exec.Command(bins[example], args...)
				cmd.Env = append(withoutZumoVars(os.Environ()), env...)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				code := 0
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					code = exit.ExitCode()
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, tt.code, code, "run %d, exit status; output:\n%s", i+1, out.String())
				for _, w := range tt.want {
					assert.Contains(t, out.String(), w, "run %d", i+1)
				}
				if tt.notWant != "" {
					assert.NotContains(t, out.String(), tt.notWant, "run %d: the password is never printed", i+1)
				}
			}
		})
	}
}

// withoutZumoVars drops the ZUMO_ variables of the environment the test
// runs in, so that only the test's own reach the example.
func withoutZumoVars(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "ZUMO_") {
			kept = append(kept, kv)
		}
	}
	return kept
}
