// Package rediscache is a user store kept in Redis, for a fleet of service
// instances that log in to one Azure Mobile Apps backend as the same
// identity: one instance logs in, the others use its user, and after a
// token expires or the server rejects it exactly one instance logs in
// again.
//
// It is a separate module (github.com/zumo-go/zumo/cache/rediscache) so that
// programs that do not use Redis never download a Redis client.
//
// # Use
//
// The caller builds the go-redis client — address, TLS, ACL user and
// password, timeouts — and hands it to New:
//
//	rc := redis.NewClient(&redis.Options{
//		Addr:      "redis.internal:6380",
//		Username:  "zumo",                 // Redis 6 ACL user
//		Password:  os.Getenv("REDIS_PASSWORD"),
//		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: "redis.internal"},
//		// The store bounds each command itself (WithOpTimeout) and falls
//		// back to logging in without the fleet's lock when Redis is away;
//		// short timeouts here free an abandoned command's connection sooner.
//		DialTimeout:           time.Second,
//		DialerRetries:         1,
//		ReadTimeout:           time.Second,
//		WriteTimeout:          time.Second,
//		ContextTimeoutEnabled: true,
//	})
//	store := rediscache.New(rc,
//		rediscache.WithPrefix("myservice:"),
//		rediscache.WithEncryptionKey(key), // 32 random bytes shared by the fleet
//		rediscache.WithLogger(slog.Default()),
//	)
//	client, err := zumo.NewClient(appURL,
//		zumo.WithAuthenticator(auth.Credentials("custom", creds)),
//		zumo.WithUserStore(store, "svc-account"),
//	)
//
// redis.NewFailoverClient (Sentinel) and redis.NewClusterClient work the
// same way; redis.ParseURL reads a rediss://user:password@host:port/db URL.
//
// # The hot path stays local
//
// The auth handler keeps the current user in memory. It calls the store
// only when it needs a login decision: no user yet, a token about to
// expire, or a 401. A request with a valid token sends no Redis command.
//
// # Keys and values
//
// For an auth key k (see auth.Key) the store uses, with the default prefix
// "zumo:":
//
//	zumo:{k}          the entry: a string holding the user, with a TTL
//	zumo:{k}:lock     the fleet's login lock (a random owner id, PX TTL)
//	zumo:{k}:saved    the pub/sub channel that announces a new user
//
// k is used as it is when it is short (at most 200 bytes) printable ASCII
// without braces; otherwise it is replaced by "sha256:" and its hex SHA-256.
// The braces make it a Redis Cluster hash tag, so an entry and its lock
// share a slot. Store.EntryKey returns the entry's name.
//
// The entry is JSON with a format version:
//
//	{"v":1,"th":"<hex SHA-256 of the token>","key":"<k>","user":{"userId":"sid:…","authenticationToken":"…"},"savedAt":"…"}
//
// With WithEncryptionKey the key, user and savedAt are sealed with AES-GCM
// (random 96-bit nonce) and the entry is {"v":1,"th":"…","enc":"<base64
// nonce‖ciphertext>"}; the additional authenticated data is the Redis key
// and th, so a value copied to another key, or with another th, does not
// decrypt. th stays outside the encryption because the compare-and-swap
// script compares it; it is a hash of a random, signed token and reveals
// nothing usable.
//
// An entry lives as long as its token: exp − now plus ExpiryMargin (one
// minute, for clocks that disagree a little); a token without a known
// expiry is kept for WithDefaultTTL (default 24 hours).
//
// A value that cannot be used — not this package's JSON, another version,
// saved under another key, encrypted with another key (or not encrypted
// when a key is set), a token that does not match th, not a string at all —
// makes Load return a *CorruptEntryError wrapping auth.ErrCorruptEntry; the
// caller treats it as absent and the next login replaces it. No partial
// user is ever returned, and no error contains a value or a token.
//
// # One login across the fleet
//
// Store implements auth.Coordinator. When the auth handler needs a user it
// calls Coordinate, which:
//
//  1. after a 401, deletes the entry only if it still holds the rejected
//     token (a Lua script compares th with the hash of the rejected
//     token), so a newer token another instance saved survives;
//  2. returns the entry if the handler finds it usable;
//  3. otherwise takes the lock with SET lock owner NX PX ttl (WithLockTTL,
//     default 10 s), reads the entry again, calls the handler's login,
//     saves the user, releases the lock with a Lua script that deletes it
//     only while it still holds this owner, and PUBLISHes on the channel.
//     While the login runs the holder extends the lock every third of its
//     TTL (again only while it owns it), so a slow login keeps it and a
//     crashed holder loses it within one TTL;
//  4. an instance that did not get the lock subscribes to the channel and
//     waits for the notification or a poll interval — 25 ms doubling up to
//     a quarter of the lock TTL (at most 1 s), with jitter — whichever
//     comes first, then reads the entry and retries the lock. Polling only
//     backs up pub/sub: a missed message or a holder that died costs at
//     most one interval after the lock expires.
//
// Every wait ends when the caller's context does.
//
// # When Redis is away
//
// Every command the store sends is bounded by the op timeout
// (WithOpTimeout, default 1 s), whatever the caller's context and the
// go-redis client's timeouts and retries: a Redis that is down, restarting,
// or that accepts connections but never answers costs a login decision at
// most that long. A command abandoned after it fails with an error
// wrapping context.DeadlineExceeded; go-redis finishes it in the
// background within its own timeouts.
//
// Load, Save and Clear return an error wrapping go-redis's (the handler
// treats a failed Load as no user and carries on). Coordinate logs in
// without the lock — a local login beats no login — reports the Redis
// error through WithLogger, offers the user to the fleet in the background
// (the caller does not wait for it; a Lua script saves it only where the
// entry is absent or still holds the token this process rejected, and no
// login holds the lock, so a save that lands late never replaces a newer
// user), and returns login's result unchanged. Then it
// backs off: for 1 s after the failure, twice as long after each failed
// retry, at most 30 s, Coordinate logs in locally at once without sending
// anything to Redis, so that no login decision waits for a dead server
// again. After the back-off the next login decision tries Redis; the first
// command that succeeds (including a Load, Save or Clear) ends the
// back-off and is logged at Info. Nothing needs restarting: go-redis
// reconnects by itself. Meanwhile requests with a valid token are
// untouched, since they never reach Redis.
//
// The auth handler's logger (auth.WithLogger) does not see these faults —
// Coordinate hands the handler the local login's result as if nothing had
// happened — so give the store a logger with WithLogger; without one they
// are not reported at all.
//
// Short client timeouts, as in the example above, make go-redis give up
// an abandoned command (and free its pool connection) sooner.
//
// # Security
//
// Anyone who can read the Redis database can read the tokens unless
// WithEncryptionKey is set. Use TLS and an ACL user limited to the prefix
// and to the commands the store sends, both configured on the go-redis
// client; for the prefix "myservice:":
//
//	ACL SETUSER zumo on >password ~myservice:* &myservice:* +@connection
//	    +get +set +del +eval +evalsha +publish +subscribe +type +pexpire
//
// Tokens and values never appear in errors or log records; the logger sees
// Redis keys and error messages only.
//
// # Requirements
//
// Redis 2.6.12 or later (SET with NX and PX; Lua with cjson), or a
// compatible server such as Valkey. Tested with Redis 7.
package rediscache
