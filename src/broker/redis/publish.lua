-- The atomic publish: id, capped history, expiry and pub/sub in one step, so ids, history order
-- and delivery order always agree (a separate INCR would let publishers interleave).
-- KEYS[1] id counter, KEYS[2] history list, and only with an idempotency key: KEYS[3] its record
-- in the publisher's scope: '<id> <sha1 of event LF data> <event>'
-- ARGV[1] event name, ARGV[2] data JSON, ARGV[3] history size, ARGV[4] pub/sub channel,
-- ARGV[5] the publisher's clock in ms (prefixed to the pub/sub message for latency metrics),
-- ARGV[6] history TTL in ms ('0' = never expire), ARGV[7] '1' on a Redis Cluster: SPUBLISH to a
-- shard channel carrying the keys' hash tag ('0' = classic PUBLISH),
-- ARGV[8] the idempotency record's TTL in ms (with KEYS[3] only).
-- Every redis.call costs Redis about a microsecond: a publish makes five in the common case
-- (PTTL, INCR, RPUSH, LTRIM, PUBLISH) and leaves out what changes nothing.
local sharded = ARGV[7] == '1'
if sharded then
  -- A shard channel in another slot than the keys would publish where nobody listens. Redis
  -- rejects such an SPUBLISH only when it runs, after the writes below (a script is not rolled
  -- back), so compare the hash tags first and fail before anything is stored. (The channel is
  -- not declared as a key: during a slot migration a key that never exists would turn every
  -- publish into TRYAGAIN.)
  local keyTag = string.match(KEYS[2], '{([^}]+)}')
  local channelTag = string.match(ARGV[4], '{([^}]+)}')
  if keyTag == nil or keyTag ~= channelTag then
    return redis.error_reply('CROSSSLOT shard channel ' .. ARGV[4] .. ' does not share the hash tag of ' .. KEYS[2])
  end
end

local idempotent = KEYS[3] ~= nil
local fingerprint
if idempotent then
  fingerprint = redis.sha1hex(ARGV[1] .. '\n' .. ARGV[2])
  local earlier = redis.call('GET', KEYS[3])
  if earlier then
    -- Compared here, in the same atomic step, so two racing publishes cannot both pass.
    local earlierId, earlierPrint, earlierEvent = string.match(earlier, '^(%d+) (%x+) (.+)$')
    -- A record of the previous format ('<id> <event>', at most 5 minutes old) counts as the same.
    if earlierId == nil then return {0, earlier} end
    if earlierPrint ~= fingerprint then return {2, ''} end
    return {0, earlierId .. ' ' .. earlierEvent}
  end
end

-- The history's remaining lifetime: -2 it does not exist, -1 it never expires, else ms.
local remaining = redis.call('PTTL', KEYS[2])
local id
if remaining ~= -2 then
  id = redis.call('INCR', KEYS[1])
else
  -- History starts (first publish, expired, or Redis lost it): start at the time in microseconds
  -- so ids keep increasing across the reset and an old resume point is seen as a gap.
  local now = redis.call('TIME')
  id = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
  if previous >= id then id = previous + 1 end
  redis.call('SET', KEYS[1], string.format('%.0f', id))
end

local idText = string.format('%.0f', id)
local entry = '{"id":"' .. idText .. '","event":"' .. ARGV[1] .. '","data":' .. ARGV[2] .. '}'
local cap = tonumber(ARGV[3])
if redis.call('RPUSH', KEYS[2], entry) > cap then
  redis.call('LTRIM', KEYS[2], -cap, -1)
end
-- Counter and history expire together, HISTORY_TTL after the channel's last publish, so a later
-- publish restarts the channel at the time in microseconds (above). The TTL is renewed once it
-- has run down by 1 % of itself (at most a minute), not on every publish: the keys then go at
-- most that much before the full TTL, at two calls a minute instead of two per publish. (A
-- remaining lifetime longer than the TTL, from a longer setting, is shortened at once.)
local ttl = tonumber(ARGV[6])
if ttl == 0 then
  -- Keys a previous setting made expire are kept from now on.
  if remaining >= 0 then
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
elseif remaining < 0 or math.abs(ttl - remaining) > math.min(ttl / 100, 60000) then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if sharded then
  redis.call('SPUBLISH', ARGV[4], ARGV[5] .. ' ' .. entry)
else
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. entry)
end
if idempotent then
  redis.call('SET', KEYS[3], idText .. ' ' .. fingerprint .. ' ' .. ARGV[1], 'PX', ARGV[8])
end
return {1, idText}
