#!/usr/bin/env python3
"""router_cv_fasttext: fastText supervised models as second routers, under the
same 5-fold cross-validation as bench/router_cv.cc (docs/BENCHMARKS.md,
"Routers and cascades", "fastText experiment").

Python 3 standard library plus Debian's `fasttext` command (the CLI of the
libfasttext the student uses). Steps:
  1. The folds of router_cv (std::mt19937_64 Fisher-Yates with --seed, then
     round robin), re-implemented here and checked against the C++ output.
  2. For each variant, each outer fold: `fasttext supervised` on the fold's
     training rows only (fixed hyper-parameters listed in VARIANTS, one thread,
     seed 1), `fasttext predict-prob` on its held-out rows.
     Labels never become features: prompt router text = "subj_<subject>" +
     prompt; cascade text = the last lines of weak_response.
  3. Score: 3-class variants P(strong only) - P(weak only); weak_wrong
     variants P(weak wrong).
  4. Ensembles with router_cv's nested liblinear out-of-fold scores
     (--scores-dir of sy_bench_router_cv, same --seed): per held-out fold,
     (1 - w) * rank(liblinear) + w * rank(fastText), w fixed (WEIGHTS).
  5. RouteLLM metrics exactly as src/routing/metrics.cc (11 quantile
     thresholds, trapezoid APGR, first-crossing CPT); the liblinear line
     reproduces router_cv's pooled figures.

Usage:
  sy_bench_router_cv --seed S --scores-dir DIR    (first, for the liblinear scores)
  bench/router_cv_fasttext.py --data-dir ../shared/data --seed S --scores-dir DIR
"""

import argparse
import csv
import math
import os
import re
import subprocess
import sys
import tempfile

FASTTEXT = "fasttext"
WEIGHTS = (0.25, 0.5)
MMLU_A = "-wordNgrams 2 -minn 3 -maxn 5 -epoch 10 -lr 0.2 -dim 50 -bucket 200000"
VARIANTS = [
    # (benchmark, name, label mode, answer lines (cascade), fastText arguments)
    ("mmlu", "3-class, words+chars", "three", 0, MMLU_A),
    ("mmlu", "3-class, words only, small", "three", 0,
     "-wordNgrams 2 -epoch 5 -lr 0.1 -dim 20 -bucket 200000"),
    ("mmlu", "3-class, words+chars, slow", "three", 0,
     "-wordNgrams 2 -minn 3 -maxn 5 -epoch 25 -lr 0.05 -dim 20 -bucket 200000"),
    ("gsm8k", "3-class, last 3 lines", "three", 3, MMLU_A),
    ("gsm8k", "weak_wrong, last 3 lines", "weak_wrong", 3,
     "-wordNgrams 1 -epoch 25 -lr 0.1 -dim 20 -bucket 100000"),
    ("gsm8k", "weak_wrong, last line, chars", "weak_wrong", 1,
     "-wordNgrams 2 -minn 2 -maxn 4 -epoch 25 -lr 0.1 -dim 20 -bucket 100000"),
]

MASK64 = (1 << 64) - 1


class Mt19937_64:
    """std::mt19937_64 (the generator of routing::AssignFolds)."""

    def __init__(self, seed):
        self.mt = [0] * 312
        self.mt[0] = seed & MASK64
        for i in range(1, 312):
            prev = self.mt[i - 1]
            self.mt[i] = (6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK64
        self.index = 312

    def next(self):
        if self.index >= 312:
            for k in range(312):
                y = (self.mt[k] & 0xFFFFFFFF80000000) | (self.mt[(k + 1) % 312] & 0x7FFFFFFF)
                v = self.mt[(k + 156) % 312] ^ (y >> 1)
                if y & 1:
                    v ^= 0xB5026F5AA96619E9
                self.mt[k] = v
            self.index = 0
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK64


def assign_folds(rows, folds, seed):
    order = list(range(rows))
    rng = Mt19937_64(seed)
    for i in range(rows, 1, -1):
        j = rng.next() % i
        order[i - 1], order[j] = order[j], order[i - 1]
    fold_of = [0] * rows
    for k, row in enumerate(order):
        fold_of[row] = k % folds
    return fold_of


def quantile(sorted_scores, q):
    pos = q * (len(sorted_scores) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_scores) - 1)
    return sorted_scores[lo] + (sorted_scores[hi] - sorted_scores[lo]) * (pos - lo)


def evaluate(scores, weak, strong, bins=10):
    """(APGR, CPT20, CPT50, CPT80) as routing::EvaluateRouter."""
    n = len(scores)
    weak_acc = sum(weak) / n
    gap = sum(strong) / n - weak_acc
    ordered = sorted(scores)
    curve = []
    for i in range(bins, -1, -1):
        t = quantile(ordered, i / bins)
        calls = correct = 0
        for s, w, st in zip(scores, weak, strong):
            use_strong = s > t if i == bins else s >= t
            calls += use_strong
            correct += st if use_strong else w
        curve.append((calls / n, (correct / n - weak_acc) / gap))
    apgr = sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(curve, curve[1:]))

    def cpt(x):
        if curve[0][1] >= x:
            return curve[0][0]
        for a, b in zip(curve, curve[1:]):
            if a[1] < x <= b[1]:
                return a[0] + (x - a[1]) / (b[1] - a[1]) * (b[0] - a[0])
        return None

    return apgr, cpt(0.2), cpt(0.5), cpt(0.8)


def ranks(values):
    """Mid-ranks scaled to [0, 1]."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 / max(1, len(values) - 1)
        i = j + 1
    return out


def tokens(text):
    text = text.lower().replace("\n", " nl ")
    text = re.sub(r"([^\w\s])", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


def label(mode, weak_ok, strong_ok):
    if mode == "weak_wrong":
        return "__label__pos" if not weak_ok else "__label__neg"
    if strong_ok and not weak_ok:
        return "__label__pos"  # strong only
    if weak_ok and not strong_ok:
        return "__label__neg"  # weak only
    return "__label__same"


def fasttext_scores(train_lines, test_texts, args, tmp):
    train_path = os.path.join(tmp, "train.txt")
    test_path = os.path.join(tmp, "test.txt")
    model = os.path.join(tmp, "model")
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("\n".join(train_lines) + "\n")
    with open(test_path, "w", encoding="utf-8") as f:
        f.write("\n".join(test_texts) + "\n")
    subprocess.run([FASTTEXT, "supervised", "-input", train_path, "-output", model,
                    "-verbose", "0", "-thread", "1", "-seed", "1"] + args.split(), check=True)
    out = subprocess.run([FASTTEXT, "predict-prob", model + ".bin", test_path, "3"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    scores = []
    for line in out:
        parts = line.split()
        p = dict(zip(parts[0::2], map(float, parts[1::2])))
        # 3-class: P(strong only) - P(weak only); weak_wrong: P(weak wrong) -
        # P(weak right), which ranks as P(weak wrong).
        scores.append(p.get("__label__pos", 0.0) - p.get("__label__neg", 0.0))
    return scores


def fmt(m):
    def pct(x):
        return "not reached" if x is None else "%.1f%%" % (100 * x)

    return "| %.3f | %s | %s | %s |" % (m[0], pct(m[1]), pct(m[2]), pct(m[3]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--scores-dir", required=True,
                    help="sy_bench_router_cv --scores-dir output for the same --seed")
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    csv.field_size_limit(1 << 30)
    for bench in ("mmlu", "gsm8k"):
        path = os.path.join(a.data_dir, "routing", bench + "_dev.csv")
        if not os.path.exists(path):
            print("router_cv_fasttext: %s not found; skipping %s" % (path, bench), file=sys.stderr)
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        weak = [int(r["weak_correct"]) for r in rows]
        strong = [int(r["strong_correct"]) for r in rows]
        fold_of = assign_folds(len(rows), a.folds, a.seed)
        with open(os.path.join(a.scores_dir, bench + "_oof_scores.csv"), newline="") as f:
            by_id = {r["id"]: float(r["score"]) for r in csv.DictReader(f)}
        linear = [by_id[r["id"]] for r in rows]
        print("\n#### %s, seed %d\n" % (bench, a.seed))
        print("| router | APGR | CPT(20%) | CPT(50%) | CPT(80%) |\n|---|---|---|---|---|")
        print("| liblinear (router_cv, nested) " + fmt(evaluate(linear, weak, strong)))
        for b, name, mode, lines, args in VARIANTS:
            if b != bench:
                continue
            texts = []
            for r in rows:
                if lines:
                    kept = [x for x in r["weak_response"].strip().split("\n") if x.strip()]
                    texts.append(tokens("\n".join(kept[-lines:])))
                else:
                    texts.append("subj_" + r["subject"] + " " + tokens(r["prompt"]))
            ft = [0.0] * len(rows)
            with tempfile.TemporaryDirectory(prefix="router_cv_fasttext.") as tmp:
                for k in range(a.folds):
                    train = [label(mode, weak[i], strong[i]) + " " + texts[i]
                             for i in range(len(rows)) if fold_of[i] != k]
                    test = [i for i in range(len(rows)) if fold_of[i] == k]
                    for i, s in zip(test, fasttext_scores(train, [texts[i] for i in test],
                                                          args, tmp)):
                        ft[i] = s
            print("| fastText %s " % name + fmt(evaluate(ft, weak, strong)))
            for w in WEIGHTS:
                mixed = [0.0] * len(rows)
                for k in range(a.folds):
                    test = [i for i in range(len(rows)) if fold_of[i] == k]
                    rl = ranks([linear[i] for i in test])
                    rf = ranks([ft[i] for i in test])
                    for i, x, y in zip(test, rl, rf):
                        mixed[i] = (1 - w) * x + w * y
                print("| rank mix w=%.2f with %s " % (w, name) +
                      fmt(evaluate(mixed, weak, strong)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
