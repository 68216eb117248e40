#!/usr/bin/env python3
"""Driver for bench/headlines.sh: the headlines task end to end through the HTTP API.

Python 3 standard library only. Steps (all in --tmp):
  1. trace.csv: train.csv + dev.csv as text,label (the replay teacher's answers);
     config.toml: a replay provider "teacher" priced as openai/gpt-4o-mini and a
     task "headlines" whose teacher is teacher/gpt-4o-mini.
  2. Start `switchyard serve`; send the 5,000 train headlines in order as
     model "task:headlines" (the student starts empty and learns as they pass).
  3. Wait for the last training (polls `switchyard tasks --json --versions`).
  4. Send the 2,507 dev headlines; record per-request headers.
  5. Teacher-only reference: a second server (its own ledger) answers the same
     dev headlines with model "teacher/gpt-4o-mini"; its summed cost is the
     teacher-only cost.
  6. Write bench/out/headlines-<stamp>.csv and a summary (.md and .json).
Every server started here is stopped with SIGTERM by PID (its PID is also
written to <tmp>/pids for the shell's trap).
"""

import argparse
import csv
import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

TARGET_AGREEMENT = 0.96
TARGET_ESCALATED = 0.20
TARGET_COST_SHARE = 0.25


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path, port, data_dir, trace, args, with_task=True):
    task = f"""
[[tasks]]
name = "headlines"
kind = "classify"
labels = ["up", "down", "neutral", "none"]
teacher = "teacher/gpt-4o-mini"
target_agreement = {args.target_agreement}
retrain_every = {args.retrain_every}
min_train_labels = {args.min_train_labels}
shadow_sample = {args.shadow_sample}
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"""[server]
listen = "127.0.0.1:{port}"
threads = 2

[storage]
data_dir = "{data_dir}"

[log]
level = "info"

[[providers]]
name = "teacher"
kind = "replay"
trace = "{trace}"
trace_input = "text"
trace_output = "label"
latency_ms = 0
price_as = "openai/gpt-4o-mini"
""")
        if with_task:
            f.write(task)


class Server:
    def __init__(self, binary, config, log_path, pid_file):
        self.log = open(log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([binary, "serve", "--config", config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        with open(pid_file, "a", encoding="utf-8") as f:
            f.write(f"{self.proc.pid}\n")

    def wait_ready(self, port, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"switchyard exited with {self.proc.returncode}; see the log")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("switchyard did not become ready")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def send_all(port, model, rows, threads):
    """Sends rows (dicts with id, text) with `threads` keep-alive connections.
    Returns a list of per-request dicts in the order of `rows`."""
    results = [None] * len(rows)
    work = queue.Queue()
    for i in range(len(rows)):
        work.put(i)
    errors = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                break
            row = rows[i]
            body = json.dumps({"model": model,
                               "messages": [{"role": "user", "content": row["text"]}]})
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/chat/completions", body,
                             {"content-type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as e:
                errors.append(f"{row['id']}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            ms = (time.perf_counter() - t0) * 1000
            answer = ""
            if resp.status == 200:
                answer = json.loads(data)["choices"][0]["message"]["content"]
            else:
                errors.append(f"{row['id']}: HTTP {resp.status} {data[:200]!r}")
            results[i] = {
                "id": row["id"],
                "answer": answer,
                "route": resp.getheader("x-switchyard-route", ""),
                "escalated": resp.getheader("x-switchyard-escalated", ""),
                "confidence": resp.getheader("x-switchyard-confidence", ""),
                "latency_ms": f"{ms:.3f}",
                "cost_usd": resp.getheader("x-switchyard-cost-usd", ""),
                "status": resp.status,
            }
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, first: {errors[0]}")
    return results


def metric(port, name):
    """The value of `name{task="headlines"}` on /metrics (0 when absent)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and 'task="headlines"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def tasks_json(binary, config):
    out = subprocess.run([binary, "tasks", "--json", "--versions", "-c", config],
                         capture_output=True, text=True, check=True).stdout
    return next(t for t in json.loads(out) if t["task"] == "headlines")


def wait_training(binary, config, port, stable_s=8, timeout_s=180):
    """Waits until the labels seen (/metrics) and the student versions
    (`switchyard tasks --json --versions`) stop changing for stable_s."""
    deadline = time.time() + timeout_s
    last, since = None, time.time()
    while time.time() < deadline:
        t = tasks_json(binary, config)
        t["labels_seen"] = int(metric(port, "switchyard_task_labels_total"))
        state = (t["labels_seen"], len(t.get("versions") or []))
        if state != last:
            last, since = state, time.time()
        elif time.time() - since >= stable_s:
            return t
        time.sleep(1)
    raise SystemExit("training did not settle")


def pct(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def share_escalated(rs):
    return sum(r["escalated"] == "true" for r in rs) / len(rs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--switchyard", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--target-agreement", type=float, default=0.94)
    ap.add_argument("--retrain-every", type=int, default=500)
    ap.add_argument("--min-train-labels", type=int, default=500)
    ap.add_argument("--shadow-sample", type=float, default=0.005)
    args = ap.parse_args()

    train = read_rows(os.path.join(args.data_dir, "headlines", "train.csv"))
    dev = read_rows(os.path.join(args.data_dir, "headlines", "dev.csv"))
    trace = os.path.join(args.tmp, "trace.csv")
    with open(trace, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for r in train + dev:
            w.writerow([r["text"], r["label"]])
    pid_file = os.path.join(args.tmp, "pids")
    port = free_port()
    config = os.path.join(args.tmp, "config.toml")
    write_config(config, port, os.path.join(args.tmp, "data"), trace, args)

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, f"headlines-{stamp}")

    server = Server(args.switchyard, config, os.path.join(args.tmp, "server.log"), pid_file)
    try:
        server.wait_ready(port)
        t0 = time.time()
        train_res = send_all(port, "task:headlines", train, args.threads)
        t_train = time.time() - t0
        print(f"train: {len(train)} requests in {t_train:.1f} s; escalated "
              f"{share_escalated(train_res):.1%} (by thousand: " +
              ", ".join(f"{share_escalated(train_res[i:i + 1000]):.0%}"
                        for i in range(0, len(train_res), 1000)) + ")", flush=True)
        t0 = time.time()
        after_train = wait_training(args.switchyard, config, port)
        t_wait = time.time() - t0
        student = after_train["student"] or {}
        print(f"training settled after {t_wait:.1f} s: labels {after_train['labels_seen']}, "
              f"versions {len(after_train.get('versions') or [])}, current "
              f"v{student.get('version')} {student.get('status')} "
              f"threshold {student.get('threshold')}", flush=True)
        t0 = time.time()
        dev_res = send_all(port, "task:headlines", dev, args.threads)
        t_dev = time.time() - t0
        after_dev = tasks_json(args.switchyard, config)
        after_dev["labels_seen"] = int(metric(port, "switchyard_task_labels_total"))
    finally:
        server.stop()

    # Teacher-only reference: the same dev requests straight to the teacher,
    # on a second server with its own ledger.
    port2 = free_port()
    config2 = os.path.join(args.tmp, "teacher-only.toml")
    write_config(config2, port2, os.path.join(args.tmp, "data-teacher-only"), trace, args,
                 with_task=False)
    server2 = Server(args.switchyard, config2, os.path.join(args.tmp, "teacher-only.log"),
                     pid_file)
    try:
        server2.wait_ready(port2)
        teacher_res = send_all(port2, "teacher/gpt-4o-mini", dev, args.threads)
    finally:
        server2.stop()

    fields = ["phase", "id", "answer", "route", "escalated", "confidence", "latency_ms",
              "cost_usd"]
    with open(base + ".csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for phase, rs in (("train", train_res), ("dev", dev_res)):
            for r in rs:
                w.writerow(dict(r, phase=phase))

    n = len(dev)
    agree = sum(r["answer"] == d["label"] for r, d in zip(dev_res, dev)) / n
    local = [(r, d) for r, d in zip(dev_res, dev) if r["escalated"] == "false"]
    student_agree = sum(r["answer"] == d["label"] for r, d in local) / max(1, len(local))
    teacher_agree = sum(r["answer"] == d["label"] for r, d in zip(teacher_res, dev)) / n
    escalated = share_escalated(dev_res)
    cost = sum(float(r["cost_usd"]) for r in dev_res)
    teacher_cost = sum(float(r["cost_usd"]) for r in teacher_res)
    esc_costs = [float(r["cost_usd"]) for r in dev_res if r["escalated"] == "true"]
    extrapolated = sum(esc_costs) / max(1, len(esc_costs)) * n
    lat = [float(r["latency_ms"]) for r in dev_res]
    lat_local = [float(r["latency_ms"]) for r, _ in local]
    lat_esc = [float(r["latency_ms"]) for r in dev_res if r["escalated"] == "true"]
    student = after_dev["student"] or {}
    summary = {
        "dev_requests": n,
        "agreement": agree,
        "student_answered": len(local),
        "student_agreement": student_agree,
        "teacher_only_agreement": teacher_agree,
        "escalated": escalated,
        "cost_usd": cost,
        "teacher_only_cost_usd": teacher_cost,
        "teacher_only_cost_extrapolated_usd": extrapolated,
        "cost_share": cost / teacher_cost,
        "latency_ms": {"p50": pct(lat, 50), "p99": pct(lat, 99),
                       "student_p50": pct(lat_local, 50) if lat_local else None,
                       "student_p99": pct(lat_local, 99) if lat_local else None,
                       "teacher_p50": pct(lat_esc, 50) if lat_esc else None},
        "train_escalated": share_escalated(train_res),
        "train_escalated_by_thousand": [share_escalated(train_res[i:i + 1000])
                                        for i in range(0, len(train_res), 1000)],
        "labels_after_train": after_train["labels_seen"],
        "versions_after_train": len(after_train.get("versions") or []),
        "labels_after_dev": after_dev["labels_seen"],
        "student_after_dev": {k: student.get(k) for k in ("version", "status", "threshold")},
        "student_holdout": student.get("holdout"),
        "live": after_dev.get("live"),
        "seconds": {"train": t_train, "wait_training": t_wait, "dev": t_dev},
        "settings": {"target_agreement": args.target_agreement,
                     "retrain_every": args.retrain_every,
                     "min_train_labels": args.min_train_labels,
                     "shadow_sample": args.shadow_sample, "threads": args.threads},
        "targets_met": {"agreement": agree >= TARGET_AGREEMENT,
                        "escalated": escalated <= TARGET_ESCALATED,
                        "cost": cost / teacher_cost <= TARGET_COST_SHARE},
        "csv": base + ".csv",
        "config": config,
    }
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    def mark(ok):
        return "met" if ok else "MISSED"

    tm = summary["targets_met"]
    md = [
        f"| dev requests | {n:,} |",
        f"| agreement with the teacher (answer == dev label) | {agree:.4f} "
        f"(target >= {TARGET_AGREEMENT}: {mark(tm['agreement'])}) |",
        f"| answered by the student | {len(local):,} ({1 - escalated:.1%}); "
        f"their agreement {student_agree:.4f} |",
        f"| escalated to the teacher | {escalated:.1%} "
        f"(target <= {TARGET_ESCALATED:.0%}: {mark(tm['escalated'])}) |",
        f"| cost, hybrid | ${cost:.6f} |",
        f"| cost, teacher only (measured) | ${teacher_cost:.6f} "
        f"(extrapolated from escalated: ${extrapolated:.6f}) |",
        f"| cost share | {cost / teacher_cost:.1%} "
        f"(target <= {TARGET_COST_SHARE:.0%}: {mark(tm['cost'])}) |",
        f"| latency p50 / p99 (all dev) | {pct(lat, 50):.2f} ms / {pct(lat, 99):.2f} ms |",
        f"| latency p50 / p99, student answers | "
        f"{summary['latency_ms']['student_p50'] or 0:.2f} ms / "
        f"{summary['latency_ms']['student_p99'] or 0:.2f} ms |",
        f"| train phase escalated (per 1,000, in order) | " +
        ", ".join(f"{x:.0%}" for x in summary["train_escalated_by_thousand"]) + " |",
        f"| labels stored after train / after dev | {after_train['labels_seen']:,} / "
        f"{after_dev['labels_seen']:,} |",
        f"| student after dev | v{student.get('version')} {student.get('status')}, "
        f"threshold {student.get('threshold')} |",
    ]
    with open(base + ".md", "w", encoding="utf-8") as f:
        f.write("| metric | value |\n| --- | --- |\n" + "\n".join(md) + "\n")
    print("| metric | value |\n| --- | --- |\n" + "\n".join(md))
    print(f"\nper-request CSV: {base}.csv\nsummary: {base}.json, {base}.md")
    return 0 if all(tm.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
