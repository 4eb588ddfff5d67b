package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"golang.org/x/term"
)

func newLoginCmd(g *globals) *cobra.Command {
	var custom, noBrowser bool
	var username, provider string
	var port int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "login [PROVIDER | --custom]",
		Short: "Log in to the service and keep the user for later commands",
		Long: `login logs in and keeps the user (its token) under the user's config
directory, so that later commands against the same --app send it.

login PROVIDER (aad, google, microsoftaccount, …) signs in through the web
browser: the service's login page opens ($BROWSER, else the platform's
opener; --no-browser only prints the URL), and the login comes back to a
page on 127.0.0.1 (PKCE; --port fixes its port for services that allow
only registered redirect URLs).

--custom logs in with a username and password (the backend's custom login,
POST /.auth/login/custom). The password is read without echo from the
terminal, or as the first line of stdin when stdin is not a terminal.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case custom && len(args) == 0:
				return loginCustom(cmd.Context(), g, provider, username)
			case !custom && len(args) == 1:
				return loginBrowser(cmd.Context(), g, args[0], port, timeout, noBrowser)
			}
			return usagef("say how to log in: a provider for the browser (zumo login aad), or --custom")
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&custom, "custom", false, "log in with a username and password")
	fl.StringVar(&username, "username", "", "the username for --custom (else prompted)")
	fl.StringVar(&provider, "provider", "custom", "the provider name the backend's custom login uses")
	fl.BoolVar(&noBrowser, "no-browser", false, "print the login URL instead of opening a browser")
	fl.IntVar(&port, "port", 0, "the loopback port of the browser login's redirect (default: a free one)")
	fl.DurationVar(&timeout, "timeout", auth.DefaultBrowserTimeout, "how long to wait for the browser login")
	return cmd
}

func loginCustom(ctx context.Context, g *globals, provider, username string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	in := bufio.NewReader(g.io.in)
	if username == "" {
		if username, err = prompt(g, in, "Username: ", false); err != nil {
			return err
		}
	}
	password, err := prompt(g, in, "Password: ", true)
	if err != nil {
		return err
	}
	if username == "" || password == "" {
		return errors.New("login: empty username or password")
	}
	u, err := c.Login(ctx, provider, map[string]string{"username": username, "password": password})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.io.out, "logged in as %s%s\n", u.ID(), expiryText(u.ExpiresAt()))
	return nil
}

func loginBrowser(ctx context.Context, g *globals, provider string, port int, timeout time.Duration, noBrowser bool) error {
	opts := []auth.BrowserOption{auth.BrowserOutput(g.io.err), auth.BrowserTimeout(timeout)}
	if port != 0 {
		opts = append(opts, auth.BrowserPort(port))
	}
	if noBrowser {
		opts = append(opts, auth.BrowserOpener(nil))
	} else if b := os.Getenv("BROWSER"); b != "" {
		opts = append(opts, auth.BrowserOpener(func(_ context.Context, url string) error {
			cmd := exec.Command(b, url)
			if err := cmd.Start(); err != nil {
				return err
			}
			go cmd.Wait()
			return nil
		}))
	}
	c, err := g.client(
		zumo.WithAuthenticator(auth.Browser(provider, opts...)),
		zumo.WithAuth(auth.WithLoginTimeout(timeout+10*time.Second)),
	)
	if err != nil {
		return err
	}
	u, err := c.LoginWithAuthenticator(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.io.out, "logged in as %s%s\n", u.ID(), expiryText(u.ExpiresAt()))
	return nil
}

// prompt reads one line: from the terminal (without echo when secret)
// when stdin is one, else from stdin.
func prompt(g *globals, in *bufio.Reader, label string, secret bool) (string, error) {
	if f, ok := g.io.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.io.err, label)
		if secret {
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(g.io.err)
			return string(b), err
		}
	}
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("login: no %s on stdin", strings.ToLower(strings.TrimSuffix(label, ": ")))
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newLogoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the user kept for the service",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.Logout(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(g.io.out, "logged out of "+c.AppURL())
			return nil
		},
	}
}

func newWhoamiCmd(g *globals) *cobra.Command {
	var showToken bool
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the user kept for the service and when its token expires",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			u, err := c.LoadUser(cmd.Context())
			if err != nil {
				return err
			}
			if u == nil {
				return fmt.Errorf("not logged in to %s (run zumo login)", c.AppURL())
			}
			fmt.Fprintf(g.io.out, "user:     %s\n", u.ID())
			if p := u.Provider(); p != "" {
				fmt.Fprintf(g.io.out, "provider: %s\n", p)
			}
			if exp, ok := u.ExpiresAt(); ok {
				state := "valid"
				if !time.Now().Before(exp) {
					state = "expired"
				}
				fmt.Fprintf(g.io.out, "expires:  %s (%s)\n", exp.UTC().Format(time.RFC3339), state)
			} else {
				fmt.Fprintln(g.io.out, "expires:  never")
			}
			if showToken {
				fmt.Fprintf(g.io.out, "token:    %s\n", u.Token())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&showToken, "show-token", false, "also print the token (a secret)")
	return cmd
}

func expiryText(exp time.Time, ok bool) string {
	if !ok {
		return ""
	}
	return ", token expires " + exp.UTC().Format(time.RFC3339)
}
