-- wrk script: POST a question with a unique external_id per request.
-- args: path, bearer token (empty for the bare endpoint), run id
local counter = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  path = args[1]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= nil and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  run = args[3] or "run"
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"text": "Why are sheep being stolen from farms near Clun, and what is being done? (%d)",'
    .. ' "external_id": "%s-%d-%d", "location": "Clun"}', counter, run, tid, counter)
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  local codes = summary.errors
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.3f, \"p50_ms\": %.2f, "
    .. "\"p99_ms\": %.2f, \"non2xx\": %d, \"socket_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, codes.status,
    codes.connect + codes.read + codes.write + codes.timeout))
end
