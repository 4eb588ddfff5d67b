package rediscache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server the tests started on a loopback port, or
// the one ZUMO_REDIS_ADDR names.
type redisServer struct {
	addr     string
	external bool
	dir      string
	bin      string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// redisBin returns the redis-server executable. Without one the test fails
// under CI=true and is skipped otherwise.
func redisBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found (install it: apt-get install -y redis-server): %v", err)
		}
		t.Skipf("redis-server not found, skipping (set ZUMO_REDIS_ADDR or install redis-server): %v", err)
	}
	return bin
}

func external(t testing.TB) *redisServer {
	addr := os.Getenv("ZUMO_REDIS_ADDR")
	if addr == "" {
		return nil
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("ZUMO_REDIS_ADDR=%s: %v", addr, err)
	}
	return &redisServer{addr: addr, external: true}
}

// launch starts a redis-server on a free loopback port with its files in dir.
func launch(bin, dir string) (*redisServer, error) {
	r := &redisServer{bin: bin, dir: dir}
	var err error
	for range 5 { // a free port can be taken between finding and binding it
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		r.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err = r.start(); err == nil {
			return r, nil
		}
	}
	return nil, fmt.Errorf("starting redis-server: %w", err)
}

var shared struct {
	once sync.Once
	r    *redisServer
	err  error
}

// startRedis returns the redis-server the package's tests share (started
// at first use, stopped by TestMain), or ZUMO_REDIS_ADDR. Tests keep apart
// with testPrefix.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if r := external(t); r != nil {
		return r
	}
	bin := redisBin(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "zumo-redis-")
		if err != nil {
			shared.err = err
			return
		}
		shared.r, shared.err = launch(bin, dir)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.r
}

// ownRedis starts a redis-server for t alone (stopped at cleanup), for
// tests that stop and restart it or change its configuration. With
// ZUMO_REDIS_ADDR the test is skipped.
func ownRedis(t testing.TB) *redisServer {
	t.Helper()
	if os.Getenv("ZUMO_REDIS_ADDR") != "" {
		t.Skip("needs its own redis-server (ZUMO_REDIS_ADDR is set)")
	}
	r, err := launch(redisBin(t), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server on r.addr and waits until it answers PING.
func (r *redisServer) start() error {
	_, port, _ := net.SplitHostPort(r.addr)
	cmd := exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--protected-mode", "yes", "--loglevel", "warning")
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited (%v): %s", err, out.String())
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server did not answer on %s: %s", r.addr, out.String())
		}
		time.Sleep(10 * time.Millisecond) // bounded polling for the server to come up
	}
	r.mu.Lock()
	r.cmd = cmd
	r.mu.Unlock()
	return nil
}

// stop kills the server and waits until its port refuses connections.
func (r *redisServer) stop() error {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", r.addr, 100*time.Millisecond)
		if err != nil {
			return nil
		}
		c.Close()
		time.Sleep(10 * time.Millisecond) // bounded polling for the port to close
	}
	return fmt.Errorf("redis-server on %s did not stop", r.addr)
}

// restart starts the server again on the same port (empty: no persistence).
func (r *redisServer) restart(t testing.TB) {
	t.Helper()
	if err := r.start(); err != nil {
		t.Fatalf("restarting redis-server: %v", err)
	}
}

// client returns a new client for the server, closed at cleanup, with short
// timeouts so a stopped server is noticed quickly.
func (r *redisServer) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:                  r.addr,
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
		DialerRetries:         1,
		PoolSize:              8,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a prefix no other test uses, so tests sharing a
// ZUMO_REDIS_ADDR server never see each other's keys.
func testPrefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "zumotest:" + hex.EncodeToString(b[:]) + ":"
}

// countHook counts the commands a client sends, and among them the
// attempts to take a lock (SET … NX).
type countHook struct{ n, locks atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		if args := cmd.Args(); cmd.Name() == "set" && len(args) > 0 && args[len(args)-1] == "nx" {
			h.locks.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// waitFor polls cond (bounded) until it holds, failing the test otherwise.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // bounded polling for an event
	}
}

var errLoginFailed = errors.New("test login failed")

// helperEnv is set in a re-executed test binary.
const helperEnv = "ZUMO_REDISCACHE_HELPER"

// helperCmd returns a command that re-runs this test binary as a helper
// process with the given mode and environment.
func helperCmd(t testing.TB, mode string, env ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	return cmd
}

// quietLogger drops go-redis's own log lines (dial failures while a test
// has stopped its server); set ZUMO_REDIS_DEBUG=1 to see them.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	if os.Getenv("ZUMO_REDIS_DEBUG") == "" {
		redis.SetLogger(quietLogger{})
	}
	code := m.Run()
	if shared.r != nil {
		if err := shared.r.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		_ = os.RemoveAll(shared.r.dir)
	}
	os.Exit(code)
}
