-- Who is on a channel: the unexpired entries of every process, summed per sub. Read only.
-- KEYS[1] sorted set and KEYS[2] hash, as in presence-sync.lua
-- Returns { total streams, { sub, streams, info JSON, ... } }
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local total = 0
local counts = {}
local order = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local rest = string.sub(member, 3)
  if string.sub(member, 1, 1) == 'p' then
    total = total + tonumber(redis.call('HGET', KEYS[2], 'c:' .. rest) or '0')
  else
    local sub = string.sub(rest, string.find(rest, ':', 1, true) + 1)
    local count = tonumber(redis.call('HGET', KEYS[2], 'n:' .. rest) or '0')
    if counts[sub] == nil then
      counts[sub] = 0
      order[#order + 1] = sub
    end
    counts[sub] = counts[sub] + count
  end
end
local members = {}
for _, sub in ipairs(order) do
  members[#members + 1] = sub
  members[#members + 1] = counts[sub]
  members[#members + 1] = redis.call('HGET', KEYS[2], 'i:' .. sub) or '{}'
end
return { total, members }
