package main

import (
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
)

// syncFlags are the flags pull and push share.
type syncFlags struct {
	db       string
	pageSize int
}

func (f *syncFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the local SQLite store (made when missing)")
	cmd.Flags().IntVar(&f.pageSize, "page-size", 1000, "rows asked for per pull request")
}

// open returns the sync context over the --db store; close closes it.
func (f *syncFlags) open(g *globals, progress func(offline.Progress)) (*offline.SyncContext, func() error, error) {
	if f.db == "" {
		return nil, nil, usagef("--db FILE is required")
	}
	c, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	store, err := sqlitestore.Open(f.db)
	if err != nil {
		return nil, nil, fmt.Errorf("--db %s: %w", f.db, err)
	}
	sc, err := offline.New(c, store, offline.WithProgress(progress), offline.WithPageSize(f.pageSize))
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return sc, store.Close, nil
}

func newPullCmd(g *globals) *cobra.Command {
	var f syncFlags
	var queryID, filter string
	cmd := &cobra.Command{
		Use:   "pull NAME --db FILE [--query-id ID] [--filter ODATA]",
		Short: "Pull a table's changed rows into a local SQLite store",
		Long: `pull first pushes the table's queued local changes, then brings the rows the
server changed since the last pull with the same --query-id into the store,
page by page; each page is stored with its position in one transaction, so an
interrupted pull (Ctrl-C) keeps what it stored and resumes there. A progress
bar shows on a terminal; otherwise one summary line.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bar := newBar(g, "pull "+args[0])
			sc, closeStore, err := f.open(g, bar.update)
			if err != nil {
				return err
			}
			defer closeStore()
			tbl := offline.GetTable[map[string]any](sc, args[0])
			q := tbl.Query()
			if filter != "" {
				q = tbl.Where(zumo.Raw(filter))
			}
			start := time.Now()
			res, err := tbl.Pull(cmd.Context(), queryID, q)
			bar.finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(g.io.out, "pulled %s: %d rows (%d deleted, %d kept for their queued changes) in %d requests, %s\n",
				args[0], res.Rows, res.Deleted, res.Skipped, res.Requests, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&queryID, "query-id", "", "name of the incremental pull's position (empty: pull everything, keep no position)")
	cmd.Flags().StringVar(&filter, "filter", "", "an OData $filter selecting the rows to pull")
	return cmd
}

func newPushCmd(g *globals) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "push --db FILE",
		Short: "Push the local store's queued changes to the service",
		Long: `push sends the store's queued operations in order. Conflicts the server
reports (409, 412) and operations it refuses stay queued and are listed; a
network failure or Ctrl-C stops the push with nothing lost.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bar := newBar(g, "push")
			sc, closeStore, err := f.open(g, bar.update)
			if err != nil {
				return err
			}
			defer closeStore()
			res, err := sc.Push(cmd.Context())
			bar.finish()
			if res != nil {
				fmt.Fprintf(g.io.out, "pushed %d operations (%d conflicts resolved), %d left in the queue\n",
					res.Pushed, res.Resolved, len(res.Failed))
				for _, op := range res.Failed {
					fmt.Fprintf(g.io.err, "  %s\n", oneLine(op.Error()))
				}
			}
			return err
		},
	}
	f.add(cmd)
	return cmd
}

// listLocal lists the rows of a table in a local store (every row the
// query selects: the store is local, there are no pages).
func listLocal(ctx context.Context, g *globals, f *listFlags, name string, w *rowWriter) error {
	if f.deleted || f.all {
		return usagef("--db lists the local store: --include-deleted and --all do not apply")
	}
	store, err := sqlitestore.Open(f.db)
	if err != nil {
		return fmt.Errorf("--db %s: %w", f.db, err)
	}
	defer store.Close()
	// Local reads send nothing, so they need no service: without --app
	// the sync context gets a client that is never used.
	var c *zumo.Client
	if g.app != "" {
		c, err = g.client()
	} else {
		c, err = zumo.NewClient("http://127.0.0.1/")
	}
	if err != nil {
		return err
	}
	sc, err := offline.New(c, store)
	if err != nil {
		return err
	}
	q, err := applyList(offline.GetTable[map[string]any](sc, name).Query(), f)
	if err != nil {
		return err
	}
	rows, err := q.ToSlice(ctx)
	if err != nil {
		return err
	}
	for _, row := range rows {
		if err := w.write(row); err != nil {
			return err
		}
	}
	return w.flush()
}

// progressBar draws push and pull progress on a terminal (stderr); it does
// nothing when stderr is not one.
type progressBar struct {
	bar *progressbar.ProgressBar
}

func newBar(g *globals, what string) *progressBar {
	if !isTerminal(g.io.err) {
		return &progressBar{}
	}
	return &progressBar{bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(g.io.err),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(g.io.err) }),
	)}
}

func (p *progressBar) update(pr offline.Progress) {
	if p.bar == nil {
		return
	}
	if pr.Op == "push" {
		if pr.Total > 0 {
			p.bar.ChangeMax(pr.Total)
		}
		p.bar.Describe("push")
		_ = p.bar.Set(pr.Operations)
		return
	}
	p.bar.Describe(fmt.Sprintf("pull %s (%d pages)", pr.Table, pr.Pages))
	_ = p.bar.Set(pr.Rows)
}

func (p *progressBar) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
