#!/usr/bin/env bash
# CPU time per request of each thread of the gateway (event loops, ledger
# writer, egress audit writer), under one wrk run (JSON, bench/proxy/chat.lua).
#
#   bench/thread_cpu.sh [--build-dir DIR] [--duration S] [--conns N] [--ledger true|false]
#                       [--target switchyard|nginx] [--threads N] [--owned]
#
# --threads sets the gateway's event loops or nginx's workers (default 2, as run.sh).
# --owned marks the upstream provider owned = true: no egress audit record (hash,
# record, writer) per call; with --ledger false it shows what the gateway costs
# without its two records.
# --target nginx measures the reference instead: nginx as bench/proxy/run.sh runs it
# (bench_nginx_conf, --threads workers), each worker process listed as a "thread";
# --owned and --ledger do not apply to it.
#
# Gateway pinned to CPU 0, wrk and the upstream to CPU 1. Reads
# /proc/PID/task/*/stat (utime, stime) 1 s into the run and S seconds later,
# divides by the requests served in those S seconds (wrk's rate x S). Threads
# are listed by id (ascending: start order) with their names (sy-loop-N,
# sy-ledger, sy-audit; nginx's workers as "nginx"); threads that used no CPU are
# left out. Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR="$REPO/build"
DURATION=8
CONNS=32
LEDGER=true
TARGET=switchyard
THREADS=2
OWNED=false
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --ledger) LEDGER=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --owned) OWNED=true; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib.sh
source "$HERE/lib.sh"
bench_setup thread-cpu "$BUILD_DIR"
BENCH_PROVIDER_OWNED=$OWNED
UP_PORT=18601; GW_PORT=18602
taskset -c 1 "$UPSTREAM" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
bench_start_proxy "$TARGET" "$GW_PORT" "$UP_PORT" "$THREADS" "$LEDGER" 0
GW=$PROXY_PID
bench_wait_healthy 100 "$UP_PORT" "$GW_PORT"
tasks() { # the gateway's threads; for nginx, the master's and its workers' threads
  local p
  for p in "$GW" $(pgrep -P "$GW" || true); do echo /proc/"$p"/task/*; done
}
# tid utime stime; with an argument also the thread's name (sy-loop-0, sy-audit, ...)
snap() {
  for t in $(tasks); do
    echo "$(basename "$t") $(awk '{ print $14, $15 }' "$t/stat")${1:+ $(tr -d ' ' < "$t/comm")}"
  done | sort
}
BENCH_MODEL=default taskset -c 1 wrk -t1 -c"$CONNS" -d"$((DURATION + 2))s" \
  -s "$HERE/proxy/chat.lua" "http://127.0.0.1:$GW_PORT" > "$TMP/wrk.txt" &
WRK=$!
sleep 1; snap > "$TMP/s0"; sleep "$DURATION"; snap names > "$TMP/s1"
wait "$WRK"
RPS=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt")
echo "target=$TARGET ledger=$LEDGER owned=$OWNED threads=$THREADS conns=$CONNS requests/s $RPS"
join "$TMP/s0" "$TMP/s1" | sort -n | awk -v r="$RPS" -v s="$DURATION" -v hz="$(getconf CLK_TCK)" '
  function us(ticks) { return ticks / hz * 1e6 / (r * s) }
  { u = $4 - $2; k = $5 - $3
    if (u + k > 0) printf "thread %s %s: %.2f us/request (user %.2f, sys %.2f)\n", $1, $6, us(u + k), us(u), us(k)
    tu += u; tk += k }
  END { printf "whole process: %.2f us/request (user %.2f, sys %.2f)\n", us(tu + tk), us(tu), us(tk) }'
