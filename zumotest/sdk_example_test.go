package zumotest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

// Todo is a row of the user's todoitem table.
type Todo struct {
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Complete bool   `json:"complete"`
}

// OpenCount is the user's own code under test: it counts the open items.
func OpenCount(ctx context.Context, c *zumo.Client) (int, error) {
	n := 0
	q := zumo.GetTable[Todo](c, "todoitem").Where(zumo.Field("complete").Eq(false))
	for _, err := range q.All(ctx) {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// TestOpenCount is how a user tests their own code against the fake
// backend: one server per case, seeded rows, the SDK's client on top.
func TestOpenCount(t *testing.T) {
	cases := []struct {
		name string
		rows []any
		want int
	}{
		{"empty", nil, 0},
		{"mixed", []any{Todo{Text: "a"}, Todo{Text: "b", Complete: true}, Todo{Text: "c"}}, 2},
		{"more than a page", manyTodos(120), 120},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := zumotest.NewServer(t, zumotest.WithTable("todoitem", zumotest.Seed(tc.rows...)))
			c, err := zumo.NewClient(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := OpenCount(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("OpenCount = %d, want %d", got, tc.want)
			}
		})
	}
}

func manyTodos(n int) []any {
	rows := make([]any, n)
	for i := range rows {
		rows[i] = Todo{Text: fmt.Sprintf("item %d", i)}
	}
	return rows
}

// Example_sdk shows the fake backend and the SDK together: a logged-in
// client on an authenticated table.
func Example_sdk() {
	srv := zumotest.New(
		zumotest.WithTable("todoitem", zumotest.Authenticated()),
		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"),
	)
	srv.Start()
	defer srv.Close()

	ctx := context.Background()
	c, _ := zumo.NewClient(srv.URL)
	if _, err := c.Login(ctx, "custom", map[string]string{"username": "ann", "password": "s3cret"}); err != nil {
		fmt.Println(err)
		return
	}
	todos := zumo.GetTable[Todo](c, "todoitem")
	_, _ = todos.Insert(ctx, Todo{Text: "buy milk"})
	items, _ := todos.Query().ToSlice(ctx)
	fmt.Println(len(items), items[0].Text, srv.Stats().Logins)
	// Output: 1 buy milk 1
}
