package rediscache

import "github.com/zumo-go/zumo/cache"

// CorruptEntryError is the error Load returns for a value under the key
// that cannot be used: not this package's JSON, an unknown format version,
// saved under another key, encrypted when no key is configured (or not
// encrypted when one is), failing to decrypt (a wrong key, a value moved
// from another Redis key), larger than DefaultMaxEntrySize, or holding no
// user id or no token. It is cache.CorruptEntryError with the Redis key as
// its Entry: it wraps auth.ErrCorruptEntry, and neither field ever holds
// the value.
type CorruptEntryError = cache.CorruptEntryError

// entryFields are the JSON names in an entry, the only names a fault
// description may quote.
var entryFields = []string{"v", "th", "enc", "key", "user", "savedAt", "userId", "authenticationToken"}

// jsonFault is cache.DecodeFault for a Redis entry.
func jsonFault(what string, err error) error { return cache.DecodeFault(what, err, entryFields...) }
