// k-fold cross-validation of a router: train on k-1 folds, score the held-out
// fold, so every query gets exactly one out-of-fold score; RouteLLM metrics on
// the pooled out-of-fold scores and per fold, next to the random router and
// the oracle on the same rows.
//
// Pure function of its inputs (the fold assignment comes from `seed`);
// thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "routing/dataset.h"
#include "routing/metrics.h"
#include "routing/model.h"

namespace switchyard::routing {

// How SelectTrainOptions ranks candidates on the inner out-of-fold scores.
enum class Selection {
  kApgr,                 // highest APGR (the metric itself; noisy on a few hundred rows)
  kBenefitSquaredError,  // lowest BenefitSquaredError (smooth; favours calibration)
};

struct CvOptions {
  int folds = 5;
  uint64_t seed = 20240601;  // fold assignment and the random baseline
  int random_draws = 100;
  TrainOptions train;
  // Nested selection: when not empty, each outer fold picks one of these by
  // an inner `inner_folds`-fold cross-validation on its own training rows
  // (SelectTrainOptions) instead of using `train`; the held-out fold is never
  // seen by the choice.
  std::vector<TrainOptions> candidates;
  int inner_folds = 3;
  Selection selection = Selection::kApgr;
  // When not empty (one per example): the outcomes the models are trained
  // and selected on, in place of the examples' own; the held-out rows are
  // still evaluated on the examples' outcomes. For labels a deployment has,
  // e.g. the weak answer's agreement with the strong one (shadow outcomes,
  // routing/outcome_export.h), graded against the true outcomes.
  std::vector<Outcome> train_outcomes;
};

struct FoldResult {
  RouterMetrics router;
  RouterMetrics random;
  RouterMetrics oracle;
};

struct CvResult {
  std::vector<double> scores;  // out-of-fold score of every example, in order
  std::vector<int> fold_of;    // fold index of every example
  RouterMetrics pooled;        // metrics of the pooled out-of-fold scores
  RouterMetrics random;        // random router on all rows
  RouterMetrics oracle;        // oracle on all rows
  std::vector<FoldResult> per_fold;
  std::vector<size_t> chosen;  // per fold: index into CvOptions::candidates (when given)
  double train_seconds = 0;    // summed over folds (wall clock, informational)
};

// Fold assignment: a seeded Fisher-Yates shuffle, then round robin.
std::vector<int> AssignFolds(size_t rows, int folds, uint64_t seed);

// Errors: "need at least <k> rows for <k> folds", "folds must be at least 2",
// "train_outcomes has <n> rows for <m> examples", plus training and metric
// errors.
core::Result<CvResult> CrossValidate(const std::vector<RoutingExample>& examples,
                                     const CvOptions& options);

// Mean squared error of `scores` as estimates of strong_correct - weak_correct
// (the accuracy gained by calling the strong model; every target's score
// estimates it). 0 when the sizes differ or there are no rows.
double BenefitSquaredError(const std::vector<RoutingExample>& examples,
                           const std::vector<double>& scores);

// Picks the candidate whose pooled out-of-fold scores in a `folds`-fold
// cross-validation on `examples` (fold seed `seed`) rank best by `selection`;
// the first wins ties. Returns its index.
// Errors: "no candidate options", plus those of CrossValidate.
core::Result<size_t> SelectTrainOptions(const std::vector<RoutingExample>& examples,
                                        const std::vector<TrainOptions>& candidates, int folds,
                                        uint64_t seed, Selection selection = Selection::kApgr);

// Mean of a metric over folds (CPTs that a fold never reaches are skipped;
// `reached` counts the folds that reached it).
struct FoldMean {
  double apgr = 0;
  double cpt20 = 0, cpt50 = 0, cpt80 = 0;
  int reached20 = 0, reached50 = 0, reached80 = 0;
};
FoldMean MeanOverFolds(const std::vector<RouterMetrics>& folds);

}  // namespace switchyard::routing
