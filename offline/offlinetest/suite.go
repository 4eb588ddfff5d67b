package offlinetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/zumotest"
)

// Opener returns a new, empty store for one test; the test closes it (if
// it needs closing) through t.Cleanup.
type Opener func(t *testing.T) offline.Store

// Item is the row type of the suite's table.
type Item struct {
	ID        string `json:"id,omitempty"`
	Text      string `json:"text"`
	Priority  int    `json:"priority"`
	Done      bool   `json:"done"`
	Version   string `json:"version,omitempty"`
	UpdatedAt string `json:"updatedAt,omitempty"`
}

// Run runs every test of the suite on stores from open.
func Run(t *testing.T, open Opener) {
	t.Run("Store", func(t *testing.T) { testStore(t, open) })
	t.Run("Queue", func(t *testing.T) { testQueue(t, open) })
	t.Run("Push", func(t *testing.T) { testPush(t, open) })
	t.Run("Conflicts", func(t *testing.T) { testConflicts(t, open) })
	t.Run("LostAnswers", func(t *testing.T) { testLostAnswers(t, open) })
	t.Run("Pull", func(t *testing.T) { testPull(t, open) })
	t.Run("Purge", func(t *testing.T) { testPurge(t, open) })
	t.Run("Queries", func(t *testing.T) { testQueries(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
}

// env is one test's server, client, store and table.
type env struct {
	srv   *zumotest.Server
	c     *zumo.Client
	store offline.Store
	sc    *offline.SyncContext
	tbl   *offline.Table[Item]
}

func newEnv(t *testing.T, open Opener, srvOpts []zumotest.Option, opts ...offline.Option) *env {
	t.Helper()
	if srvOpts == nil {
		srvOpts = []zumotest.Option{zumotest.WithTable("items", zumotest.SoftDelete())}
	}
	srv := zumotest.NewServer(t, srvOpts...)
	c, err := zumo.NewClient(srv.URL, zumo.WithHTTPClient(srv.Client()))
	require.NoError(t, err)
	return newEnvOn(t, srv, c, open(t), opts...)
}

func newEnvOn(t *testing.T, srv *zumotest.Server, c *zumo.Client, store offline.Store, opts ...offline.Option) *env {
	t.Helper()
	sc, err := offline.New(c, store, opts...)
	require.NoError(t, err)
	return &env{srv: srv, c: c, store: store, sc: sc, tbl: offline.GetTable[Item](sc, "items")}
}

func pending(t *testing.T, sc *offline.SyncContext) []offline.Operation {
	t.Helper()
	ops, err := sc.PendingOperations(context.Background())
	require.NoError(t, err)
	return ops
}

// serverRow returns a live (not soft-deleted) row of the server's table.
func serverRow(srv *zumotest.Server, id string) (map[string]any, bool) {
	row, ok := srv.Row("items", id)
	if !ok || row["deleted"] == true {
		return nil, false
	}
	return row, true
}

// Ticker returns a server clock that moves 1 ms each time it is read, so
// every change gets its own updatedAt whatever the machine's speed.
func Ticker() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}
