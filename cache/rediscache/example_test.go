package rediscache_test

import (
	"crypto/tls"
	"encoding/base64"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/cache/rediscache"
)

// A service instance shares its login with the rest of the fleet through
// Redis, over TLS with an ACL user, with entries encrypted at rest. (This
// example needs a running Redis, so it is compiled but not run.)
func Example() {
	key, err := base64.StdEncoding.DecodeString(os.Getenv("ZUMO_STORE_KEY")) // 32 random bytes, shared by the fleet
	if err != nil || len(key) != 32 {
		log.Fatal("ZUMO_STORE_KEY must be 32 bytes in base64")
	}
	rc := redis.NewClient(&redis.Options{
		Addr:                  "redis.internal:6380",
		Username:              "zumo",
		Password:              os.Getenv("REDIS_PASSWORD"),
		TLSConfig:             &tls.Config{MinVersion: tls.VersionTLS12, ServerName: "redis.internal"},
		DialTimeout:           time.Second,
		DialerRetries:         1,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		ContextTimeoutEnabled: true,
	})
	defer rc.Close()

	store := rediscache.New(rc,
		rediscache.WithPrefix("todo-service:"),
		rediscache.WithEncryptionKey(key),
		rediscache.WithLogger(slog.Default()),
	)
	client, err := zumo.NewClient("https://todo.azurewebsites.net",
		zumo.WithAuthenticator(auth.Credentials("custom", map[string]string{
			"username": "svc", "password": os.Getenv("SVC_PASSWORD"),
		})),
		zumo.WithUserStore(store, "svc"),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = client // every instance of the service logs in at most once per token
}

// A store from a URL such as rediss://zumo:secret@redis.internal:6380/0.
func ExampleNew_url() {
	opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
	if err != nil {
		log.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	store := rediscache.New(rc, rediscache.WithLockTTL(15*time.Second))
	_ = store
}
