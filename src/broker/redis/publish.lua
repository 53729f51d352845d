-- The atomic publish: id, capped history, expiry and pub/sub in one step, so ids, history order
-- and delivery order always agree (a separate INCR would let publishers interleave).
-- KEYS[1] id counter, KEYS[2] history list, KEYS[3] idempotency record of the key in its
-- publisher's scope: '<id> <sha1 of event LF data> <event>'
-- ARGV[1] event name, ARGV[2] data JSON, ARGV[3] history size, ARGV[4] pub/sub channel,
-- ARGV[5] idempotency TTL in ms, ARGV[6] '1' when an idempotency key was given,
-- ARGV[7] the publisher's clock in ms (prefixed to the pub/sub message for latency metrics),
-- ARGV[8] history TTL in ms ('0' or absent = never expire),
-- ARGV[9] '1' on a Redis Cluster: SPUBLISH to a shard channel carrying the keys' hash tag
-- (absent = classic PUBLISH). Absent arguments keep older callers (bench/baseline.js) working.
local historyTtl = ARGV[8] or '0'
local sharded = ARGV[9] == '1'
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

local fingerprint
if ARGV[6] == '1' then
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

local id
if redis.call('EXISTS', KEYS[2]) == 1 then
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
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
-- Each publish renews the channel's lifetime. Counter and history expire together, so a later
-- publish restarts the channel at the time in microseconds (above).
if historyTtl == '0' then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
else
  redis.call('PEXPIRE', KEYS[1], historyTtl)
  redis.call('PEXPIRE', KEYS[2], historyTtl)
end
if sharded then
  redis.call('SPUBLISH', ARGV[4], ARGV[7] .. ' ' .. entry)
else
  redis.call('PUBLISH', ARGV[4], ARGV[7] .. ' ' .. entry)
end
if ARGV[6] == '1' then
  redis.call('SET', KEYS[3], idText .. ' ' .. fingerprint .. ' ' .. ARGV[1], 'PX', ARGV[5])
end
return {1, idText}
