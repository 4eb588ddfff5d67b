package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
)

type todo struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Count   int    `json:"count"`
	Version string `json:"version,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
}

// startServe runs "zumo serve" in this process until the returned stop
// function is called; stop returns its exit code.
func startServe(t *testing.T, args ...string) (url string, stop func() int) {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	out, err := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })
	go func() {
		code <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--url-file", urlFile, "--quiet"}, args...),
			stdio{in: bytes.NewReader(nil), out: out, err: out})
	}()
	url = waitFor(urlFile, nil)
	if url == "" {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("zumo serve did not start: %s", b)
	}
	var once sync.Once
	result := 0
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case result = <-code:
			case <-time.After(20 * time.Second):
				t.Fatal("zumo serve did not stop")
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

// TestServeConcurrentClientsAndRestart has several logged-in SDK clients
// write concurrently (inserts, updates, deletes, and If-Match increments
// of one shared row), stops the emulator the way SIGINT does, starts it
// again on the same --data file, and requires every row, version, soft
// delete and increment to be there.
func TestServeConcurrentClientsAndRestart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data.json")
	flags := []string{"--data", data, "--user", "ann:pw", "--soft-delete", "--authenticated", "--secret", "k"}
	url, stop := startServe(t, flags...)
	ctx := context.Background()

	newTable := func(url string) *zumo.Table[todo] {
		c, err := zumo.NewClient(url, zumo.WithAuthenticator(
			auth.Credentials("custom", map[string]string{"username": "ann", "password": "pw"})))
		require.NoError(t, err)
		return zumo.GetTable[todo](c, "todoitem")
	}
	_, err := newTable(url).Insert(ctx, todo{ID: "shared"})
	require.NoError(t, err)

	const clients, rows, increments = 6, 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			tbl := newTable(url)
			for i := range rows {
				id := fmt.Sprintf("c%d-r%d", c, i)
				item, err := tbl.Insert(ctx, todo{ID: id, Text: "new"})
				if err == nil {
					item.Text = "updated"
					item, err = tbl.Update(ctx, item)
				}
				if err == nil && i%3 == 0 {
					_, err = tbl.Delete(ctx, item)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", id, err)
					return
				}
			}
			for range increments {
				if err := increment(ctx, tbl); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	before, err := newTable(url).Query().IncludeDeleted().OrderBy("id").ToSlice(ctx)
	require.NoError(t, err)
	require.Len(t, before, 1+clients*rows)
	deleted, count := 0, -1
	for _, r := range before {
		if r.Deleted {
			deleted++
		}
		if r.ID == "shared" {
			count = r.Count
		}
	}
	assert.Equal(t, clients*((rows+2)/3), deleted)
	assert.Equal(t, clients*increments, count, "every If-Match increment counted once")

	require.Equal(t, exitOK, stop())
	url2, _ := startServe(t, flags...)
	after, err := newTable(url2).Query().IncludeDeleted().OrderBy("id").ToSlice(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "rows, versions and soft deletes survive the restart")
}

// increment adds one to the shared row's count with If-Match, retrying
// on 412 with the server's copy.
func increment(ctx context.Context, tbl *zumo.Table[todo]) error {
	item, err := tbl.Lookup(ctx, "shared")
	for err == nil {
		item.Count++
		_, err = tbl.Update(ctx, item)
		var stale *zumo.PreconditionFailedError[todo]
		if !errors.As(err, &stale) {
			return err
		}
		if stale.HasItem {
			item, err = stale.Item, nil
		} else {
			item, err = tbl.Lookup(ctx, "shared")
		}
	}
	return err
}
