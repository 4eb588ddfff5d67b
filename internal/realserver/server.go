package realserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
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
