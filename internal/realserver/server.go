package realserver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The logins server.js accepts unless ZUMO_USERS says otherwise.
const (
	DefaultUsername = "testuser"
	DefaultPassword = "testpassword"
	OtherUsername   = "otheruser"
	OtherPassword   = "otherpassword"
)

// Issuer and Audience are the iss and aud of every token the server issues
// and accepts.
const (
	Issuer   = "urn:microsoft:windows-azure:zumo"
	Audience = "urn:microsoft:windows-azure:zumo"
)

// StartTimeout bounds how long Start and Restart wait for the server to
// answer (less when the context's deadline is sooner).
const StartTimeout = 30 * time.Second

// Options configure a server started by Start.
type Options struct {
	// Secret is the HS256 key (auth.secret) the server signs and verifies
	// tokens with. Empty: a random one.
	Secret string
	// TokenLifetime is the lifetime of the tokens issued by the custom login
	// and refresh, rounded up to whole seconds. Zero: the server's default
	// (one hour).
	TokenLifetime time.Duration
	// DBPath is the sqlite database file. Empty: a file in a fresh temporary
	// folder, removed by Stop.
	DBPath string
	// Env holds extra KEY=VALUE settings for the Node process; they win over
	// everything else (for example ZUMO_USERS or ZUMO_LOG_LEVEL).
	Env []string
}

// Server is a running azure-mobile-apps server.
type Server struct {
	// URL is the app URL, "http://127.0.0.1:<port>/" (it ends with "/").
	URL string
	// Secret is the key the server currently signs and verifies tokens with.
	Secret string
	// DBPath is the sqlite database file.
	DBPath string
	// Port is the loopback TCP port.
	Port int

	opts   Options
	dir    string
	tmpDir string
	out    *logBuffer
	client *http.Client

	mu   sync.Mutex
	proc *process
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // cmd.Wait's result, set before done is closed
}

// Counters are the server's request counters (GET /counters); requests to
// /counters itself are not counted.
type Counters struct {
	Logins       int `json:"logins"`       // POST /.auth/login/custom, successful or not
	Refreshes    int `json:"refreshes"`    // GET /.auth/refresh, successful or not
	Unauthorized int `json:"unauthorized"` // responses with status 401, on any route
	Requests     int `json:"requests"`     // all requests
}

// Start launches `node server.js` from Dir() on a free loopback port and waits
// until it answers. Install must have succeeded before. The server runs
// until Stop; ctx bounds only the start-up.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "server.js")); err != nil {
		return nil, fmt.Errorf("realserver: %w", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("realserver: node is not installed: %w", err)
	}
	s := &Server{
		Secret: opts.Secret,
		DBPath: opts.DBPath,
		opts:   opts,
		dir:    dir,
		out:    &logBuffer{max: 1 << 20},
		client: &http.Client{Timeout: 10 * time.Second},
	}
	if s.Secret == "" {
		s.Secret = randomSecret()
	}
	if s.DBPath == "" {
		s.tmpDir, err = os.MkdirTemp("", "zumo-realserver-")
		if err != nil {
			return nil, fmt.Errorf("realserver: %w", err)
		}
		s.DBPath = filepath.Join(s.tmpDir, "zumo.sqlite")
	}
	// The port is free when we look, but another process could take it before
	// node listens: then try another.
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			s.cleanup()
			return nil, err
		}
		s.setPort(port)
		err = s.launch(ctx)
		if err == nil {
			return s, nil
		}
		if attempt < 2 && errors.Is(err, errAddrInUse) {
			continue
		}
		s.cleanup()
		return nil, err
	}
}

// Restart stops the server and starts it again on the same port and database
// file (the data survives) with newSecret (empty: a random one). Tokens signed
// with the old secret are then rejected ("invalid signature").
func (s *Server) Restart(ctx context.Context, newSecret string) error {
	if err := s.stopProcess(); err != nil {
		return err
	}
	if newSecret == "" {
		newSecret = randomSecret()
	}
	s.Secret = newSecret
	fmt.Fprintf(s.out, "--- realserver: restart on port %d ---\n", s.Port)
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = s.launch(ctx); !errors.Is(err, errAddrInUse) {
			return err
		}
		// The old socket should be gone; give the kernel a moment.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

// Stop ends the server (its whole process group) and waits for it. It
// removes the database when Start created it. Calling Stop twice is fine.
func (s *Server) Stop() error {
	err := s.stopProcess()
	s.cleanup()
	return err
}

// Logs returns what the server wrote to stdout and stderr (the last MiB).
func (s *Server) Logs() string { return s.out.String() }

// Counters reads GET /counters.
func (s *Server) Counters(ctx context.Context) (Counters, error) {
	var c Counters
	err := s.call(ctx, http.MethodGet, "counters", &c)
	return c, err
}

// ResetCounters sets every counter back to zero (POST /counters/reset).
func (s *Server) ResetCounters(ctx context.Context) error {
	return s.call(ctx, http.MethodPost, "counters/reset", nil)
}

// Seed inserts items (anything that marshals to a JSON array of objects:
// a slice of structs or maps) into table in one sqlite transaction through
// server.js's POST /seed/{table}: the INSERT the sqlite provider runs for a
// client insert, without one HTTP request and one commit per row. Items
// without an id get a GUID. It bypasses access checks (and is counted as one
// request). Nothing is inserted when it fails.
func (s *Server) Seed(ctx context.Context, table string, items any) error {
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("realserver: seed %s: %w", table, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"seed/"+url.PathEscape(table), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := *s.client
	client.Timeout = 2 * time.Minute
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("realserver: seed %s: %w", table, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("realserver: seed %s: %s: %s", table, resp.Status, raw)
	}
	return nil
}

// Login signs in through the server's POST /.auth/login/custom and returns
// the token and user id it answered.
func (s *Server) Login(ctx context.Context, username, password string) (token, userID string, err error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+".auth/login/custom", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("realserver: login: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("realserver: login: %s: %s", resp.Status, raw)
	}
	var lr struct {
		Token string `json:"authenticationToken"`
		User  struct {
			UserID string `json:"userId"`
		} `json:"user"`
	}
	if err := json.Unmarshal(raw, &lr); err != nil {
		return "", "", fmt.Errorf("realserver: login: %w", err)
	}
	return lr.Token, lr.User.UserID, nil
}

// MintToken signs a token with the server's current secret, as the custom
// login would, but with the given times: handy for an already expired or a
// not yet valid token without waiting.
func (s *Server) MintToken(userID string, issuedAt, expires time.Time) string {
	return SignToken(s.Secret, userID, issuedAt, expires)
}

// SignToken makes an HS256 JWT with the claims the server issues: sub, iat,
// nbf (= iat), exp, aud and iss.
func SignToken(secret, userID string, issuedAt, expires time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{
		"sub": userID,
		"iat": issuedAt.Unix(),
		"nbf": issuedAt.Unix(),
		"exp": expires.Unix(),
		"aud": Audience,
		"iss": Issuer,
	})
	signing := header + "." + enc.EncodeToString(claims)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// UserID is the user id the server gives username: "sid:" and 32 hex digits.
func UserID(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "sid:" + hex.EncodeToString(sum[:])[:32]
}

// ---------------------------------------------------------------------------

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

func (s *Server) call(ctx context.Context, method, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("realserver: %s /%s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("realserver: %s /%s: %s: %s", method, path, resp.Status, raw)
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			return fmt.Errorf("realserver: %s /%s: %w", method, path, err)
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("realserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logBuffer is a goroutine-safe writer keeping the last max bytes.
type logBuffer struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	dropped int // bytes discarded from the front
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0:0], b.buf[over:]...)
		b.dropped += over
	}
	return len(p), nil
}

// Len is the total number of bytes ever written.
func (b *logBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped + len(b.buf)
}

// Since returns what was written after the first mark bytes (as far as kept).
func (b *logBuffer) Since(mark int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := mark - b.dropped
	if i < 0 {
		i = 0
	}
	if i > len(b.buf) {
		i = len(b.buf)
	}
	return string(b.buf[i:])
}

func (b *logBuffer) String() string { return b.Since(0) }
