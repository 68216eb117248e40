#!/usr/bin/env bash
# Gateway throughput with the ledger on vs off, in the same run (issue 3).
#
#   bench/ledger_onoff.sh [--build-dir DIR] [--reps N] [--duration S] [--conns N]
#                         [--gateway-cpus LIST]
#
# One loopback upstream (sy_bench_upstream), two Switchyards with the same config
# except [ledger] enabled, wrk with bench/proxy/chat.lua (JSON, N connections).
# Runs alternate on/off R times (which one goes first alternates too); prints
# the median requests/s of each, the median of the per-rep ratios on/off (a
# paired measure: both runs of a rep see the same machine), and each
# gateway's CPU time per request (user + system, all threads, from /proc).
# Pinning: the gateways on CPU 0 (--gateway-cpus), wrk and the upstream on CPU 1.
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR="$REPO/build"
REPS=5
DURATION=5
CONNS=32
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
bench_setup ledger-onoff "$BUILD_DIR"
UP=$UPSTREAM
UP_PORT=18501; ON_PORT=18502; OFF_PORT=18503
taskset -c 1 "$UP" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
for mode in on off; do
  port=$([[ $mode == on ]] && echo $ON_PORT || echo $OFF_PORT)
  enabled=$([[ $mode == on ]] && echo true || echo false)
  bench_gateway_toml "$port" "$UP_PORT" "$TMP/data-$mode" 2 "$enabled" > "$TMP/$mode.toml"
  taskset -c "$GW_CPUS" "$SY" serve --config "$TMP/$mode.toml" > "$TMP/$mode.log" 2>&1 & PIDS+=($!)
  declare "PID_$mode=$!"
done
bench_wait_healthy 50 $UP_PORT $ON_PORT $OFF_PORT
run() { # run MODE -> "rps cpu_us_per_request" (the gateway's CPU: loops, writer, everything)
  if [[ $1 == on ]]; then bench_wrk_rps_cpu $ON_PORT "$PID_on" "$CONNS" "$DURATION"
  else bench_wrk_rps_cpu $OFF_PORT "$PID_off" "$CONNS" "$DURATION"; fi
}
on=(); off=(); ratio=(); cpu_on=(); cpu_off=()
for r in $(seq "$REPS"); do
  # Alternate which goes first, so a drift in the machine's speed cancels out.
  if (( r % 2 )); then read -r a ca < <(run on); read -r b cb < <(run off)
  else read -r b cb < <(run off); read -r a ca < <(run on); fi
  on+=("$a"); off+=("$b"); cpu_on+=("$ca"); cpu_off+=("$cb")
  ratio+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')")
  echo "rep $r: on $a req/s ($ca us CPU/req), off $b req/s ($cb us CPU/req), on/off ${ratio[-1]}" >&2
done
m_on=$(bench_median "${on[@]}"); m_off=$(bench_median "${off[@]}")
m_ratio=$(bench_median "${ratio[@]}")
m_con=$(bench_median "${cpu_on[@]}"); m_coff=$(bench_median "${cpu_off[@]}")
records=$(sqlite3 "$TMP/data-on/ledger.db" 'select coalesce(sum(n), 0) from chunks' 2>/dev/null || echo "?")
echo "| ledger | requests/s (median of $REPS × ${DURATION}s, $CONNS connections) | gateway CPU per request (median) |"
echo "|---|---|---|"
echo "| on | $m_on | $m_con us |"
echo "| off | $m_off | $m_coff us |"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "ratio of the medians on/off: %.3f\n", a / b }'
echo "median of the per-rep ratios on/off: $m_ratio (target >= 0.95)"
awk -v a="$m_con" -v b="$m_coff" 'BEGIN { printf "CPU per request off/on: %.3f\n", b / a }'
echo "records in the ledger after the run (still draining is possible): $records"
