-- One process's presence on one channel, written atomically with the sweep of expired entries,
-- so "first stream of a sub" and "last stream of a sub" are decided once over all processes.
-- KEYS[1] sorted set: 'p:<pid>' (the process has streams here) and 'm:<pid>:<sub>' (the sub has
--         streams here on that process), each scored by its expiry in ms (Redis clock)
-- KEYS[2] hash: 'c:<pid>' streams of the process, 'n:<pid>:<sub>' streams of the sub on the
--         process, 's:<sub>' processes holding the sub, 'i:<sub>' the sub's info JSON,
--         'count' distinct subs listed
-- ARGV[1] process id (no ':'), ARGV[2] entry lifetime in ms, ARGV[3] pub/sub channel,
-- ARGV[4] publish command, ARGV[5] channel name, ARGV[6] the process's streams on the channel,
-- ARGV[7] '1' for a renewal (the counts are as last written: only expiries move),
-- ARGV[8] '1' for the first write after an outage (sweep only this process's own entries),
-- ARGV[9] '1' when the subs below are all this process holds on the channel (a refresh's last
-- call), ARGV[10] the most distinct subs listed (a newcomer past it is counted, not listed),
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
    redis.call('HINCRBY', KEYS[2], 'count', -1)
    announce('leave', sub, info)
  end
end

-- The subs this call keeps on this process.
local FIRST_MEMBER_ARG = 11
local kept = {}
for i = FIRST_MEMBER_ARG, #ARGV, 3 do
  if tonumber(ARGV[i + 1]) > 0 then kept[ARGV[i]] = true end
end

-- Entries of processes that stopped refreshing (they died, or lost Redis for a whole lifetime).
-- This process's own expired entries (it rode out an outage) are swept without a leave when
-- this call keeps them, released only by a call that lists everything it holds, and left for
-- a later call otherwise: a sub still connected here never leaves. After an outage (restore)
-- other processes' entries wait for the next write: they may have ridden it out too.
local restore = ARGV[8] == '1'
local complete = ARGV[9] == '1'
local ownHead = 'm:' .. pid .. ':'
local ownStale = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  local rest = string.sub(member, 3)
  if string.sub(member, 1, 1) == 'p' then
    if rest == pid or not restore then
      redis.call('ZREM', KEYS[1], member)
      redis.call('HDEL', KEYS[2], 'c:' .. rest)
    end
  else
    local sub = string.sub(rest, string.find(rest, ':', 1, true) + 1)
    local own = string.sub(member, 1, #ownHead) == ownHead
    local sweep = (own and (kept[sub] or complete)) or (not own and not restore)
    if sweep then
      redis.call('ZREM', KEYS[1], member)
      redis.call('HDEL', KEYS[2], 'n:' .. rest)
      if own and kept[sub] then ownStale[sub] = true else release(sub) end
    end
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
local maxMembers = tonumber(ARGV[10])
for i = FIRST_MEMBER_ARG, #ARGV, 3 do
  local sub, count, info = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local member = 'm:' .. pid .. ':' .. sub
  local full = redis.call('HEXISTS', KEYS[2], 's:' .. sub) == 0
    and tonumber(redis.call('HGET', KEYS[2], 'count') or '0') >= maxMembers
  if count > 0 and not full then
    -- ZADD answers 1 for a new entry; renewing a known entry costs this one ZADD.
    local added = redis.call('ZADD', KEYS[1], expiry, member) == 1
    if added or not renewal then redis.call('HSET', KEYS[2], 'n:' .. pid .. ':' .. sub, count) end
    if ownStale[sub] then
      -- Swept above but still held here: it never stopped counting in 's:'.
      ownStale[sub] = nil
    elseif added and redis.call('HINCRBY', KEYS[2], 's:' .. sub, 1) == 1 then
      redis.call('HSET', KEYS[2], 'i:' .. sub, info)
      redis.call('HINCRBY', KEYS[2], 'count', 1)
      -- After an outage the keys may have expired: streams open here all along were seen
      -- joining before it, so restoring them announces nothing.
      if not restore then announce('join', sub, info) end
    end
  elseif count > 0 then
    -- The channel lists its most: the streams count in 'c:', the sub waits for a free place
    -- (the next refresh writes it again).
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
