-- wrk script: readers reading at once in the reader-study demo. Each request is what a reader's
-- browser asks for while reading: the case page (which records that the case is open), a mark
-- saved through the JSON API, or the next frame of the series as PNG as the reader scrolls
-- (the viewer fetches frames ahead). Every reader has their own session and CSRF token, reads
-- one case at a time, scrolls through it and moves on to another now and then. A response
-- other than 200 counts as an error.
--
-- Arguments: the file of "session csrf" lines; the file of cases, one line each:
-- "CASE SIZE FRAMES ID ..." (the frame size in pixels, the frames of each item, the case's
-- items in slice order); the think time in ms; the mode: "reading" (the mix above: 20 % case
-- pages, 15 % marks, 65 % frames), "pages", "marks" or "frames" (one kind only, same readers'
-- paths), or "cached" (frames only, of the first slices of the first case, in the protocol's
-- window presets: after the first pass every one comes from the server's decode cache).
local readers = {}
local cases = {}
local think = 0
local mode = "reading"
local counter = 0
local windows = { "wc=-600&ww=1500", "wc=40&ww=400", "wc=400&ww=1800" }

function init(args)
  for line in io.lines(args[1]) do
    local session, csrf = line:match("^(%S+) (%S+)$")
    if session then readers[#readers + 1] = { session = session, csrf = csrf, case = nil, at = 0, left = 0 } end
  end
  for line in io.lines(args[2]) do
    local fields = {}
    for f in line:gmatch("%S+") do fields[#fields + 1] = f end
    if #fields >= 4 then
      local items = {}
      for i = 4, #fields do items[#items + 1] = tonumber(fields[i]) end
      cases[#cases + 1] = { id = fields[1], size = tonumber(fields[2]), frames = tonumber(fields[3]), items = items }
    end
  end
  think = tonumber(args[3]) or 0
  mode = args[4] or "reading"
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
end

-- A reader looks at what they asked for before the next request: THINK ms on average.
function delay()
  if think <= 0 then return 0 end
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end

-- The position in the case (item and frame) of slice number `at` (from 0).
local function position(case, at)
  local item = case.items[math.floor(at / case.frames) + 1]
  return item, at % case.frames
end

function request()
  counter = counter + 1
  local reader = readers[(counter % #readers) + 1]
  local headers = { ["Cookie"] = "kizon_session=" .. reader.session }
  if mode == "cached" then
    local case = cases[1]
    local at = math.random(0, math.min(19, #case.items * case.frames - 1))
    local item, frame = position(case, at)
    return wrk.format("GET", string.format("/items/%d/frame.png?frame=%d&%s", item, frame,
      windows[math.random(#windows)]), headers)
  end
  if reader.case == nil or reader.left <= 0 then
    reader.case = cases[math.random(#cases)]
    reader.at = 0
    reader.left = 40
    return wrk.format("GET", "/reading/" .. reader.case.id, headers)
  end
  reader.left = reader.left - 1
  local case = reader.case
  local total = #case.items * case.frames
  local r = math.random(100)
  -- One kind only, to measure its latency alone.
  if mode == "pages" then r = 1 elseif mode == "marks" then r = 30 elseif mode == "frames" then r = 100 end
  if r <= 20 then
    return wrk.format("GET", "/reading/" .. case.id, headers)
  elseif r <= 35 then
    headers["Content-Type"] = "application/json"
    headers["X-CSRF-Token"] = reader.csrf
    local item, frame = position(case, reader.at)
    local x, y = math.random(20, case.size - 40), math.random(20, case.size - 40)
    local body = string.format(
      '{"item": %d, "frame": %d, "shape": "box", "points": [[%d, %d], [%d, %d]], "lesion_type": "solid", "rating": %d}',
      item, frame, x, y, x + 12, y + 10, math.random(0, 100))
    return wrk.format("POST", "/api/reading/" .. case.id .. "/marks", headers, body)
  else
    -- Scrolling: mostly onwards, sometimes back.
    local step = (math.random(4) == 1) and -1 or 1
    reader.at = math.max(0, math.min(total - 1, reader.at + step))
    local item, frame = position(case, reader.at)
    return wrk.format("GET", string.format("/items/%d/frame.png?frame=%d&wc=-600&ww=1500", item, frame), headers)
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
