package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"time"
)

// config is the service's configuration. Each flag has an environment
// variable that provides its default; the password has only the variable.
type config struct {
	addr      string        // -addr, SERVICE_ADDR
	appURL    string        // -app-url, ZUMO_APP_URL
	username  string        // -username, ZUMO_USERNAME
	password  string        // ZUMO_PASSWORD
	userCache string        // -user-cache, ZUMO_USER_CACHE
	grace     time.Duration // -shutdown-grace
	offline   bool          // -offline
}

func parseConfig(args []string, getenv func(string) string) (config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.addr, "addr", env("SERVICE_ADDR", "127.0.0.1:8080"), "address to listen on")
	fs.StringVar(&c.appURL, "app-url", getenv("ZUMO_APP_URL"), "Mobile Apps backend URL")
	fs.StringVar(&c.username, "username", getenv("ZUMO_USERNAME"), "login name (custom provider)")
	fs.StringVar(&c.userCache, "user-cache", env("ZUMO_USER_CACHE", defaultCacheDir()), "directory of the login cache")
	fs.DurationVar(&c.grace, "shutdown-grace", 10*time.Second, "how long requests in flight may finish on shutdown")
	fs.BoolVar(&c.offline, "offline", false, "run against an in-process fake backend")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.password = getenv("ZUMO_PASSWORD")
	if c.offline {
		if c.username == "" {
			c.username = "demo"
		}
		if c.password == "" {
			c.password = "demo"
		}
		return c, nil
	}
	switch {
	case c.appURL == "":
		return c, errors.New("set -app-url (or ZUMO_APP_URL), or use -offline")
	case c.username == "" || c.password == "":
		return c, errors.New("set -username (or ZUMO_USERNAME) and ZUMO_PASSWORD")
	}
	return c, nil
}

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "zumo-example-service")
}
