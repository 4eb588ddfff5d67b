// Command offline shows the offline package end to end with no account
// and no network: a fake Mobile Apps backend (zumotest) in this process, a
// device that pulls the table, edits rows while "offline" (every request
// to the server fails, by fault injection), reconnects, pushes its queue —
// one row was changed on the server meanwhile, and the conflict is
// resolved by a merge — and pulls the server's changes incrementally.
//
// Every step checks what it claims and the program exits with status 1 if
// one does not behave as stated.
//
//	go run ./examples/offline
//
// The store here is offline.NewMemoryStore; a real app opens a file with
// the nested module github.com/zumo-go/zumo/offline/sqlitestore:
//
//	store, err := sqlitestore.Open("todo.db")
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// TodoItem is a row of the todoitem table.
type TodoItem struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Version  string `json:"version,omitempty"`
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("\nAll steps behaved as stated.")
}

func run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// 1. The backend, with two rows.
	srv := zumotest.New(zumotest.WithTable("todoitem", zumotest.SoftDelete(), zumotest.Seed(
		map[string]any{"id": "milk", "text": "buy milk", "complete": false},
		map[string]any{"id": "bread", "text": "buy bread", "complete": false})))
	srv.Start()
	defer srv.Close()
	client, err := zumo.NewClient(srv.URL)
	if err != nil {
		return err
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
	res, err := todos.Pull(ctx, "all", todos.Query())
	if err != nil {
		return err
	}
	fmt.Printf("1. pulled %d rows in %d requests\n", res.Rows, res.Requests)
	if res.Rows != 2 {
		return fmt.Errorf("pulled %d rows, want 2", res.Rows)
	}

	// 3. The network goes away: every request fails.
	srv.AddFault(zumotest.Fault{Status: 503, Count: -1})
	milk, err := todos.Lookup(ctx, "milk")
	if err != nil {
		return err
	}
	milk.Complete = true
	if _, err := todos.Update(ctx, milk); err != nil {
		return err
	}
	if _, err := todos.Insert(ctx, TodoItem{ID: "eggs", Text: "buy eggs"}); err != nil {
		return err
	}
	open, err := todos.Where(zumo.Field("complete").Eq(false)).OrderBy("text").ToSlice(ctx)
	if err != nil {
		return err
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
	srv.ClearFaults()
	online := zumo.GetTable[TodoItem](client, "todoitem")
	cur, err := online.Lookup(ctx, "milk")
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
	final, err := online.Lookup(ctx, "milk")
	if err != nil {
		return err
	}
	if final.Text != "buy oat milk" || !final.Complete {
		return fmt.Errorf("server has %+v, want the merged row", final)
	}
	fmt.Printf("   the server now has %q, complete=%v\n", final.Text, final.Complete)

	// 6. Another change on the server arrives with an incremental pull.
	bread, err := online.Lookup(ctx, "bread")
	if err != nil {
		return err
	}
	if _, err := online.Delete(ctx, bread); err != nil {
		return err
	}
	res, err = todos.Pull(ctx, "all", todos.Query())
	if err != nil {
		return err
	}
	all, err := todos.ToSlice(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("5. pulled %d changed rows (%d deleted); %d rows locally\n", res.Rows, res.Deleted, len(all))
	if res.Deleted != 1 || len(all) != 2 {
		return fmt.Errorf("after the pull: %d deleted, %d local rows; want 1 and 2", res.Deleted, len(all))
	}
	res, err = todos.Pull(ctx, "all", todos.Query())
	if err != nil {
		return err
	}
	fmt.Printf("6. a pull with nothing new: %d request\n", res.Requests)
	if res.Requests != 1 {
		return fmt.Errorf("%d requests, want 1", res.Requests)
	}
	return nil
}
