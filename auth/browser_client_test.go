package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/internal/fakebrowser"
	"github.com/zumo-go/zumo/zumotest"
)

// countingBrowser is an opener that follows the login like a browser and
// counts the windows it opened.
type countingBrowser struct {
	fb      fakebrowser.Browser
	windows atomic.Int64
	titles  chan string
}

func (c *countingBrowser) open(ctx context.Context, u string) error {
	c.windows.Add(1)
	res, err := c.fb.Open(ctx, u)
	if err != nil {
		c.titles <- "browser: " + err.Error()
		return err
	}
	c.titles <- res.Title
	return nil
}

// TestBrowserLoginSharedByClient: a thousand requests needing a login open
// one browser window; the user lands in the store, and a second client on
// the same store needs no window at all.
func TestBrowserLoginSharedByClient(t *testing.T) {
	srv := zumotest.NewServer(t,
		zumotest.WithBrowserLogin("aad", zumotest.BrowserLogin{UserID: "sid:ann"}),
		zumotest.WithTable("todoitem", zumotest.Authenticated()))
	store := cache.NewMemory()
	br := &countingBrowser{fb: fakebrowser.Browser{Client: srv.Client()}, titles: make(chan string, 10)}
	newClient := func() *zumo.Client {
		c, err := zumo.NewClient(srv.URL,
			zumo.WithHTTPClient(srv.Client()),
			zumo.WithAuthenticator(auth.Browser("aad", auth.BrowserOpener(br.open), auth.BrowserOutput(nil))),
			zumo.WithUserStore(store, "ann"))
		require.NoError(t, err)
		return c
	}
	c := newClient()
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Table("todoitem").ToSlice(context.Background())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), br.windows.Load(), "one browser window for %d requests", n)
	assert.Equal(t, "Logged in", <-br.titles)
	st := srv.Stats()
	assert.Equal(t, 1, st.Logins)
	assert.Equal(t, 0, st.Unauthorized)
	assert.Equal(t, n, st.Routes["GET /tables/todoitem"])
	require.NotNil(t, c.CurrentUser())
	assert.Equal(t, "sid:ann", c.CurrentUser().ID())

	stored, err := store.Load(context.Background(), auth.Key(c.AppURL(), "ann"))
	require.NoError(t, err, "the user is cached by the store")
	assert.Equal(t, c.CurrentUser().Token(), stored.Token())

	c2 := newClient()
	_, err = c2.Table("todoitem").ToSlice(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), br.windows.Load(), "the cached user needs no second window")
	assert.Equal(t, 1, srv.Stats().Logins)
}

// TestBrowserLoginRefreshed: a browser user whose token is about to expire
// is renewed through /.auth/refresh, not by a new browser window.
func TestBrowserLoginRefreshed(t *testing.T) {
	// The server's clock runs 59 minutes behind: its one-hour tokens have a
	// minute left by the client's clock, inside the renewal margin.
	clock := zumotest.NewClock(time.Now().Add(-59 * time.Minute))
	srv := zumotest.NewServer(t, zumotest.WithClock(clock.Now),
		zumotest.WithBrowserLogin("aad", zumotest.BrowserLogin{UserID: "sid:ann"}),
		zumotest.WithTable("todoitem", zumotest.Authenticated()))
	store := cache.NewMemory()
	br := &countingBrowser{fb: fakebrowser.Browser{Client: srv.Client()}, titles: make(chan string, 10)}
	c, err := zumo.NewClient(srv.URL, zumo.WithHTTPClient(srv.Client()), zumo.WithUserStore(store, "ann"),
		zumo.WithAuthenticator(auth.Browser("aad", auth.BrowserOpener(br.open), auth.BrowserOutput(nil))))
	require.NoError(t, err)
	// An earlier browser login left its user in the store.
	require.NoError(t, store.Save(context.Background(), auth.Key(c.AppURL(), "ann"),
		auth.NewUser("sid:ann", srv.IssueToken("sid:ann", time.Hour))))
	_, err = c.Table("todoitem").ToSlice(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(0), br.windows.Load(), "no browser window")
	st := srv.Stats()
	assert.Equal(t, 1, st.Refreshes)
	assert.Equal(t, 0, st.Logins)
}
