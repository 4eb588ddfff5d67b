// Command offline shows the offline package end to end: a device that
// pulls the table, edits rows while "offline" (every request to the server
// fails), reconnects, pushes its queue — one row was changed on the server
// meanwhile, and the conflict is resolved by a merge — and pulls the
// server's changes incrementally.
//
// Every step checks what it claims and the program exits with status 1 if
// one does not behave as stated (2 for a command-line mistake).
//
//	go run ./examples/offline                      # no account, no network
//	go run ./examples/offline -app-url URL         # or ZUMO_APP_URL=URL
//
// Without a URL the backend is the zumotest fake in this process, and the
// network goes away by fault injection: the fake answers 503 to every
// request. With -app-url (or ZUMO_APP_URL) the example runs against that
// Mobile Apps backend, for instance `zumo serve --soft-delete`: the
// network goes away on this side instead, with a transport that fails
// every request while it is switched off, which is what a device without
// a connection sees. The backend's todoitem table must allow anonymous
// access and have soft delete on (the incremental pull at the end counts
// the deleted row). The example makes its own rows, with ids unique to the
// run, pulls only those, and leaves them on the server (the last one soft
// deleted), so it can run again against the same backend.
//
// The store here is offline.NewMemoryStore; a real app opens a file with
// the nested module github.com/zumo-go/zumo/offline/sqlitestore:
//
//	store, err := sqlitestore.Open("todo.db")
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
)

// TodoItem is a row of the todoitem table.
type TodoItem struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Version  string `json:"version,omitempty"`
}

func main() {
	appURL, err := parseFlags(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "offline:", err)
		fmt.Fprintln(os.Stderr, "usage: offline [-app-url URL]   (default $ZUMO_APP_URL; none: an in-process fake)")
		os.Exit(2)
	}
	if err := run(context.Background(), appURL); err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("\nAll steps behaved as stated.")
}

// parseFlags returns the backend's URL: -app-url, else $ZUMO_APP_URL (the
// variable the zumo command reads), else "" for the in-process fake.
func parseFlags(args []string, getenv func(string) string) (string, error) {
	fs := flag.NewFlagSet("offline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	appURL := fs.String("app-url", getenv("ZUMO_APP_URL"), "Mobile Apps backend URL")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return *appURL, nil
}

func run(ctx context.Context, appURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// 1. The backend, with two rows.
	b, err := openBackend(appURL)
	if err != nil {
		return err
	}
	defer b.close()
	client, err := zumo.NewClient(b.url, b.options...)
	if err != nil {
		return err
	}
	online := zumo.GetTable[TodoItem](client, "todoitem")
	milkID, breadID, eggsID := b.id("milk"), b.id("bread"), b.id("eggs")
	for _, it := range []TodoItem{{ID: milkID, Text: "buy milk"}, {ID: breadID, Text: "buy bread"}} {
		if _, err := online.Insert(ctx, it); err != nil {
			return fmt.Errorf("seed the server: %w", err)
		}
	}

	// 2. A sync context on a local store. Conflicts are merged: the
	// server's text wins, the device's "complete" flag too.
	merge := offline.Merge(func(_ context.Context, mine, theirs TodoItem) (TodoItem, error) {
		theirs.Complete = theirs.Complete || mine.Complete
		return theirs, nil
	})
	sc, err := offline.New(client, offline.NewMemoryStore(), offline.WithResolver(merge))
	if err != nil {
		return err
	}
	todos := offline.GetTable[TodoItem](sc, "todoitem")
	// This run's rows only: a shared backend may hold others.
	mine := todos.Where(zumo.Field("id").In(milkID, breadID, eggsID))
	res, err := todos.Pull(ctx, "all", mine)
	if err != nil {
		return err
	}
	fmt.Printf("1. pulled %d rows in %d requests\n", res.Rows, res.Requests)
	if res.Rows != 2 {
		return fmt.Errorf("pulled %d rows, want 2", res.Rows)
	}

	// 3. The network goes away: every request fails.
	b.network.down()
	milk, err := todos.Lookup(ctx, milkID)
	if err != nil {
		return err
	}
	milk.Complete = true
	if _, err := todos.Update(ctx, milk); err != nil {
		return err
	}
	if _, err := todos.Insert(ctx, TodoItem{ID: eggsID, Text: "buy eggs"}); err != nil {
		return err
	}
	open, err := todos.Where(zumo.Field("complete").Eq(false)).OrderBy("text").ToSlice(ctx)
	if err != nil {
		return err
	}
	if len(open) != 2 {
		return fmt.Errorf("%d open items locally, want 2", len(open))
	}
	fmt.Printf("2. offline: edited and inserted locally; %d open items: %s, %s\n", len(open), open[0].Text, open[1].Text)
	if _, err := sc.Push(ctx); !errors.Is(err, offline.ErrPushIncomplete) {
		return fmt.Errorf("a push without network: %v, want ErrPushIncomplete", err)
	}
	ops, err := sc.PendingOperations(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("3. a push without network stops; %d operations stay queued\n", len(ops))
	if len(ops) != 2 {
		return fmt.Errorf("%d queued operations, want 2", len(ops))
	}

	// 4. Meanwhile someone renames "milk" on the server.
	b.network.up()
	cur, err := online.Lookup(ctx, milkID)
	if err != nil {
		return err
	}
	cur.Text = "buy oat milk"
	if _, err := online.Update(ctx, cur); err != nil {
		return err
	}

	// 5. Back online: the push sends the queue; "milk" conflicts (412)
	// and is merged.
	pres, err := sc.Push(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("4. reconnected: pushed %d operations, %d conflict resolved\n", pres.Pushed, pres.Resolved)
	final, err := online.Lookup(ctx, milkID)
	if err != nil {
		return err
	}
	if final.Text != "buy oat milk" || !final.Complete {
		return fmt.Errorf("server has %+v, want the merged row", final)
	}
	fmt.Printf("   the server now has %q, complete=%v\n", final.Text, final.Complete)

	// 6. Another change on the server arrives with an incremental pull.
	bread, err := online.Lookup(ctx, breadID)
	if err != nil {
		return err
	}
	if _, err := online.Delete(ctx, bread); err != nil {
		return err
	}
	res, err = todos.Pull(ctx, "all", mine)
	if err != nil {
		return err
	}
	all, err := todos.ToSlice(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("5. pulled %d changed rows (%d deleted); %d rows locally\n", res.Rows, res.Deleted, len(all))
	if res.Deleted != 1 || len(all) != 2 {
		return fmt.Errorf("after the pull: %d deleted, %d local rows; want 1 and 2 (is soft delete on?)", res.Deleted, len(all))
	}
	res, err = todos.Pull(ctx, "all", mine)
	if err != nil {
		return err
	}
	fmt.Printf("6. a pull with nothing new: %d request\n", res.Requests)
	if res.Requests != 1 {
		return fmt.Errorf("%d requests, want 1", res.Requests)
	}
	return nil
}
