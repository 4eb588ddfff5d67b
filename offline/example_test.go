package offline_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

type TodoItem struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
	Version  string `json:"version,omitempty"`
}

func Example() {
	ctx := context.Background()
	srv := zumotest.New(zumotest.WithTable("todoitem", zumotest.Seed(map[string]any{"id": "1", "text": "milk", "complete": false})))
	srv.Start()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)

	sc, _ := offline.New(client, offline.NewMemoryStore(), offline.WithResolver(offline.ServerWins))
	todos := offline.GetTable[TodoItem](sc, "todoitem")

	res, _ := todos.Pull(ctx, "all", todos.Query())
	fmt.Println("pulled:", res.Rows)

	_, _ = todos.Insert(ctx, TodoItem{ID: "2", Text: "bread"}) // local, queued
	open, _ := todos.Where(zumo.Field("complete").Eq(false)).OrderBy("text").ToSlice(ctx)
	fmt.Println("open:", open[0].Text, open[1].Text)

	pushed, _ := sc.Push(ctx)
	fmt.Println("pushed:", pushed.Pushed)
	// Output:
	// pulled: 1
	// open: bread milk
	// pushed: 1
}

func ExampleMerge() {
	// Keep the server's row, but never lose a completion made on the device.
	resolver := offline.Merge(func(_ context.Context, mine, theirs TodoItem) (TodoItem, error) {
		theirs.Complete = theirs.Complete || mine.Complete
		return theirs, nil
	})
	_ = offline.WithResolver(resolver)
}

func ExamplePushError() {
	ctx := context.Background()
	srv := zumotest.New(zumotest.WithTable("todoitem"))
	srv.Start()
	defer srv.Close()
	client, _ := zumo.NewClient(srv.URL)
	sc, _ := offline.New(client, offline.NewMemoryStore())
	todos := offline.GetTable[TodoItem](sc, "todoitem")
	_, _ = todos.Insert(ctx, TodoItem{ID: "1", Text: "milk"})

	srv.FailNext(1, 400, `{"error":"text too short"}`)
	_, err := sc.Push(ctx)
	var oe *offline.OperationError
	if errors.As(err, &oe) {
		fmt.Println(oe.Kind, oe.ID, errors.Is(err, offline.ErrPushIncomplete))
	}
	ops, _ := sc.PendingOperations(ctx)
	fmt.Println("still queued:", len(ops))
	// Output:
	// insert 1 true
	// still queued: 1
}
