package rediscache

import "github.com/redis/go-redis/v9"

// The Lua scripts Coordinate runs: each is one atomic step of the fleet's
// protocol (invalidate, release, extend, offer), run server-side so that no
// other process can act between its read and its write.

// casLoadScript reads the entry (KEYS[1]) after deleting it when its token
// hash equals ARGV[1]: the compare-and-swap that invalidates a rejected
// token without touching a newer one another process saved meanwhile. It
// returns the value, nil when there is none (or it was just deleted), or 0
// when the key holds something other than a string. A value that is not
// this package's JSON is left alone.
var casLoadScript = redis.NewScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then return false end
if t ~= 'string' then return 0 end
local v = redis.call('GET', KEYS[1])
local ok, e = pcall(cjson.decode, v)
if ok and type(e) == 'table' and e['th'] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return false
end
return v
`)

// releaseScript deletes the lock (KEYS[1]) only while it still belongs to
// the owner ARGV[1]: a holder whose lock expired and was taken by another
// process must not release the other's lock.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// extendScript resets the lock's (KEYS[1]) TTL to ARGV[2] milliseconds
// while it still belongs to the owner ARGV[1]. It returns 1 when the lock
// was extended, 0 when it is no longer ours.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// offerScript saves the value ARGV[1] (with a TTL of ARGV[2] milliseconds,
// none when "") under KEYS[1] unless that would overwrite a user someone
// else saved: only when no login holds the lock (KEYS[2]) and the entry is
// absent or still holds the token whose hash is ARGV[3] (when not ""). It
// returns 1 when it saved. A user logged in without the lock is offered to
// the fleet this way, so that a save that lands late never replaces a
// newer user saved under the lock.
var offerScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) then return 0 end
local t = redis.call('TYPE', KEYS[1])['ok']
if t ~= 'none' then
  if t ~= 'string' or ARGV[3] == '' then return 0 end
  local ok, e = pcall(cjson.decode, redis.call('GET', KEYS[1]))
  if not (ok and type(e) == 'table' and e['th'] == ARGV[3]) then return 0 end
end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
`)
