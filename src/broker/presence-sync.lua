-- One process's presence on one channel, written atomically with the sweep of expired entries,
-- so "first stream of a sub" and "last stream of a sub" are decided once over all processes.
-- KEYS[1] sorted set: 'p:<pid>' (the process has streams here) and 'm:<pid>:<sub>' (the sub has
--         streams here on that process), each scored by its expiry in ms (Redis clock)
-- KEYS[2] hash: 'c:<pid>' streams of the process, 'n:<pid>:<sub>' streams of the sub on the
--         process, 's:<sub>' processes holding the sub, 'i:<sub>' the sub's info JSON
-- ARGV[1] process id (no ':'), ARGV[2] entry lifetime in ms, ARGV[3] pub/sub channel,
-- ARGV[4] publish command, ARGV[5] channel name, ARGV[6] the process's streams on the channel,
-- ARGV[7] '1' for a renewal (the counts are as last written: only expiries move),
-- then per changed sub: sub, its streams on this process (0 = gone), info JSON
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[2])
local expiry = now + ttl
local pid = ARGV[1]
local channelJson = cjson.encode(ARGV[5])

-- Join and leave go out on the channel's own pub/sub channel, so only processes with streams on
-- it receive them, in order with its events, over the one subscriber connection they already have.
local function announce(signal, sub, info)
  redis.call(ARGV[4], ARGV[3], signal .. ' {"channel":' .. channelJson .. ',"sub":' .. cjson.encode(sub) .. ',"info":' .. info .. '}')
end

-- One process stopped holding `sub`; the last one to stop makes it leave.
local function release(sub)
  if redis.call('HINCRBY', KEYS[2], 's:' .. sub, -1) <= 0 then
    local info = redis.call('HGET', KEYS[2], 'i:' .. sub) or '{}'
    redis.call('HDEL', KEYS[2], 's:' .. sub, 'i:' .. sub)
    announce('leave', sub, info)
  end
end

-- Entries of processes that stopped refreshing (they died, or lost Redis for a whole lifetime).
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], member)
  local rest = string.sub(member, 3)
  if string.sub(member, 1, 1) == 'p' then
    redis.call('HDEL', KEYS[2], 'c:' .. rest)
  else
    redis.call('HDEL', KEYS[2], 'n:' .. rest)
    release(string.sub(rest, string.find(rest, ':', 1, true) + 1))
  end
end

local connections = tonumber(ARGV[6])
if connections > 0 then
  redis.call('ZADD', KEYS[1], expiry, 'p:' .. pid)
  redis.call('HSET', KEYS[2], 'c:' .. pid, connections)
else
  redis.call('ZREM', KEYS[1], 'p:' .. pid)
  redis.call('HDEL', KEYS[2], 'c:' .. pid)
end

local renewal = ARGV[7] == '1'
for i = 8, #ARGV, 3 do
  local sub, count, info = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local member = 'm:' .. pid .. ':' .. sub
  if count > 0 then
    -- ZADD answers 1 for a new entry (also after a sweep of this process's own stale one: it
    -- joins again); renewing a known entry costs this one ZADD.
    local added = redis.call('ZADD', KEYS[1], expiry, member) == 1
    if added or not renewal then redis.call('HSET', KEYS[2], 'n:' .. pid .. ':' .. sub, count) end
    if added and redis.call('HINCRBY', KEYS[2], 's:' .. sub, 1) == 1 then
      redis.call('HSET', KEYS[2], 'i:' .. sub, info)
      announce('join', sub, info)
    end
  elseif redis.call('ZREM', KEYS[1], member) == 1 then
    redis.call('HDEL', KEYS[2], 'n:' .. pid .. ':' .. sub)
    release(sub)
  end
end

-- Keys whose every process died without a survivor to sweep them disappear on their own.
if redis.call('ZCARD', KEYS[1]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl * 2)
  redis.call('PEXPIRE', KEYS[2], ttl * 2)
else
  redis.call('DEL', KEYS[1], KEYS[2])
end
return 1
