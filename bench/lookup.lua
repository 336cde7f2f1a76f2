-- wrk script for bench/lookup.py: each connection asks for a random known caller in a random human format. The
-- requests follow a fixed schedule per wrk thread (one every WRK_INTERVAL_MS), whatever the answers' latency: a
-- request whose slot has passed goes at once, so the rate asked is the rate offered (an open loop bounded by the
-- connections), not the rate minus the server's own delays.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local phones = {}
local token = os.getenv("LOOKUP_TOKEN")
local interval_ms = tonumber(os.getenv("WRK_INTERVAL_MS") or "0")
local slot = nil
for line in io.lines(os.getenv("PHONES_FILE")) do phones[#phones + 1] = line end

local function human(e164)
  local n = string.sub(e164, 3)
  local forms = {
    e164,
    "8%20(" .. string.sub(n, 1, 3) .. ")%20" .. string.sub(n, 4, 6) .. "-" .. string.sub(n, 7, 8) .. "-" .. string.sub(n, 9),
    string.sub(e164, 2),
    "%2B7%20" .. string.sub(n, 1, 3) .. "%20" .. string.sub(n, 4),
  }
  local chosen = forms[math.random(#forms)]
  return (string.gsub(chosen, "^%+", "%%2B"))
end

request = function()
  local phone = human(phones[math.random(#phones)])
  return wrk.format("GET", "/api/v1/callers/lookup?phone=" .. phone, { ["Authorization"] = "Bearer " .. token })
end

delay = function()
  local now = now_ms()
  if slot == nil then slot = now end
  local wait = slot - now
  slot = slot + interval_ms
  if wait < 0 then return 0 end
  return math.floor(wait)
end

response = function(status)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
