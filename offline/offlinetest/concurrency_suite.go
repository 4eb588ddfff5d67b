package offlinetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// testConcurrency runs local writers beside pushes and pulls, then checks
// that nothing was lost: after a final push the server and the local
// table hold the same rows with the same values.
func testConcurrency(t *testing.T, open Opener) {
	ctx := context.Background()
	e := newEnv(t, open, []zumotest.Option{zumotest.WithClock(Ticker()), zumotest.WithTable("items", zumotest.SoftDelete())},
		offline.WithParallelPush(3))
	const writers, rounds = 4, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deleted := map[string]bool{} // a deleted id is not inserted again (the server keeps it, soft-deleted)
			for i := range rounds {
				id := fmt.Sprintf("w%d-%d", w, i%5)
				if deleted[id] {
					continue
				}
				if _, err := e.tbl.Lookup(ctx, id); err != nil {
					_, err = e.tbl.Insert(ctx, Item{ID: id, Text: "v0", Priority: i})
					assert.NoError(t, err)
					continue
				}
				if i%7 == 6 {
					assert.NoError(t, e.tbl.Delete(ctx, Item{ID: id}))
					deleted[id] = true
					continue
				}
				_, err := e.tbl.Update(ctx, Item{ID: id, Text: fmt.Sprintf("v%d", i), Priority: i})
				assert.NoError(t, err)
			}
		}()
	}
	stop := make(chan struct{})
	var syncer sync.WaitGroup
	syncer.Add(1)
	go func() {
		defer syncer.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := e.sc.Push(ctx)
			assert.NoError(t, err)
			_, err = e.tbl.Pull(ctx, "all", e.tbl.Query())
			assert.NoError(t, err)
		}
	}()
	wg.Wait()
	close(stop)
	syncer.Wait()
	_, err := e.sc.Push(ctx)
	require.NoError(t, err)
	require.Empty(t, pending(t, e.sc))

	local, err := e.tbl.ToSlice(ctx)
	require.NoError(t, err)
	online, err := zumo.GetTable[Item](e.c, "items").Query().Take(1000).ToSlice(ctx)
	require.NoError(t, err)
	want := map[string]Item{}
	for _, it := range online {
		want[it.ID] = it
	}
	assert.Len(t, local, len(want))
	for _, it := range local {
		s, ok := want[it.ID]
		if assert.True(t, ok, "%s is on the server", it.ID) {
			assert.Equal(t, s.Text, it.Text, it.ID)
			assert.Equal(t, s.Priority, it.Priority, it.ID)
			assert.Equal(t, s.Version, it.Version, it.ID)
		}
	}
}
