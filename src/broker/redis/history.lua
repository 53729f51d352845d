-- Reads a slice of a channel's history and the bounds of the retained window in one step.
-- Ids in the list are consecutive, so the slice after an id is found by arithmetic, not a scan.
-- KEYS[1] history list; ARGV[1] after ('' = the newest ARGV[2] events), ARGV[2] limit
local length = redis.call('LLEN', KEYS[1])
if length == 0 then return {} end
local firstId = string.match(redis.call('LINDEX', KEYS[1], 0), '^{"id":"(%d+)"')
local lastId = string.match(redis.call('LINDEX', KEYS[1], -1), '^{"id":"(%d+)"')
local limit = tonumber(ARGV[2])
local start
if ARGV[1] == '' then
  start = length - limit
else
  start = tonumber(ARGV[1]) - tonumber(firstId) + 1
end
if start < 0 then start = 0 end
if start >= length then return {firstId, lastId, {}} end
return {firstId, lastId, redis.call('LRANGE', KEYS[1], start, start + limit - 1)}
