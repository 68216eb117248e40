#!/usr/bin/env bash
# The gateway's added latency with the guard on vs off, in the same run (issue 8).
#
#   bench/guard_onoff.sh [--build-dir DIR] [--reps N] [--duration S] [--conns N]
#                        [--gateway-cpus LIST]
#
# One loopback upstream (sy_bench_upstream) and three Switchyards with the same
# providers and routes:
#   off     [guard] auth = "off", pii_policy = "allow" (the scanner still runs:
#           serve always builds it; nothing is redacted or refused)
#   on      auth = "keys" (a key from `switchyard keys create`), pii_policy =
#           "redact", and every request carries an e-mail and a card number:
#           key check, rate-limit reservation, scan, redaction of the body,
#           restoration of the answer, egress audit record
#   on-clean  the same guard, a request without personal data
# wrk with bench/guard_chat.lua (JSON, N connections, default 1 so latency is
# the gateway's own plus the upstream's). Runs alternate R times; prints the
# median p50/p99 latency and requests/s of each, and the ratios to off.
# Pinning: the gateways on CPU 0 (--gateway-cpus), wrk and the upstream on CPU 1.
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR="$REPO/build"
REPS=5
DURATION=5
CONNS=1
GW_CPUS=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --gateway-cpus) GW_CPUS=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib.sh
source "$HERE/lib.sh"
bench_setup guard-onoff "$BUILD_DIR"
UP=$UPSTREAM
UP_PORT=18511; OFF_PORT=18512; ON_PORT=18513
taskset -c 1 "$UP" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
for mode in on off; do
  port=$([[ $mode == on ]] && echo $ON_PORT || echo $OFF_PORT)
  auth=$([[ $mode == on ]] && echo keys || echo off)
  policy=$([[ $mode == on ]] && echo redact || echo allow)
  { bench_gateway_toml "$port" "$UP_PORT" "$TMP/data-$mode" 2 true error
    printf '[guard]\nauth = "%s"\npii_policy = "%s"\n' "$auth" "$policy"; } > "$TMP/$mode.toml"
done
mkdir -p "$TMP/data-on"
KEY=$("$SY" keys create --config "$TMP/on.toml" --tenant bench 2>/dev/null)
for mode in on off; do
  port=$([[ $mode == on ]] && echo $ON_PORT || echo $OFF_PORT)
  taskset -c "$GW_CPUS" "$SY" serve --config "$TMP/$mode.toml" > "$TMP/$mode.log" 2>&1 & PIDS+=($!)
done
bench_wait_healthy 50 $UP_PORT $ON_PORT $OFF_PORT
# The guard really redacts: one request through the "on" gateway must succeed.
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' "http://127.0.0.1:$ON_PORT/v1/chat/completions" \
  -d '{"model":"default","messages":[{"role":"user","content":"mail jane.doe@example.com"}]}')
[[ $status == 200 ]] || { echo "guarded gateway answered $status" >&2; cat "$TMP/on.log" >&2; exit 1; }
run() { # run PORT KEY PII -> "rps p50_us p99_us"
  BENCH_KEY=$2 BENCH_PII=$3 taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" \
    -s "$REPO/bench/guard_chat.lua" "http://127.0.0.1:$1" 2>/dev/null |
    sed -n 's/^BENCH .* rps=\([0-9.]*\) p50_us=\([0-9]*\) .* p99_us=\([0-9]*\) .*err_status=\([0-9]*\).*/\1 \2 \3 \4/p'
}
declare -A RPS P50 P99
for r in $(seq "$REPS"); do
  for mode in off on on-clean; do
    case $mode in
      off) out=$(run $OFF_PORT "" 1) ;;
      on) out=$(run $ON_PORT "$KEY" 1) ;;
      on-clean) out=$(run $ON_PORT "$KEY" 0) ;;
    esac
    read -r rps p50 p99 errs <<<"$out"
    [[ $errs == 0 ]] || { echo "$mode: $errs non-2xx answers" >&2; exit 1; }
    RPS[$mode]+="$rps "; P50[$mode]+="$p50 "; P99[$mode]+="$p99 "
    echo "rep $r $mode: $rps req/s, p50 ${p50} us, p99 ${p99} us" >&2
  done
done
echo "| guard | p50 latency (us) | p99 latency (us) | requests/s | (median of $REPS × ${DURATION}s, $CONNS connection(s)) |"
echo "|---|---|---|---|---|"
for mode in off on on-clean; do
  echo "| $mode | $(bench_median ${P50[$mode]}) | $(bench_median ${P99[$mode]}) | $(bench_median ${RPS[$mode]}) | |"
done
off50=$(bench_median ${P50[off]}); off_rps=$(bench_median ${RPS[off]})
for mode in on on-clean; do
  awk -v m="$mode" -v a="$(bench_median ${P50[$mode]})" -v b="$off50" -v r="$(bench_median ${RPS[$mode]})" \
    -v q="$off_rps" 'BEGIN { printf "%s vs off: p50 +%d us (x%.3f), requests/s x%.3f\n", m, a - b, a / b, r / q }'
done
audited=$(sqlite3 "$TMP/data-on/audit.db" 'select coalesce(sum(n), 0) from guard_egress_audit_chunks' 2>/dev/null || echo "?")
echo "egress audit records written by the guarded gateway: $audited"
