-- wrk script for tests/Benchmarks/gate-benchmark.sh.
-- HEADERS_FILE (optional): one header value per line, sent as HEADER_NAME (default PAYMENT-SIGNATURE).
--   Default (fresh payments): each request uses the next line, threads interleave so that no value is sent twice while
--   the file lasts; when it runs out, the thread stops.
--   CYCLE=1 (session tokens): each request uses the next line round-robin, starting over at the end (tokens are reused).
-- done() prints one machine-readable line: RESULT <requests> <seconds> <p50 us> <p99 us> <non-2xx/3xx> <socket errors>
local headers = nil
local name = "PAYMENT-SIGNATURE"
local cycle = false
local index, step = 0, 1
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
    name = os.getenv("HEADER_NAME") or name
    if name == "" then name = "PAYMENT-SIGNATURE" end
    cycle = os.getenv("CYCLE") == "1"
  end
end

function request()
  if headers == nil then return wrk.format(nil, nil) end
  if cycle then index = (index - 1) % #headers + 1 end
  local header = headers[index]
  if header == nil then header = headers[#headers] end -- exhausted: stopped in response(); a replay meanwhile
  index = index + step
  return wrk.format("GET", nil, { [name] = header })
end

function response(status, headers_, body)
  if headers ~= nil and not cycle and index > #headers then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d %d\n", summary.requests, seconds,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
