-- wrk script for bench/proxy/run.sh: POSTs one chat completion request per call.
--
-- Environment (set by run.sh):
--   BENCH_STREAM   "1" for a streamed request ("stream": true), else plain JSON
--   BENCH_MODEL    the "model" field (Switchyard gets its route name, "default")
--   BENCH_HEADERS  extra headers, "Name: value" separated by "|" (Portkey's routing headers)
--
-- done() prints one machine-readable line that run.sh parses:
--   BENCH requests=... duration_s=... rps=... p50_us=... p75_us=... p90_us=... p99_us=...
--         p999_us=... max_us=... err_connect=... err_read=... err_write=... err_status=...
--         err_timeout=...

local stream = os.getenv("BENCH_STREAM") == "1"
local model = os.getenv("BENCH_MODEL") or "gpt-4o-mini"
local extra = os.getenv("BENCH_HEADERS") or ""

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
for pair in string.gmatch(extra, "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

local body = '{"model":"' .. model .. '","messages":['
  .. '{"role":"system","content":"You are a concise assistant for a benchmark."},'
  .. '{"role":"user","content":"Summarise in one paragraph why a gateway should be cheap."}],'
  .. '"max_tokens":200,"temperature":0'
if stream then
  body = body .. ',"stream":true,"stream_options":{"include_usage":true}'
end
wrk.body = body .. '}'

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_us=%d p75_us=%d p90_us=%d p99_us=%d "
      .. "p999_us=%d max_us=%d err_connect=%d err_read=%d err_write=%d err_status=%d "
      .. "err_timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
