#!/usr/bin/env bash
# Heap allocations per proxied request, by the gateway function that made them:
# uprobes on the allocator's operator new and malloc (the library the binary
# links: tcmalloc, mimalloc (whose operator new may count twice if it calls
# mi_malloc out of line) or glibc), counted (perf stat) and recorded with DWARF
# call graphs (perf record) under a light wrk load, and divided by the requests
# served in the same window (counted by a uprobe too, below).
#
#   bench/proxy/alloc_sites.sh [--build-dir DIR] [--seconds S] [--conns N] [--stream 0|1]
#                              [--depth D] [--keep FILE]
#
# Prints the allocations per request, then per site: the first Switchyard
# frame (D frames with --depth), with the number per request. Counts, not
# time. The writer threads' allocations per batch show as fractions. Requests are counted with a uprobe too (on the gateway's
# NewRequestId, once per chat request; needs the build's debug info, as
# RelWithDebInfo has). Needs perf (Debian linux-perf) and root (uprobes). Every
# process started here is stopped by PID on exit, and the probes are deleted.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD_DIR="$REPO/build"; SECS=1; CONNS=4; STREAM=0; DEPTH=1; KEEP=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --stream) STREAM=$2; shift 2 ;;
    --depth) DEPTH=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
command -v perf > /dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
bench_setup alloc-sites "$BUILD_DIR"
# The allocator the binary links, and its entry points.
LIB=$(ldd "$SY" | awk '/libtcmalloc|libmimalloc/ { print $3; exit }')
if [[ -n $LIB ]]; then
  case $LIB in
    *tcmalloc*) FUNCS=(tc_new tc_malloc) ;;
    *) FUNCS=(mi_new mi_malloc) ;;
  esac
else
  LIB=$(ldd "$SY" | awk '/libc\.so/ { print $3; exit }'); FUNCS=(malloc)
fi
# Every probe is in the group sy_alloc, deleted on exit (and first, in case an
# interrupted run left some); bench_setup's exit trap stops the processes.
trap 'perf probe -q -d "sy_alloc:*" 2> /dev/null || true; _bench_cleanup' EXIT
perf probe -q -d "sy_alloc:*" 2> /dev/null || true
EVENTS=()
for f in "${FUNCS[@]}"; do
  perf probe -q -x "$LIB" -a "sy_alloc:$f=$f" > /dev/null
  EVENTS+=(-e "sy_alloc:$f")
done
# (An inlined function gets a probe per copy: request, request_1, ...)
perf probe -q -x "$SY" -a "sy_alloc:request=NewRequestId" > /dev/null ||
  { echo "cannot probe NewRequestId in $SY (a build with debug info is needed)" >&2; exit 1; }
UP_PORT=18801; GW_PORT=18802
taskset -c 1 "$UPSTREAM" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
bench_start_proxy switchyard "$GW_PORT" "$UP_PORT" 2 true 0
GW=$PROXY_PID
bench_wait_healthy 100 "$UP_PORT" "$GW_PORT"
BENCH_STREAM=$STREAM BENCH_MODEL=default taskset -c 1 wrk -t1 -c"$CONNS" -d"$((SECS + 3))s" \
  -s "$HERE/chat.lua" "http://127.0.0.1:$GW_PORT" > "$TMP/wrk.txt" &
WRK=$!; PIDS+=("$WRK")
sleep 1
# perf stat counts every call (and the requests); perf record's stacks (which
# it may drop when its buffer fills) give each site's share of the calls.
perf stat -x, -e 'sy_alloc:*' -p "$GW" -o "$TMP/stat.txt" -- sleep "$SECS" > /dev/null 2>&1 &
STAT=$!; PIDS+=("$STAT")
perf record -q "${EVENTS[@]}" --call-graph dwarf,4096 -m 8192 -p "$GW" -o "$TMP/perf.data" \
  -- sleep "$SECS" > /dev/null 2>&1
wait "$STAT"
CALLS=$(awk -F, '/sy_alloc:/ && !/sy_alloc:request/ { n += $1 } END { printf "%d", n }' "$TMP/stat.txt")
REQUESTS=$(awk -F, '/sy_alloc:request/ { n += $1 } END { printf "%d", n }' "$TMP/stat.txt")
if [[ $REQUESTS -eq 0 ]]; then
  echo "no request was counted in ${SECS}s (perf stat output: $TMP/stat.txt)" >&2; exit 1
fi
wait "$WRK"
perf script -i "$TMP/perf.data" -F ip,sym --no-inline 2> /dev/null > "$TMP/stacks.txt"
echo "stream=$STREAM conns=$CONNS allocator=$(basename "$LIB") requests=$REQUESTS allocations=$CALLS (under uprobes)"
python3 - "$TMP/stacks.txt" "$REQUESTS" "$DEPTH" "$CALLS" <<'PY'
import collections, re, sys
path, requests, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
calls = int(sys.argv[4])
sites = collections.Counter()
total = 0
frames = []
def flush():
    global total
    if not frames: return
    total += 1
    own = [f for f in frames if f.startswith('switchyard::')]
    sites[' <- '.join(f[:90] for f in own[:depth]) if own else '(no Switchyard frame) ' + ' <- '.join(f[:40] for f in frames[:4])] += 1
    frames.clear()
for line in open(path, errors='replace'):
    m = re.match(r'\s+[0-9a-f]+ (.*)$', line)
    if m and line.startswith('\t'):
        frames.append(m.group(1).split('+0x')[0])
    elif not line.strip():
        flush()
flush()
print(f'allocations per request: {calls / requests:.2f} ({total} stacks recorded)')
scale = calls / max(1, total) / requests  # per request, for one recorded stack
for site, n in sites.most_common():
    if n * scale >= 0.005: print(f'{n * scale:7.2f}  {site}')
PY
[[ -n $KEEP ]] && cp "$TMP/perf.data" "$KEEP"
exit 0
