package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/zumo-go/zumo/zumotest"
)

// serveFlags are zumo serve's options.
type serveFlags struct {
	addr       string
	data       string
	tables     []string
	apis       []string
	noDynamic  bool
	users      []string
	browsers   []string
	secret     string
	tokenTTL   time.Duration
	softDelete bool
	authOnly   bool
	pageSize   int
	maxTop     int
	urlFile    string
	logFormat  string
	quiet      bool
	latency    time.Duration
	testRoutes bool
	corsOrigin []string
}

func newServeCmd(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a local emulator of a Mobile Apps backend",
		Long: `serve runs zumotest, the project's fake Mobile Apps backend, as an HTTP
server: tables with OData queries, optimistic concurrency, soft delete,
custom login and token refresh, as Microsoft's Node.js server answers them.

Tables are made by their first insert (as the Node server's dynamic schema
does), or declared with --table. Without --data everything is in memory;
with --data the tables are loaded from FILE at start and written back to it
(a JSON snapshot, replaced atomically) shortly after every change and on
SIGINT/SIGTERM, after the requests under way have finished.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), g, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:3000", "address to listen on (port 0 picks a free one)")
	fl.StringVar(&f.data, "data", "", "keep the tables in this JSON file across restarts")
	fl.StringArrayVar(&f.tables, "table", []string{"todoitem"}, `declare a table at start (repeatable): "NAME" or "NAME:authenticated,soft-delete" to add options to that table`)
	fl.StringArrayVar(&f.apis, "api", nil, "serve an echo custom API at /api/NAME (repeatable): it answers the method, query, body and user it got")
	fl.BoolVar(&f.noDynamic, "no-dynamic-tables", false, "answer 404 for tables not declared with --table or --data")
	fl.StringArrayVar(&f.users, "user", nil, `a custom login account "name:password" (repeatable); its user id is "sid:name"`)
	fl.StringArrayVar(&f.browsers, "browser-login", nil, `enable server-directed (browser, PKCE) login "provider=userid" (repeatable): the login page signs userid in at once`)
	fl.StringVar(&f.secret, "secret", "", "the token signing key (default: random at each start, so restarts log everyone out)")
	fl.DurationVar(&f.tokenTTL, "token-ttl", time.Hour, "lifetime of the tokens login and refresh issue")
	fl.BoolVar(&f.softDelete, "soft-delete", false, "tables mark rows deleted instead of removing them")
	fl.BoolVar(&f.authOnly, "authenticated", false, "tables answer 401 to requests without a valid token")
	fl.IntVar(&f.pageSize, "page-size", 50, "rows in a page when the request has no $top")
	fl.IntVar(&f.maxTop, "max-top", 1000, "largest $top accepted (larger gets 400)")
	fl.StringVar(&f.urlFile, "url-file", "", "write the server's URL to this file once it is listening")
	fl.StringVar(&f.logFormat, "log-format", "text", `request log format: "text" or "json"`)
	fl.BoolVar(&f.quiet, "quiet", false, "no request log")
	fl.BoolVar(&f.testRoutes, "test-endpoints", false, "add /counters, /counters/reset, /seed/{table} and /rotate-key for test harnesses (never on a shared network)")
	fl.StringArrayVar(&f.corsOrigin, "cors", nil, `allow web pages from this origin ("http://localhost:8080", or "*") to call the server (repeatable)`)
	fl.DurationVar(&f.latency, "latency", 0, "delay every answer this long (to try clients on a slow network)")
	return cmd
}

func serve(ctx context.Context, g *globals, f *serveFlags) error {
	opts, tableOpts, err := f.options()
	if err != nil {
		return err
	}
	srv := zumotest.New(opts...)
	for _, decl := range f.tables {
		name, extra, err := tableDecl(decl)
		if err != nil {
			return err
		}
		if err := srv.AddTable(name, append(tableOpts[:len(tableOpts):len(tableOpts)], extra...)...); err != nil {
			return usagef("--table: %v", err)
		}
	}
	logger := f.logger(g)
	var store *snapshotFile
	if f.data != "" {
		store = &snapshotFile{path: f.data, log: logger}
		if err := store.load(srv, tableOpts); err != nil {
			return err
		}
	}
	h := &emulator{srv: srv, tableOpts: tableOpts, dynamic: !f.noDynamic, log: logger, latency: f.latency}
	if store != nil {
		h.changed = store.changed
	}
	if len(f.corsOrigin) > 0 {
		h.cors = &cors{origins: f.corsOrigin}
	}
	if f.testRoutes {
		h.test = &testEndpoints{srv: srv}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	var flushed chan error
	if store != nil {
		flushed = make(chan error, 1)
		go func() { flushed <- store.run(srv) }()
	}
	fmt.Fprintf(g.io.out, "zumo serve: listening on %s\n", url)
	if f.data != "" {
		fmt.Fprintf(g.io.out, "  data: %s (tables: %s)\n", f.data, strings.Join(srv.Tables(), ", "))
	}
	fmt.Fprintf(g.io.out, "  try:  export ZUMO_APP_URL=%s\n", url)
	if len(f.users) > 0 {
		name, _, _ := strings.Cut(f.users[0], ":")
		fmt.Fprintf(g.io.out, "        zumo login --custom --username %s\n", name)
	}
	fmt.Fprintf(g.io.out, "        zumo table list todoitem\n")
	if f.urlFile != "" {
		if err := writeFileAtomic(f.urlFile, []byte(url+"\n")); err != nil {
			hs.Close()
			return err
		}
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdown)
	srv.Close()
	if store != nil {
		store.stop()
		if ferr := <-flushed; ferr != nil {
			return ferr
		}
		logger.Info("saved", "file", f.data)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(g.io.out, "zumo serve: stopped")
	return nil
}

// options turns the flags into zumotest options.
func (f *serveFlags) options() ([]zumotest.Option, []zumotest.TableOption, error) {
	var opts []zumotest.Option
	for _, u := range f.users {
		name, pw, ok := strings.Cut(u, ":")
		if !ok || name == "" || pw == "" {
			// Never echo the value: without its colon it may be the
			// password alone.
			return nil, nil, usagef(`--user wants "name:password" (the value given is not shown: it may hold a password)`)
		}
		opts = append(opts, zumotest.WithUser("custom", name, pw, "sid:"+name))
	}
	for _, b := range f.browsers {
		provider, user, ok := strings.Cut(b, "=")
		if !ok || provider == "" || user == "" {
			return nil, nil, usagef(`--browser-login wants "provider=userid", got %q`, b)
		}
		opts = append(opts, zumotest.WithBrowserLogin(provider, zumotest.BrowserLogin{UserID: user}))
	}
	for _, name := range f.apis {
		opts = append(opts, zumotest.WithAPI(name, echoAPI{}))
	}
	if f.secret != "" {
		opts = append(opts, zumotest.WithSigningKey([]byte(f.secret)))
	}
	if f.tokenTTL <= 0 {
		return nil, nil, usagef("--token-ttl must be positive")
	}
	opts = append(opts, zumotest.WithTokenLifetime(f.tokenTTL))
	if f.pageSize < 1 || f.maxTop < 1 {
		return nil, nil, usagef("--page-size and --max-top must be at least 1")
	}
	tableOpts := []zumotest.TableOption{zumotest.PageSize(f.pageSize), zumotest.MaxTop(f.maxTop)}
	if f.softDelete {
		tableOpts = append(tableOpts, zumotest.SoftDelete())
	}
	if f.authOnly {
		tableOpts = append(tableOpts, zumotest.Authenticated())
	}
	switch f.logFormat {
	case "text", "json":
	default:
		return nil, nil, usagef(`--log-format wants "text" or "json", got %q`, f.logFormat)
	}
	return opts, tableOpts, nil
}

// tableDecl reads a --table value: NAME or NAME:opt,opt.
func tableDecl(decl string) (string, []zumotest.TableOption, error) {
	name, opts, _ := strings.Cut(decl, ":")
	var extra []zumotest.TableOption
	for _, o := range splitList(opts) {
		switch o {
		case "authenticated":
			extra = append(extra, zumotest.Authenticated())
		case "soft-delete":
			extra = append(extra, zumotest.SoftDelete())
		default:
			return "", nil, usagef("--table %s: unknown option %q (want authenticated or soft-delete)", decl, o)
		}
	}
	return name, extra, nil
}

func (f *serveFlags) logger(g *globals) *slog.Logger {
	if f.quiet {
		return slog.New(slog.DiscardHandler)
	}
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.io.err, nil))
	}
	return slog.New(slog.NewTextHandler(g.io.err, nil))
}

// noArgs is cobra.NoArgs with a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}
