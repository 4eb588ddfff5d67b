package rediscache

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/zumotest"
)

// envAppURL is the backend of a "fleet" helper process.
const envAppURL = "ZRC_APP_URL"

// fleetHelperMain is a "fleet" helper process: one service instance, a
// zumo client whose user store is its own Store on the shared Redis. For
// each line "go N" on stdin it sends N concurrent requests and prints
// "done F" (F failed requests, followed by the first error) on stdout. It
// exits at the end of stdin.
func fleetHelperMain() int {
	rc := redis.NewClient(&redis.Options{Addr: os.Getenv(envAddr)})
	defer rc.Close()
	s := New(rc, WithPrefix(os.Getenv(envPrefix)))
	c, err := zumo.NewClient(os.Getenv(envAppURL),
		zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "s3cret"})),
		zumo.WithUserStore(s, "ann"),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(in.Text(), "go "))
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: bad command:", in.Text())
			return 1
		}
		var fails atomic.Int64
		var first atomic.Value
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := lookup(ctx, c); err != nil {
					fails.Add(1)
					first.CompareAndSwap(nil, strings.ReplaceAll(err.Error(), "\n", " "))
				}
			}()
		}
		wg.Wait()
		msg, _ := first.Load().(string)
		fmt.Printf("done %d %s\n", fails.Load(), msg)
	}
	return 0
}

// fleetProc is a running "fleet" helper process.
type fleetProc struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *bytes.Buffer // read only after exited is closed
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's, once exited is closed
}

// stop closes the helper's stdin, which makes it exit, and waits (killing
// it after d).
func (p *fleetProc) stop(d time.Duration) {
	_ = p.in.Close()
	select {
	case <-p.exited:
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// fatal stops the helper and fails the benchmark with its stderr.
func (p *fleetProc) fatal(b *testing.B, i int, format string, args ...any) {
	p.stop(time.Second)
	b.Fatalf("helper %d: %s (exit: %v): %s", i, fmt.Sprintf(format, args...), p.err, p.stderr)
}

// startFleet starts n "fleet" helper processes, stopped at cleanup.
func startFleet(b *testing.B, n int, env ...string) []*fleetProc {
	procs := make([]*fleetProc, n)
	for i := range procs {
		cmd := helperCmd(b, "fleet", env...)
		in, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		p := &fleetProc{cmd: cmd, in: in, out: bufio.NewScanner(out), stderr: new(bytes.Buffer), exited: make(chan struct{})}
		cmd.Stderr = p.stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		go func() {
			p.err = cmd.Wait()
			close(p.exited)
		}()
		b.Cleanup(func() { p.stop(10 * time.Second) })
		procs[i] = p
	}
	return procs
}

// storm tells every process to send n concurrent requests and waits until
// all of them are done; a failed request fails the benchmark.
func storm(b *testing.B, procs []*fleetProc, n int) {
	line := []byte("go " + strconv.Itoa(n) + "\n")
	for i, p := range procs {
		if _, err := p.in.Write(line); err != nil {
			p.fatal(b, i, "%v", err)
		}
	}
	for i, p := range procs {
		for {
			if !p.out.Scan() {
				p.fatal(b, i, "ended early: %v", p.out.Err())
			}
			rest, ok := strings.CutPrefix(p.out.Text(), "done ")
			if !ok {
				continue // not ours (the test framework's)
			}
			fails, msg, _ := strings.Cut(rest, " ")
			if fails != "0" {
				b.Fatalf("helper %d: %s of %d requests failed, first: %s", i, fails, n, msg)
			}
			break
		}
	}
}

// BenchmarkFleetRotation: three OS processes (the test binary run again),
// each a service instance with its own zumo client and Store, share one
// Redis and one fake backend whose login takes 50 ms. Each iteration
// rotates the backend's signing key, so that every cached token gets a
// 401, and makes each process send 20 concurrent requests; it ends when
// every request has succeeded. Reported: logins per iteration across the
// three processes (must be 1) and the iteration's wall time as a ratio to
// one login (the fleet's recovery time, including waking the processes).
func BenchmarkFleetRotation(b *testing.B) {
	const (
		procs        = 3
		perProc      = 20
		loginLatency = 50 * time.Millisecond
	)
	r := startRedis(b)
	srv := zumotest.NewServer(b,
		zumotest.WithTable("todoitem", zumotest.Authenticated(),
			zumotest.Seed(map[string]any{"id": "1", "text": "milk"})),
		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
		zumotest.WithRequestLogLimit(1000),
	)
	srv.AddFault(zumotest.Fault{Method: "POST", PathPrefix: "/.auth/login", Count: -1, Latency: loginLatency})
	fleet := startFleet(b, procs, envAddr+"="+r.addr, envPrefix+"="+testPrefix(b), envAppURL+"="+srv.URL)

	// Warm up: the first login, shared by the fleet, and one rotation
	// (connections open, scripts loaded).
	storm(b, fleet, perProc)
	if n := srv.Stats().Logins; n != 1 {
		b.Fatalf("%d logins at start, want 1", n)
	}
	srv.RotateKey()
	storm(b, fleet, perProc)

	var logins int
	for b.Loop() {
		before := srv.Stats().Logins
		srv.RotateKey()
		storm(b, fleet, perProc)
		n := srv.Stats().Logins - before
		logins += n
		if n != 1 {
			b.Errorf("%d logins after a key rotation, want 1", n)
		}
	}
	b.ReportMetric(float64(logins)/float64(b.N), "logins/op")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(loginLatency), "recovery/login")
}
