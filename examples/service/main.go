// Command service is a small HTTP service that keeps todo items in an Azure
// Mobile Apps table through zumo: the shape of a real Go backend that uses
// the SDK. It reads its configuration from flags and the environment, caches
// its login in a file (a restart needs no new login), logs with log/slog,
// shuts down gracefully on SIGINT/SIGTERM, and maps the SDK's errors to HTTP
// statuses for its own callers (a stale version, 412 upstream, is a 409
// Conflict here, with the current item).
//
// With -offline it starts zumotest, the SDK's fake backend, in-process, so
// it runs with no account and no network:
//
//	go run ./examples/service -offline
//	curl -s localhost:8080/todos
//	curl -s -H 'Content-Type: application/json' -d '{"text":"buy milk"}' localhost:8080/todos
//
// Against a real backend (the password is read from the environment only,
// never from a flag, which other users of the machine could see):
//
//	ZUMO_PASSWORD=… go run ./examples/service -app-url https://myapp.azurewebsites.net/ -username ann
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/handler"
	"github.com/zumo-go/zumo/zumotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], os.Getenv, log, nil); err != nil {
		log.Error("service stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. ready, when not
// nil, is told the address the service listens on.
func run(ctx context.Context, args []string, getenv func(string) string, log *slog.Logger, ready func(addr string)) error {
	cfg, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	if cfg.offline {
		fake := zumotest.New(
			zumotest.WithTable("todoitem", zumotest.Authenticated(), zumotest.SoftDelete(),
				zumotest.Seed(map[string]any{"id": "1", "text": "try zumo offline", "complete": false})),
			zumotest.WithUser("custom", cfg.username, cfg.password, "sid:"+cfg.username),
		)
		fake.Start()
		defer fake.Close()
		cfg.appURL = fake.URL
		log.Info("offline: using an in-process fake backend", "url", fake.URL)
	}

	store, err := cache.NewFile(cfg.userCache)
	if err != nil {
		return fmt.Errorf("user cache: %w", err)
	}
	client, err := zumo.NewClient(cfg.appURL,
		zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{
			"username": cfg.username, "password": cfg.password,
		})),
		zumo.WithUserStore(store, cfg.username),
		zumo.WithHandlers(handler.Retry(), handler.Logging(log.With("component", "zumo"))),
	)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(log, newAPI(zumo.GetTable[Todo](client, "todoitem"), log)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let requests in flight finish (up to the grace period).
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// logRequests logs one line per request: method, path, status, duration.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
