#!/usr/bin/env bash
# The dashboard end to end (CTest `dashboard_e2e`):
#   run_dashboard_e2e.sh SWITCHYARD_BIN SOURCE_DIR WORK_DIR NODE_MODULES
# Generates 1,000 demo support tickets (scripts/demo_tickets.py, fixed seed),
# starts the gateway with the quickstart's replay teacher and task "tickets",
# sends the tickets, waits until the ledger holds every one, then opens
# http://127.0.0.1:PORT/ in headless Chromium (dashboard_e2e.mjs): waits for
# the charts, checks the request count and spend shown against
# `switchyard ledger stats --since all --json`, and saves a screenshot to
# $SWITCHYARD_SCREENSHOT (default WORK_DIR/dashboard.png; the README's image is
# made with SWITCHYARD_SCREENSHOT=docs/img/dashboard.png).
# SWITCHYARD_E2E_BATCH / SWITCHYARD_E2E_PAUSE (seconds between batches; default
# 250 / 0) spread the workload over several minutes for a screenshot with history.
# Exit 77 (CTest: skipped) when chromium, node, python3 or playwright-core is missing.
set -euo pipefail
SY=$1
SRC=$2
WORK=$3
NODE_MODULES=$4
CHROMIUM=${SWITCHYARD_CHROMIUM:-/usr/bin/chromium}

skip() { echo "SKIPPED: $*"; exit 77; }
[[ -x $CHROMIUM ]] || skip "no Chromium at $CHROMIUM (Debian: apt-get install chromium, or 'make deps')"
command -v node >/dev/null || skip "no node on the PATH (Debian: apt-get install nodejs)"
command -v python3 >/dev/null || skip "no python3 on the PATH"
[[ -f $NODE_MODULES/playwright-core/package.json ]] ||
  skip "playwright-core is not installed in $NODE_MODULES (the build installs it from npm)"

DEMO=$WORK/dashboard-demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

python3 "$SRC/scripts/demo_tickets.py" generate --out "$DEMO/tickets.csv" --count 1000 --seed 11
cat > "$DEMO/demo.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"

[storage]
data_dir = "$DEMO"

[[providers]]
name = "teacher"
kind = "replay"
trace = "$DEMO/tickets.csv"
trace_input = "text"
trace_output = "label"
latency_ms = 20
price_as = "openai/gpt-4o-mini"

[[tasks]]
name = "tickets"
kind = "classify"
labels = ["billing", "shipping", "returns", "account", "technical", "other"]
teacher = "teacher/gpt-4o-mini"
target_agreement = 0.95
min_train_labels = 200
retrain_every = 200
shadow_sample = 0.02
TOML

"$SY" serve --config "$DEMO/demo.toml" > "$DEMO/server.log" 2>&1 &
SERVER_PID=$!
stop() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "the gateway did not start:"; cat "$DEMO/server.log"; exit 1; }
  sleep 0.1
done

# Before any traffic the page shows its empty state.
node "$SRC/tests/e2e/dashboard_e2e.mjs" --url "http://127.0.0.1:$PORT/" --expect-empty \
  --chromium "$CHROMIUM" --node-modules "$NODE_MODULES"

python3 "$SRC/scripts/demo_tickets.py" run --trace "$DEMO/tickets.csv" --port "$PORT" \
  --batch "${SWITCHYARD_E2E_BATCH:-250}" --pause "${SWITCHYARD_E2E_PAUSE:-0}" --threads 4

# Wait until the ledger writer has committed every request.
stats() { "$SY" ledger stats -c "$DEMO/demo.toml" --since all --json; }
for _ in $(seq 1 100); do
  n=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["requests"])')
  [[ $n == 1000 ]] && break
  sleep 0.1
done
stats > "$DEMO/stats.json"
echo "ledger stats: $(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; print(t["requests"], "requests, $", t["cost_usd"])' "$DEMO/stats.json")"

SHOT=${SWITCHYARD_SCREENSHOT:-$WORK/dashboard.png}
node "$SRC/tests/e2e/dashboard_e2e.mjs" \
  --url "http://127.0.0.1:$PORT/" --stats "$DEMO/stats.json" --chromium "$CHROMIUM" \
  --node-modules "$NODE_MODULES" --screenshot "$SHOT"

# The ledger did not move while the page was read.
stats > "$DEMO/stats-after.json"
cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$DEMO/stats.json") \
       <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"])' "$DEMO/stats-after.json") ||
  { echo "the ledger changed while the page was read"; exit 1; }
echo "dashboard e2e: ok (screenshot $SHOT)"
