-- wrk script: sends the given headers and counts the response statuses.
--
--   wrk -t1 -c16 -d5s -s bench/status.lua URL -- "Cookie: a=1" "If-None-Match: \"v1\""
--
-- A "Cookie:" argument may hold several cookies separated by "|||": the connections then
-- take turns (one prepared request per cookie, so no per-request formatting).
-- At the end one line "BENCH-RESULT {json}" carries the statuses, the latency percentiles
-- (microseconds) and wrk's error counts; bench/common.py reads it.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  local headers = {}
  local cookies = {}
  for _, arg in ipairs(args) do
    local name, value = arg:match("^([^:]+):%s*(.*)$")
    if name then
      if name:lower() == "cookie" then
        for part in (value .. "|||"):gmatch("(.-)|||") do
          if part ~= "" then table.insert(cookies, part) end
        end
      else
        headers[name] = value
      end
    end
  end
  prepared = {}
  if #cookies == 0 then
    table.insert(prepared, wrk.format(nil, nil, headers))
  else
    for _, cookie in ipairs(cookies) do
      local h = {}
      for k, v in pairs(headers) do h[k] = v end
      h["Cookie"] = cookie
      table.insert(prepared, wrk.format(nil, nil, h))
    end
  end
  turn = 0
end

function request()
  turn = turn % #prepared + 1
  return prepared[turn]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, n in pairs(counted) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(parts, ", ")))
end
