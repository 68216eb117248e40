# Shared set-up of the bench scripts (source it; bash only).
#
#   bench_setup NAME BUILD_DIR   checks $BUILD_DIR/switchyard and sy_bench_upstream
#                                (sets SY and UPSTREAM), makes TMP, and stops every PID
#                                in PIDS and removes TMP on exit
#   bench_wait_healthy TRIES PORT...   polls /healthz of each port (0.1 s apart)
#   bench_median NUMBER...             median of the numbers
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
