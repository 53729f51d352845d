-- Reads a slice of a channel's history and the bounds of the retained window in one step.
-- Ids in the list are consecutive, so the slice after an id is found by arithmetic, not a scan.
-- KEYS[1] history list; ARGV[1] after ('' = the newest ARGV[2] events), ARGV[2] limit,
-- ARGV[3] most bytes of entries in the slice (absent = no bound); the slice always holds at
-- least one entry when its range has one. A cut by bytes keeps the entries nearest the start of
-- the read: the oldest after `after`, or the very newest.
local length = redis.call('LLEN', KEYS[1])
if length == 0 then return {} end
local firstId = string.match(redis.call('LINDEX', KEYS[1], 0), '^{"id":"(%d+)"')
local lastId = string.match(redis.call('LINDEX', KEYS[1], -1), '^{"id":"(%d+)"')
local limit = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3] or '') or math.huge
local newest = ARGV[1] == ''
local start
if newest then
  start = length - limit
else
  start = tonumber(ARGV[1]) - tonumber(firstId) + 1
end
if start < 0 then start = 0 end
if start >= length then return {firstId, lastId, {}} end
local stop = math.min(start + limit, length) - 1

-- Read in chunks sized by the entries seen so far, so a slice of large events stops early
-- without ever holding the whole range (1,000 events of 64 KB would be 64 MB in this script).
local picked, bytes, count = {}, 0, 0
local chunk = 32
local nextIndex = newest and stop or start
while (newest and nextIndex >= start) or (not newest and nextIndex <= stop) do
  local entries
  if newest then
    entries = redis.call('LRANGE', KEYS[1], math.max(start, nextIndex - chunk + 1), nextIndex)
  else
    entries = redis.call('LRANGE', KEYS[1], nextIndex, math.min(stop, nextIndex + chunk - 1))
  end
  local n = #entries
  for i = 1, n do
    local entry = entries[newest and (n - i + 1) or i]
    if count > 0 and bytes + #entry > maxBytes then
      nextIndex = nil
      break
    end
    count = count + 1
    bytes = bytes + #entry
    picked[count] = entry
  end
  if nextIndex == nil then break end
  nextIndex = newest and (nextIndex - n) or (nextIndex + n)
  if maxBytes ~= math.huge then
    chunk = math.max(1, math.min(256, math.floor((maxBytes - bytes) / (bytes / count)) + 1))
  else
    chunk = 256
  end
end
if newest then
  -- Picked newest first: return oldest first.
  local ordered = {}
  for i = count, 1, -1 do ordered[count - i + 1] = picked[i] end
  picked = ordered
end
return {firstId, lastId, picked}
