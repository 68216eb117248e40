#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind's callgrind: repeatable
# on a noisy machine (instructions, not seconds), so it can compare two builds
# while other work runs.
#
#   bench/proxy/callgrind.sh [--build-dir DIR] [--ledger on|off] [--stream 0|1] [--seconds S]
#                            [--keep FILE] [--target switchyard|nginx]
#
# Starts sy_bench_upstream and `switchyard serve` under callgrind (one event
# loop), drives it with wrk (8 connections, bench/proxy/chat.lua) for S
# seconds, stops it with SIGTERM, and prints the instructions of the whole
# process (startup, every thread, shutdown) and the same for a run with no
# requests, so that (total - idle) / requests is the cost of one request.
# --keep FILE copies the loaded run's callgrind output there (and the idle
# run's to FILE.idle), for `callgrind_annotate --inclusive=yes FILE`.
# --target nginx counts the reference instead: nginx as bench/proxy/run.sh runs
# it (bench_nginx_conf) but as one process (master_process off, one worker),
# stopped with SIGQUIT (graceful).
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR="$REPO/build"; LEDGER=on; STREAM=0; SECONDS_RUN=10; KEEP=""; TARGET=switchyard
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --ledger) LEDGER=$2; shift 2 ;;
    --stream) STREAM=$2; shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
bench_setup callgrind "$BUILD_DIR"
case $TARGET in
  switchyard) ;;
  nginx) NGINX=$(command -v nginx || echo /usr/sbin/nginx) ;;
  *) echo "unknown target $TARGET (switchyard|nginx)" >&2; exit 2 ;;
esac
UPB=$UPSTREAM
UP=19501; GW=19502
"$UPB" --port $UP --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
run() { # run SECONDS -> "instructions requests"
  local dur=$1 dir="$TMP/run$1"
  mkdir -p "$dir"
  local stop=TERM
  if [[ $TARGET == nginx ]]; then
    mkdir -p "$dir/logs"
    bench_nginx_conf "$dir" 1 "$GW" "$UP" | sed 's/^master_process on;/master_process off;/' \
      > "$dir/nginx.conf"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$NGINX" -p "$dir" \
      -c "$dir/nginx.conf" -e "$dir/logs/error.log" > "$dir/gw.log" 2>&1 &
    stop=QUIT
  else
    bench_gateway_toml "$GW" "$UP" "$dir/data" 1 "$([[ $LEDGER == on ]] && echo true || echo false)" \
      > "$dir/c.toml"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$SY" serve --config "$dir/c.toml" \
      > "$dir/gw.log" 2>&1 &
  fi
  local gw=$!
  bench_wait_healthy 600 $GW
  local req=0
  if [[ $dur != 0 ]]; then
    BENCH_STREAM=$STREAM BENCH_MODEL=default wrk -t1 -c8 -d"${dur}s" -s "$REPO/bench/proxy/chat.lua" \
      "http://127.0.0.1:$GW" > "$dir/wrk.txt" 2>&1 || true
    req=$(awk '/requests in/{print $1}' "$dir/wrk.txt")
  fi
  kill -"$stop" $gw; wait $gw || true
  local ir
  ir=$(callgrind_annotate "$dir/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
  if [[ -n $KEEP ]]; then cp "$dir/cg.out" "$KEEP$([[ $dur == 0 ]] && echo .idle)"; fi
  echo "$ir $req"
}
read -r idle _ < <(run 0)
read -r total reqs < <(run "$SECONDS_RUN")
echo "target=$TARGET ledger=$LEDGER stream=$STREAM requests=$reqs instructions: idle=$idle total=$total"
echo "instructions per request: $(( (total - idle) / reqs ))"
