#!/usr/bin/env python3
"""The quickstart demo's workload and client (Python 3 standard library only).

  demo_tickets.py generate --out FILE.csv [--count N] [--seed S]
      Synthetic support tickets over six queues (billing, shipping, returns,
      account, technical, other), varied wording from templates and word lists.
      Deterministic for a given seed. Columns: text,label. The file is both the
      replay teacher's trace and the demo's workload (in file order).

  demo_tickets.py run --trace FILE.csv --port P [--batch 200] [--threads 4]
      Sends every ticket as model "task:tickets" and prints, per batch, how many
      the teacher answered (escalations) and how many the student did, then a
      summary of spend with and without the student.
"""

import argparse
import csv
import http.client
import json
import queue
import random
import sys
import threading
import time

QUEUES = {
    "billing": {
        "templates": [
            "I was charged {twice} for my {plan} subscription {when}",
            "Why does my invoice show {amount} when my plan costs less?",
            "Please refund the {amount} charge on my {card} from {when}",
            "My {card} was billed for {plan} but I cancelled {when}",
            "Can I get a copy of the invoice for {when}? {polite}",
            "The {plan} price went up to {amount} without notice",
            "I need to update the {card} you bill every month",
            "There is a charge of {amount} I don't recognise on my statement",
        ],
    },
    "shipping": {
        "templates": [
            "My order {order} still hasn't arrived, it has been {days} days",
            "The tracking for {order} has not updated since {when}",
            "Can you ship {order} to a different address? {polite}",
            "{carrier} says {order} was delivered but I never got it",
            "How long does delivery to {place} usually take?",
            "The parcel for {order} is stuck in customs in {place}",
            "Is express shipping available for {order}? I need it by {when}",
            "{carrier} left my package at the wrong door, order {order}",
        ],
    },
    "returns": {
        "templates": [
            "I want to return the {item} from order {order}, it is {defect}",
            "How do I send back the {item}? It does not fit",
            "The {item} I received is {defect}, I'd like an exchange",
            "Can I get a return label for order {order}? {polite}",
            "I returned the {item} {when} but the refund hasn't shown up",
            "Is it too late to return a {item} I bought {when}?",
            "The {item} arrived {defect}; I want to send it back",
            "Please exchange my {item} for a different size",
        ],
    },
    "account": {
        "templates": [
            "I can't log in to my account {when}, the password reset email never comes",
            "How do I change the email address on my account? {polite}",
            "Please delete my account and all my data. {polite}",
            "Someone else may have accessed my account {when}",
            "I want to merge my two accounts into one, I made the second {when}",
            "How do I turn on two-factor authentication on my {device}?",
            "My username shows the wrong name, can you change it to {name}?",
            "I'm locked out of my account after too many attempts {when}",
        ],
    },
    "technical": {
        "templates": [
            "The {app} crashes every time I open {screen}",
            "I get error {code} when I try to {action} in the {app}",
            "The {app} is very slow since the update {when}",
            "Sync between the {app} and my {device} stopped working",
            "The {screen} page is blank on my {device}",
            "Notifications from the {app} don't arrive on my {device}",
            "I keep seeing error {code} on the {screen} page",
            "The {app} logs me out whenever I {action}",
        ],
    },
    "other": {
        "templates": [
            "Do you have any job openings in {place}?",
            "I just wanted to say the support team was great {when}",
            "Are you planning to open a store in {place}?",
            "Can I partner with you for a {event}?",
            "What are your opening hours on {day}?",
            "Who should I talk to about a press inquiry?",
            "Do you offer discounts for {group}?",
            "Is there a way to send feedback about your {event}?",
        ],
    },
}

WORDS = {
    "twice": ["twice", "two times", "double", "three times"],
    "plan": ["Basic", "Pro", "Family", "Premium", "annual", "monthly"],
    "when": ["yesterday", "last week", "on Monday", "this morning", "two days ago",
             "last month", "on the 3rd", "over the weekend"],
    "amount": ["$12.99", "$49", "$120.00", "$7.50", "$89.99", "$15", "$230"],
    "card": ["Visa card", "Mastercard", "PayPal account", "debit card", "Amex"],
    "polite": ["Thanks!", "Thank you.", "Please help.", "Cheers.", "", "Appreciate it."],
    "order": [f"#{n}" for n in range(40000, 40400, 7)],
    "days": ["5", "8", "10", "12", "14", "20"],
    "carrier": ["UPS", "FedEx", "DHL", "The courier", "USPS"],
    "place": ["Canada", "Berlin", "Texas", "Lyon", "Madrid", "Ohio", "Tokyo", "Leeds"],
    "item": ["jacket", "shoes", "blender", "headphones", "lamp", "backpack", "shirt",
             "coffee maker"],
    "defect": ["broken", "damaged", "the wrong colour", "missing a part", "scratched",
               "not as described"],
    "name": ["Sam Lee", "Ana Ruiz", "J. Patel", "Chris O'Neil"],
    "app": ["app", "iOS app", "Android app", "desktop app", "web app"],
    "screen": ["settings", "dashboard", "checkout", "profile", "history"],
    "code": ["E401", "E500", "0x80070005", "502", "TIMEOUT-7", "E1203"],
    "action": ["upload a file", "save changes", "export a report", "switch tabs", "pay"],
    "device": ["iPhone", "Android phone", "iPad", "laptop", "smartwatch"],
    "event": ["charity event", "podcast", "conference", "community meetup"],
    "day": ["Sunday", "public holidays", "Saturday", "Christmas Eve"],
    "group": ["students", "teachers", "non-profits", "seniors"],
}

OPENERS = ["", "", "", "Hi, ", "Hello, ", "Hey there. ", "Good morning, ", "Urgent: "]
CLOSERS = ["", "", "", " Thanks.", " Order placed online.", " Please advise.",
           " This is the second time I ask.", " Regards, a customer"]
# Queue mix: routine queues dominate, "other" is the long tail.
MIX = [("billing", 24), ("shipping", 22), ("returns", 16), ("account", 14),
       ("technical", 16), ("other", 8)]


def fill(template, rng):
    out = template
    for key, words in WORDS.items():
        token = "{" + key + "}"
        while token in out:
            out = out.replace(token, rng.choice(words), 1)
    return " ".join(out.split())


def generate(count, seed):
    rng = random.Random(seed)
    labels = [q for q, _ in MIX]
    weights = [w for _, w in MIX]
    seen, rows = set(), []
    attempts = 0
    while len(rows) < count and attempts < count * 50:
        attempts += 1
        label = rng.choices(labels, weights)[0]
        text = fill(rng.choice(QUEUES[label]["templates"]), rng)
        text = (rng.choice(OPENERS) + text[0].lower() + text[1:]
                if rng.random() < 0.3 else text) + rng.choice(CLOSERS)
        text = text[0].upper() + text[1:]
        if text in seen:
            continue
        seen.add(text)
        rows.append((text, label))
    return rows


def cmd_generate(args):
    rows = generate(args.count, args.seed)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"generated {len(rows):,} tickets over {len(QUEUES)} queues (seed {args.seed})")


def post(conn, text):
    body = json.dumps({"model": "task:tickets",
                       "messages": [{"role": "user", "content": text}]})
    conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {data[:300].decode(errors='replace')}")
    return (json.loads(data)["choices"][0]["message"]["content"],
            resp.getheader("x-switchyard-escalated") == "true",
            float(resp.getheader("x-switchyard-cost-usd") or 0),
            resp.getheader("x-switchyard-route", ""))


def send_batch(port, rows, threads):
    work = queue.Queue()
    for i, row in enumerate(rows):
        work.put((i, row))
    results = [None] * len(rows)
    errors = []

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            try:
                i, (text, _) = work.get_nowait()
            except queue.Empty:
                break
            try:
                results[i] = post(conn, text)
            except (OSError, RuntimeError, http.client.HTTPException) as e:
                errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit(f"demo: {len(errors)} requests failed, first: {errors[0]}")
    return results


def cmd_run(args):
    with open(args.trace, newline="", encoding="utf-8") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    print(f"\nsending {len(rows):,} tickets as model \"task:tickets\", {args.batch} per batch")
    print(f"{'tickets':>13}  {'escalated':>9}  {'student':>7}  {'agree':>6}  {'spend':>10}  "
          f"who answered")
    spend = teacher_spend = 0.0
    teacher_n = student_n = agree_n = 0
    start = time.time()
    for b in range(0, len(rows), args.batch):
        batch = rows[b:b + args.batch]
        res = send_batch(args.port, batch, args.threads)
        esc = sum(r[1] for r in res)
        agree = sum(r[0] == row[1] for r, row in zip(res, batch))
        cost = sum(r[2] for r in res)
        spend += cost
        teacher_spend += sum(r[2] for r in res if r[1])
        teacher_n += esc
        student_n += len(res) - esc
        agree_n += agree
        students = sorted({r[3] for r in res if not r[1]})
        bar = "#" * round(20 * esc / len(res))
        print(f"{b + 1:>6}-{b + len(batch):<6}  {esc / len(res):>8.0%}  {len(res) - esc:>7}  "
              f"{agree / len(res):>6.1%}  ${cost:>9.6f}  teacher {bar:<20} "
              f"{', '.join(students) if students else ''}", flush=True)
        if args.pause > 0:
            time.sleep(args.pause)
    total = teacher_n + student_n
    per_teacher = teacher_spend / max(1, teacher_n)
    without = per_teacher * total
    print(f"\nsummary after {total:,} tickets ({time.time() - start:.1f} s):")
    print(f"  answered by the student: {student_n:,} ({student_n / total:.1%}); "
          f"by the teacher (gpt-4o-mini price): {teacher_n:,}")
    print(f"  agreement with the teacher's labels: {agree_n / total:.1%}")
    print(f"  spend with the student:    ${spend:.6f}")
    print(f"  spend without the student: ${without:.6f}  (every ticket at the teacher's mean "
          f"${per_teacher:.7f})")
    if without > 0:
        print(f"  saved: {1 - spend / without:.1%}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--count", type=int, default=3000)
    g.add_argument("--seed", type=int, default=7)
    r = sub.add_parser("run")
    r.add_argument("--trace", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--batch", type=int, default=200)
    r.add_argument("--threads", type=int, default=4)
    r.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    args = ap.parse_args()
    return cmd_generate(args) if args.cmd == "generate" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
