#!/usr/bin/env bash
# make quickstart: the hybrid loop on a workload generated here.
#
# Generates 3,000 synthetic support tickets over six queues
# (scripts/demo_tickets.py, fixed seed), starts the gateway with a replay
# teacher (the recorded answers, priced as gpt-4o-mini) and a task "tickets",
# sends the tickets through as model "task:tickets" and prints, per batch of
# 200, how the student learns and takes over; then the spend with and without
# the student. The server then keeps running in the foreground (Ctrl-C stops
# it). Data: ./switchyard-data/demo/ (recreated on every run; git-ignored).
# Listens on $SWITCHYARD_LISTEN or 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
SY=${SWITCHYARD_BIN:-./build/switchyard}
[[ -x $SY ]] || { echo "quickstart: $SY not found; run 'make quickstart' (it builds first)" >&2; exit 1; }
LISTEN=${SWITCHYARD_LISTEN:-127.0.0.1:8080}
PORT=${LISTEN##*:}
HOST=${LISTEN%:*}
DEMO=./switchyard-data/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
DEMO=$(cd "$DEMO" && pwd)

python3 scripts/demo_tickets.py generate --out "$DEMO/tickets.csv" --count 3000 --seed 7
cat > "$DEMO/demo.toml" <<TOML
# Written by scripts/quickstart.sh.
[server]
listen = "$LISTEN"

[storage]
data_dir = "$DEMO"

[[providers]]
name = "teacher"
kind = "replay"                     # a recorded teacher: answers from the trace
trace = "$DEMO/tickets.csv"
trace_input = "text"
trace_output = "label"
latency_ms = 20                     # a frontier call is slow; the student is not
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

SERVER_PID=""
stop() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'echo; echo "quickstart: stopping the gateway"; exit 0' INT TERM

"$SY" serve --config "$DEMO/demo.toml" > "$DEMO/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  curl -sf "http://$HOST:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "quickstart: the gateway did not start:" >&2; cat "$DEMO/server.log" >&2; exit 1; }
  sleep 0.1
done
sleep 0.2
kill -0 "$SERVER_PID" 2>/dev/null || { echo "quickstart: the gateway did not start:" >&2; cat "$DEMO/server.log" >&2; exit 1; }
echo "gateway on http://$LISTEN (pid $SERVER_PID), log $DEMO/server.log"

python3 scripts/demo_tickets.py run --trace "$DEMO/tickets.csv" --port "$PORT" --batch 200 --threads 4

echo
"$SY" tasks -c "$DEMO/demo.toml" || true
DASHBOARD="(not in this build)"
curl -sf -o /dev/null "http://$HOST:$PORT/" 2>/dev/null && DASHBOARD="http://$LISTEN/"
cat <<MSG

The gateway keeps running (pid $SERVER_PID):
  dashboard   $DASHBOARD
  metrics     http://$LISTEN/metrics
  try it      curl -s http://$LISTEN/v1/chat/completions -H 'content-type: application/json' \\
                -d '{"model":"task:tickets","messages":[{"role":"user","content":"My parcel never arrived"}]}' -i
  spend       $SY ledger stats -c $DEMO/demo.toml --by task
  advice      $SY advise --since all -c $DEMO/demo.toml
Press Ctrl-C to stop it.
MSG
providers=""
[[ -n ${OPENAI_API_KEY:-} ]] && providers+=" openai"
[[ -n ${ANTHROPIC_API_KEY:-} ]] && providers+=" anthropic"
[[ -n ${SWITCHYARD_LOCAL_URL:-} ]] && providers+=" local"
if [[ -n $providers ]]; then
  echo "Real providers in your environment:$providers. This demo uses only the replay teacher;"
  echo "'$SY serve' (no config) routes to them, or add them to a config file (docs/CONFIG.md)."
fi
wait "$SERVER_PID"
