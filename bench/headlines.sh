#!/usr/bin/env bash
# The headlines task end to end through the HTTP API (issue 5, Benchmark).
#
#   bench/headlines.sh [--data-dir DIR] [--build-dir DIR] [--threads N]
#                      [--target-agreement X] [--keep]
#
# A replay teacher (priced as openai/gpt-4o-mini) answers with the labels of
# headlines/train.csv and dev.csv; a task "headlines" learns from it. The 5,000
# train headlines go through first (the student starts empty), then, once the
# last training has finished, the 2,507 dev headlines. bench/headlines_driver.py
# does the work; this script checks the inputs, owns the temp dir, and after the
# run prints `switchyard tasks` and `switchyard advise --since all` on the
# resulting ledger. Output: bench/out/headlines-<UTC stamp>.{csv,json,md,txt}.
# Every server is stopped by PID (SIGTERM) on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
DATA_DIR="$REPO/../shared/data"
BUILD_DIR="$REPO/build"
THREADS=4
TARGET=0.94
KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --data-dir) DATA_DIR=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --target-agreement) TARGET=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
if [[ ! -f $DATA_DIR/headlines/train.csv || ! -f $DATA_DIR/headlines/dev.csv ]]; then
  echo "headlines: skipped: $DATA_DIR/headlines/{train,dev}.csv not found (pass --data-dir)"
  exit 0
fi
SY="$BUILD_DIR/switchyard"
[[ -x $SY ]] || { echo "build switchyard in $BUILD_DIR first (or pass --build-dir)" >&2; exit 1; }
TMP=$(mktemp -d /tmp/sy-headlines.XXXXXX)
cleanup() {
  if [[ -f $TMP/pids ]]; then
    while read -r p; do kill -TERM "$p" 2>/dev/null || true; done < "$TMP/pids"
  fi
  if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
OUT="$REPO/bench/out"
mkdir -p "$OUT"
status=0
python3 "$HERE/headlines_driver.py" --data-dir "$DATA_DIR" --switchyard "$SY" --tmp "$TMP" \
  --out-dir "$OUT" --threads "$THREADS" --target-agreement "$TARGET" || status=$?
latest=$(ls -t "$OUT"/headlines-*.json 2>/dev/null | head -1)
if [[ -n $latest && -f $TMP/data/ledger.db ]]; then
  txt="${latest%.json}.txt"
  {
    echo "\$ switchyard tasks -c config.toml"
    "$SY" tasks -c "$TMP/config.toml"
    echo
    echo "\$ switchyard advise --since all -c config.toml"
    "$SY" advise --since all -c "$TMP/config.toml"
  } 2>&1 | tee "$txt"
fi
exit $status
