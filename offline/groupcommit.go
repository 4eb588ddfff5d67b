package offline

import (
	"context"
)

// recorder runs fn in a store transaction: Store.Update, or a group
// commit shared by a parallel push's workers.
type recorder func(ctx context.Context, fn func(Tx) error) error

// groupCommit records the outcomes of a parallel push's operations in
// shared transactions: each commit takes every outcome waiting for it, so
// n workers do not queue n commits behind the store's one writer.
// BenchmarkPush (parallel=4) measures the difference.
type groupCommit struct {
	s    Store
	reqs chan commitReq
	done chan struct{}
}

type commitReq struct {
	ctx context.Context
	fn  func(Tx) error
	err chan error
}

func newGroupCommit(s Store, max int) (*groupCommit, recorder) {
	g := &groupCommit{s: s, reqs: make(chan commitReq), done: make(chan struct{})}
	go g.loop(max)
	return g, func(ctx context.Context, fn func(Tx) error) error {
		r := commitReq{ctx: ctx, fn: fn, err: make(chan error, 1)}
		g.reqs <- r
		return <-r.err
	}
}

func (g *groupCommit) close() {
	close(g.reqs)
	<-g.done
}

func (g *groupCommit) loop(max int) {
	defer close(g.done)
	for r := range g.reqs {
		batch := []commitReq{r}
	more:
		for len(batch) < max {
			select {
			case r, ok := <-g.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		// One failing outcome fails the transaction, and so every outcome
		// in it: those operations stay queued and are resent safely.
		err := g.s.Update(batch[0].ctx, func(tx Tx) error {
			for _, r := range batch {
				if err := r.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		for _, r := range batch {
			r.err <- err
		}
	}
}
