package cache

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// The helper process reads its orders from these variables.
const (
	helperEnv       = "ZUMO_CACHE_TEST_HELPER" // "1" in a helper process
	helperDirEnv    = "ZUMO_CACHE_TEST_DIR"
	helperWriterEnv = "ZUMO_CACHE_TEST_WRITER"
	helperCountEnv  = "ZUMO_CACHE_TEST_COUNT"
)

var processKey = auth.Key("https://app.example", "shared")

// processUser is the i'th user writer saves: the id names both, so a reader
// can work out exactly which token must come with it.
func processUser(t testing.TB, writer string, i int) *auth.User {
	id := fmt.Sprintf("sid:%s:%d", writer, i)
	return auth.NewUser(id, fakeJWT(t, map[string]any{"sub": id, "exp": 1900000000 + i, "w": writer}))
}

// TestHelperProcess is not a test: TestFileTwoProcesses runs the test
// binary again with only this function selected and helperEnv set, and it
// then saves a series of users into the shared store. Without helperEnv it
// does nothing.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	n, err := strconv.Atoi(os.Getenv(helperCountEnv))
	require.NoError(t, err)
	writer := os.Getenv(helperWriterEnv)
	s, err := NewFile(os.Getenv(helperDirEnv))
	require.NoError(t, err)
	users := make([]*auth.User, n)
	for i := range users {
		users[i] = processUser(t, writer, i)
	}

	// Start together: wait until the parent closes stdin.
	_, err = io.Copy(io.Discard, os.Stdin)
	require.NoError(t, err)

	ctx := context.Background()
	for _, u := range users {
		require.NoError(t, s.Save(ctx, processKey, u))
	}
}

// TestFileTwoProcesses has two processes save different users under one key
// many times while this one loads: every load must be a whole user that one
// of them saved, never a corrupt entry, and the last entry must be valid.
func TestFileTwoProcesses(t *testing.T) {
	n := 300
	if testing.Short() || flag.Lookup("test.count").Value.String() != "1" {
		n = 60
	}
	dir := t.TempDir()
	s, err := NewFile(dir)
	require.NoError(t, err)
	ctx := context.Background()

	writers := []string{"a", "b"}
	type child struct {
		out   bytes.Buffer
		stdin io.WriteCloser
		done  chan error
	}
	children := make([]*child, len(writers))
	for i, w := range writers {
		c := &child{done: make(chan error, 1)}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			helperEnv+"=1", helperDirEnv+"="+dir, helperWriterEnv+"="+w, helperCountEnv+"="+strconv.Itoa(n))
		cmd.Stdout, cmd.Stderr = &c.out, &c.out
		c.stdin, err = cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill() }) // no-op once it has exited
		go func() { c.done <- cmd.Wait() }()
		children[i] = c
	}
	for _, c := range children {
		require.NoError(t, c.stdin.Close())
	}

	// check reports whether a Load gave nothing yet or a whole saved user.
	check := func(u *auth.User, err error) (string, error) {
		if errors.Is(err, auth.ErrNoUser) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		parts := strings.Split(u.ID(), ":")
		if len(parts) != 3 || parts[0] != "sid" {
			return "", fmt.Errorf("unexpected user %v", u)
		}
		i, convErr := strconv.Atoi(parts[2])
		if convErr != nil || i < 0 || i >= n {
			return "", fmt.Errorf("unexpected user %v", u)
		}
		want := processUser(t, parts[1], i)
		if u.Token() != want.Token() {
			return "", fmt.Errorf("user %v has another user's token", u)
		}
		wantExp, _ := want.ExpiresAt()
		if exp, ok := u.ExpiresAt(); !ok || !exp.Equal(wantExp) {
			return "", fmt.Errorf("user %v has the wrong expiry", u)
		}
		return u.ID(), nil
	}

	loads, found := 0, 0
	for running := len(children); running > 0; {
		for _, c := range children {
			select {
			case err := <-c.done:
				require.NoError(t, err, "helper process failed:\n%s", c.out.String())
				running--
			default:
			}
		}
		id, err := check(s.Load(ctx, processKey))
		require.NoError(t, err, "load %d", loads)
		loads++
		if id != "" {
			found++
		}
	}
	t.Logf("%d loads while the writers ran, %d of them found a user", loads, found)

	// The last rename was some writer's last Save.
	u, err := s.Load(ctx, processKey)
	require.NoError(t, err)
	id, err := check(u, nil)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(id, ":"+strconv.Itoa(n-1)), "final user %s is not a last write", id)
	requireNoTempFiles(t, dir)
}
