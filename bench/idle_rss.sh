#!/usr/bin/env bash
# Idle RSS of `switchyard serve` (issue 4: <= 30 MB), and where it sits.
#
#   bench/idle_rss.sh [--build-dir DIR] [--runs N] [--conns N --duration S] [--smaps]
#
# Starts sy_bench_upstream and Switchyard with the config of bench/proxy/run.sh (one
# OpenAI-compatible provider at http://127.0.0.1, the route "default", the ledger on,
# server.threads 2), sends one JSON and one streamed request as run.sh's check does,
# waits 1 s and reads VmRSS (the figure run.sh reports as idle RSS) with its anonymous
# and file-backed parts from /proc/PID/status. Repeats with a fresh process N times
# (--runs, default 3) and prints each run and the median.
# --conns N --duration S: afterwards drives the last process with wrk (JSON, N
# connections, S seconds) and prints VmRSS after the load and VmHWM (peak).
# --smaps: prints the last process's Rss by mapping (summed per name, largest first).
# Every process started here is stopped by PID on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD_DIR="$REPO/build"
RUNS=3
CONNS=0
DURATION=10
SMAPS=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --smaps) SMAPS=1; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=lib.sh
source "$HERE/lib.sh"
bench_setup idle-rss "$BUILD_DIR"
UP_PORT=18601
SY_PORT=18602
"$UPSTREAM" --port "$UP_PORT" --threads 1 > "$TMP/up.log" 2>&1 & PIDS+=($!)
bench_wait_healthy 50 $UP_PORT

field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

rss=()
for run in $(seq "$RUNS"); do
  rm -rf "$TMP/data"
  bench_gateway_toml "$SY_PORT" "$UP_PORT" "$TMP/data" 2 true > "$TMP/switchyard.toml"
  "$SY" serve --config "$TMP/switchyard.toml" > "$TMP/sy.log" 2>&1 &
  SY_PID=$!
  PIDS+=("$SY_PID")
  bench_wait_healthy 100 $SY_PORT
  body='{"model":"default","messages":[{"role":"user","content":"hi"}]'
  curl -sf "http://127.0.0.1:$SY_PORT/v1/chat/completions" -H 'content-type: application/json' \
    -d "$body}" | grep -q '"chat.completion"' || { echo "no JSON answer" >&2; exit 1; }
  curl -sfN "http://127.0.0.1:$SY_PORT/v1/chat/completions" -H 'content-type: application/json' \
    -d "$body,\"stream\":true}" | grep -q 'data: \[DONE\]' || { echo "no SSE answer" >&2; exit 1; }
  sleep 1
  kb=$(field "$SY_PID" VmRSS)
  rss+=("$kb")
  echo "run $run: VmRSS $(mb "$kb") MB (RssAnon $(mb "$(field "$SY_PID" RssAnon)"), RssFile $(mb "$(field "$SY_PID" RssFile)"), RssShmem $(mb "$(field "$SY_PID" RssShmem)")), threads $(field "$SY_PID" Threads)"
  if [[ $run -lt $RUNS ]]; then
    kill "$SY_PID"
    wait "$SY_PID" 2>/dev/null || true
  fi
done
echo "idle VmRSS median of $RUNS: $(mb "$(bench_median "${rss[@]}")") MB"

if [[ $SMAPS == 1 ]]; then
  echo "Rss by mapping (kB, summed per name):"
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)}
       /^Rss:/ {rss[name] += $2}
       END {for (n in rss) if (rss[n] > 0) printf "%8d  %s\n", rss[n], n}' \
    "/proc/$SY_PID/smaps" | sort -rn | head -25
fi

if [[ $CONNS -gt 0 ]]; then
  BENCH_MODEL=default wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$REPO/bench/proxy/chat.lua" \
    "http://127.0.0.1:$SY_PORT" > "$TMP/wrk.log" 2>&1 || true
  sleep 1
  echo "after $DURATION s of wrk at $CONNS connections: VmRSS $(mb "$(field "$SY_PID" VmRSS)") MB, VmHWM $(mb "$(field "$SY_PID" VmHWM)") MB; $(grep -o 'requests=[0-9]*' "$TMP/wrk.log" || grep 'requests in' "$TMP/wrk.log")"
fi
