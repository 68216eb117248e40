# Shared set-up of the bench scripts (source it; bash only).
#
#   bench_setup NAME BUILD_DIR   checks $BUILD_DIR/switchyard and sy_bench_upstream
#                                (sets SY and UPSTREAM), makes TMP, and stops every PID
#                                in PIDS and removes TMP on exit
#   bench_wait_healthy TRIES PORT...   polls /healthz of each port (0.1 s apart)
#   bench_median NUMBER...             median of the numbers
#   bench_gateway_toml PORT UPSTREAM_PORT DATA_DIR THREADS LEDGER(true|false) [LOG_LEVEL]
#                                      the bench's Switchyard config on stdout: one
#                                      openai provider "up" at the upstream (256 idle
#                                      connections per loop, as nginx's keepalive 256),
#                                      route "default"; log level "warn" unless given.
#                                      Sections to add (e.g. [guard]) can be appended.
#   bench_wrk_rps_cpu PORT PID CONNS SECONDS
#                                      wrk (bench/proxy/chat.lua, JSON) at the port on CPU 1;
#                                      prints "rps cpu_us_per_request", the CPU being PID's
#                                      user + system time over the run (all threads)
bench_setup() {
  local name=$1 build_dir=$2
  SY="$build_dir/switchyard"
  UPSTREAM="$build_dir/bench/sy_bench_upstream"
  [[ -x $SY && -x $UPSTREAM ]] || {
    echo "build switchyard and sy_bench_upstream in $build_dir first" >&2
    exit 1
  }
  TMP=$(mktemp -d "/tmp/sy-$name.XXXXXX")
  PIDS=()
  trap _bench_cleanup EXIT
}

_bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}

bench_wait_healthy() {
  local tries=$1 port
  shift
  for port in "$@"; do
    for _ in $(seq "$tries"); do
      curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
      sleep 0.1
    done
  done
}

bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'
}

bench_gateway_toml() {
  local port=$1 up_port=$2 data_dir=$3 threads=$4 ledger=$5 log_level=${6:-warn}
  cat <<TOML
[server]
listen = "127.0.0.1:$port"
threads = $threads
[storage]
data_dir = "$data_dir"
[log]
level = "$log_level"
[ledger]
enabled = $ledger
[[providers]]
name = "up"
kind = "openai"
base_url = "http://127.0.0.1:$up_port/v1"
models = ["gpt-4o-mini"]
max_idle_connections = 256
[[routes]]
name = "default"
targets = ["up/gpt-4o-mini"]
TOML
}

_bench_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

bench_wrk_rps_cpu() {
  local port=$1 pid=$2 conns=$3 seconds=$4 t0 t1 line rps n
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  t0=$(_bench_ticks "$pid")
  line=$(BENCH_MODEL=default taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" \
    -s "$here/proxy/chat.lua" "http://127.0.0.1:$port" 2>/dev/null | grep '^BENCH ')
  t1=$(_bench_ticks "$pid")
  rps=$(sed -n 's/.* rps=\([0-9.]*\) .*/\1/p' <<< "$line")
  n=$(sed -n 's/.* requests=\([0-9]*\) .*/\1/p' <<< "$line")
  awk -v r="$rps" -v n="$n" -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%s %.1f\n", r, (n > 0 ? d / hz * 1e6 / n : 0) }'
}
