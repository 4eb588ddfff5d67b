package zumo_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
	"github.com/zumo-go/zumo/zumotest"
)

// Who logs in (WithAuthenticator), where the user is kept (WithUserStore)
// and how the auth handler behaves (WithAuth) are three separate options.
func ExampleWithAuth() {
	srv := zumotest.New(
		zumotest.WithTable("todoitem", zumotest.Authenticated()),
		zumotest.WithUser("custom", "ann", "s3cret", "sid:ann"))
	srv.Start()
	defer srv.Close()

	store := cache.NewMemory()
	client, err := zumo.NewClient(srv.URL,
		zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{"username": "ann", "password": "s3cret"})),
		zumo.WithUserStore(store, "ann"),
		zumo.WithAuth(
			auth.WithSkew(5*time.Minute),        // renew five minutes before expiry
			auth.WithRefreshGrace(24*time.Hour), // refresh an expired token for a day
			auth.WithOnUser(func(u *zumo.User) { fmt.Println("logged in:", u.ID()) }),
		))
	if err != nil {
		log.Fatal(err)
	}
	// The first request logs in (once, however many requests wait).
	if _, err := zumo.GetTable[TodoItem](client, "todoitem").Query().ToSlice(context.Background()); err != nil {
		log.Fatal(err)
	}
	stored, _ := store.Load(context.Background(), auth.Key(client.AppURL(), "ann"))
	fmt.Println("stored:", stored.ID())
	// Output:
	// logged in: sid:ann
	// stored: sid:ann
}
