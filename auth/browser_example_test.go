package auth_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
)

// A CLI that logs its user in through the browser and keeps the user in a
// file cache. It needs a real service and a browser, so it is compiled but
// not run here; examples/browserlogin is the runnable program.
func ExampleBrowser() {
	dir, err := os.UserCacheDir()
	if err != nil {
		fmt.Println(err)
		return
	}
	store, err := cache.NewFile(filepath.Join(dir, "mycli"))
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := zumo.NewClient("https://myapp.azurewebsites.net/",
		// App Service must allow http://127.0.0.1:8400/callback as a redirect URL.
		zumo.WithAuthenticator(auth.Browser("aad", auth.BrowserPort(8400))),
		zumo.WithUserStore(store, "aad"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Prints the URL, opens the browser and waits; the next run finds the
	// user in the cache (and renews it through /.auth/refresh) instead.
	u, err := client.LoginWithAuthenticator(ctx)
	if err != nil {
		fmt.Println("login failed:", err)
		return
	}
	fmt.Println("logged in as", u.ID())
}
