#!/usr/bin/env bash
# Where a proxy's CPU goes on a real CPU (not valgrind's), kernel included:
# `perf record -e cpu-clock -g` of the gateway's threads (or nginx's workers)
# under wrk (32 connections unless --conns), then a summary per request.
#
#   bench/proxy/perf_profile.sh [--build-dir DIR] [--target switchyard|nginx] [--seconds S]
#                               [--conns N] [--dwarf] [--keep FILE]
#
# --dwarf records DWARF call graphs (perf's --call-graph dwarf, 2999 Hz) instead of
# frame-pointer ones: the binaries have no frame pointers, so only these show the
# user-space callers (read them with `perf script -F tid,ip,sym,dso --no-inline`).
# BENCH_STREAM=1 in the environment profiles the SSE stream instead of JSON.
#
# Prints: requests/s, the share of samples per shared object (kernel, the
# binary, libc, mimalloc, ...), and for a fixed list of kernel functions on the
# send/receive path their inclusive share and microseconds per request (share x
# the process's CPU per request from /proc, user + system). The list shows what
# a loopback request costs the kernel: the TCP send path (which runs the
# receiver's side too, in softirq), waking the peer (sock_def_readable), the
# receive path. Placement as bench/thread_cpu.sh: proxy on CPU 0, wrk and the
# upstream on CPU 1. Needs perf (Debian linux-perf) and root for kernel stacks.
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR="$REPO/build"; TARGET=switchyard; SECS=5; KEEP=""; CONNS=32
CALL_GRAPH=(-F 4999 -g)
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --target) TARGET=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --dwarf) CALL_GRAPH=(-F 2999 --call-graph dwarf,16384); shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
command -v perf > /dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
bench_setup perf-profile "$BUILD_DIR"
UP_PORT=18701; GW_PORT=18702
taskset -c 1 "$UPSTREAM" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
bench_start_proxy "$TARGET" "$GW_PORT" "$UP_PORT" 2 true 0
GW=$PROXY_PID
bench_wait_healthy 100 "$UP_PORT" "$GW_PORT"
BENCH_MODEL=default taskset -c 1 wrk -t1 -c"$CONNS" -d"$((SECS + 3))s" -s "$HERE/chat.lua" \
  "http://127.0.0.1:$GW_PORT" > "$TMP/wrk.txt" &
WRK=$!
sleep 1
procs=("$GW"); [[ $TARGET == nginx ]] && mapfile -t procs < <(pgrep -P "$GW")
ticks() { local p t=0; for p in "${procs[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo $t; }
t0=$(ticks)
perf record -q -e cpu-clock "${CALL_GRAPH[@]}" -p "$(IFS=,; echo "${procs[*]}")" -o "$TMP/perf.data" \
  -- sleep "$SECS" > /dev/null 2>&1
t1=$(ticks)
wait "$WRK"
RPS=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt")
US=$(awk -v r="$RPS" -v s="$SECS" -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
  'BEGIN { printf "%.2f", d / hz * 1e6 / (r * s) }')
echo "target=$TARGET requests/s $RPS cpu us/request $US (perf record ${SECS} s)"
echo "-- samples per shared object"
perf report -i "$TMP/perf.data" --no-children --sort dso --stdio -g none 2> /dev/null |
  awk '/%/ && $1 + 0 >= 0.5 { printf "%8s  %s\n", $1, $2 }'
echo "-- kernel functions, inclusive: share, us/request"
perf report -i "$TMP/perf.data" --children --sort sym --stdio -g none 2> /dev/null |
  awk -v us="$US" '
    $3 == "[k]" && $4 ~ /^(tcp_sendmsg_locked|tcp_v4_rcv|tcp_ack|sock_def_readable|tcp_recvmsg|__x64_sys_epoll_wait|__x64_sys_timerfd_settime|__x64_sys_futex|__x64_sys_pwrite64|__x64_sys_recvfrom)$/ {
      v = $1; sub(/%/, "", v); printf "%8s  %-28s %6.2f\n", $1, $4, v / 100 * us }'
[[ -n $KEEP ]] && cp "$TMP/perf.data" "$KEEP"
exit 0
