-- The atomic publish: id, capped history and pub/sub in one step, so ids, history order and
-- delivery order always agree (a separate INCR would let publishers interleave).
-- KEYS[1] id counter, KEYS[2] history list, KEYS[3] idempotency record
-- ARGV[1] event name, ARGV[2] data JSON, ARGV[3] history size, ARGV[4] pub/sub channel,
-- ARGV[5] idempotency TTL in ms, ARGV[6] '1' when an idempotency key was given,
-- ARGV[7] the publisher's clock in ms (prefixed to the pub/sub message for latency metrics)
if ARGV[6] == '1' then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then return {0, earlier} end
end

local id
if redis.call('EXISTS', KEYS[2]) == 1 then
  id = redis.call('INCR', KEYS[1])
else
  -- History starts (first publish, or Redis lost it): start at the time in microseconds so ids
  -- keep increasing across the reset and an old resume point is seen as a gap.
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
redis.call('PUBLISH', ARGV[4], ARGV[7] .. ' ' .. entry)
if ARGV[6] == '1' then
  redis.call('SET', KEYS[3], idText .. ' ' .. ARGV[1], 'PX', ARGV[5])
end
return {1, idText}
