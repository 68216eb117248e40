#!/usr/bin/env bash
# Gateway throughput with the ledger on vs off, in the same run (issue 3).
#
#   bench/ledger_onoff.sh [--build-dir DIR] [--reps N] [--duration S] [--conns N]
#                         [--gateway-cpus LIST]
#
# One loopback upstream (sy_bench_upstream), two Switchyards with the same config
# except [ledger] enabled, wrk with bench/proxy/chat.lua (JSON, N connections).
# Runs alternate on/off R times; prints the median requests/s of each and the
# ratio on/off. Pinning: the gateways on CPU 0 (--gateway-cpus), wrk and the
# upstream on CPU 1.
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
  cat > "$TMP/$mode.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
threads = 2
[storage]
data_dir = "$TMP/data-$mode"
[log]
level = "warn"
[ledger]
enabled = $enabled
[[providers]]
name = "up"
kind = "openai"
base_url = "http://127.0.0.1:$UP_PORT/v1"
models = ["gpt-4o-mini"]
max_idle_connections = 256
[[routes]]
name = "default"
targets = ["up/gpt-4o-mini"]
TOML
  taskset -c "$GW_CPUS" "$SY" serve --config "$TMP/$mode.toml" > "$TMP/$mode.log" 2>&1 & PIDS+=($!)
done
bench_wait_healthy 50 $UP_PORT $ON_PORT $OFF_PORT
run() { # run PORT -> rps
  BENCH_MODEL=default taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$REPO/bench/proxy/chat.lua" \
    "http://127.0.0.1:$1" 2>/dev/null | sed -n 's/^BENCH .* rps=\([0-9.]*\) .*/\1/p'
}
on=(); off=()
for r in $(seq "$REPS"); do
  on+=("$(run $ON_PORT)"); off+=("$(run $OFF_PORT)")
  echo "rep $r: on ${on[-1]} req/s, off ${off[-1]} req/s" >&2
done
m_on=$(bench_median "${on[@]}"); m_off=$(bench_median "${off[@]}")
records=$(sqlite3 "$TMP/data-on/ledger.db" 'select count(*) from records' 2>/dev/null || echo "?")
echo "| ledger | requests/s (median of $REPS × ${DURATION}s, $CONNS connections) |"
echo "|---|---|"
echo "| on | $m_on |"
echo "| off | $m_off |"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "ratio on/off: %.3f (target >= 0.95)\n", a / b }'
echo "records in the ledger after the run (still draining is possible): $records"
