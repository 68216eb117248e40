// router_cv_gbt: does a gradient-boosted tree model (XGBoost, Debian's
// libxgboost-dev) on compact dense features add to the liblinear routers?
// (Tried, not adopted: docs/BENCHMARKS.md, "Routers and cascades".)
// Same outer folds as router_cv (AssignFolds with the same seed), same nested
// liblinear choice per outer fold, so its liblinear line reproduces
// router_cv's pooled figures; then, per outer fold and from its training rows
// only:
//   * dense features: the structure features (and for cascades the
//     weak-answer checks) of routing/features.cc, one column per feature that
//     occurs in the training rows;
//   * per-subject target statistics (weak accuracy, strong accuracy, benefit,
//     both discordant rates, smoothed towards the training mean with m = 20
//     pseudo-rows, and log count): for a training row from the other inner
//     folds of the training rows (out of fold), for a held-out row from all
//     training rows;
//   * the liblinear score (stacked): for a training row the out-of-fold score
//     of a 5-fold split of the training rows (same chosen options), for a
//     held-out row the outer model's score.
// Variants: GBT per target without / with the stacked score; rank mixes per
// held-out fold, w * rank(GBT) + (1 - w) * rank(liblinear), w = 0.5 and 0.25
// (with the unstacked GBT); and boosting from the liblinear score (squared
// error on the benefit, the out-of-fold liblinear score as base margin, the
// trees fit the residual) for 30, 100 and 300 rounds.
// The GBT hyper-parameters of these are fixed in main(); a last variant
// chooses target, depth and rounds per outer fold by an inner 3-fold APGR on
// its training rows (nested), alone and in the two rank mixes.
// Never read: the *_correct columns (except as training labels) and
// strong_response.
//
//   router_cv_gbt [--data-dir ../shared/data] [--only mmlu|gsm8k]
//                 [--seed N [N...]] [--bags N]
// With several seeds it ends with a summary table per benchmark.
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "routing/cross_validation.h"
#include "routing/dataset.h"
#include "routing/features.h"
#include "routing/metrics.h"
#include "routing/model.h"

namespace {

namespace r = switchyard::routing;

std::string Pct(const std::optional<double>& v) {
  if (!v) return "not reached";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", *v * 100);
  return buf;
}

bool Check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "router_cv_gbt: %s: %s\n", what, XGBGetLastError());
    return false;
  }
  return true;
}

enum class GbtTarget { kBenefit, kDifference, kWeakWrong, kUp, kDiscordant };

struct GbtParams {
  int rounds = 300;
  int bags = 1;  // boosters with different seeds, predictions averaged
  std::string eta = "0.05";
  std::string max_depth = "3";
  std::string min_child_weight = "10";
  std::string subsample = "0.8";
  std::string colsample = "0.8";
  std::string lambda = "1";
};

using Matrix = std::vector<float>;  // row major

// Trains one booster on (x, y) and predicts `test`.
std::optional<std::vector<double>> FitPredict(const Matrix& x, size_t cols,
                                              const std::vector<float>& y, const char* objective,
                                              const Matrix& test, const GbtParams& p, uint64_t seed,
                                              const std::vector<float>* train_margin = nullptr,
                                              const std::vector<float>* test_margin = nullptr) {
  const size_t rows = y.size();
  const size_t test_rows = test.size() / cols;
  DMatrixHandle dtrain = nullptr, dtest = nullptr;
  BoosterHandle booster = nullptr;
  std::optional<std::vector<double>> out;
  if (Check(XGDMatrixCreateFromMat(x.data(), rows, cols, NAN, &dtrain), "train matrix") &&
      Check(XGDMatrixSetFloatInfo(dtrain, "label", y.data(), rows), "labels") &&
      Check(XGDMatrixCreateFromMat(test.data(), test_rows, cols, NAN, &dtest), "test matrix") &&
      (train_margin == nullptr ||
       (Check(XGDMatrixSetFloatInfo(dtrain, "base_margin", train_margin->data(), rows),
              "train margin") &&
        Check(XGDMatrixSetFloatInfo(dtest, "base_margin", test_margin->data(), test_rows),
              "test margin"))) &&
      Check(XGBoosterCreate(&dtrain, 1, &booster), "booster")) {
    const std::string seed_s = std::to_string(seed % 1000000);
    const std::pair<const char*, std::string> params[] = {
        {"objective", objective},   {"eta", p.eta},
        {"max_depth", p.max_depth}, {"min_child_weight", p.min_child_weight},
        {"subsample", p.subsample}, {"colsample_bytree", p.colsample},
        {"lambda", p.lambda},       {"tree_method", "hist"},
        {"nthread", "1"},           {"verbosity", "0"},
        {"seed", seed_s},
    };
    bool ok = true;
    for (const auto& [k, v] : params) ok = ok && Check(XGBoosterSetParam(booster, k, v.c_str()), k);
    for (int i = 0; ok && i < p.rounds; ++i) {
      ok = Check(XGBoosterUpdateOneIter(booster, i, dtrain), "update");
    }
    bst_ulong len = 0;
    const float* pred = nullptr;
    if (ok && Check(XGBoosterPredict(booster, dtest, 0, 0, 0, &len, &pred), "predict")) {
      out.emplace(pred, pred + len);
    }
  }
  if (booster) XGBoosterFree(booster);
  if (dtest) XGDMatrixFree(dtest);
  if (dtrain) XGDMatrixFree(dtrain);
  return out;
}

std::optional<std::vector<double>> FitPredictBagged(const Matrix& x, size_t cols,
                                                    const std::vector<float>& y,
                                                    const char* objective, const Matrix& test,
                                                    const GbtParams& p, uint64_t seed) {
  std::optional<std::vector<double>> sum;
  for (int b = 0; b < p.bags; ++b) {
    auto one = FitPredict(x, cols, y, objective, test, p, seed + 100 * static_cast<uint64_t>(b));
    if (!one) return std::nullopt;
    if (!sum) {
      sum = std::move(one);
    } else {
      for (size_t i = 0; i < sum->size(); ++i) (*sum)[i] += (*one)[i];
    }
  }
  return sum;
}

// Score of a GBT model with `target` (training labels from `train`).
std::optional<std::vector<double>> GbtScores(GbtTarget target,
                                             const std::vector<r::RoutingExample>& train,
                                             const Matrix& x, size_t cols, const Matrix& test,
                                             const GbtParams& p, uint64_t seed) {
  std::vector<float> y(train.size());
  switch (target) {
    case GbtTarget::kBenefit:
      for (size_t i = 0; i < train.size(); ++i) {
        y[i] = static_cast<float>(train[i].strong_correct - train[i].weak_correct);
      }
      return FitPredictBagged(x, cols, y, "reg:squarederror", test, p, seed);
    case GbtTarget::kWeakWrong:
      for (size_t i = 0; i < train.size(); ++i) y[i] = 1.0f - train[i].weak_correct;
      return FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed);
    case GbtTarget::kUp:
      for (size_t i = 0; i < train.size(); ++i) {
        y[i] = train[i].strong_correct > train[i].weak_correct ? 1.0f : 0.0f;
      }
      return FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed);
    case GbtTarget::kDiscordant: {
      for (size_t i = 0; i < train.size(); ++i) {
        y[i] = train[i].strong_correct > train[i].weak_correct ? 1.0f : 0.0f;
      }
      auto s = FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed);
      for (size_t i = 0; i < train.size(); ++i) {
        y[i] = train[i].weak_correct > train[i].strong_correct ? 1.0f : 0.0f;
      }
      auto w = FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed + 1);
      if (!s || !w) return std::nullopt;
      for (size_t i = 0; i < s->size(); ++i) (*s)[i] -= (*w)[i];
      return s;
    }
    case GbtTarget::kDifference: {
      for (size_t i = 0; i < train.size(); ++i) y[i] = static_cast<float>(train[i].strong_correct);
      auto s = FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed);
      for (size_t i = 0; i < train.size(); ++i) y[i] = static_cast<float>(train[i].weak_correct);
      auto w = FitPredictBagged(x, cols, y, "binary:logistic", test, p, seed + 1);
      if (!s || !w) return std::nullopt;
      for (size_t i = 0; i < s->size(); ++i) (*s)[i] -= (*w)[i];
      return s;
    }
  }
  return std::nullopt;
}

// Subject statistics of `rows` of `data`.
struct SubjectStats {
  double n = 0, weak = 0, strong = 0, up = 0, down = 0;
};

std::map<std::string, SubjectStats> CountSubjects(const std::vector<r::RoutingExample>& data,
                                                  const std::vector<size_t>& rows,
                                                  SubjectStats* total) {
  std::map<std::string, SubjectStats> m;
  for (size_t i : rows) {
    const auto& e = data[i];
    for (SubjectStats* s : {&m[e.subject.value_or("")], total}) {
      s->n += 1;
      s->weak += e.weak_correct;
      s->strong += e.strong_correct;
      s->up += e.strong_correct > e.weak_correct ? 1 : 0;
      s->down += e.weak_correct > e.strong_correct ? 1 : 0;
    }
  }
  return m;
}

constexpr size_t kSubjectCols = 6;

void SubjectFeatures(const std::map<std::string, SubjectStats>& m, const SubjectStats& total,
                     const std::string& subject, float* out) {
  constexpr double kM = 20;
  SubjectStats s;
  if (auto it = m.find(subject); it != m.end()) s = it->second;
  const double tn = std::max(total.n, 1.0);
  auto smooth = [&](double v, double tv) { return (v + kM * tv / tn) / (s.n + kM); };
  out[0] = static_cast<float>(smooth(s.weak, total.weak));
  out[1] = static_cast<float>(smooth(s.strong, total.strong));
  out[2] = static_cast<float>(smooth(s.strong - s.weak, total.strong - total.weak));
  out[3] = static_cast<float>(smooth(s.up, total.up));
  out[4] = static_cast<float>(smooth(s.down, total.down));
  out[5] = static_cast<float>(std::log1p(s.n));
}

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    const double mid = (static_cast<double>(i + j - 1) / 2 + 1) / static_cast<double>(v.size());
    for (size_t k = i; k < j; ++k) rank[order[k]] = mid;
    i = j;
  }
  return rank;
}

struct Variant {
  std::string name;
  std::vector<double> scores;  // pooled out-of-fold (per-fold ranks for mixes)
};

// Dense rows for `fit` (subject statistics out of fold within `fit`, 5 folds
// from `inner_seed`) and `apply` (statistics from all of `fit`); no stacked
// score. Columns: the features present in the `fit` rows, then the subject
// statistics.
struct Dense {
  Matrix fit, apply;
  size_t cols = 0;
};

Dense BuildDense(const std::vector<r::RoutingExample>& data,
                 const std::vector<r::SparseVector>& sparse, const std::vector<size_t>& fit,
                 const std::vector<size_t>& apply, bool has_subject, uint64_t inner_seed) {
  std::map<uint32_t, size_t> col_of;
  for (size_t i : fit) {
    for (const auto& [idx, v] : sparse[i]) col_of.emplace(idx, 0);
  }
  size_t next = 0;
  for (auto& [idx, c] : col_of) c = next++;
  Dense d;
  d.cols = col_of.size() + (has_subject ? kSubjectCols : 0);
  auto fill = [&](size_t row, float* out) {
    for (const auto& [idx, v] : sparse[row]) {
      if (auto it = col_of.find(idx); it != col_of.end()) out[it->second] = v;
    }
  };
  d.fit.assign(fit.size() * d.cols, 0.0f);
  d.apply.assign(apply.size() * d.cols, 0.0f);
  for (size_t q = 0; q < fit.size(); ++q) fill(fit[q], &d.fit[q * d.cols]);
  for (size_t q = 0; q < apply.size(); ++q) fill(apply[q], &d.apply[q * d.cols]);
  if (has_subject) {
    const int inner = 5;
    const auto inner_of = r::AssignFolds(fit.size(), inner, inner_seed);
    for (int j = 0; j < inner; ++j) {
      std::vector<size_t> rows;
      for (size_t q = 0; q < fit.size(); ++q) {
        if (inner_of[q] != j) rows.push_back(fit[q]);
      }
      SubjectStats total;
      const auto m = CountSubjects(data, rows, &total);
      for (size_t q = 0; q < fit.size(); ++q) {
        if (inner_of[q] == j) {
          SubjectFeatures(m, total, data[fit[q]].subject.value_or(""),
                          &d.fit[q * d.cols + col_of.size()]);
        }
      }
    }
    SubjectStats total;
    const auto m = CountSubjects(data, fit, &total);
    for (size_t q = 0; q < apply.size(); ++q) {
      SubjectFeatures(m, total, data[apply[q]].subject.value_or(""),
                      &d.apply[q * d.cols + col_of.size()]);
    }
  }
  return d;
}

struct GbtCandidate {
  GbtTarget target;
  GbtParams params;
};

// Picks the candidate with the best inner 3-fold APGR on the rows `rows`
// (an outer fold's training rows); -1 on a training error.
int SelectGbt(const std::vector<r::RoutingExample>& data,
              const std::vector<r::SparseVector>& sparse, const std::vector<size_t>& rows,
              const std::vector<GbtCandidate>& candidates, bool has_subject, uint64_t seed) {
  const int folds = 3;
  const auto fold_of = r::AssignFolds(rows.size(), folds, seed);
  std::vector<std::vector<double>> oof(candidates.size(), std::vector<double>(rows.size()));
  for (int j = 0; j < folds; ++j) {
    std::vector<size_t> fit, apply, apply_pos;
    std::vector<r::RoutingExample> fit_ex;
    for (size_t q = 0; q < rows.size(); ++q) {
      if (fold_of[q] == j) {
        apply.push_back(rows[q]);
        apply_pos.push_back(q);
      } else {
        fit.push_back(rows[q]);
        fit_ex.push_back(data[rows[q]]);
      }
    }
    const Dense d = BuildDense(data, sparse, fit, apply, has_subject, seed + 7 + j);
    for (size_t c = 0; c < candidates.size(); ++c) {
      auto s = GbtScores(candidates[c].target, fit_ex, d.fit, d.cols, d.apply, candidates[c].params,
                         seed + 11 + j);
      if (!s) return -1;
      for (size_t q = 0; q < apply_pos.size(); ++q) oof[c][apply_pos[q]] = (*s)[q];
    }
  }
  std::vector<r::RoutingExample> ex;
  for (size_t i : rows) ex.push_back(data[i]);
  const auto outcomes = r::Outcomes(ex);
  int best = -1;
  double best_apgr = 0;
  for (size_t c = 0; c < candidates.size(); ++c) {
    auto m = r::EvaluateRouter(oof[c], outcomes);
    if (!m.ok()) return -1;
    if (best < 0 || m->apgr > best_apgr) {
      best = static_cast<int>(c);
      best_apgr = m->apgr;
    }
  }
  return best;
}

// Pooled APGR / CPT(50%) of every variant, for the summary over seeds.
using Summary = std::vector<std::pair<std::string, std::string>>;

int Run(const std::string& key, const std::string& path, r::RouterKind kind, uint64_t seed,
        const GbtParams& params, Summary* summary) {
  r::LoadOptions lo;
  lo.need_weak_response = kind == r::RouterKind::kCascade;
  auto loaded = r::LoadRoutingCsv(path, lo);
  if (!loaded.ok()) {
    std::fprintf(stderr, "router_cv_gbt: %s\n", loaded.status().message().c_str());
    return 1;
  }
  const auto& data = *loaded;
  const bool has_subject = kind == r::RouterKind::kPrompt;
  const int folds = 5;
  const auto fold_of = r::AssignFolds(data.size(), folds, seed);

  // The nested liblinear grid of router_cv.
  auto base = r::DefaultTrainOptions(kind);
  std::vector<r::TrainOptions> candidates;
  const std::vector<r::Target> targets =
      kind == r::RouterKind::kPrompt
          ? std::vector<r::Target>{r::Target::kDifference, r::Target::kDiscordant}
          : std::vector<r::Target>{r::Target::kBenefit, r::Target::kDifference};
  const std::vector<double> cs =
      kind == r::RouterKind::kPrompt ? std::vector<double>{1, 3} : std::vector<double>{0.1, 0.3, 1};
  for (auto t : targets) {
    for (double c : cs) {
      auto o = base;
      o.target = t;
      o.c = c;
      candidates.push_back(o);
    }
  }
  const auto selection =
      kind == r::RouterKind::kPrompt ? r::Selection::kApgr : r::Selection::kBenefitSquaredError;

  // Dense structure/answer features: the non-text groups of ExtractFeatures.
  r::FeatureOptions dense_opts = base.features;
  dense_opts.hash_bits = 20;
  dense_opts.word_weight = 0;
  dense_opts.char_ngram_min = 0;
  dense_opts.subject_weight = 0;
  dense_opts.subject_structure_weight = 0;
  dense_opts.structure_weight = 1;
  dense_opts.answer_weight = 1;
  dense_opts.answer_words_weight = 0;
  dense_opts.cascade_prompt_weight = 1;
  std::vector<r::SparseVector> sparse;
  for (const auto& e : data) sparse.push_back(r::ExtractFeatures(kind, dense_opts, r::InputOf(e)));

  std::vector<GbtTarget> gbt_targets =
      kind == r::RouterKind::kPrompt
          ? std::vector<GbtTarget>{GbtTarget::kBenefit, GbtTarget::kDifference}
          : std::vector<GbtTarget>{GbtTarget::kBenefit, GbtTarget::kDifference,
                                   GbtTarget::kWeakWrong, GbtTarget::kUp, GbtTarget::kDiscordant};
  auto target_name = [](GbtTarget t) {
    switch (t) {
      case GbtTarget::kBenefit:
        return "benefit";
      case GbtTarget::kDifference:
        return "difference";
      case GbtTarget::kWeakWrong:
        return "weak_wrong";
      case GbtTarget::kUp:
        return "up (strong right, weak wrong)";
      case GbtTarget::kDiscordant:
        return "discordant";
    }
    return "";
  };

  std::vector<double> lin(data.size());
  // [target][stacked?] pooled scores.
  std::vector<std::vector<std::vector<double>>> gbt(
      gbt_targets.size(), std::vector<std::vector<double>>(2, std::vector<double>(data.size())));
  std::vector<std::vector<double>> mix(gbt_targets.size(), std::vector<double>(data.size()));
  std::vector<std::vector<double>> mix25(gbt_targets.size(), std::vector<double>(data.size()));
  std::string chosen;
  const std::vector<int> residual_rounds = {30, 100, 300};
  // Nested GBT: target, depth and rounds chosen per outer fold by an inner
  // 3-fold APGR on its training rows (unstacked features).
  std::vector<GbtCandidate> gbt_grid;
  for (GbtTarget t : kind == r::RouterKind::kPrompt
                         ? std::vector<GbtTarget>{GbtTarget::kBenefit, GbtTarget::kDifference}
                         : std::vector<GbtTarget>{GbtTarget::kBenefit, GbtTarget::kDifference,
                                                  GbtTarget::kWeakWrong}) {
    for (const char* depth : {"2", "4"}) {
      for (int rounds : {150, 500}) {
        GbtCandidate c{t, params};
        c.params.max_depth = depth;
        c.params.rounds = rounds;
        gbt_grid.push_back(c);
      }
    }
  }
  std::vector<double> nested(data.size()), nested_mix(data.size()), nested_mix25(data.size());
  std::string nested_chosen;
  std::vector<std::vector<double>> residual(residual_rounds.size(),
                                            std::vector<double>(data.size()));

  for (int k = 0; k < folds; ++k) {
    std::vector<size_t> tr, te;
    for (size_t i = 0; i < data.size(); ++i) (fold_of[i] == k ? te : tr).push_back(i);
    std::vector<r::RoutingExample> train, test;
    for (size_t i : tr) train.push_back(data[i]);
    for (size_t i : te) test.push_back(data[i]);
    auto pick = r::SelectTrainOptions(train, candidates, 3, seed + 1000 + static_cast<uint64_t>(k),
                                      selection);
    if (!pick.ok()) return 1;
    const auto& opts = candidates[*pick];
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.2g", k == 0 ? "" : "; ",
                  std::string(r::TargetName(opts.target)).c_str(), opts.c);
    chosen += buf;
    auto model = r::RouterModel::Train(train, opts);
    if (!model.ok()) return 1;
    auto lin_test = model->ScoreAll(test);
    if (!lin_test.ok()) return 1;
    for (size_t j = 0; j < te.size(); ++j) lin[te[j]] = (*lin_test)[j];

    // Stacking: out-of-fold liblinear scores on the training rows (5 inner folds).
    const int inner = 5;
    const auto inner_of = r::AssignFolds(tr.size(), inner, seed + 2000 + static_cast<uint64_t>(k));
    std::vector<double> lin_train(tr.size());
    for (int j = 0; j < inner; ++j) {
      std::vector<r::RoutingExample> a, b;
      std::vector<size_t> b_pos;
      for (size_t q = 0; q < tr.size(); ++q) {
        if (inner_of[q] == j) {
          b.push_back(train[q]);
          b_pos.push_back(q);
        } else {
          a.push_back(train[q]);
        }
      }
      auto m = r::RouterModel::Train(a, opts);
      if (!m.ok()) return 1;
      auto s = m->ScoreAll(b);
      if (!s.ok()) return 1;
      for (size_t q = 0; q < b_pos.size(); ++q) lin_train[b_pos[q]] = (*s)[q];
    }

    // Dense columns: features present in the training rows.
    std::map<uint32_t, size_t> col_of;
    for (size_t i : tr) {
      for (const auto& [idx, v] : sparse[i]) col_of.emplace(idx, 0);
    }
    size_t next = 0;
    for (auto& [idx, c] : col_of) c = next++;
    const size_t subj_cols = has_subject ? kSubjectCols : 0;
    const size_t cols = col_of.size() + subj_cols + 1;  // + stacked liblinear score (last)
    auto fill = [&](size_t row, float* out) {
      for (const auto& [idx, v] : sparse[row]) {
        if (auto it = col_of.find(idx); it != col_of.end()) out[it->second] = v;
      }
    };
    Matrix xtr(tr.size() * cols, 0.0f), xte(te.size() * cols, 0.0f);
    for (size_t q = 0; q < tr.size(); ++q) fill(tr[q], &xtr[q * cols]);
    for (size_t q = 0; q < te.size(); ++q) fill(te[q], &xte[q * cols]);
    if (has_subject) {
      for (int j = 0; j < inner; ++j) {
        std::vector<size_t> rows;
        for (size_t q = 0; q < tr.size(); ++q) {
          if (inner_of[q] != j) rows.push_back(tr[q]);
        }
        SubjectStats total;
        const auto m = CountSubjects(data, rows, &total);
        for (size_t q = 0; q < tr.size(); ++q) {
          if (inner_of[q] == j) {
            SubjectFeatures(m, total, data[tr[q]].subject.value_or(""),
                            &xtr[q * cols + col_of.size()]);
          }
        }
      }
      SubjectStats total;
      const auto m = CountSubjects(data, tr, &total);
      for (size_t q = 0; q < te.size(); ++q) {
        SubjectFeatures(m, total, data[te[q]].subject.value_or(""), &xte[q * cols + col_of.size()]);
      }
    }
    for (size_t q = 0; q < tr.size(); ++q) {
      xtr[q * cols + cols - 1] = static_cast<float>(lin_train[q]);
    }
    for (size_t q = 0; q < te.size(); ++q) {
      xte[q * cols + cols - 1] = static_cast<float>((*lin_test)[q]);
    }
    // Without the stacked score: drop the last column.
    Matrix xtr_ns, xte_ns;
    for (size_t q = 0; q < tr.size(); ++q) {
      xtr_ns.insert(xtr_ns.end(), xtr.begin() + q * cols, xtr.begin() + (q + 1) * cols - 1);
    }
    for (size_t q = 0; q < te.size(); ++q) {
      xte_ns.insert(xte_ns.end(), xte.begin() + q * cols, xte.begin() + (q + 1) * cols - 1);
    }
    // Boosting from the liblinear score: squared error on the benefit with the
    // (out-of-fold) liblinear score as base margin, trees fit the residual.
    {
      std::vector<float> y(train.size()), mtr(tr.size()), mte(te.size());
      for (size_t q = 0; q < train.size(); ++q) {
        y[q] = static_cast<float>(train[q].strong_correct - train[q].weak_correct);
        mtr[q] = static_cast<float>(lin_train[q]);
      }
      for (size_t q = 0; q < te.size(); ++q) mte[q] = static_cast<float>((*lin_test)[q]);
      for (size_t v = 0; v < residual_rounds.size(); ++v) {
        GbtParams rp = params;
        rp.rounds = residual_rounds[v];
        auto res = FitPredict(xtr_ns, cols - 1, y, "reg:squarederror", xte_ns, rp,
                              seed + 5000 + static_cast<uint64_t>(k), &mtr, &mte);
        if (!res) return 1;
        for (size_t q = 0; q < te.size(); ++q) residual[v][te[q]] = (*res)[q];
      }
    }
    const auto lin_rank = Ranks(*lin_test);
    {
      const int pick = SelectGbt(data, sparse, tr, gbt_grid, has_subject,
                                 seed + 4000 + static_cast<uint64_t>(k));
      if (pick < 0) return 1;
      const auto& cand = gbt_grid[static_cast<size_t>(pick)];
      const Dense d = BuildDense(data, sparse, tr, te, has_subject, seed + 2000 + k);
      auto ns = GbtScores(cand.target, train, d.fit, d.cols, d.apply, cand.params,
                          seed + 3000 + static_cast<uint64_t>(k) * 10);
      if (!ns) return 1;
      const auto ns_rank = Ranks(*ns);
      for (size_t q = 0; q < te.size(); ++q) {
        nested[te[q]] = (*ns)[q];
        nested_mix[te[q]] = 0.5 * lin_rank[q] + 0.5 * ns_rank[q];
        nested_mix25[te[q]] = 0.75 * lin_rank[q] + 0.25 * ns_rank[q];
      }
      char nb[96];
      std::snprintf(nb, sizeof nb, "%s%s depth %s %d rounds", k == 0 ? "" : "; ",
                    target_name(cand.target), cand.params.max_depth.c_str(), cand.params.rounds);
      nested_chosen += nb;
    }
    for (size_t t = 0; t < gbt_targets.size(); ++t) {
      const uint64_t s = seed + 3000 + static_cast<uint64_t>(k) * 10;
      auto stacked = GbtScores(gbt_targets[t], train, xtr, cols, xte, params, s);
      auto plain = GbtScores(gbt_targets[t], train, xtr_ns, cols - 1, xte_ns, params, s);
      if (!stacked || !plain) return 1;
      const auto plain_rank = Ranks(*plain);
      for (size_t q = 0; q < te.size(); ++q) {
        gbt[t][1][te[q]] = (*stacked)[q];
        gbt[t][0][te[q]] = (*plain)[q];
        mix[t][te[q]] = 0.5 * lin_rank[q] + 0.5 * plain_rank[q];
        mix25[t][te[q]] = 0.75 * lin_rank[q] + 0.25 * plain_rank[q];
      }
    }
    std::fprintf(stderr, "  %s seed %llu fold %d done (%zu dense columns)\n", key.c_str(),
                 static_cast<unsigned long long>(seed), k, cols);
  }

  std::vector<Variant> variants;
  variants.push_back({"liblinear (router_cv, nested)", lin});
  for (size_t t = 0; t < gbt_targets.size(); ++t) {
    const std::string n = target_name(gbt_targets[t]);
    variants.push_back({"GBT " + n, gbt[t][0]});
    variants.push_back({"GBT " + n + " + stacked liblinear", gbt[t][1]});
    variants.push_back({"rank mix 0.5 liblinear + 0.5 GBT " + n, mix[t]});
    variants.push_back({"rank mix 0.75 liblinear + 0.25 GBT " + n, mix25[t]});
  }
  for (size_t v = 0; v < residual_rounds.size(); ++v) {
    variants.push_back(
        {"GBT benefit from liblinear margin, " + std::to_string(residual_rounds[v]) + " rounds",
         residual[v]});
  }
  variants.push_back({"GBT, nested choice of target, depth, rounds", nested});
  variants.push_back({"rank mix 0.5 liblinear + 0.5 GBT nested", nested_mix});
  variants.push_back({"rank mix 0.75 liblinear + 0.25 GBT nested", nested_mix25});
  const auto outcomes = r::Outcomes(data);
  std::printf("\n#### %s, seed %llu (liblinear chosen per fold: %s; nested GBT: %s)\n\n",
              key.c_str(), static_cast<unsigned long long>(seed), chosen.c_str(),
              nested_chosen.c_str());
  std::printf("| router | APGR | CPT(20%%) | CPT(50%%) | CPT(80%%) |\n|---|---|---|---|---|\n");
  for (const auto& v : variants) {
    auto m = r::EvaluateRouter(v.scores, outcomes);
    if (!m.ok()) return 1;
    std::printf("| %s | %.3f | %s | %s | %s |\n", v.name.c_str(), m->apgr, Pct(m->cpt20).c_str(),
                Pct(m->cpt50).c_str(), Pct(m->cpt80).c_str());
    char cell[64];
    std::snprintf(cell, sizeof cell, "%.3f / %s / %s", m->apgr, Pct(m->cpt50).c_str(),
                  Pct(m->cpt80).c_str());
    summary->emplace_back(v.name, cell);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"GBT (XGBoost) routers next to liblinear, on router_cv's folds"};
  std::string data_dir = "../shared/data";
  std::string only;
  std::vector<uint64_t> seeds = {20240601};
  GbtParams mmlu_params;
  GbtParams gsm_params;
  gsm_params.rounds = 200;
  gsm_params.max_depth = "2";
  gsm_params.min_child_weight = "5";
  app.add_option("--data-dir", data_dir, "Folder holding routing/*.csv")->capture_default_str();
  app.add_option("--only", only, "Run one benchmark: mmlu or gsm8k");
  app.add_option("--seed", seeds, "Fold assignment seed(s)")->capture_default_str();
  int bags = 1;
  app.add_option("--bags", bags, "GBT boosters per model (seeds averaged)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  mmlu_params.bags = bags;
  gsm_params.bags = bags;
  int rc = 0;
  // [benchmark][seed] -> rows.
  std::map<std::string, std::vector<Summary>> summaries;
  for (uint64_t seed : seeds) {
    if (only.empty() || only == "mmlu") {
      summaries["mmlu"].emplace_back();
      rc |= Run("mmlu", (std::filesystem::path(data_dir) / "routing/mmlu_dev.csv").string(),
                r::RouterKind::kPrompt, seed, mmlu_params, &summaries["mmlu"].back());
    }
    if (only.empty() || only == "gsm8k") {
      summaries["gsm8k"].emplace_back();
      rc |= Run("gsm8k", (std::filesystem::path(data_dir) / "routing/gsm8k_dev.csv").string(),
                r::RouterKind::kCascade, seed, gsm_params, &summaries["gsm8k"].back());
    }
  }
  if (rc == 0 && seeds.size() > 1) {
    for (const auto& [key, per_seed] : summaries) {
      std::printf("\n#### %s, pooled out-of-fold APGR / CPT(50%%) / CPT(80%%) per fold seed\n\n",
                  key.c_str());
      std::printf("| router |");
      for (uint64_t seed : seeds)
        std::printf(" seed %llu |", static_cast<unsigned long long>(seed));
      std::printf("\n|---|");
      for (size_t i = 0; i < seeds.size(); ++i) std::printf("---|");
      std::printf("\n");
      for (size_t v = 0; v < per_seed[0].size(); ++v) {
        std::printf("| %s |", per_seed[0][v].first.c_str());
        for (const auto& s : per_seed) std::printf(" %s |", s[v].second.c_str());
        std::printf("\n");
      }
    }
  }
  return rc;
}
