package rediscache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// Environment of a helper process.
const (
	envAddr     = "ZRC_ADDR"
	envPrefix   = "ZRC_PREFIX"
	envLoginURL = "ZRC_LOGIN_URL"
	envLockTTL  = "ZRC_LOCK_TTL_MS"
)

// TestHelperProcess is not a test: it is the body of the child processes
// the multi-process tests start (the test binary run again with
// ZUMO_REDISCACHE_HELPER set). It coordinates a login through its own
// store and prints the hash of the token it ended up with.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("helper process for the multi-process tests")
	case "fleet":
		os.Exit(fleetHelperMain()) // BenchmarkFleetRotation
	}
	os.Exit(helperMain())
}

func helperMain() int {
	ttl, _ := strconv.Atoi(os.Getenv(envLockTTL))
	c := redis.NewClient(&redis.Options{Addr: os.Getenv(envAddr), DialerRetries: 1})
	defer c.Close()
	s := New(c, WithPrefix(os.Getenv(envPrefix)), WithLockTTL(time.Duration(ttl)*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := s.Coordinate(ctx, "fleet", "", freshFor(), func(ctx context.Context) (*auth.User, error) {
		return httpLogin(ctx, os.Getenv(envLoginURL))
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	fmt.Printf("th=%s\n", tokenHash(u.Token()))
	return 0
}

// httpLogin posts to a login endpoint and reads a Mobile Apps login answer.
func httpLogin(ctx context.Context, url string) (*auth.User, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login: %s", resp.Status)
	}
	return auth.ParseLoginResponse(body)
}

// loginServer is the login endpoint the processes share. /login answers
// after the other processes are waiting (subscribed to the entry's
// channel); /login-block never answers.
type loginServer struct {
	t        *testing.T
	srv      *httptest.Server
	logins   atomic.Int64
	blocked  atomic.Int64
	started  chan struct{}
	startOne sync.Once
	release  chan struct{}
	mu       sync.Mutex
	issued   []string // token hashes

	waitSubs func() bool // reports whether the others are waiting
}

func newLoginServer(t *testing.T, waitSubs func() bool) *loginServer {
	ls := &loginServer{t: t, started: make(chan struct{}), release: make(chan struct{}), waitSubs: waitSubs}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ls.logins.Add(1)
		if ls.waitSubs != nil {
			deadline := time.Now().Add(20 * time.Second)
			for !ls.waitSubs() {
				if time.Now().After(deadline) {
					t.Error("the other processes never waited for the login")
					break
				}
				time.Sleep(5 * time.Millisecond) // bounded polling for an event
			}
		}
		tok := makeToken("sid:fleet", time.Now().Add(time.Hour))
		ls.mu.Lock()
		ls.issued = append(ls.issued, tokenHash(tok))
		ls.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"authenticationToken": tok, "user": map[string]string{"userId": "sid:fleet"}})
	})
	mux.HandleFunc("POST /login-block", func(w http.ResponseWriter, r *http.Request) {
		ls.blocked.Add(1)
		ls.startOne.Do(func() { close(ls.started) })
		select {
		case <-r.Context().Done():
		case <-ls.release:
		}
		http.Error(w, "gave up", http.StatusServiceUnavailable)
	})
	ls.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(ls.release)
		ls.srv.Close()
	})
	return ls
}

// numSub returns how many connections are subscribed to channel.
func numSub(c *redis.Client, channel string) int64 {
	m, err := c.PubSubNumSub(context.Background(), channel).Result()
	if err != nil {
		return 0
	}
	return m[channel]
}

// TestThreeProcessesOneLogin: three OS processes sharing one Redis and one
// login endpoint need a user at the same time: exactly one login in total,
// and all three use its token.
func TestThreeProcessesOneLogin(t *testing.T) {
	r := startRedis(t)
	prefix := testPrefix(t)
	c := r.client(t)
	channel := New(c, WithPrefix(prefix)).names("fleet").channel
	ls := newLoginServer(t, func() bool { return numSub(c, channel) >= 2 })

	const procs = 3
	outs := make([]*bytes.Buffer, procs)
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := helperCmd(t, "login", envAddr+"="+r.addr, envPrefix+"="+prefix,
			envLoginURL+"="+ls.srv.URL+"/login", envLockTTL+"=10000")
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	hashes := map[string]int{}
	for i, cmd := range cmds {
		err := cmd.Wait()
		require.NoError(t, err, "helper %d: %s", i, outs[i])
		sc := bufio.NewScanner(outs[i])
		for sc.Scan() {
			if h, ok := strings.CutPrefix(sc.Text(), "th="); ok {
				hashes[h]++
			}
		}
	}
	assert.Equal(t, int64(1), ls.logins.Load(), "logins across three processes")
	require.Len(t, ls.issued, 1)
	assert.Equal(t, map[string]int{ls.issued[0]: procs}, hashes, "every process uses the one token")
}

// TestKilledLockHolder: the process holding the lock is killed in the
// middle of its login; another instance, already waiting, takes over once
// the lock expires and logs in.
func TestKilledLockHolder(t *testing.T) {
	r := startRedis(t)
	prefix := testPrefix(t)
	c := r.client(t)
	const lockTTL = 500 * time.Millisecond
	s := New(c, WithPrefix(prefix), WithLockTTL(lockTTL))
	n := s.names("fleet")
	ls := newLoginServer(t, nil)

	holder := helperCmd(t, "login", envAddr+"="+r.addr, envPrefix+"="+prefix,
		envLoginURL+"="+ls.srv.URL+"/login-block", envLockTTL+"="+strconv.Itoa(int(lockTTL.Milliseconds())))
	var out bytes.Buffer
	holder.Stdout, holder.Stderr = &out, &out
	require.NoError(t, holder.Start())
	exited := make(chan error, 1)
	go func() { exited <- holder.Wait() }()
	t.Cleanup(func() {
		_ = holder.Process.Kill()
	})
	select {
	case <-ls.started:
	case err := <-exited:
		t.Fatalf("holder exited before its login: %v: %s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the holder never started its login")
	}
	require.Equal(t, int64(1), c.Exists(context.Background(), n.lock).Val(), "the holder has the lock")

	// This instance now needs a user too: it waits for the holder.
	var logins atomic.Int64
	type result struct {
		u   *auth.User
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		u, err := s.Coordinate(ctx, "fleet", "", freshFor(), func(ctx context.Context) (*auth.User, error) {
			logins.Add(1)
			return httpLogin(ctx, ls.srv.URL+"/login")
		})
		done <- result{u, err}
	}()
	waitFor(t, "the second instance to wait", func() bool { return numSub(c, n.channel) >= 1 })

	require.NoError(t, holder.Process.Kill())
	<-exited

	res := <-done
	require.NoError(t, res.err)
	assert.Equal(t, int64(1), ls.blocked.Load(), "the killed holder's login")
	assert.Equal(t, int64(1), logins.Load(), "the takeover login")
	assert.Equal(t, int64(1), ls.logins.Load())
	require.Len(t, ls.issued, 1)
	assert.Equal(t, ls.issued[0], tokenHash(res.u.Token()))
	stored, err := s.Load(context.Background(), "fleet")
	require.NoError(t, err)
	assert.Equal(t, res.u.Token(), stored.Token(), "the new user is shared")
}
