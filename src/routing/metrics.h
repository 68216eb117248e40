// Router metrics with RouteLLM's definitions (Ong et al., "RouteLLM: Learning
// to Route LLMs with Preference Data", 2024; lm-sys/RouteLLM, Apache-2.0,
// routellm/evals/benchmarks.py and evaluate.py).
//
// Given one score per query (higher = call the strong model) and each query's
// outcome for both models:
//   * thresholds: the bin edges of `bins` (10) equal-count quantile bins of the
//     scores, i.e. the 0%, 10%, ..., 100% quantiles with linear interpolation
//     between order statistics (pandas.qcut / numpy.quantile) — 11 thresholds;
//   * at threshold t_i the strong model answers the queries with score >= t_i,
//     except at the last (the maximum score) where it answers score > t_i. So
//     the first threshold (the minimum) gives 100% strong calls and the last 0%;
//     ties at a threshold all go to the strong model, so the strong fractions in
//     between are not exactly 10%, 20%, ... when scores tie;
//   * accuracy = mean of strong_correct over routed-strong queries and
//     weak_correct over the rest; PGR = (accuracy - weak_only) /
//     (strong_only - weak_only) (it can exceed 1: a router can beat strong-only
//     by keeping queries the weak model gets right and the strong one does not);
//   * APGR = trapezoid area under PGR against the strong fraction (0..1);
//     identical to RouteLLM's (AUC - weak_AUC) / (strong_AUC - weak_AUC);
//   * CPT(x) = the smallest strong fraction at which PGR reaches x, walking the
//     curve from 0% strong calls and interpolating linearly inside the first
//     segment that crosses x (RouteLLM uses numpy.interp, which agrees on a
//     monotone curve); nullopt when the curve never reaches x.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"
#include "routing/dataset.h"

namespace switchyard::routing {

struct CurvePoint {
  double threshold = 0;        // score threshold (NaN for baselines without one)
  double strong_fraction = 0;  // share of queries sent to the strong model, 0..1
  double accuracy = 0;         // 0..1
  double pgr = 0;              // performance gap recovered
};

struct RouterMetrics {
  size_t rows = 0;
  double weak_accuracy = 0;       // weak-only
  double strong_accuracy = 0;     // strong-only
  std::vector<CurvePoint> curve;  // strong_fraction ascending
  double apgr = 0;
  std::optional<double> cpt20, cpt50, cpt80;  // strong fraction, 0..1
};

// The smallest strong fraction at which `curve` (strong_fraction ascending)
// reaches `target_pgr`; see the header comment.
std::optional<double> CostToReach(const std::vector<CurvePoint>& curve, double target_pgr);

// Trapezoid area under PGR against strong fraction.
double AreaUnderPgr(const std::vector<CurvePoint>& curve);

// RouteLLM metrics of `scores` (same order as `outcomes`).
// Errors (kInvalidArgument): "no rows to evaluate";
// "<n> scores for <m> rows"; "a score is not a finite number";
// "the strong and weak models have the same accuracy (<a>): PGR is undefined".
core::Result<RouterMetrics> EvaluateRouter(std::span<const double> scores,
                                           std::span<const Outcome> outcomes, int bins = 10);

// The random router on the same outcomes: the mean curve and metrics of
// `draws` routers with uniform random scores from a generator seeded with
// `seed` (its expectation is PGR = strong fraction, APGR 0.5, CPT(x) = x).
core::Result<RouterMetrics> RandomBaseline(std::span<const Outcome> outcomes, uint64_t seed,
                                           int draws = 100, int bins = 10);

// The oracle (RouteLLM's "optimal"): with a budget of f strong calls it sends
// exactly the queries the weak model gets wrong and the strong one right, up to
// f. Computed in closed form: PGR(f) = min(f, g) / (strong - weak) where g is
// the share of such queries; APGR = (g - g^2/2) / (strong - weak); CPT(x) =
// x * (strong - weak). The curve holds f = 0, 0.1, ..., 1 and the kink at g.
core::Result<RouterMetrics> OracleBaseline(std::span<const Outcome> outcomes);

}  // namespace switchyard::routing
