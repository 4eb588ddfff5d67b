package realserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errAddrInUse = errors.New("address in use")

func (s *Server) setPort(port int) {
	s.Port = port
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port) + "/"
}

// env builds the Node process environment: ours without the variables that
// azure-mobile-apps or server.js would read, then the server settings, then
// opts.Env.
func (s *Server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if ignoredEnv(k) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"PORT="+strconv.Itoa(s.Port),
		"ZUMO_SECRET="+s.Secret,
		"ZUMO_DB_PATH="+s.DBPath,
	)
	if d := s.opts.TokenLifetime; d > 0 {
		secs := int64((d + time.Second - 1) / time.Second)
		env = append(env, "TOKEN_LIFETIME_SECONDS="+strconv.FormatInt(secs, 10))
	}
	return append(env, s.opts.Env...)
}

func ignoredEnv(key string) bool {
	k := strings.ToUpper(key)
	switch k {
	case "PORT", "ZUMO_SECRET", "ZUMO_DB_PATH", "TOKEN_LIFETIME_SECONDS", "ZUMO_USERS", "ZUMO_LOG_LEVEL":
		return true
	}
	// azure-mobile-apps reads these (WEBSITE_HOSTNAME would switch it to
	// "hosted" mode with other token issuers).
	for _, p := range []string{"MS_", "WEBSITE_", "SQLCONNSTR_", "SQLAZURECONNSTR_", "CUSTOMCONNSTR_", "AZURE_STORAGE_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// launch starts node on s.Port and waits until it answers GET /counters.
func (s *Server) launch(ctx context.Context) error {
	cmd := exec.Command("node", "server.js")
	cmd.Dir = s.dir
	cmd.Env = s.env()
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second // do not hang on output pipes a stray child keeps open
	mark := s.out.Len()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("realserver: start node: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	timeout := StartTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	started := time.Now()
	delay := 20 * time.Millisecond
	for {
		if s.ready(ctx) {
			return nil
		}
		select {
		case <-p.done:
			s.mu.Lock()
			s.proc = nil
			s.mu.Unlock()
			logs := s.out.Since(mark)
			err := fmt.Errorf("realserver: node exited before answering (%v)\n--- server output ---\n%s", p.err, tail([]byte(logs), outputTail))
			if strings.Contains(logs, "EADDRINUSE") {
				return fmt.Errorf("%w: %w", errAddrInUse, err)
			}
			return err
		case <-ctx.Done():
			_ = s.stopProcess()
			return fmt.Errorf("realserver: waiting for the server: %w\n--- server output ---\n%s", ctx.Err(), tail([]byte(s.out.Since(mark)), outputTail))
		case <-deadline.C:
			_ = s.stopProcess()
			return fmt.Errorf("realserver: server did not answer on %s within %s\n--- server output ---\n%s",
				s.URL, time.Since(started).Round(time.Millisecond), tail([]byte(s.out.Since(mark)), outputTail))
		case <-time.After(delay):
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

func (s *Server) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var c Counters
	return s.call(ctx, http.MethodGet, "counters", &c) == nil
}

// stopProcess sends SIGTERM to the process group, then SIGKILL after two
// seconds, and waits for the process.
func (s *Server) stopProcess() error {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	pid := p.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("realserver: node (pid %d) did not exit", pid)
		}
	}
	// Also end anything node may have left in its group.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

func (s *Server) cleanup() {
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
		s.tmpDir = ""
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("realserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
