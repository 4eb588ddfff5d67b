// Command quickstart shows zumo end to end: it logs in, caches the user in
// a file, inserts and queries todo items, starts a second client that
// reuses the cached user without logging in, then has the cached token
// rejected and shows the auth handler logging in once and the request
// succeeding.
//
// Every step checks what it claims against request counters and the
// program exits with status 1 if any step does not behave as stated (2 for
// a command-line mistake).
//
//	go run ./examples/quickstart              # no account, no network
//	ZUMO_PASSWORD=… go run ./examples/quickstart -app-url URL -username NAME
//
// Without a URL the backend is the zumotest fake in this process, with the
// user ann; the counters are the fake's own, and the token is rejected
// because the fake rotates its signing key.
//
// With -app-url (or ZUMO_APP_URL, the variable the zumo command reads) the
// example runs against that Mobile Apps backend, for instance
// `zumo serve --user NAME:PASSWORD`, and logs in to its custom provider
// (/.auth/login/custom) as -username (or ZUMO_USERNAME) with the password
// in ZUMO_PASSWORD — a variable only, so it shows in no process list, and
// the example never prints it. A remote backend has no counters to read
// and no key to rotate from here, so the example counts on its own side
// (the requests its clients send, the logins among them, the 401s they
// get back) and makes the cached token unacceptable the way a rotated key
// does: it replaces the token's signature. The rows it inserts stay in the
// table; counts are taken relative to the rows already there.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
)

// TodoItem is a row of the todoitem table.
type TodoItem struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Priority int    `json:"priority"`
	Version  string `json:"version,omitempty"`
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		fmt.Fprintln(os.Stderr, "usage: quickstart [-app-url URL -username NAME]   (defaults $ZUMO_APP_URL, $ZUMO_USERNAME; password in $ZUMO_PASSWORD)")
		os.Exit(2)
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("\nAll steps behaved as stated.")
}

func run(ctx context.Context, cfg config) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// 1. The backend: a fake in this process, on loopback, or cfg.appURL.
	srv, err := openBackend(cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.appURL == "" {
		step(1, "started a fake backend at %s (table todoitem needs a logged-in user)", srv.URL)
	} else {
		step(1, "using the backend at %s as %s", srv.shown, srv.username)
	}

	dir, err := os.MkdirTemp("", "zumo-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := cache.NewFile(filepath.Join(dir, "users"))
	if err != nil {
		return err
	}
	// One installation: every client started here sends the same id.
	installID, err := zumo.InstallationIDFile(filepath.Join(dir, "installation-id"))
	if err != nil {
		return err
	}
	newClient := func() (*zumo.Client, error) {
		return zumo.NewClient(srv.URL, append([]zumo.Option{
			zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": srv.username, "password": srv.password})),
			zumo.WithUserStore(store, srv.username),
			zumo.WithInstallationID(installID),
		}, srv.options...)...)
	}

	// 2. The first client logs in by itself at its first request.
	client, err := newClient()
	if err != nil {
		return err
	}
	todos := zumo.GetTable[TodoItem](client, "todoitem")
	base, err := srv.rowsBefore(ctx, todos)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	for i, text := range []string{"buy milk", "walk the dog", "write the report", "call mum"} {
		if _, err := todos.Insert(ctx, TodoItem{Text: text, Priority: i % 3}); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	st := srv.Stats()
	if err := expect(st.Logins == 1, "logins = %d, want 1", st.Logins); err != nil {
		return err
	}
	step(2, "inserted 4 todo items; the client logged in by itself: logins made = %d, requests sent = %d", st.Logins, st.Requests)
	u := client.CurrentUser()
	fmt.Printf("   logged in as %v, cached in %s\n", u, store.Dir())

	// 3. A query: the three most urgent open items.
	top3, err := todos.Where(zumo.Field("complete").Eq(false)).
		OrderByDescending("priority").ThenBy("text").Take(3).ToSlice(ctx)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if err := expect(len(top3) == 3, "got %d items, want 3", len(top3)); err != nil {
		return err
	}
	step(3, "Take(3).ToSlice returned %d items:", len(top3))
	for _, it := range top3 {
		fmt.Printf("     - %-18s priority %d\n", it.Text, it.Priority)
	}

	// 4. A new client (think: the next start of the program) reuses the
	// cached user: no login.
	before := srv.Stats()
	client2, err := newClient()
	if err != nil {
		return err
	}
	todos2 := zumo.GetTable[TodoItem](client2, "todoitem")
	all, err := todos2.Query().IncludeTotalCount().Page(ctx)
	if err != nil {
		return fmt.Errorf("second client: %w", err)
	}
	after := srv.Stats()
	if err := expect(after.Logins == before.Logins, "the second client logged in (%d → %d logins)", before.Logins, after.Logins); err != nil {
		return err
	}
	if err := expect(all.TotalCount == base+4, "count = %d, want %d", all.TotalCount, base+4); err != nil {
		return err
	}
	step(4, "a new client read %d items with the cached user: new logins = %d, requests sent = %d",
		all.TotalCount, after.Logins-before.Logins, after.Requests-before.Requests)

	// 5. The server rotates its signing key (remote: the token's signature
	// is replaced): the cached token is now rejected. The auth handler sees
	// the 401, logs in once, and resends.
	how, err := srv.rejectToken(ctx, client2)
	if err != nil {
		return err
	}
	before = srv.Stats()
	saved, err := todos2.Insert(ctx, TodoItem{Text: "after the key rotation", Priority: 2})
	if err != nil {
		return fmt.Errorf("insert after rotation: %w", err)
	}
	after = srv.Stats()
	if err := expect(after.Logins-before.Logins == 1, "logins after rotation = %d, want 1", after.Logins-before.Logins); err != nil {
		return err
	}
	if err := expect(after.Unauthorized-before.Unauthorized == 1, "401s = %d, want 1", after.Unauthorized-before.Unauthorized); err != nil {
		return err
	}
	if err := expect(after.Requests-before.Requests == 3, "requests = %d, want 3 (401, login, resend)", after.Requests-before.Requests); err != nil {
		return err
	}
	step(5, "%s; the insert got 1 × 401, the client logged in %d time and resent: saved %q (requests sent = %d)",
		how, after.Logins-before.Logins, saved.Text, after.Requests-before.Requests)

	// 6. The fresh user went to the cache: a third client needs no login.
	before = srv.Stats()
	client3, err := newClient()
	if err != nil {
		return err
	}
	var n int64
	for _, err := range zumo.GetTable[TodoItem](client3, "todoitem").All(ctx) {
		if err != nil {
			return fmt.Errorf("third client: %w", err)
		}
		n++
	}
	after = srv.Stats()
	if err := expect(n == base+5 && after.Logins == before.Logins, "third client: %d items, %d new logins", n, after.Logins-before.Logins); err != nil {
		return err
	}
	step(6, "a third client read all %d items with the re-cached user: new logins = %d", n, after.Logins-before.Logins)
	return nil
}

func step(n int, format string, args ...any) {
	fmt.Printf("%d. %s\n", n, fmt.Sprintf(format, args...))
}

func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}
