-- wrk script for tests/Benchmarks/gate-benchmark.sh.
-- HEADERS_FILE (optional): one pre-signed PAYMENT-SIGNATURE per line; each request uses the next one, threads
-- interleave so that no header is sent twice while the file lasts. When it runs out, the thread stops.
-- done() prints one machine-readable line: RESULT <requests> <seconds> <p50 us> <p99 us> <non-2xx/3xx> <socket errors>
local headers = nil
local index, step, sent = 0, 1, 0
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("HEADERS_FILE")
  if file and file ~= "" then
    headers = {}
    for line in io.lines(file) do
      if line ~= "" then headers[#headers + 1] = line end
    end
    index = id
    step = tonumber(os.getenv("WRK_THREADS") or "1")
  end
end

function request()
  if headers == nil then return wrk.format(nil, nil) end
  local header = headers[index]
  if header == nil then header = headers[#headers] end -- exhausted: stopped in response(); a replay meanwhile
  index = index + step
  return wrk.format("GET", nil, { ["PAYMENT-SIGNATURE"] = header })
end

function response(status, headers_, body)
  sent = sent + 1
  if headers ~= nil and index > #headers then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d\n", summary.requests, seconds,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
