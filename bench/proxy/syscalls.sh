#!/usr/bin/env bash
# System calls per proxied request, counted by strace: the kernel side of a
# request (the gateway's system time is most of its CPU on loopback), which
# callgrind's user-space instruction counts do not show.
#
#   bench/proxy/syscalls.sh [--build-dir DIR] [--ledger on|off] [--stream 0|1] [--seconds S]
#                           [--conns N] [--target switchyard|nginx]
#
# Starts sy_bench_upstream and `switchyard serve` (one event loop), warms it
# up, attaches `strace -f -c` to the gateway, drives it with wrk (bench/proxy/
# chat.lua) for S seconds, and prints strace's table with a column of calls
# per request (calls / requests wrk completed). strace slows every call, so
# the rate is low and writer threads commit small batches: their calls per
# request (pwrite64, fcntl, futex) read high; the event loop's do not depend
# on the rate. --target nginx counts the reference instead (bench_nginx_conf with
# one worker, strace attached to the worker). Every process started here is
# stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR="$REPO/build"; LEDGER=on; STREAM=0; SECONDS_RUN=2; CONNS=8; TARGET=switchyard
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --ledger) LEDGER=$2; shift 2 ;;
    --stream) STREAM=$2; shift 2 ;;
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
command -v strace >/dev/null || { echo "strace is missing (apt-get install strace)" >&2; exit 1; }
bench_setup syscalls "$BUILD_DIR"
UP=19731; GW=19732
"$UPSTREAM" --port $UP --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
bench_start_proxy "$TARGET" $GW $UP 1 "$([[ $LEDGER == on ]] && echo true || echo false)"
GWPID=$PROXY_PID
bench_wait_healthy 100 $UP $GW
drive() {
  BENCH_STREAM=$STREAM BENCH_MODEL=default wrk -t1 -c"$CONNS" -d"$1s" \
    -s "$REPO/bench/proxy/chat.lua" "http://127.0.0.1:$GW"
}
drive 1 > /dev/null 2>&1 || true  # warm: connections pooled, buffers grown
TRACED=(-p "$GWPID")
[[ $TARGET == nginx ]] && mapfile -t TRACED < <(pgrep -P "$GWPID" | sed 's/^/-p\n/' | tr -d ' ')
strace -f -c "${TRACED[@]}" -o "$TMP/strace.txt" 2> /dev/null & ST=$!
sleep 1
drive "$SECONDS_RUN" > "$TMP/wrk.txt" 2>&1 || true
kill -INT $ST; wait $ST || true
REQS=$(awk '/requests in/{print $1}' "$TMP/wrk.txt")
echo "target=$TARGET ledger=$LEDGER stream=$STREAM conns=$CONNS requests=$REQS (under strace)"
awk -v n="$REQS" '
  /^% time/ { printf "%-18s %10s %10s %8s\n", "syscall", "calls", "errors", "per req"; next }
  /^-/ || NF < 5 { next }
  $NF == "total" { printf "%-18s %10s %10s %8.2f\n", "total", $4, $5, $4 / n; next }
  { errors = (NF == 6) ? $5 : 0; printf "%-18s %10s %10s %8.2f\n", $NF, $4, errors, $4 / n }
' "$TMP/strace.txt"
