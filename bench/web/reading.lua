-- wrk script: readers reading at once in the reader-study demo. Each request is what a reader's
-- browser asks for while reading: the case page (which records that the case is open), a mark
-- saved through the JSON API, or a frame of the series as PNG (the viewer fetches frames ahead).
-- Every connection is one reader with their own session and CSRF token. A response other than
-- 200 counts as an error. Arguments: the file of "session csrf" lines, the cases, the frames,
-- the think time in ms.
local readers = {}
local cases = 24
local frames = 5
local counter = 0
local think = 0

function init(args)
  for line in io.lines(args[1]) do
    local session, csrf = line:match("^(%S+) (%S+)$")
    if session then readers[#readers + 1] = { session = session, csrf = csrf } end
  end
  cases = tonumber(args[2]) or cases
  frames = tonumber(args[3]) or frames
  think = tonumber(args[4]) or 0
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
end

-- A reader looks at what they asked for before the next request: THINK ms on average.
function delay()
  if think <= 0 then return 0 end
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end

function request()
  counter = counter + 1
  local reader = readers[(counter % #readers) + 1]
  local case = math.random(cases)
  local headers = { ["Cookie"] = "kizon_session=" .. reader.session }
  local r = math.random(100)
  if r <= 40 then
    return wrk.format("GET", string.format("/reading/R-%03d", case), headers)
  elseif r <= 70 then
    headers["Content-Type"] = "application/json"
    headers["X-CSRF-Token"] = reader.csrf
    local x, y = math.random(20, 230), math.random(20, 230)
    local body = string.format(
      '{"item": %d, "frame": %d, "shape": "box", "points": [[%d, %d], [%d, %d]], "lesion_type": "solid", "rating": %d}',
      case, math.random(0, frames - 1), x, y, x + 12, y + 10, math.random(0, 100))
    return wrk.format("POST", string.format("/api/reading/R-%03d/marks", case), headers, body)
  else
    return wrk.format("GET", string.format("/items/%d/frame.png?frame=%d", case, math.random(0, frames - 1)), headers)
  end
end

local errors = 0

function response(status, headers, body)
  if status ~= 200 then
    errors = errors + 1
    if errors <= 3 then io.stderr:write("status " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d, socket errors %d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s %.1f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("throughput %.0f requests/s\n", summary.requests / (summary.duration / 1e6)))
end
