-- wrk script for bench/guard_onoff.sh: one chat completion per call whose user
-- message carries an e-mail address and a card number (so the guard's
-- redaction runs on every request when pii_policy = "redact").
--
-- Environment:
--   BENCH_KEY   the API key sent as "Authorization: Bearer KEY" ("" = none)
--   BENCH_PII   "0" for a message without personal data, else with
--
-- done() prints the same BENCH line as bench/proxy/chat.lua.

local key = os.getenv("BENCH_KEY") or ""
local pii = os.getenv("BENCH_PII") ~= "0"

wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
if key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end

local text = "Summarise in one paragraph why a gateway should be cheap."
if pii then
  text = "Write to jane.doe@example.com that card 4111 1111 1111 1111 was charged twice; "
    .. "summarise in one paragraph why a gateway should be cheap."
end
wrk.body = '{"model":"default","messages":['
  .. '{"role":"system","content":"You are a concise assistant for a benchmark."},'
  .. '{"role":"user","content":"' .. text .. '"}],"max_tokens":200,"temperature":0}'

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
