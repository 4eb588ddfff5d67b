//go:build integration

package realserver_test

// All and In against the official server: rows inserted ahead of the
// cursor between two pages (timed by a handler that inserts as the first
// page arrives) neither repeat nor fail the read, and an empty In matches
// nothing.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/handler"
	"github.com/zumo-go/zumo/internal/realserver"
)

// afterFirstPage returns a handler that runs insert once, right after the
// first page of the todoitem table has been answered and before the second
// is asked for.
func afterFirstPage(insert func()) handler.Func {
	var pages atomic.Int64
	return func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/tables/todoitem") && pages.Add(1) == 1 {
			insert()
		}
		return resp, err
	}
}

func TestSDKAllWhileRowsAreInsertedAhead(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()

	// noID has no id field: All cannot page it by keyset and uses $skip.
	type noID struct {
		Text     string `json:"text"`
		Priority int    `json:"priority"`
	}
	const n = 120
	tests := []struct {
		name  string
		ahead int // rows inserted before the cursor between pages 1 and 2
		read  func(c *zumo.Client, cat string) ([]int, error)
	}{
		{"keyset on priority and id", 3, func(c *zumo.Client, cat string) ([]int, error) {
			var got []int
			for it, err := range zumo.GetTable[TodoItem](c, "todoitem").Where(zumo.Field("category").Eq(cat)).OrderBy("priority").All(ctx) {
				if err != nil {
					return got, err
				}
				got = append(got, it.Priority)
			}
			return got, nil
		}},
		{"keyset on id", 3, func(c *zumo.Client, cat string) ([]int, error) {
			items, err := c.Table("todoitem").Where(zumo.Field("category").Eq(cat)).ToSlice(ctx)
			var got []int
			for _, it := range items {
				got = append(got, int(it["priority"].(float64)))
			}
			return got, err
		}},
		// A whole page inserted ahead: page 2 repeats page 1 exactly. That
		// used to end All with ErrNoProgress; the server honours $skip, so
		// the repeat is passed over.
		{"$skip, a page inserted ahead", 50, func(c *zumo.Client, cat string) ([]int, error) {
			var got []int
			noIDs := zumo.GetTable[noID](c, "todoitem").Query().AllowFields("category")
			for it, err := range noIDs.Where(zumo.Field("category").Eq(cat)).OrderBy("priority").All(ctx) {
				if err != nil {
					return got, err
				}
				got = append(got, it.Priority)
			}
			return got, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := newID("ahead")
			rows := make([]map[string]any, n)
			for i := range rows {
				// ids and priorities in the same order, after the inserted ones.
				rows[i] = map[string]any{"id": fmt.Sprintf("%s-k%05d", cat, i), "priority": i, "text": "row", "category": cat}
			}
			require.NoError(t, s.Seed(ctx, "todoitem", rows))
			var insertErr error
			c := newSDK(t, s, zumo.WithHandlers(afterFirstPage(func() {
				ahead := make([]map[string]any, tt.ahead)
				for i := range ahead {
					ahead[i] = map[string]any{"id": fmt.Sprintf("%s-a%05d", cat, i), "priority": -1 - i, "text": "new", "category": cat}
				}
				insertErr = s.Seed(ctx, "todoitem", ahead)
			})))
			got, err := tt.read(c, cat)
			require.NoError(t, insertErr)
			require.NoError(t, err, "rows inserted meanwhile are not a failure")
			want := make([]int, n)
			for i := range want {
				want[i] = i
			}
			assert.Equal(t, want, got, "every row there from the start, once, in order; none inserted behind the cursor")
		})
	}
}

// In writes the official clients' or-chain; an empty In matches nothing on
// the server (not every row, as the .NET client's dropped filter would).
func TestSDKIn(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()
	c := newSDK(t, s)
	cat := newID("in")
	rows := make([]map[string]any, 5)
	for i := range rows {
		rows[i] = map[string]any{"id": fmt.Sprintf("%s-%d", cat, i), "priority": i, "text": "row", "category": cat}
	}
	require.NoError(t, s.Seed(ctx, "todoitem", rows))
	todos := zumo.GetTable[TodoItem](c, "todoitem")
	ids := func(q zumo.Query[TodoItem]) []string {
		t.Helper()
		items, err := q.ToSlice(ctx)
		require.NoError(t, err)
		var out []string
		for _, it := range items {
			out = append(out, strings.TrimPrefix(it.ID, cat+"-"))
		}
		slices.Sort(out)
		return out
	}
	mine := todos.Where(zumo.Field("category").Eq(cat))
	assert.Equal(t, []string{"1", "3"}, ids(mine.Where(zumo.Field("id").In(cat+"-1", cat+"-3", "nothing"))))
	assert.Equal(t, []string{"0", "4"}, ids(mine.Where(zumo.Field("priority").In(0, 4))))
	assert.Empty(t, ids(mine.Where(zumo.Field("id").In())), "an empty In matches nothing")
	assert.Empty(t, ids(todos.Where(zumo.Field("id").In())), "not even without another condition")
	assert.Len(t, ids(mine.Where(zumo.Not(zumo.Field("id").In()))), 5, "its negation matches every row")
	// Raw text keeps its meaning next to other conditions.
	assert.Equal(t, []string{"1"}, ids(mine.Where(zumo.Raw("priority eq 1 or priority eq 2")).Where(zumo.Field("priority").Lt(2))))
}
