package zumotest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Server is an in-process fake Mobile Apps (or, with WithLegacy, Mobile
// Services) backend. It is an http.Handler; NewServer also runs it on a
// loopback listener. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of a started server, "http://127.0.0.1:port",
	// without a trailing slash. It is empty until Start or StartTLS.
	URL string

	cfg config

	mu     sync.RWMutex // guards tables, apis, key
	tables map[string]*table
	apis   map[string]*apiEntry
	key    []byte

	versions atomic.Uint64 // source of row versions
	seq      atomic.Uint64 // insertion order of rows

	log    requestLog
	faults faultSet

	browser browserCodes // server-directed login (login_browser.go)
	push    pushStore    // push installations (push.go)

	lifeMu sync.Mutex
	ts     *httptest.Server
	done   chan struct{} // closed by Close; ends injected latency early
	closed bool
}

// config is the result of applying the Options.
type config struct {
	legacy             bool
	appKey             string
	strictAPIVersion   bool
	clock              func() time.Time
	tokenLifetime      time.Duration
	refreshGrace       time.Duration // WithRefreshGrace
	signingKey         []byte
	logLimit           int
	tables             []tableDecl
	apis               []apiDecl
	providers          map[string]*provider
	disableProviderTok bool
	browser            map[string]BrowserLogin // WithBrowserLogin
	errs               []error
}

type tableDecl struct {
	name string
	opts []TableOption
}

type apiDecl struct {
	name string
	h    http.Handler
	opts []APIOption
}

// New returns a server that is not listening: mount it as an http.Handler
// anywhere, or call Start. It panics when an option is invalid (a bad seed
// row, a duplicate table, a non-positive page size); NewServer reports the
// same problems through t.Fatal instead.
func New(opts ...Option) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic("zumotest: " + err.Error())
	}
	return s
}

// NewServer starts a server on a loopback address and registers t.Cleanup
// to close it. Invalid options fail the test with t.Fatal.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := newServer(opts)
	if err != nil {
		t.Fatalf("zumotest: %v", err)
		return nil
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func newServer(opts []Option) (*Server, error) {
	cfg := config{
		clock:     time.Now,
		logLimit:  defaultLogLimit,
		providers: map[string]*provider{},
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.tokenLifetime <= 0 {
		if cfg.legacy {
			cfg.tokenLifetime = 30 * 24 * time.Hour
		} else {
			cfg.tokenLifetime = time.Hour
		}
	}
	if len(cfg.errs) > 0 {
		return nil, cfg.errs[0]
	}
	s := &Server{
		cfg:    cfg,
		tables: map[string]*table{},
		apis:   map[string]*apiEntry{},
		done:   make(chan struct{}),
	}
	s.log.limit = cfg.logLimit
	s.log.routes = map[string]int{}
	if len(cfg.signingKey) > 0 {
		s.key = append([]byte(nil), cfg.signingKey...)
	} else {
		s.key = randomKey()
	}
	for _, d := range cfg.tables {
		if err := s.AddTable(d.name, d.opts...); err != nil {
			return nil, err
		}
	}
	for _, d := range cfg.apis {
		if err := s.HandleAPI(d.name, d.h, d.opts...); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start runs the server on a loopback address and sets URL. It panics if
// the server was already started or closed.
func (s *Server) Start() { s.start(false) }

// StartTLS is like Start but serves HTTPS with httptest's self-signed
// certificate; use Client for a client that trusts it.
func (s *Server) StartTLS() { s.start(true) }

func (s *Server) start(tls bool) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.ts != nil || s.closed {
		panic("zumotest: Server already started or closed")
	}
	s.ts = httptest.NewUnstartedServer(s)
	if tls {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	s.URL = s.ts.URL
}

// Close stops the listener (if started), cuts injected latencies short and
// waits for outstanding requests. It is safe to call more than once.
func (s *Server) Close() {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	ts := s.ts
	s.lifeMu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// Client returns an HTTP client for the started server (trusting its TLS
// certificate after StartTLS). Before Start it returns a new default client.
func (s *Server) Client() *http.Client {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.ts == nil {
		return &http.Client{}
	}
	return s.ts.Client()
}

// now is the server clock, in UTC with millisecond precision.
func (s *Server) now() time.Time {
	return s.cfg.clock().UTC().Truncate(time.Millisecond)
}

// AddTable declares a table at run time, like WithTable. It fails when the
// name is empty, contains '/', or is already declared (names are
// case-insensitive, as in the official server), or when a seed row is
// invalid.
func (s *Server) AddTable(name string, opts ...TableOption) error {
	if err := checkTableName(name); err != nil {
		return err
	}
	tc := tableConfig{pageSize: 50, maxTop: 1000}
	for _, o := range opts {
		if o != nil {
			o.applyTable(&tc)
		}
	}
	if tc.err != nil {
		return fmt.Errorf("table %q: %w", name, tc.err)
	}
	if tc.pageSize <= 0 || tc.maxTop <= 0 {
		return fmt.Errorf("table %q: page size and max $top must be positive", name)
	}
	t := newTable(name, tc, s.names())
	for _, row := range tc.seed {
		if err := s.seedRow(t, row); err != nil {
			return fmt.Errorf("table %q: seed: %w", name, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if _, dup := s.tables[key]; dup {
		return fmt.Errorf("table %q declared twice", name)
	}
	s.tables[key] = t
	return nil
}

// checkTableName is AddTable's rule for a table name: not empty, no "/".
func checkTableName(name string) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("invalid table name %q", name)
	}
	return nil
}

func (s *Server) table(name string) *table {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tables[strings.ToLower(name)]
}

// Tables returns the declared table names, sorted.
func (s *Server) Tables() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t.name)
	}
	sort.Strings(out)
	return out
}

func randomKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// sleep waits d of real time; it returns false when ctx ends or the server
// closes first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}
