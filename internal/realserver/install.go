// Package realserver runs Microsoft's official Node.js Mobile Apps server
// (the npm package azure-mobile-apps 4.0.2, on its sqlite provider) as a real
// peer for zumo's integration tests.
//
// The Node project lives in the js/ folder next to this file. Install runs
// `npm ci` there (once per package-lock.json), Start launches `node server.js`
// on a free loopback port, and StartForTest does both for a test. See
// README.md in this folder for the server's routes and environment.
package realserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DirEnv names an environment variable that, when set, points at the js/
// folder to use instead of the one next to this package's source.
const DirEnv = "ZUMO_REALSERVER_DIR"

const (
	markerName   = ".zumo-installed" // inside node_modules; npm ci removes it
	lockFileName = ".install.lock"   // next to package.json; flock target
	outputTail   = 4000              // bytes of npm output kept in errors
)

// Dir returns the absolute path of the js/ folder holding package.json,
// package-lock.json and server.js.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return filepath.Abs(d)
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("realserver: cannot locate the package source (set " + DirEnv + ")")
	}
	return filepath.Join(filepath.Dir(file), "js"), nil
}

var installMu sync.Mutex

// Install makes sure js/node_modules matches js/package-lock.json, running
// `npm ci` when it does not. A marker file in node_modules records the
// sha256 of package.json, package-lock.json and the Node version it was
// installed for; when it matches, Install returns at once. Several processes
// may call Install at the same time: they serialise on a file lock, and the
// ones that wait find the marker written by the first.
//
// sqlite3 is compiled from source by node-gyp (about 1.5 minutes on two
// cores). Install points node-gyp at the local Node headers
// (npm_config_nodedir=/usr) when /usr/include/node exists and the caller has
// not set it.
func Install(ctx context.Context) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("realserver: %s is not installed: %w", tool, err)
		}
	}

	installMu.Lock()
	defer installMu.Unlock()

	want, err := installHash(ctx, dir)
	if err != nil {
		return err
	}
	marker := filepath.Join(dir, "node_modules", markerName)
	if installed(marker, want) {
		return nil
	}

	unlock, err := lockFile(ctx, filepath.Join(dir, lockFileName))
	if err != nil {
		return err
	}
	defer unlock()

	// Another process may have installed while we waited for the lock.
	if installed(marker, want) {
		return nil
	}

	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = npmEnv(os.Environ())
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("realserver: npm ci in %s failed after %s: %w\n--- npm output (tail) ---\n%s",
			dir, time.Since(start).Round(time.Second), err, tail(out.Bytes(), outputTail))
	}
	if err := os.WriteFile(marker, []byte(want+"\n"), 0o644); err != nil {
		return fmt.Errorf("realserver: write install marker: %w", err)
	}
	return nil
}

// npmEnv returns env with the settings npm ci needs here added when absent.
func npmEnv(env []string) []string {
	has := func(key string) bool {
		for _, kv := range env {
			if k, _, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, key) {
				return true
			}
		}
		return false
	}
	if !has("npm_config_nodedir") {
		if _, err := os.Stat("/usr/include/node/node_version.h"); err == nil {
			env = append(env, "npm_config_nodedir=/usr")
		}
	}
	// node-gyp compiles sqlite3's files in parallel with JOBS.
	if !has("JOBS") && !has("npm_config_jobs") {
		env = append(env, "JOBS="+strconv.Itoa(runtime.NumCPU()))
	}
	return env
}

// installHash identifies what an install must match: the manifest, the lock
// file and the Node version (sqlite3 is a native module).
func installHash(ctx context.Context, dir string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("realserver: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	cmd := exec.CommandContext(ctx, "node", "--version")
	v, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("realserver: node --version: %w", err)
	}
	fmt.Fprintf(h, "node %s\n", bytes.TrimSpace(v))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func installed(marker, want string) bool {
	b, err := os.ReadFile(marker)
	return err == nil && strings.TrimSpace(string(b)) == want
}

// lockFile takes an exclusive flock on path, polling so that ctx can cancel
// the wait. The returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("realserver: open install lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("realserver: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("realserver: waiting for another npm ci (%s): %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
		return "…" + string(b)
	}
	return string(b)
}
