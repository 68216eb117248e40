#!/usr/bin/env bash
# Proxy overhead benchmark: one command, one run, one loopback upstream, four targets.
#
#   bench/proxy/run.sh [--build-dir DIR] [--reps N] [--duration S] [--quick] [--record]
#                      [--soak SECONDS] [more flags: --help]
#
# Measures the upstream directly, nginx as a plain reverse proxy, Switchyard
# (ledger on, route "default") and the Portkey gateway (npm), with wrk and
# bench/proxy/chat.lua, for JSON and SSE at 1, 32 and 256 connections and at 256
# connections with a 50 ms upstream; time to first streamed byte
# (sy_bench_ttfb); CPU time per request and RSS of each proxy from /proc. Every
# cell is repeated R times (targets interleaved) and medians are reported, as
# ratios to nginx from the same run. The Markdown result goes to
# bench/out/proxy-<timestamp>.md and stdout; --record also puts it into the
# "## Proxy overhead" section of docs/BENCHMARKS.md.
#
# CPU placement (2-core machines; --no-pin turns it off): the proxy under test
# runs alone on CPU 0 (--proxy-cpu); wrk (one thread), the TTFB client and the
# upstream share CPU 1 (--client-cpu). Every proxy gets the same core and the
# same worker count (--proxy-threads, default 2: nginx worker_processes,
# Switchyard server.threads; Node's Portkey is one process).
#
# Every process this script starts is stopped by PID on exit (trap), including
# nginx's workers. Everything listens on 127.0.0.1 only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"  # bench_gateway_toml, bench_nginx_conf (functions only: no traps, no variables)
BENCH_PROVIDER_OWNED=false  # (recorded rows are the shipped set-up, whatever the environment says)
export -n BENCH_PROVIDER_OWNED
COMMAND="bench/proxy/run.sh"
for a in "$@"; do COMMAND+=" $(printf '%q' "$a")"; done

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Flags:
  --build-dir DIR      build tree with switchyard and bench/sy_bench_* (default: <repo>/build)
  --reps N             repetitions of every cell; medians are reported (default 3)
  --duration S         seconds per wrk run (default 5)
  --quick              smoke test: 1 s per cell, 1 repetition, 40 TTFB requests
  --targets LIST       comma-separated subset of direct,nginx,switchyard,portkey
  --conns LIST         connection counts (default "1,32,256")
  --delay-ms N         upstream delay of the extra 256-connection cells (default 50; 0 = skip)
  --ttfb-requests N    streamed requests per TTFB measurement (default 100)
  --ttfb-chunk-ms N    upstream gap between streamed events during TTFB (default 2)
  --proxy-threads N    nginx workers / Switchyard event loops (default 2)
  --proxy-cpu LIST     CPUs for the proxy under test (default 0)
  --client-cpu LIST    CPUs for wrk, the TTFB client and the upstream (default 1)
  --no-pin             no taskset at all
  --nice N             niceness of every process the bench starts (default -10 as root, else 0):
                       the same for all targets; keeps other work on a shared machine from
                       dominating the figures
  --base-port P        ports P+1..P+4 for upstream, nginx, Switchyard, Portkey (default 18400)
  --sy-rev TEXT        how to name the Switchyard build in the output (default: git rev)
  --record             write the result into docs/BENCHMARKS.md ("## Proxy overhead")
  --soak SECONDS       instead of the benchmark: Switchyard under 32 connections for SECONDS,
                       RSS sampled every 10 s; reports first/last/max (use 600 for 10 minutes),
                       and apart the heap (RssAnon: a leak shows there) and mapped files
                       (RssFile + RssShmem: binaries, libraries, the ledger's memory map),
                       and the ledger's and audit's largest queue depths between samples
                       (/metrics, every 0.5 s)
  --no-install         do not apt-get/npm install missing tools
  --keep-tmp           keep the temporary directory (configs, logs, raw samples)
EOF
}

# ---------------------------------------------------------------------------------
# Flags
BUILD_DIR="$REPO/build"
REPS=3
DURATION=5
TTFB_N=100
QUICK=0
RECORD=0
SOAK=0
TARGETS="direct,nginx,switchyard,portkey"
CONNS="1,32,256"
DELAY_MS=50
TTFB_CHUNK_MS=2
PROXY_THREADS=2
PROXY_CPU=0
CLIENT_CPU=1
PIN=1
BASE_PORT=18400
SY_REV=""
INSTALL=1
KEEP_TMP=0
NICE=$([[ $(id -u) == 0 ]] && echo -10 || echo 0)
explicit=" "
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --reps) REPS=$2; explicit+="reps "; shift 2 ;;
    --duration) DURATION=$2; explicit+="duration "; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --targets) TARGETS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --delay-ms) DELAY_MS=$2; shift 2 ;;
    --ttfb-requests) TTFB_N=$2; explicit+="ttfb "; shift 2 ;;
    --ttfb-chunk-ms) TTFB_CHUNK_MS=$2; shift 2 ;;
    --proxy-threads) PROXY_THREADS=$2; shift 2 ;;
    --proxy-cpu) PROXY_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    --nice) NICE=$2; shift 2 ;;
    --base-port) BASE_PORT=$2; shift 2 ;;
    --sy-rev) SY_REV=$2; shift 2 ;;
    --record) RECORD=1; shift ;;
    --soak) SOAK=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --keep-tmp) KEEP_TMP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  [[ $explicit == *" reps "* ]] || REPS=1
  [[ $explicit == *" duration "* ]] || DURATION=1
  [[ $explicit == *" ttfb "* ]] || TTFB_N=40
fi
for n in REPS DURATION TTFB_N DELAY_MS TTFB_CHUNK_MS PROXY_THREADS BASE_PORT SOAK; do
  [[ ${!n} =~ ^[0-9]+$ ]] || { echo "run.sh: --${n,,} must be a non-negative integer" >&2; exit 2; }
done
[[ $NICE =~ ^-?[0-9]+$ ]] || { echo "run.sh: --nice must be an integer" >&2; exit 2; }
[[ $REPS -ge 1 && $DURATION -ge 1 && $PROXY_THREADS -ge 1 ]] ||
  { echo "run.sh: --reps, --duration and --proxy-threads must be >= 1" >&2; exit 2; }
BUILD_DIR=$(cd "$BUILD_DIR" 2>/dev/null && pwd) ||
  { echo "run.sh: build dir not found; run 'make build' first or pass --build-dir" >&2; exit 2; }
IFS=, read -r -a TARGET_LIST <<< "$TARGETS"
IFS=, read -r -a CONN_LIST <<< "$CONNS"
for t in "${TARGET_LIST[@]}"; do
  case "$t" in direct | nginx | switchyard | portkey) ;; *)
    echo "run.sh: unknown target $t" >&2; exit 2 ;;
  esac
done
[[ $SOAK -gt 0 ]] && TARGET_LIST=(switchyard)

UP_PORT=$((BASE_PORT + 1))
NGINX_PORT=$((BASE_PORT + 2))
SY_PORT=$((BASE_PORT + 3))
PK_PORT=$((BASE_PORT + 4))

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------
# Processes: everything started is recorded here and stopped by PID on exit.
PIDS=()
TMP=$(mktemp -d /tmp/proxybench.XXXXXX)

alive() { # a live, non-zombie process
  local st
  st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}

children() { # direct children of $1 (pgrep, else a scan of /proc)
  if command -v pgrep > /dev/null; then
    pgrep -P "$1" || true
  else
    sed -E 's/^([0-9]+) .*\) . ([0-9]+) .*/\1 \2/' /proc/[0-9]*/stat 2>/dev/null |
      awk -v p="$1" '$2 == p {print $1}'
  fi
}
descendants() { # PIDs of every descendant of $1
  local c
  for c in $(children "$1"); do
    echo "$c"
    descendants "$c"
  done
}

stop_pid() {
  local pid=$1 kids i
  alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  for i in $kids; do
    alive "$i" && kill -KILL "$i" 2>/dev/null || true
  done
  return 0
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  if [[ $KEEP_TMP == 1 || $rc != 0 ]]; then
    log "temporary files kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on_cpu() { # on_cpu CPULIST cmd...: exec cmd at --nice, pinned unless --no-pin
  local cpus=$1; shift
  local pre=()
  [[ $NICE != 0 ]] && pre=(nice -n "$NICE")
  if [[ $PIN == 1 ]]; then exec "${pre[@]}" taskset -c "$cpus" "$@"; else exec "${pre[@]}" "$@"; fi
}

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_http() { # wait_http PID URL: until URL answers 200, or PID dies, or 20 s
  local pid=$1 url=$2 i
  for ((i = 0; i < 200; i++)); do
    alive "$pid" || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------
# Tools
have() { command -v "$1" > /dev/null 2>&1; }
missing=()
have wrk || missing+=(wrk)
have nginx || [[ ! -x /usr/sbin/nginx ]] || PATH="$PATH:/usr/sbin"
have nginx || missing+=(nginx-light)
have curl || missing+=(curl)
have taskset || missing+=(util-linux)
if [[ " ${TARGET_LIST[*]} " == *" portkey "* ]]; then
  have node || missing+=(nodejs)
  have npm || missing+=(npm)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $INSTALL == 1 && $(id -u) == 0 ]]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    die "missing tools; install them with: sudo apt-get install ${missing[*]}"
  fi
fi
have nginx || PATH="$PATH:/usr/sbin"

SY_BIN="$BUILD_DIR/switchyard"
UP_BIN="$BUILD_DIR/bench/sy_bench_upstream"
TTFB_BIN="$BUILD_DIR/bench/sy_bench_ttfb"
[[ -x $SY_BIN ]] || die "$SY_BIN not found; run 'make build' first or pass --build-dir"
if [[ ! -x $UP_BIN || ! -x $TTFB_BIN ]]; then
  log "building sy_bench_upstream and sy_bench_ttfb in $BUILD_DIR"
  cmake --build "$BUILD_DIR" --target sy_bench_upstream sy_bench_ttfb >&2 ||
    die "cannot build the bench programs (is SWITCHYARD_BUILD_BENCH on?)"
fi

PORTKEY_JS="$HERE/node_modules/@portkey-ai/gateway/build/start-server.js"
PORTKEY_NOTE=""
if [[ " ${TARGET_LIST[*]} " == *" portkey "* ]]; then
  if [[ ! -f $PORTKEY_JS && $INSTALL == 1 ]] && have npm; then
    log "installing the Portkey gateway with npm into $HERE/node_modules"
    (cd "$HERE" && { npm ci --no-audit --no-fund --ignore-scripts || npm install --no-audit --no-fund --ignore-scripts; }) >&2 || true
  fi
  if [[ ! -f $PORTKEY_JS ]] || ! have node; then
    PORTKEY_NOTE="Portkey could not be installed (npm install in bench/proxy failed); measured without it."
    log "$PORTKEY_NOTE"
    TARGET_LIST=("${TARGET_LIST[@]/portkey/}")
  fi
fi
compact_targets() {
  local t out=()
  for t in "${TARGET_LIST[@]}"; do [[ -n $t ]] && out+=("$t"); done
  TARGET_LIST=("${out[@]}")
}
compact_targets

for p in $UP_PORT $NGINX_PORT $SY_PORT $PK_PORT; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use; pick others with --base-port"
done

# ---------------------------------------------------------------------------------
# Targets
declare -A PORT PID_OF
PORT[direct]=$UP_PORT
PORT[nginx]=$NGINX_PORT
PORT[switchyard]=$SY_PORT
PORT[portkey]=$PK_PORT
UP_PID=""

start_upstream() { # start_upstream DELAY_MS CHUNK_DELAY_MS
  if [[ -n $UP_PID ]]; then stop_pid "$UP_PID"; fi
  (on_cpu "$CLIENT_CPU" "$UP_BIN" --port "$UP_PORT" --threads 1 --delay-ms "$1" \
    --chunk-delay-ms "$2") >> "$TMP/upstream.log" 2>&1 &
  UP_PID=$!
  PIDS+=("$UP_PID")
  PID_OF[direct]=$UP_PID
  wait_http "$UP_PID" "http://127.0.0.1:$UP_PORT/healthz" || die "upstream did not start: $(tail -3 "$TMP/upstream.log")"
}

start_nginx() {
  local d="$TMP/nginx"
  mkdir -p "$d/logs"
  bench_nginx_conf "$d" "$PROXY_THREADS" "$NGINX_PORT" "$UP_PORT" > "$d/nginx.conf"
  (on_cpu "$PROXY_CPU" nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log") > "$d/stdout.log" 2>&1 &
  PID_OF[nginx]=$!
  PIDS+=("${PID_OF[nginx]}")
  wait_http "${PID_OF[nginx]}" "http://127.0.0.1:$NGINX_PORT/healthz" ||
    die "nginx did not start: $(tail -3 "$d/logs/error.log" "$d/stdout.log" 2>/dev/null)"
}

start_switchyard() {
  local d="$TMP/switchyard"
  mkdir -p "$d/data"
  # One OpenAI-compatible provider (the bench upstream), the route "default", the
  # ledger on (bench/lib.sh).
  bench_gateway_toml "$SY_PORT" "$UP_PORT" "$d/data" "$PROXY_THREADS" true > "$d/switchyard.toml"
  (on_cpu "$PROXY_CPU" "$SY_BIN" serve --config "$d/switchyard.toml") > "$d/switchyard.log" 2>&1 &
  PID_OF[switchyard]=$!
  PIDS+=("${PID_OF[switchyard]}")
  wait_http "${PID_OF[switchyard]}" "http://127.0.0.1:$SY_PORT/healthz" ||
    die "Switchyard did not start: $(tail -5 "$d/switchyard.log")"
}

start_portkey() {
  local d="$TMP/portkey"
  mkdir -p "$d"
  (cd "$d" && export NODE_ENV=production && on_cpu "$PROXY_CPU" node "$HERE/portkey.mjs" \
    --port="$PK_PORT" --headless) > "$d/portkey.log" 2>&1 &
  PID_OF[portkey]=$!
  PIDS+=("${PID_OF[portkey]}")
  if ! wait_http "${PID_OF[portkey]}" "http://127.0.0.1:$PK_PORT/"; then
    PORTKEY_NOTE="Portkey did not start ($(tail -c 300 "$d/portkey.log" | tr -d '\r' | tail -2 | tr '\n' ' ')); measured without it."
    log "$PORTKEY_NOTE"
    stop_pid "${PID_OF[portkey]}"
    return 1
  fi
}

# Per-target request details: the model name and, for Portkey, its routing headers.
model_of() { [[ $1 == switchyard ]] && echo default || echo gpt-4o-mini; }
headers_of() {
  [[ $1 == portkey ]] &&
    echo "x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$UP_PORT/v1"
  return 0
}

# A real answer for one JSON and one streamed request, else the target is broken.
check_target() {
  local t=$1 h args=() body
  IFS='|' read -r -a hs <<< "$(headers_of "$t")"
  for h in "${hs[@]}"; do [[ -n $h ]] && args+=(-H "$h"); done
  body='{"model":"'$(model_of "$t")'","messages":[{"role":"user","content":"hi"}]'
  curl -sf --max-time 10 "http://127.0.0.1:${PORT[$t]}/v1/chat/completions" -H 'content-type: application/json' \
    -H 'authorization: Bearer sk-bench' "${args[@]}" -d "$body}" | grep -q '"chat.completion"' &&
    curl -sfN --max-time 10 "http://127.0.0.1:${PORT[$t]}/v1/chat/completions" -H 'content-type: application/json' \
      -H 'authorization: Bearer sk-bench' "${args[@]}" -d "$body,\"stream\":true}" | grep -q 'data: \[DONE\]'
}

pids_of() { # the target's process and its descendants (nginx: master + workers)
  local p=${PID_OF[$1]}
  echo "$p"
  descendants "$p"
}
cpu_ticks() { # utime+stime of the target's processes, in clock ticks
  local p sum=0 v
  for p in $(pids_of "$1"); do
    v=$(sed -E 's/^.*\) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || v=0
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}
mem_kb() { # mem_kb TARGET VmRSS|VmHWM: summed over the target's processes
  local p sum=0 v
  for p in $(pids_of "$1"); do
    v=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null) || v=0
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}
# mem_sample TARGET: "RSS heap files" in kB, summed over the target's processes, each
# process's three read from one copy of its status: VmRSS, RssAnon, RssFile + RssShmem.
mem_sample() {
  local p rss=0 anon=0 file=0 a b c
  for p in $(pids_of "$1"); do
    read -r a b c < <(awk '$1 == "VmRSS:" { r = $2 } $1 == "RssAnon:" { a = $2 }
      $1 == "RssFile:" || $1 == "RssShmem:" { f += $2 }
      END { print r + 0, a + 0, f + 0 }' "/proc/$p/status" 2>/dev/null || echo 0 0 0)
    rss=$((rss + a)); anon=$((anon + b)); file=$((file + c))
  done
  echo "$rss $anon $file"
}
CLK_TCK=$(getconf CLK_TCK)

SAMPLES="$TMP/samples.tsv"
: > "$SAMPLES"

wrk_threads() { if [[ $PIN == 1 || $1 -lt 2 ]]; then echo 1; else echo 2; fi; }

# run_wrk TARGET MODE CONNS DURATION OUTFILE: one wrk run; prints its BENCH line.
run_wrk() {
  local t=$1 mode=$2 conns=$3 dur=$4 out=$5
  (export BENCH_STREAM=$([[ $mode == sse ]] && echo 1 || echo 0) BENCH_MODEL=$(model_of "$t") \
    BENCH_HEADERS=$(headers_of "$t") && on_cpu "$CLIENT_CPU" wrk -t"$(wrk_threads "$conns")" \
    -c"$conns" -d"${dur}s" --timeout 10s --latency -s "$HERE/chat.lua" \
    "http://127.0.0.1:${PORT[$t]}") > "$out" 2>&1 || true
  grep '^BENCH ' "$out" || true
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< " $2"; }
errors_in() { # total of wrk's error counters in a BENCH line
  echo $(($(field err_connect "$1") + $(field err_read "$1") + $(field err_write "$1") +
    $(field err_status "$1") + $(field err_timeout "$1")))
}

# measure TARGET MODE CONNS DELAY REP: one cell, appended to the samples.
measure() {
  local t=$1 mode=$2 conns=$3 delay=$4 rep=$5 before after line req errs cpu_us
  local out="$TMP/wrk-$t-$mode-$conns-$delay-$rep.log"
  before=$(cpu_ticks "$t")
  line=$(run_wrk "$t" "$mode" "$conns" "$DURATION" "$out")
  after=$(cpu_ticks "$t")
  [[ -n $line ]] || { log "wrk produced no result for $t $mode c=$conns: $(tail -3 "$out")"; return 0; }
  req=$(field requests "$line")
  errs=$(errors_in "$line")
  cpu_us=$(awk -v d=$((after - before)) -v r="$req" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.2f", (r > 0) ? d * 1e6 / hz / r : 0 }')
  printf 'cell\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$mode" "$conns" "$delay" \
    "$rep" "$(field rps "$line")" "$(field p50_us "$line")" "$(field p99_us "$line")" \
    "$(field p999_us "$line")" "$cpu_us" "$req" "$errs" >> "$SAMPLES"
  log "$(printf '%-10s %-4s c=%-3s delay=%-2s rep %s: %8.0f req/s  p50 %6.3f ms  p99 %7.3f ms  %6s us/req  errors %s' \
    "$t" "$mode" "$conns" "$delay" "$rep" "$(field rps "$line")" \
    "$(awk -v v="$(field p50_us "$line")" 'BEGIN{print v/1000}')" \
    "$(awk -v v="$(field p99_us "$line")" 'BEGIN{print v/1000}')" "$cpu_us" "$errs")"
}

warm_up() { # a short run per target after (re)starting the upstream; errors are logged
  local t line
  for t in "${TARGET_LIST[@]}"; do
    line=$(run_wrk "$t" json 32 1 "$TMP/warmup-$t.log")
    local e=-1
    [[ -n $line ]] && e=$(errors_in "$line")
    [[ $e == 0 ]] || log "warm-up of $t after an upstream (re)start: $e errors"
    echo "$t $e" >> "$TMP/warmup-errors.txt"
  done
}

# ---------------------------------------------------------------------------------
# Machine and versions
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
machine="nproc $(nproc), ${cpu_model:-unknown CPU}, Linux $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
if [[ -z $SY_REV ]]; then
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
  SY_REV=$(git -C "${src:-$REPO}" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ $SY_REV != unknown && -n $(git -C "${src:-$REPO}" status --porcelain --untracked-files=no -- src 2>/dev/null) ]]; then
    SY_REV+="+dirty"
  fi
fi
# (|| true: a missing file must not end the run under set -e / pipefail)
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
pk_version=$(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' "$HERE/node_modules/@portkey-ai/gateway/package.json" 2>/dev/null | head -1 || true)
hono_version=$(sed -n 's/^ *"version": "\(.*\)",*$/\1/p' "$HERE/node_modules/@hono/node-server/package.json" 2>/dev/null | head -1 || true)
node_version=$(node --version 2>/dev/null || echo none)
pinning=$([[ $PIN == 1 ]] && echo "proxy under test on CPU $PROXY_CPU alone; wrk (1 thread), TTFB client and upstream (1 thread) on CPU $CLIENT_CPU" || echo "none (--no-pin)")
pinning+="; every process at nice $NICE"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
STAMP=$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$REPO/bench/out"

header() { # the common head of every report
  echo "- Command: \`$COMMAND\`"
  echo "- Machine: $machine; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- Versions: Switchyard $SY_REV (${build_type:-?} build in \`$BUILD_DIR\`), $nginx_version, @portkey-ai/gateway ${pk_version:-not installed} (node $node_version, @hono/node-server ${hono_version:-?}), wrk $wrk_version"
  echo "- CPU placement: $pinning. Proxy workers: nginx worker_processes $PROXY_THREADS, Switchyard server.threads $PROXY_THREADS, Portkey one Node process."
  [[ -n $PORTKEY_NOTE ]] && echo "- $PORTKEY_NOTE"
  return 0
}

# Replaces the text between two marker lines of docs/BENCHMARKS.md with FILE.
replace_block() { # replace_block BEGIN_MARKER END_MARKER FILE
  local doc="$REPO/docs/BENCHMARKS.md"
  grep -qF "$1" "$doc" && grep -qF "$2" "$doc" || die "docs/BENCHMARKS.md lacks the markers $1 / $2"
  awk -v b="$1" -v e="$2" -v f="$3" '
    $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
}

# ---------------------------------------------------------------------------------
# Soak mode
if [[ $SOAK -gt 0 ]]; then
  start_upstream 0 0
  start_switchyard
  check_target switchyard || die "Switchyard gave no valid answer (see $TMP/switchyard/switchyard.log)"
  log "soak: Switchyard under 32 connections (16 JSON + 16 SSE) for $SOAK s, RSS every 10 s"
  # The ledger's and the egress audit's queue depths from /metrics, polled
  # every 0.5 s between RSS samples; each sample keeps the largest depths seen
  # since the one before, "-" if no poll fitted in (a writer that stalls shows
  # here first, and the heap keeps what its queue grew by).
  queue_depths() { # prints "ledger audit"
    curl -s --max-time 1 "http://127.0.0.1:$SY_PORT/metrics" 2>/dev/null | awk '
      $1 == "switchyard_ledger_queue_depth" { l = $2 }
      $1 == "switchyard_audit_queue_depth" { a = $2 }
      END { if (l != "" && a != "") printf "%d %d", l, a }' || true
  }
  rss_series=()
  start_kb=$(mem_kb switchyard VmRSS)
  wrk_pids=()
  for mode in json sse; do
    (export BENCH_STREAM=$([[ $mode == sse ]] && echo 1 || echo 0) BENCH_MODEL=default &&
      on_cpu "$CLIENT_CPU" wrk -t1 -c16 -d"${SOAK}s" --timeout 10s -s "$HERE/chat.lua" \
      "http://127.0.0.1:$SY_PORT") > "$TMP/soak-$mode.log" 2>&1 &
    wrk_pids+=($!)
    PIDS+=($!)
  done
  # Samples at 0, 10, 20 ... SOAK s after the load started (by the clock, so the
  # time a sample takes does not push the next ones later).
  soak_start=$SECONDS
  next=0
  qmax=- amax=-
  while :; do
    read -r kb anon file <<< "$(mem_sample switchyard)"
    elapsed=$((SECONDS - soak_start))
    rss_series+=("$elapsed:$kb:$anon:$file:$qmax:$amax")
    log "soak t=${elapsed}s RSS $((kb / 1024)) MB (heap $((anon / 1024)), files $((file / 1024))), queue max ledger $qmax audit $amax"
    still=0
    for p in "${wrk_pids[@]}"; do alive "$p" && still=1; done
    [[ $still == 1 && $elapsed -lt $SOAK ]] || break
    next=$((next + 10 < SOAK ? next + 10 : SOAK))
    qmax=- amax=-
    while [[ $SECONDS -lt $((soak_start + next)) ]]; do
      read -r q a <<< "$(queue_depths)" || true
      if [[ -n ${q:-} && -n ${a:-} ]]; then
        [[ $qmax == - || $q -gt $qmax ]] && qmax=$q
        [[ $amax == - || $a -gt $amax ]] && amax=$a
      fi
      sleep 0.5
    done
  done
  # wrk ends by itself (-d); the last sample can come just before it prints its
  # totals, so it gets 15 s to do that before it is stopped.
  for p in "${wrk_pids[@]}"; do
    for ((i = 0; i < 150; i++)); do alive "$p" || break; sleep 0.1; done
    stop_pid "$p"
  done
  total_req=0 total_err=0
  for mode in json sse; do
    line=$(grep '^BENCH ' "$TMP/soak-$mode.log" || true)
    [[ -n $line ]] || { log "soak: wrk $mode gave no result: $(tail -2 "$TMP/soak-$mode.log")"; continue; }
    total_req=$((total_req + $(field requests "$line")))
    total_err=$((total_err + $(errors_in "$line")))
  done
  soak_md="$REPO/bench/out/proxy-soak-$STAMP.md"
  {
    echo "### RSS soak"
    echo ""
    header
    echo ""
    # Entries are t:rss:anon:files (kB):ledger queue max:audit queue max
    # (records, "-" when not polled); field 2 = RSS, 3 = RssAnon.
    nth_field() { cut -d: -f"$2" <<< "$1"; }
    mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
    first_entry=${rss_series[$((${#rss_series[@]} > 1 ? 1 : 0))]}
    first=$(nth_field "$first_entry" 2); last=$(nth_field "${rss_series[-1]}" 2); max=0
    first_anon=$(nth_field "$first_entry" 3); last_anon=$(nth_field "${rss_series[-1]}" 3); max_anon=0
    max_queue=0 max_audit=0
    for s in "${rss_series[@]:1}"; do
      v=$(nth_field "$s" 2); [[ $v -gt $max ]] && max=$v
      v=$(nth_field "$s" 3); [[ $v -gt $max_anon ]] && max_anon=$v
      v=$(nth_field "$s" 5); [[ $v != - && $v -gt $max_queue ]] && max_queue=$v
      v=$(nth_field "$s" 6); [[ $v != - && $v -gt $max_audit ]] && max_audit=$v
    done
    echo "Switchyard RSS over $SOAK s under 32 connections (16 JSON + 16 SSE), sampled every 10 s: idle before load $(awk -v k="$start_kb" 'BEGIN{printf "%.1f", k/1024}') MB; first sample under load $(awk -v k="$first" 'BEGIN{printf "%.1f", k/1024}') MB, last $(awk -v k="$last" 'BEGIN{printf "%.1f", k/1024}') MB, max $(awk -v k="$max" 'BEGIN{printf "%.1f", k/1024}') MB, peak (VmHWM) $(awk -v k="$(mem_kb switchyard VmHWM)" 'BEGIN{printf "%.1f", k/1024}') MB; of that the heap (RssAnon) $(mb "$first_anon") MB at the first sample under load, last $(mb "$last_anon") MB, max $(mb "$max_anon") MB; queue depth at most $max_queue ledger and $max_audit audit records (polled every 0.5 s); $total_req requests, $total_err errors."
    echo ""
    echo "| t (s) | RSS MB | heap (RssAnon) MB | mapped files (RssFile + RssShmem) MB | ledger queue, max since the previous row | audit queue, same |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
    for s in "${rss_series[@]}"; do
      printf '| %d | %s | %s | %s | %s | %s |\n' "$(nth_field "$s" 1)" "$(mb "$(nth_field "$s" 2)")" \
        "$(mb "$(nth_field "$s" 3)")" "$(mb "$(nth_field "$s" 4)")" "$(nth_field "$s" 5)" \
        "$(nth_field "$s" 6)"
    done
  } > "$soak_md"
  cat "$soak_md"
  log "written to $soak_md"
  if [[ $RECORD == 1 ]]; then
    replace_block "<!-- proxy-soak:begin -->" "<!-- proxy-soak:end -->" "$soak_md"
    log "recorded in docs/BENCHMARKS.md"
  fi
  exit 0
fi

# ---------------------------------------------------------------------------------
# Benchmark
log "targets: ${TARGET_LIST[*]}; ${DURATION}s per cell, $REPS repetitions; logs in $TMP"
start_upstream 0 0
for t in "${TARGET_LIST[@]}"; do
  case $t in
    nginx) start_nginx ;;
    switchyard) start_switchyard ;;
    portkey) start_portkey || { TARGET_LIST=("${TARGET_LIST[@]/portkey/}"); compact_targets; continue; } ;;
  esac
  if ! check_target "$t"; then
    if [[ $t == portkey ]]; then
      PORTKEY_NOTE="Portkey started but gave no valid answer; measured without it."
      log "$PORTKEY_NOTE"
      stop_pid "${PID_OF[portkey]}"
      TARGET_LIST=("${TARGET_LIST[@]/portkey/}")
      compact_targets
      continue
    fi
    die "$t gave no valid chat answer (logs in $TMP)"
  fi
done
sleep 1
declare -A IDLE_KB
for t in "${TARGET_LIST[@]}"; do IDLE_KB[$t]=$(mem_kb "$t" VmRSS); done

warm_up
log "phase 1: upstream without delay"
for ((rep = 1; rep <= REPS; rep++)); do
  for mode in json sse; do
    for c in "${CONN_LIST[@]}"; do
      for t in "${TARGET_LIST[@]}"; do measure "$t" "$mode" "$c" 0 "$rep"; done
    done
  done
done

if [[ $DELAY_MS -gt 0 ]]; then
  log "phase 2: upstream with a ${DELAY_MS} ms delay"
  start_upstream "$DELAY_MS" 0
  warm_up
  for ((rep = 1; rep <= REPS; rep++)); do
    for mode in json sse; do
      for t in "${TARGET_LIST[@]}"; do measure "$t" "$mode" 256 "$DELAY_MS" "$rep"; done
    done
  done
fi

log "phase 3: time to first streamed byte (upstream streams one event every ${TTFB_CHUNK_MS} ms)"
start_upstream 0 "$TTFB_CHUNK_MS"
warm_up
for ((rep = 1; rep <= REPS; rep++)); do
  for t in "${TARGET_LIST[@]}"; do
    hargs=()
    IFS='|' read -r -a hs <<< "$(headers_of "$t")"
    for h in "${hs[@]}"; do [[ -n $h ]] && hargs+=(-H "$h"); done
    line=$( (on_cpu "$CLIENT_CPU" "$TTFB_BIN" --port "${PORT[$t]}" --model "$(model_of "$t")" \
      -n "$TTFB_N" --warmup 10 "${hargs[@]}") 2> "$TMP/ttfb-$t-$rep.err" || true)
    if [[ $line != TTFB* ]]; then
      log "TTFB of $t failed: $(tail -2 "$TMP/ttfb-$t-$rep.err")"
      continue
    fi
    printf 'ttfb\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rep" "$(field first_byte_p50_us "$line")" \
      "$(field first_data_p50_us "$line")" "$(field total_p50_us "$line")" \
      "$(field errors "$line")" >> "$SAMPLES"
    log "$(printf '%-10s ttfb rep %s: first byte %s us, whole stream %s us' "$t" "$rep" \
      "$(field first_byte_p50_us "$line")" "$(field total_p50_us "$line")")"
  done
done

for t in "${TARGET_LIST[@]}"; do
  printf 'rss\t%s\t%s\t%s\n' "$t" "${IDLE_KB[$t]}" "$(mem_kb "$t" VmHWM)" >> "$SAMPLES"
done
warmup_errors=$(awk '$2 > 0 {printf "%s%s %d", sep, $1, $2; sep = ", "}' "$TMP/warmup-errors.txt")

# ---------------------------------------------------------------------------------
# Report
OUT_MD="$REPO/bench/out/proxy-$STAMP.md"
HIST_ROW="$TMP/history-row.md"
targets_csv=$(IFS=,; echo "${TARGET_LIST[*]}")
{
  echo "### Latest run: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo ""
  header
  echo "- Method: ${DURATION} s per wrk run, $REPS repetitions of every cell with the targets interleaved; every figure is the median of the repetitions. Connection counts: ${CONN_LIST[*]}$([[ $DELAY_MS -gt 0 ]] && echo ", plus 256 with a ${DELAY_MS} ms upstream"). Time to first streamed byte: $TTFB_N sequential streamed requests on one keep-alive connection per repetition (upstream streams one event every $TTFB_CHUNK_MS ms)."
  [[ -n $warmup_errors ]] && echo "- Errors during the 1 s warm-ups after an upstream (re)start (not in the table): $warmup_errors."
  echo ""
  awk -v targets="$targets_csv" -v history_file="$HIST_ROW" \
    -v history_prefix="| $(date -u +%Y-%m-%d) | $SY_REV " -f "$HERE/report.awk" "$SAMPLES"
} > "$OUT_MD"
cp "$SAMPLES" "$REPO/bench/out/proxy-$STAMP.tsv"
cat "$OUT_MD"
log "written to $OUT_MD (raw samples: bench/out/proxy-$STAMP.tsv)"

if [[ $RECORD == 1 ]]; then
  replace_block "<!-- proxy-results:begin -->" "<!-- proxy-results:end -->" "$OUT_MD"
  doc="$REPO/docs/BENCHMARKS.md"
  awk -v e="<!-- proxy-history:end -->" -v f="$HIST_ROW" '
    $0 == e { while ((getline line < f) > 0) print line }
    { print }' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
  log "recorded in docs/BENCHMARKS.md"
fi
