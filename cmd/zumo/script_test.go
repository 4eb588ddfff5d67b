package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){"zumo": main, "fakebrowser": fakeBrowser})
}

// cleanupM removes the binary buildZumo made once the tests have run.
type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	return code
}

// fakeBrowser is what $BROWSER runs in the scripts: it follows the login
// URL's redirects like a browser and, at the loopback callback page, does
// what the page's script does: posts the fragment back to it.
func fakeBrowser() {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "fakebrowser: "+format+"\n", args...)
		os.Exit(1)
	}
	if len(os.Args) != 2 {
		fail("usage: fakebrowser URL")
	}
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	next := os.Args[1]
	for range 10 {
		target, fragment, _ := strings.Cut(next, "#")
		res, err := hc.Get(target)
		if err != nil {
			fail("%v", err)
		}
		res.Body.Close()
		if fragment != "" {
			res, err := hc.Post(target, "text/plain", strings.NewReader(fragment))
			if err != nil {
				fail("%v", err)
			}
			res.Body.Close()
			return
		}
		loc, err := res.Location()
		if err != nil {
			fail("%s answered %d without a redirect", target, res.StatusCode)
		}
		next = loc.String()
	}
	fail("too many redirects")
}

// TestScripts runs the real binary through the scripts in testdata/script,
// each against zumo serve processes it starts itself (startserve).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// A config directory per script: logins never leak between
			// scripts or into the user's own.
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "config"))
			env.Setenv("ZUMO_APP_URL", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"startserve": cmdStartServe,
			"stopserve":  cmdStopServe,
			"killserve":  cmdKillServe,
			"interrupt":  cmdInterrupt,
			"waitfile":   cmdWaitFile,
			"waitgrep":   cmdWaitGrep,
			"jsonlines":  cmdJSONLines,
			"unusedport": cmdUnusedPort,
		},
	})
}

// servers holds the zumo serve processes a script started, by name.
var servers sync.Map // *testscript.TestScript+name -> *exec.Cmd

type serverKey struct {
	ts   *testscript.TestScript
	name string
}

// startserve NAME [serve flags...] starts "zumo serve" on a free loopback
// port, waits until it listens, and sets $NAME_URL and $ZUMO_APP_URL to
// its URL. Its output goes to $WORK/NAME.log. It is killed when the script
// ends unless stopserve stopped it.
func cmdStartServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: startserve NAME [flags]")
	}
	name := args[0]
	urlFile := ts.MkAbs(name + ".url")
	os.Remove(urlFile)
	bin, err := exec.LookPath("zumo")
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--url-file", urlFile}, args[1:]...)...)
	cmd.Dir = ts.MkAbs(".")
	logf, err := os.Create(ts.MkAbs(name + ".log"))
	ts.Check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	ts.Check(cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	servers.Store(serverKey{ts, name}, &proc{cmd: cmd, done: done})
	ts.Defer(func() {
		cmd.Process.Kill()
		<-done
	})
	url := waitFor(urlFile, done)
	if url == "" {
		ts.Fatalf("zumo serve %s did not start:\n%s", name, ts.ReadFile(name+".log"))
	}
	ts.Setenv(strings.ToUpper(name)+"_URL", url)
	ts.Setenv("ZUMO_APP_URL", url)
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// waitFor returns the trimmed content of path once it exists, or "" when
// the process ends first or 20 s pass.
func waitFor(path string, done <-chan struct{}) string {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b))
		}
		select {
		case <-done:
			return ""
		case <-time.After(10 * time.Millisecond):
		}
	}
	return ""
}

func server(ts *testscript.TestScript, name string) *proc {
	v, ok := servers.Load(serverKey{ts, name})
	if !ok {
		ts.Fatalf("no server %q", name)
	}
	return v.(*proc)
}

// stopserve NAME sends SIGINT (what Ctrl-C sends) and waits for a clean
// exit; with ! it expects a failing exit.
func cmdStopServe(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: stopserve NAME")
	}
	p := server(ts, args[0])
	ts.Check(p.cmd.Process.Signal(os.Interrupt))
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		ts.Fatalf("zumo serve %s did not stop", args[0])
	}
	ok := p.cmd.ProcessState.Success()
	if ok == neg {
		ts.Fatalf("zumo serve %s exited with %v:\n%s", args[0], p.cmd.ProcessState, ts.ReadFile(args[0]+".log"))
	}
}

// killserve NAME kills the server with SIGKILL (a crash).
func cmdKillServe(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: killserve NAME")
	}
	p := server(ts, args[0])
	ts.Check(p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// interrupt FILE TEXT zumo ARGS... runs "zumo ARGS...", waits until FILE
// contains TEXT (the command's progress, e.g. a server's request log),
// sends SIGINT (what Ctrl-C sends), and expects a failing exit; stdout
// and stderr go to $WORK/interrupt.out and .err.
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: interrupt FILE TEXT zumo-args...")
	}
	bin, err := exec.LookPath("zumo")
	ts.Check(err)
	if args[2] != "zumo" {
		ts.Fatalf("usage: interrupt FILE TEXT zumo args...")
	}
	cmd := exec.Command(bin, args[3:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = scriptEnv(ts)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	ts.Check(cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && bytes.Contains(b, []byte(args[1])) {
			break
		}
		select {
		case <-done:
			ts.Fatalf("the command ended before %s contained %q:\n%s", args[0], args[1], errb.Bytes())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		ts.Fatalf("the command did not stop on SIGINT")
	}
	ts.Check(os.WriteFile(ts.MkAbs("interrupt.out"), out.Bytes(), 0o666))
	ts.Check(os.WriteFile(ts.MkAbs("interrupt.err"), errb.Bytes(), 0o666))
	if cmd.ProcessState.Success() != neg {
		ts.Fatalf("exit status %v (want failure: %v)", cmd.ProcessState, !neg)
	}
}

// scriptEnv is the environment the script's commands see.
func scriptEnv(ts *testscript.TestScript) []string {
	env := os.Environ()
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "ZUMO_APP_URL", "WORK"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

// waitfile FILE waits (up to 20 s) until FILE exists and is not empty.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	if waitFor(ts.MkAbs(args[0]), nil) == "" {
		ts.Fatalf("%s did not appear", args[0])
	}
}

// waitgrep FILE TEXT waits (up to 20 s) until FILE contains TEXT: for
// a server's batched snapshot write before a crash test.
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitgrep FILE TEXT")
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && bytes.Contains(b, []byte(args[1])) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("%s never contained %q", args[0], args[1])
}

// jsonlines FILE N checks that FILE holds exactly N lines, each a JSON
// object.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonlines FILE N")
	}
	text := ts.ReadFile(args[0])
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		lines = nil
	}
	want := args[1]
	for i, l := range lines {
		if !strings.HasPrefix(l, "{") || !strings.HasSuffix(l, "}") {
			ts.Fatalf("line %d is not a JSON object: %q", i+1, l)
		}
	}
	if got := strconv.Itoa(len(lines)); got != want {
		ts.Fatalf("%d lines, want %s", len(lines), want)
	}
}

// unusedport VAR sets $VAR to a loopback URL nothing listens on.
func cmdUnusedPort(ts *testscript.TestScript, neg bool, args []string) {
	ts.Setenv(args[0], "http://127.0.0.1:1")
}
