package cache_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache"
)

// exampleToken builds a JWT-shaped token that expires at 2030-03-17
// 17:46:40 UTC. Its signature is made up: neither auth.NewUser nor the
// stores verify it.
func exampleToken() string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims := enc.EncodeToString([]byte(`{"sub":"sid:0123","idp":"aad","exp":1900000000}`))
	return header + "." + claims + "." + enc.EncodeToString([]byte("not-a-real-signature"))
}

func ExampleNewMemory() {
	ctx := context.Background()
	store := cache.NewMemory()
	key := auth.Key("https://myapp.azurewebsites.net", "aad:alice")

	if _, err := store.Load(ctx, key); errors.Is(err, auth.ErrNoUser) {
		fmt.Println("no user yet: log in")
	}
	if err := store.Save(ctx, key, auth.NewUser("sid:0123", exampleToken())); err != nil {
		log.Fatal(err)
	}
	u, err := store.Load(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u) // a User prints without its token
	// Output:
	// no user yet: log in
	// user "sid:0123" (token redacted, expires 2030-03-17T17:46:40Z)
}

func ExampleNewFile() {
	dir, err := os.MkdirTemp("", "zumo-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A real program would use cache.DefaultDir().
	store, err := cache.NewFile(filepath.Join(dir, "users"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	key := auth.Key("https://myapp.azurewebsites.net", "aad:alice")
	if err := store.Save(ctx, key, auth.NewUser("sid:0123", exampleToken())); err != nil {
		log.Fatal(err)
	}

	// Another run of the program, or another process, finds the user.
	again, err := cache.NewFile(filepath.Join(dir, "users"))
	if err != nil {
		log.Fatal(err)
	}
	u, err := again.Load(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	exp, _ := u.ExpiresAt()
	fmt.Println(u.ID(), "expires", exp.Format("2006-01-02"))

	if err := again.Clear(ctx, key); err != nil {
		log.Fatal(err)
	}
	_, err = again.Load(ctx, key)
	fmt.Println(err)
	// Output:
	// sid:0123 expires 2030-03-17
	// auth: no user stored
}

// A damaged entry is reported as corrupt and treated as no user; the next
// Save replaces it.
func ExampleFile_Load_corrupt() {
	dir, err := os.MkdirTemp("", "zumo-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := cache.NewFile(dir)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	key := auth.Key("https://myapp.azurewebsites.net", "aad:alice")
	if err := store.Save(ctx, key, auth.NewUser("sid:0123", exampleToken())); err != nil {
		log.Fatal(err)
	}

	// Damage the entry, as a full disk or a stray editor might.
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) != 1 {
		log.Fatal("expected one entry file")
	}
	if err := os.WriteFile(names[0], []byte(`{"v":1,"key":`), 0o600); err != nil {
		log.Fatal(err)
	}

	u, err := store.Load(ctx, key)
	var corrupt *cache.CorruptEntryError
	switch {
	case errors.Is(err, auth.ErrNoUser):
		fmt.Println("no user")
	case errors.As(err, &corrupt):
		fmt.Println("corrupt entry:", corrupt.Err)
		fmt.Println("same file:", corrupt.Entry == names[0])
		fmt.Println("wraps auth.ErrCorruptEntry:", errors.Is(err, auth.ErrCorruptEntry))
		fmt.Println("user:", u)
	}

	// Log in again and save: the new entry replaces the damaged one.
	if err := store.Save(ctx, key, auth.NewUser("sid:0123", exampleToken())); err != nil {
		log.Fatal(err)
	}
	u, err = store.Load(ctx, key)
	fmt.Println(u.ID(), err)
	// Output:
	// corrupt entry: entry is not valid JSON (syntax error at byte 13)
	// same file: true
	// wraps auth.ErrCorruptEntry: true
	// user: <nil user>
	// sid:0123 <nil>
}
