#!/usr/bin/env python3
"""A cascade route served over HTTP, on RouteLLM's GSM8K outcomes (Python 3
standard library only).

  cascade_demo.py --switchyard BIN --data gsm8k_dev.csv --workdir DIR [--port P]

Splits the data 60/20/20 (seeded) into train, calib and test; trains a cascade
model on train (`switchyard router train --kind cascade`); starts `switchyard
serve` with two replay providers standing in for the weak (owned) and strong
models — each answers a test prompt with its recorded response — and two
cascade routes whose thresholds are set on calib (target_pgr 0.8 and
max_strong_share 0.3). Every test prompt is then sent through
POST /v1/chat/completions; the decision headers say whether it escalated, and
the recorded weak_correct / strong_correct say whether the answer that was
served is right. Prints escalation share, accuracy and PGR per route.
"""

import argparse
import csv
import http.client
import json
import os
import random
import subprocess
import sys
import time

csv.field_size_limit(1 << 30)


def split(data, workdir):
    with open(data, newline="") as f:
        rows = list(csv.DictReader(f))
    random.Random(7).shuffle(rows)
    n = len(rows)
    parts = {"train": rows[: n * 6 // 10], "calib": rows[n * 6 // 10 : n * 8 // 10],
             "test": rows[n * 8 // 10 :]}
    for name, part in parts.items():
        with open(os.path.join(workdir, name + ".csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(part)
    return parts


CONFIG = """[server]
listen = "127.0.0.1:{port}"
[storage]
data_dir = "{w}/data"
[[providers]]
name = "local"
kind = "replay"
owned = true
trace = "{w}/test.csv"
trace_input = "prompt"
trace_output = "weak_response"
models = ["weak"]
[[providers]]
name = "cloud"
kind = "replay"
trace = "{w}/test.csv"
trace_input = "prompt"
trace_output = "strong_response"
models = ["strong"]
[[routes]]
name = "math-pgr80"
policy = "cascade"
weak = "local/weak"
strong = "cloud/strong"
model = "{w}/gsm8k.cascade"
target_pgr = 0.8
holdout = "{w}/calib.csv"
[[routes]]
name = "math-share30"
policy = "cascade"
weak = "local/weak"
strong = "cloud/strong"
model = "{w}/gsm8k.cascade"
max_strong_share = 0.3
holdout = "{w}/calib.csv"
"""


def ask(port, route, rows):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    escalated = correct = weak = strong = 0
    headers = {}
    for r in rows:
        body = json.dumps({"model": route, "messages": [{"role": "user", "content": r["prompt"]}]})
        conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            sys.exit(f"{route}: HTTP {resp.status}")
        headers = {k: v for k, v in resp.getheaders() if k.startswith("x-switchyard")}
        up = headers.get("x-switchyard-escalated") == "true"
        escalated += up
        correct += int(r["strong_correct"] if up else r["weak_correct"])
        weak += int(r["weak_correct"])
        strong += int(r["strong_correct"])
    n = len(rows)
    pgr = (correct - weak) / (strong - weak) if strong != weak else float("nan")
    print(f"{route}: {n} test prompts, escalated {escalated} ({escalated / n:.1%}); accuracy "
          f"{correct / n:.3f} (weak only {weak / n:.3f}, strong only {strong / n:.3f}); PGR {pgr:.3f}")
    print(f"  last response's decision headers: {headers}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--switchyard", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=18431)
    a = ap.parse_args()
    w = os.path.abspath(a.workdir)
    os.makedirs(w, exist_ok=True)
    parts = split(a.data, w)
    print(f"train {len(parts['train'])}, calib {len(parts['calib'])}, test {len(parts['test'])} rows")
    subprocess.run([a.switchyard, "router", "train", "--data", f"{w}/train.csv", "--out",
                    f"{w}/gsm8k.cascade", "--kind", "cascade"], check=True)
    with open(f"{w}/demo.toml", "w") as f:
        f.write(CONFIG.format(port=a.port, w=w))
    server = subprocess.Popen([a.switchyard, "serve", "-c", f"{w}/demo.toml"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", a.port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        for route in ("math-pgr80", "math-share30"):
            ask(a.port, route, parts["test"])
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
