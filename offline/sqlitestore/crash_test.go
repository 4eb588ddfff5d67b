//go:build unix

package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/sqlitestore"
	"github.com/zumo-go/zumo/zumotest"
)

// The crash tests run this test binary again as a helper process that
// pushes or pulls and kills itself with SIGKILL at its n-th store write
// (inside a transaction) or right after its n-th HTTP answer (the server
// applied the request; the store has not recorded it). The parent then
// reopens the file and checks it.

type crashItem struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	N         int    `json:"n"`
	Version   string `json:"version,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

var crashWrites, crashAnswers atomic.Int64

func die() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }

// killStore kills the process at the n-th write.
type killStore struct {
	offline.Store
	at int64
}

func (s killStore) Update(ctx context.Context, fn func(offline.Tx) error) error {
	return s.Store.Update(ctx, func(tx offline.Tx) error { return fn(killTx{tx, s.at}) })
}

type killTx struct {
	offline.Tx
	at int64
}

func (t killTx) hit() {
	if crashWrites.Add(1) == t.at {
		die()
	}
}

func (t killTx) Put(b, k string, v []byte) error { t.hit(); return t.Tx.Put(b, k, v) }
func (t killTx) Delete(b, k string) error        { t.hit(); return t.Tx.Delete(b, k) }

type killRT struct{ at int64 }

func (k killRT) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if crashAnswers.Add(1) == k.at {
		die()
	}
	return resp, err
}

func TestCrashHelper(t *testing.T) {
	mode := os.Getenv("ZUMO_CRASH_MODE")
	if mode == "" {
		t.Skip("helper process for the crash tests")
	}
	writeAt, _ := strconv.ParseInt(os.Getenv("ZUMO_CRASH_WRITE"), 10, 64)
	answerAt, _ := strconv.ParseInt(os.Getenv("ZUMO_CRASH_ANSWER"), 10, 64)
	s, err := sqlitestore.Open(os.Getenv("ZUMO_CRASH_DB"))
	require.NoError(t, err)
	c, err := zumo.NewClient(os.Getenv("ZUMO_CRASH_URL"), zumo.WithHTTPClient(&http.Client{Transport: killRT{answerAt}}))
	require.NoError(t, err)
	par, _ := strconv.Atoi(os.Getenv("ZUMO_CRASH_PARALLEL"))
	sc, err := offline.New(c, killStore{s, writeAt}, offline.WithPageSize(50), offline.WithParallelPush(par))
	require.NoError(t, err)
	tbl := offline.GetTable[crashItem](sc, "items")
	ctx := context.Background()
	switch mode {
	case "write":
		err = localWrites(ctx, tbl)
	case "push":
		_, err = sc.Push(ctx)
	default:
		_, err = tbl.Pull(ctx, "all", tbl.Query())
	}
	require.NoError(t, err)
}

// runHelper runs the helper and reports whether it was killed.
func runHelper(t *testing.T, mode, db, url string, write, answer int) bool {
	return runHelperParallel(t, mode, db, url, write, answer, 1)
}

func runHelperParallel(t *testing.T, mode, db, url string, write, answer, parallel int) bool {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ZUMO_CRASH_MODE="+mode, "ZUMO_CRASH_DB="+db, "ZUMO_CRASH_URL="+url,
		"ZUMO_CRASH_PARALLEL="+strconv.Itoa(parallel),
		"ZUMO_CRASH_WRITE="+strconv.Itoa(write), "ZUMO_CRASH_ANSWER="+strconv.Itoa(answer))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true
		}
	}
	require.NoError(t, err, "helper failed: %s", out)
	return false
}

func TestCrashDuringPush(t *testing.T) {
	for _, par := range []int{1, 3} {
		t.Run(fmt.Sprintf("parallel=%d", par), func(t *testing.T) { crashDuringPush(t, par) })
	}
}

func crashDuringPush(t *testing.T, par int) {
	ctx := context.Background()
	points := 0
	for _, kind := range []string{"write", "answer"} {
		for n := 1; ; n++ {
			srv := zumotest.NewServer(t, zumotest.WithTable("items", zumotest.SoftDelete(),
				zumotest.Seed(map[string]any{"id": "u1", "text": "old", "n": 1}, map[string]any{"id": "u2", "text": "old", "n": 2},
					map[string]any{"id": "d1", "text": "bye", "n": 3})))
			db := filepath.Join(t.TempDir(), "crash.db")
			prepare := func() {
				s, err := sqlitestore.Open(db)
				require.NoError(t, err)
				defer s.Close()
				c, err := zumo.NewClient(srv.URL)
				require.NoError(t, err)
				sc, err := offline.New(c, s)
				require.NoError(t, err)
				tbl := offline.GetTable[crashItem](sc, "items")
				_, err = tbl.Pull(ctx, "all", tbl.Query())
				require.NoError(t, err)
				for i := range 4 {
					_, err = tbl.Insert(ctx, crashItem{ID: fmt.Sprintf("i%d", i), Text: "new", N: 10 + i})
					require.NoError(t, err)
				}
				for _, id := range []string{"u1", "u2"} {
					_, err = tbl.Update(ctx, crashItem{ID: id, Text: "edited"})
					require.NoError(t, err)
				}
				require.NoError(t, tbl.Delete(ctx, crashItem{ID: "d1"}))
			}
			prepare()
			w, a := 0, 0
			if kind == "write" {
				w = n
			} else {
				a = n
			}
			killed := runHelperParallel(t, "push", db, srv.URL, w, a, par)

			// Reopen: the queue is readable and every operation matches its row.
			s, err := sqlitestore.Open(db)
			require.NoError(t, err)
			c, err := zumo.NewClient(srv.URL)
			require.NoError(t, err)
			sc, err := offline.New(c, s)
			require.NoError(t, err)
			tbl := offline.GetTable[crashItem](sc, "items")
			ops, err := sc.PendingOperations(ctx)
			require.NoError(t, err)
			for _, op := range ops {
				_, err := tbl.Lookup(ctx, op.ID)
				if op.Kind == offline.OpDelete {
					assert.ErrorIs(t, err, zumo.ErrNotFound, "%s point %d: a deleted row stays deleted", kind, n)
				} else {
					assert.NoError(t, err, "%s point %d: an operation's row exists", kind, n)
				}
			}
			// A second push completes and the server ends as expected.
			_, err = sc.Push(ctx)
			require.NoError(t, err, "%s point %d", kind, n)
			rows, err := srv.Rows("items")
			require.NoError(t, err)
			live := map[string]map[string]any{}
			for _, r := range rows {
				if r["deleted"] != true {
					live[r["id"].(string)] = r
				}
			}
			assert.Len(t, rows, 7, "%s point %d: no duplicate inserts", kind, n)
			assert.Len(t, live, 6, "%s point %d", kind, n)
			for _, id := range []string{"u1", "u2"} {
				assert.Equal(t, "edited", live[id]["text"], "%s point %d", kind, n)
			}
			for i := range 4 {
				assert.Equal(t, "new", live[fmt.Sprintf("i%d", i)]["text"], "%s point %d", kind, n)
			}
			local, err := tbl.ToSlice(ctx)
			require.NoError(t, err)
			assert.Len(t, local, 6, "%s point %d", kind, n)
			for _, it := range local {
				assert.Equal(t, live[it.ID]["version"], it.Version, "%s point %d: local rows are the server's", kind, n)
			}
			require.NoError(t, s.Close())
			if !killed {
				break // the helper ran to the end: every point was covered
			}
			points++
		}
	}
	t.Logf("killed at %d points", points)
	assert.Greater(t, points, 30)
}

func TestCrashDuringPull(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var seed []any
	for i := range 180 {
		// Runs of rows share one updatedAt, across page boundaries.
		seed = append(seed, map[string]any{"id": fmt.Sprintf("r%03d", i), "text": "t", "n": i,
			"updatedAt": at.Add(time.Duration(i/70) * time.Millisecond)})
	}
	srv := zumotest.NewServer(t, zumotest.WithTable("items", zumotest.PageSize(50), zumotest.Seed(seed...)))
	points := 0
	for n := 1; ; n += 7 {
		db := filepath.Join(t.TempDir(), "crash.db")
		killed := runHelper(t, "pull", db, srv.URL, n, 0)
		s, err := sqlitestore.Open(db)
		require.NoError(t, err)
		c, err := zumo.NewClient(srv.URL)
		require.NoError(t, err)
		sc, err := offline.New(c, s, offline.WithPageSize(50))
		require.NoError(t, err)
		tbl := offline.GetTable[crashItem](sc, "items")
		stored, err := tbl.ToSlice(ctx)
		require.NoError(t, err)
		assert.True(t, len(stored)%50 == 0 || len(stored) == 180, "point %d: whole pages only (%d rows)", n, len(stored))
		res, err := tbl.Pull(ctx, "all", tbl.Query())
		require.NoError(t, err)
		assert.Equal(t, 180-len(stored), res.Rows, "point %d: the token matched the rows: each row once", n)
		all, err := tbl.ToSlice(ctx)
		require.NoError(t, err)
		assert.Len(t, all, 180, "point %d", n)
		require.NoError(t, s.Close())
		if !killed {
			break
		}
		points++
	}
	t.Logf("killed at %d points", points)
	assert.Greater(t, points, 10)
}

// localWrites is the helper's work in "write" mode: inserts, updates and
// deletes that collapse in every way the queue knows.
func localWrites(ctx context.Context, tbl *offline.Table[crashItem]) error {
	for i := range 6 {
		if _, err := tbl.Insert(ctx, crashItem{ID: fmt.Sprintf("i%d", i), Text: "new"}); err != nil {
			return err
		}
	}
	for i := range 6 {
		if _, err := tbl.Update(ctx, crashItem{ID: fmt.Sprintf("i%d", i), Text: "edited", N: i}); err != nil {
			return err
		}
		if i%2 == 0 {
			if err := tbl.Delete(ctx, crashItem{ID: fmt.Sprintf("i%d", i)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestCrashDuringLocalWrites kills a process at each store write of a
// series of local changes (inserts, updates collapsing into them, deletes
// cancelling them): after reopening, every stored row has its insert
// queued and every queued insert its row; a helper that ran to the end
// left the rows it did not delete, with their last values.
func TestCrashDuringLocalWrites(t *testing.T) {
	ctx := context.Background()
	points := 0
	for n := 1; ; n++ {
		db := filepath.Join(t.TempDir(), "crash.db")
		killed := runHelper(t, "write", db, "http://127.0.0.1:1/", n, 0)
		s, err := sqlitestore.Open(db)
		require.NoError(t, err)
		sc, err := offline.New(newClient(t), s)
		require.NoError(t, err)
		tbl := offline.GetTable[crashItem](sc, "items")
		ops, err := sc.PendingOperations(ctx)
		require.NoError(t, err)
		queued := map[string]offline.OpKind{}
		for _, op := range ops {
			queued[op.ID] = op.Kind
		}
		rows, err := tbl.ToSlice(ctx)
		require.NoError(t, err)
		for _, r := range rows {
			assert.Equal(t, offline.OpInsert, queued[r.ID], "point %d: %s is stored with its insert queued", n, r.ID)
		}
		assert.Len(t, queued, len(rows), "point %d: no operation without its row", n)
		for id, k := range queued {
			assert.Equal(t, offline.OpInsert, k, "point %d: %s (never pushed, so deletes cancel inserts)", n, id)
		}
		if !killed {
			assert.Len(t, rows, 3, "the odd rows remain")
			for _, r := range rows {
				assert.Equal(t, "edited", r.Text)
			}
		}
		require.NoError(t, s.Close())
		if !killed {
			break
		}
		points++
	}
	t.Logf("killed at %d points", points)
	assert.Greater(t, points, 20)
}
