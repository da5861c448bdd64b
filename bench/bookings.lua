-- POST /v1/bookings: one rider books the same quote again and again, each request with a new
-- Idempotency-Key (thread id + counter), so every request creates a booking.
local token = os.getenv("RIDER_TOKEN")
local body = '{"quote_token":"' .. os.getenv("QUOTE_TOKEN") .. '","notes":"load test"}'
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = "load-" .. tostring(thread_id) .. "-" .. counter,
  }
  return wrk.format("POST", "/v1/bookings", headers, body)
end

local failures = 0
response = function(status)
  if status ~= 201 and failures < 5 then
    failures = failures + 1
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
