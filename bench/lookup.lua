-- wrk script for bench/lookup.py: each connection asks for a random known caller in a random human format, then
-- waits, so that the total rate is about the one asked for (WRK_DELAY_MS per connection between requests).
local phones = {}
local token = os.getenv("LOOKUP_TOKEN")
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
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
  return delay_ms
end

response = function(status)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
