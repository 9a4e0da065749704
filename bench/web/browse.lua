-- wrk script: each request is one page a study team member opens while browsing a large
-- study, with one of the signed-in users' session cookies. Pages: the overview, random pages
-- of the item list (with and without filters), item pages, rendered frames, the findings and
-- the JSON item API. A response other than 200 counts as an error. Arguments: the cookie file,
-- the number of items, and the users' think time in ms between two pages.
local cookies = {}
local items = 100000
local pages = 2000
local think = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then cookies[#cookies + 1] = line end
  end
  items = tonumber(args[2]) or items
  think = tonumber(args[3]) or 0
  pages = math.floor(items / 50)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
end

local errors = 0

-- A user reads a page before opening the next: THINK ms on average (0: no pause, saturation).
function delay()
  if think <= 0 then return 0 end
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end

function request()
  local r = math.random(100)
  local path
  if r <= 10 then
    path = "/"
  elseif r <= 40 then
    path = "/items?page=" .. math.random(pages)
  elseif r <= 50 then
    path = "/items?kind=dicom&q=" .. string.format("%03d", math.random(999)) .. "&page=" .. math.random(3)
  elseif r <= 75 then
    path = "/items/" .. math.random(items)
  elseif r <= 90 then
    path = "/items/" .. math.random(items) .. "/frame.png"
  elseif r <= 95 then
    path = "/findings"
  else
    path = "/api/items?page=" .. math.random(pages)
  end
  local headers = { ["Cookie"] = "kizon_session=" .. cookies[math.random(#cookies)] }
  return wrk.format("GET", path, headers)
end

function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, non-2xx %d, socket errors %d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s %.1f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("throughput %.0f requests/s\n", summary.requests / (summary.duration / 1e6)))
end
