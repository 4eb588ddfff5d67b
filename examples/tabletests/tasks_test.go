package tabletests

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

// newTasks starts a fake backend holding rows (closed by t.Cleanup) and
// returns the code under test wired to it. Each test case gets its own
// backend, so cases run in parallel without seeing each other's rows,
// faults or requests.
func newTasks(t *testing.T, rows ...any) (*Tasks, *zumotest.Server) {
	t.Helper()
	fake := zumotest.NewServer(t, zumotest.WithTable("tasks", zumotest.Seed(rows...)))
	c, err := zumo.NewClient(fake.URL)
	require.NoError(t, err)
	return New(c), fake
}

// countRequests counts the requests of the log with method on route (see
// zumotest.Stats.Routes for route names).
func countRequests(fake *zumotest.Server, method, route string) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Method == method && r.Route == method+" "+route {
			n++
		}
	}
	return n
}

// seed has "done" on every row: a row without it holds null, which
// (done eq false) does not match, on zumotest as on the real service.
var seed = []any{
	map[string]any{"id": "a", "title": "water plants", "priority": 1, "done": false},
	map[string]any{"id": "b", "title": "pay rent", "priority": 3, "done": false},
	map[string]any{"id": "c", "title": "call bank", "priority": 3, "done": false},
	map[string]any{"id": "d", "title": "old chore", "priority": 5, "done": true},
}

func TestNext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		rows    []any
		n       int
		wantIDs []string
	}{
		{name: "most urgent first, ties by id", rows: seed, n: 2, wantIDs: []string{"b", "c"}},
		{name: "done tasks left out", rows: seed, n: 10, wantIDs: []string{"b", "c", "a"}},
		{name: "empty table", n: 5, wantIDs: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tasks, fake := newTasks(t, tc.rows...)

			got, err := tasks.Next(context.Background(), tc.n)
			require.NoError(t, err)

			ids := []string{}
			for _, task := range got {
				ids = append(ids, task.ID)
			}
			assert.Equal(t, tc.wantIDs, ids)
			// What was sent: the filter, order and page size the code means
			// (zumotest logs the decoded query string). Later requests, if
			// any, are the SDK's own paging.
			reqs := fake.Requests()
			require.NotEmpty(t, reqs)
			req := reqs[0]
			assert.Equal(t, "GET", req.Method)
			assert.Equal(t, "/tables/tasks", req.Path)
			assert.Equal(t, "(done eq false)", req.Query.Get("$filter"))
			assert.Equal(t, "priority desc,id", req.Query.Get("$orderby"))
			assert.Equal(t, strconv.Itoa(tc.n), req.Query.Get("$top"))
			assert.Equal(t, []string{"2.0.0"}, req.Header.Values("Zumo-Api-Version"))
		})
	}
}

func TestFinish(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		id          string
		faults      []zumotest.Fault
		wantErr     error // matched with errors.Is; nil for success
		wantStatus  int   // the *zumo.Error's status when wantErr is set
		wantPatches int   // PATCH requests that reached the backend's table route
		wantDone    bool  // the row's state afterwards
	}{
		{name: "open task", id: "a", wantPatches: 1, wantDone: true},
		{name: "already done: no write", id: "d", wantPatches: 0, wantDone: true},
		{name: "missing task", id: "zz", wantErr: zumo.ErrNotFound, wantStatus: 404},
		{
			name:        "changed meanwhile once: read again and retry",
			id:          "a",
			faults:      []zumotest.Fault{{Method: "PATCH", Status: http.StatusPreconditionFailed}},
			wantPatches: 2, wantDone: true,
		},
		{
			name:    "changed meanwhile every time: give up after 3",
			id:      "a",
			faults:  []zumotest.Fault{{Method: "PATCH", Status: http.StatusPreconditionFailed, Count: -1}},
			wantErr: zumo.ErrPreconditionFailed, wantStatus: 412,
			wantPatches: 3, wantDone: false,
		},
		{
			name:        "backend unavailable: no retry, the error says so",
			id:          "a",
			faults:      []zumotest.Fault{{Method: "PATCH", Status: http.StatusServiceUnavailable}},
			wantStatus:  503,
			wantPatches: 1, wantDone: false,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tasks, fake := newTasks(t, seed...)
			for _, f := range tc.faults {
				fake.AddFault(f)
			}

			got, err := tasks.Finish(context.Background(), tc.id)

			if tc.wantStatus != 0 {
				var ze *zumo.Error
				require.ErrorAs(t, err, &ze)
				assert.Equal(t, tc.wantStatus, ze.StatusCode)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr)
				}
			} else {
				require.NoError(t, err)
				assert.True(t, got.Done)
			}
			assert.Equal(t, tc.wantPatches, countRequests(fake, "PATCH", "/tables/tasks/{id}"))
			if row, ok := fake.Row("tasks", tc.id); ok {
				assert.Equal(t, tc.wantDone, row["done"] == true)
			}
			// Every write was conditional on the version read.
			for _, r := range fake.Requests() {
				if r.Method == "PATCH" {
					assert.NotEmpty(t, r.Header.Get("If-Match"), "an update without If-Match")
				}
			}
		})
	}
}
