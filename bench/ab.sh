#!/usr/bin/env bash
# Paired throughput of two Switchyard binaries (before/after a change), in the
# same run, on a noisy machine.
#
#   bench/ab.sh --a BIN_A --b BIN_B [--build-dir DIR] [--reps N] [--duration S]
#               [--conns N] [--gateway-cpus LIST]
#
# One loopback upstream (sy_bench_upstream from --build-dir), two gateways with
# the same config (ledger on, one route to the upstream), wrk with
# bench/proxy/chat.lua (JSON). Each rep runs A and B back to back (which one
# goes first alternates) and reports B/A; the result is the median of the
# per-rep ratios, with each gateway's CPU time per request (user + system, all
# threads, /proc). Pinning: the gateways on CPU 0, wrk and the upstream on CPU 1.
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR="$REPO/build"; BIN_A=""; BIN_B=""
REPS=7; DURATION=4; CONNS=32; GW_CPUS=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --a) BIN_A=$2; shift 2 ;;
    --b) BIN_B=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --gateway-cpus) GW_CPUS=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
[[ -x $BIN_A && -x $BIN_B ]] || { echo "ab.sh: --a and --b must be switchyard binaries" >&2; exit 2; }
# shellcheck source=lib.sh
source "$HERE/lib.sh"
bench_setup ab "$BUILD_DIR"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

UP_PORT=18701; A_PORT=18702; B_PORT=18703
taskset -c 1 "$UPSTREAM" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
for side in A B; do
  if [[ $side == A ]]; then port=$A_PORT; bin=$BIN_A; else port=$B_PORT; bin=$BIN_B; fi
  bench_gateway_toml "$port" "$UP_PORT" "$TMP/data-$side" 2 true > "$TMP/$side.toml"
  taskset -c "$GW_CPUS" "$bin" serve --config "$TMP/$side.toml" > "$TMP/$side.log" 2>&1 & PIDS+=($!)
  declare "PID_$side=$!"
done
bench_wait_healthy 50 $UP_PORT $A_PORT $B_PORT

run() { # run A|B -> "rps cpu_us_per_request"
  if [[ $1 == A ]]; then bench_wrk_rps_cpu $A_PORT "$PID_A" "$CONNS" "$DURATION"
  else bench_wrk_rps_cpu $B_PORT "$PID_B" "$CONNS" "$DURATION"; fi
}
ratio=(); cpu_a=(); cpu_b=()
for r in $(seq "$REPS"); do
  if (( r % 2 )); then read -r a ca < <(run A); read -r b cb < <(run B)
  else read -r b cb < <(run B); read -r a ca < <(run A); fi
  cpu_a+=("$ca"); cpu_b+=("$cb")
  ratio+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')")
  echo "rep $r: A $a req/s ($ca us CPU/req), B $b req/s ($cb us CPU/req), B/A ${ratio[-1]}"
done
echo "A = $BIN_A"
echo "B = $BIN_B"
echo "median of the per-rep throughput ratios B/A: $(bench_median "${ratio[@]}") ($REPS × ${DURATION}s, $CONNS connections)"
echo "median CPU per request: A $(bench_median "${cpu_a[@]}") us, B $(bench_median "${cpu_b[@]}") us"
