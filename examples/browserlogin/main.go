// Command browserlogin logs a user in to a Mobile Apps backend through the
// web browser, as `gh auth login` or `az login` do, and caches the user so
// that the next run needs no login:
//
//	go run ./examples/browserlogin -app https://myapp.azurewebsites.net -provider aad -port 8400
//
// It prints the login URL, opens it in the default browser and waits for
// the service to hand the login back to a loopback page on
// 127.0.0.1:<port> (auth.Browser). App Service only redirects to allowed
// URLs: add http://127.0.0.1:8400/callback to the app's
// allowedExternalRedirectUrls.
//
// With -fake it runs against a fake backend started in this process
// (zumotest with a test identity provider), so it needs no account; with
// -no-browser it opens nothing and only prints the URL, for a machine
// without a browser (open the URL elsewhere on the same machine) or a test:
//
//	go run ./examples/browserlogin -fake -no-browser
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/zumotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "browserlogin:", err)
		os.Exit(1)
	}
}

// run is the program: flags from args, results to out, the login
// instructions to msgs.
func run(ctx context.Context, args []string, out, msgs io.Writer) error {
	fs := flag.NewFlagSet("browserlogin", flag.ContinueOnError)
	fs.SetOutput(msgs)
	appURL := fs.String("app", "", "the backend's URL (required unless -fake)")
	provider := fs.String("provider", "aad", "the identity provider: aad, google, facebook, apple, twitter")
	port := fs.Int("port", 0, "the loopback port of the callback (0: any free port; a real service needs a fixed, allowed one)")
	noBrowser := fs.Bool("no-browser", false, "open nothing: only print the URL to open")
	fake := fs.Bool("fake", false, "log in to a fake backend started in this process")
	cacheDir := fs.String("cache", "", "where the user is cached (default: a zumo-browserlogin folder in the user cache directory)")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long to wait for the browser")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fake {
		srv := zumotest.New(zumotest.WithBrowserLogin(*provider, zumotest.BrowserLogin{UserID: "sid:example-user"}))
		srv.Start()
		defer srv.Close()
		*appURL = srv.URL
		fmt.Fprintf(msgs, "Started a fake backend at %s.\n", srv.URL)
	}
	if *appURL == "" {
		return errors.New("-app is required (or -fake)")
	}
	if *cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		*cacheDir = filepath.Join(dir, "zumo-browserlogin")
	}
	store, err := cache.NewFile(*cacheDir)
	if err != nil {
		return err
	}

	opts := []auth.BrowserOption{auth.BrowserPort(*port), auth.BrowserTimeout(*timeout), auth.BrowserOutput(msgs)}
	if *noBrowser {
		opts = append(opts, auth.BrowserOpener(nil))
	}
	newClient := func() (*zumo.Client, error) {
		return zumo.NewClient(*appURL,
			zumo.WithAuthenticator(auth.Browser(*provider, opts...)),
			// The handler lets the login run as long as the browser
			// timeout (-timeout): a person may take minutes to sign in.
			zumo.WithUserStore(store, *provider),
		)
	}
	client, err := newClient()
	if err != nil {
		return err
	}

	u, err := client.LoadUser(ctx)
	if err != nil {
		return err
	}
	if u != nil && !u.ExpiredWithin(time.Now(), auth.DefaultSkew) {
		fmt.Fprintf(out, "Already logged in as %s (cached).\n", u.ID())
		return nil
	}
	u, err = client.LoginWithAuthenticator(ctx)
	if err != nil {
		return err
	}
	// Printing a user never shows its token.
	fmt.Fprintf(out, "Logged in as %s; cached in %s.\n", u.ID(), *cacheDir)
	if exp, ok := u.ExpiresAt(); ok {
		fmt.Fprintf(out, "The token expires at %s; the client renews it through /.auth/refresh.\n", exp.Format(time.RFC3339))
	}

	// The next start (here: a second client) finds the user in the cache.
	next, err := newClient()
	if err != nil {
		return err
	}
	cached, err := next.LoadUser(ctx)
	if err != nil {
		return err
	}
	if cached == nil || cached.ID() != u.ID() {
		return errors.New("the user was not cached")
	}
	fmt.Fprintf(out, "A new client finds %s in the cache: no second login.\n", cached.ID())
	return nil
}
