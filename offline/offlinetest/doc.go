// Package offlinetest is the conformance suite for offline.Store
// implementations: Run drives a sync context on the store against
// zumotest and checks the queue, push, pull, purge and local queries. The
// memory store and the SQLite store (a separate module) both run it.
package offlinetest
