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

struct CvOptions {
  int folds = 5;
  uint64_t seed = 20240601;  // fold assignment and the random baseline
  int random_draws = 100;
  TrainOptions train;
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
  double train_seconds = 0;  // summed over folds (wall clock, informational)
};

// Fold assignment: a seeded Fisher-Yates shuffle, then round robin.
std::vector<int> AssignFolds(size_t rows, int folds, uint64_t seed);

// Errors: "need at least <k> rows for <k> folds", "folds must be at least 2",
// plus training and metric errors.
core::Result<CvResult> CrossValidate(const std::vector<RoutingExample>& examples,
                                     const CvOptions& options);

// Mean of a metric over folds (CPTs that a fold never reaches are skipped;
// `reached` counts the folds that reached it).
struct FoldMean {
  double apgr = 0;
  double cpt20 = 0, cpt50 = 0, cpt80 = 0;
  int reached20 = 0, reached50 = 0, reached80 = 0;
};
FoldMean MeanOverFolds(const std::vector<RouterMetrics>& folds);

}  // namespace switchyard::routing
