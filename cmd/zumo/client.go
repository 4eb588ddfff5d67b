package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/handler"
)

// userDir is where logged-in users are kept: "zumo/users" under
// os.UserConfigDir, one file per service (the key is made from the app
// URL), so several services can be logged in at once.
func userDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no directory to keep the login in: %w", err)
	}
	return filepath.Join(dir, "zumo", "users"), nil
}

// appURL returns --app or $ZUMO_APP_URL.
func (g *globals) appURL() (string, error) {
	if g.app == "" {
		return "", usagef("no service: pass --app URL or set ZUMO_APP_URL")
	}
	return g.app, nil
}

// client makes a client for the chosen service, with the user store and,
// with --verbose, a request log on stderr.
func (g *globals) client(extra ...zumo.Option) (*zumo.Client, error) {
	app, err := g.appURL()
	if err != nil {
		return nil, err
	}
	dir, err := userDir()
	if err != nil {
		return nil, err
	}
	store, err := cache.NewFile(dir)
	if err != nil {
		return nil, err
	}
	opts := []zumo.Option{
		zumo.WithUserStore(store, ""),
		zumo.WithUserAgentSuffix("zumo-cli"),
	}
	if g.verbose {
		log := slog.New(slog.NewTextHandler(g.io.err, nil))
		opts = append(opts, zumo.WithHandlers(handler.Logging(log)))
	}
	c, err := zumo.NewClient(app, append(opts, extra...)...)
	if err != nil {
		return nil, usagef("--app: %s", message(err))
	}
	return c, nil
}
