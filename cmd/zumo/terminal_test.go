package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/zumotest"
)

// TestProgressBarOnlyOnTerminal runs zumo pull in a tmux pane (a real
// terminal) and with its output piped: the pane shows the progress bar,
// the pipe gets only the summary line.
func TestProgressBarOnlyOnTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is needed for the terminal test (apt-get install tmux)")
		}
		t.Skip("no tmux")
	}
	bin := buildZumo(t)
	dir := t.TempDir()
	// 60 rows, 3 per page, 40 ms a request: about a second of progress.
	src := zumotest.New(zumotest.WithTable("todoitem"))
	rows := make([]any, 60)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprintf("r%02d", i), "text": "row"}
	}
	require.NoError(t, src.Seed("todoitem", rows...))
	var snap bytes.Buffer
	require.NoError(t, src.Snapshot(&snap))
	data := filepath.Join(dir, "data.json")
	require.NoError(t, os.WriteFile(data, snap.Bytes(), 0o600))
	url, _ := startServe(t, "--data", data, "--latency", "40ms")

	socket := fmt.Sprintf("zumo-test-%d", os.Getpid())
	t.Cleanup(func() { exec.Command(tmux, "-L", socket, "kill-server").Run() })
	script := fmt.Sprintf("XDG_CONFIG_HOME=%s %s --app %s pull todoitem --db %s --page-size 3; echo EXIT=$?; sleep 60",
		dir, bin, url, filepath.Join(dir, "tty.db"))
	out, err := exec.Command(tmux, "-L", socket, "new-session", "-d", "-x", "120", "-y", "20", "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var screen string
	sawBar := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := exec.Command(tmux, "-L", socket, "capture-pane", "-p").Output()
		require.NoError(t, err)
		screen = string(b)
		if strings.Contains(screen, "pull todoitem (") && !strings.Contains(screen, "EXIT=") {
			sawBar = true // the bar while the pull runs
		}
		if strings.Contains(screen, "EXIT=") {
			break
		}
	}
	assert.True(t, sawBar, "no progress bar while pulling; screen:\n%s", screen)
	assert.Contains(t, screen, "EXIT=0")
	assert.Contains(t, screen, "rows", "the bar counts rows")
	assert.Contains(t, screen, "pulled todoitem: 60 rows")

	// Piped: no bar, one summary line.
	cmd := exec.Command(bin, "--app", url, "pull", "todoitem", "--db", filepath.Join(dir, "pipe.db"), "--page-size", "3")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Empty(t, stderr.String(), "no progress bar on a pipe")
	assert.Regexp(t, `^pulled todoitem: 60 rows [^\n]*\n$`, stdout.String())
}

// TestTerminalLoginAndTable types a password into zumo login --custom in
// a tmux pane (it must not appear on the screen) and lists a table there
// (an aligned table, where a pipe gets JSON lines).
func TestTerminalLoginAndTable(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is needed for the terminal test (apt-get install tmux)")
		}
		t.Skip("no tmux")
	}
	bin := buildZumo(t)
	dir := t.TempDir()
	url, _ := startServe(t, "--user", "ann:Secret-Typed-42", "--table", "todoitem:authenticated")
	socket := fmt.Sprintf("zumo-login-%d", os.Getpid())
	t.Cleanup(func() { exec.Command(tmux, "-L", socket, "kill-server").Run() })
	env := fmt.Sprintf("XDG_CONFIG_HOME=%s ZUMO_APP_URL=%s", dir, url)
	script := fmt.Sprintf("%s %s login --custom --username ann && %s %s table insert todoitem '{\"id\":\"1\",\"text\":\"milk\"}' >/dev/null && %s %s table list todoitem; echo EXIT=$?; sleep 60",
		env, bin, env, bin, env, bin)
	out, err := exec.Command(tmux, "-L", socket, "new-session", "-d", "-x", "120", "-y", "20", "sh", "-c", script).CombinedOutput()
	require.NoError(t, err, "%s", out)
	screen := func() string {
		b, err := exec.Command(tmux, "-L", socket, "capture-pane", "-p").Output()
		require.NoError(t, err)
		return string(b)
	}
	waitScreen := func(text string) string {
		var s string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if s = screen(); strings.Contains(s, text) {
				return s
			}
		}
		t.Fatalf("the screen never showed %q:\n%s", text, s)
		return ""
	}
	waitScreen("Password:") // capture-pane drops trailing spaces
	require.NoError(t, exec.Command(tmux, "-L", socket, "send-keys", "Secret-Typed-42", "Enter").Run())
	s := waitScreen("EXIT=")
	assert.NotContains(t, s, "Secret-Typed-42", "the password was echoed")
	assert.Contains(t, s, "logged in as sid:ann")
	assert.Regexp(t, `ID\s+TEXT\n1\s+milk`, s, "a table on a terminal")
	assert.Contains(t, s, "EXIT=0")
}
