// Package tabletests shows how to test your own code that uses zumo: the
// code here (Tasks, a small store of tasks over a Mobile Apps table) stands
// for yours, and tasks_test.go holds the pattern to copy — table-driven
// tests, each case against its own zumotest fake backend, run in parallel:
// seed the rows a case needs, inject the faults it is about, call your code,
// and assert both what it returned and what it sent.
package tabletests

import (
	"context"
	"errors"
	"fmt"

	"github.com/zumo-go/zumo"
)

// Task is a row of the tasks table.
type Task struct {
	ID       string `json:"id,omitempty"`
	Title    string `json:"title"`
	Done     bool   `json:"done"`
	Priority int    `json:"priority"`
	Version  string `json:"version,omitempty"`
}

// maxAttempts bounds how often Finish retries after a concurrent change.
const maxAttempts = 3

// Tasks reads and changes tasks in the backend's "tasks" table.
type Tasks struct {
	table *zumo.Table[Task]
}

// New returns a Tasks that works through c.
func New(c *zumo.Client) *Tasks {
	return &Tasks{table: zumo.GetTable[Task](c, "tasks")}
}

// Next returns the n most urgent open tasks: highest priority first, ties
// by id.
func (s *Tasks) Next(ctx context.Context, n int) ([]Task, error) {
	return s.table.Where(zumo.Field("done").Eq(false)).
		OrderByDescending("priority").ThenBy("id").Take(n).ToSlice(ctx)
}

// Finish marks the task done. The update is conditional on the version it
// read; when someone else changed the task meanwhile (412), it reads the
// task again and retries, at most maxAttempts times in all. A task that is
// already done is returned as it is, without a write.
func (s *Tasks) Finish(ctx context.Context, id string) (Task, error) {
	for attempt := 1; ; attempt++ {
		t, err := s.table.Lookup(ctx, id)
		if err != nil {
			return Task{}, fmt.Errorf("finish %q: %w", id, err)
		}
		if t.Done {
			return t, nil
		}
		t.Done = true
		saved, err := s.table.Update(ctx, t)
		if err == nil {
			return saved, nil
		}
		if !errors.Is(err, zumo.ErrPreconditionFailed) || attempt == maxAttempts {
			return Task{}, fmt.Errorf("finish %q: %w", id, err)
		}
	}
}
