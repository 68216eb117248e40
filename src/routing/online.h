// Online use of a trained router: the threshold a route applies to scores,
// set from a target on held-out rows (see docs/CONFIG.md, [[routes]]).
//
// A query goes to the strong model (router) or is escalated (cascade) when its
// score >= threshold, as in RouteLLM's curve (metrics.h).
//
// Pure functions, thread-safe. Errors are kInvalidArgument with one line.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "core/status.h"
#include "routing/dataset.h"
#include "routing/model.h"

namespace switchyard::routing {

struct ThresholdChoice {
  double threshold = 0;
  double strong_share = 0;  // share of the held-out rows with score >= threshold
  double pgr = 0;           // PGR on the held-out rows at that threshold
};

// The lowest threshold at which at most `max_share` of the rows score >= it
// (all rows tied at a score go the same way). With max_share 0 the threshold
// lies just above the highest score.
// Errors: "no held-out rows"; "<n> scores for <m> rows".
core::Result<ThresholdChoice> ThresholdForStrongShare(std::span<const double> scores,
                                                      std::span<const Outcome> outcomes,
                                                      double max_share);

// The highest threshold whose PGR on the rows reaches `target_pgr`: the
// cheapest strong share that recovers that much of the gap (sending every row
// strong always reaches 1).
// Errors: as above, plus "the strong and weak models have the same accuracy on
// the held-out rows: target_pgr is undefined".
core::Result<ThresholdChoice> ThresholdForTargetPgr(std::span<const double> scores,
                                                    std::span<const Outcome> outcomes,
                                                    double target_pgr);

// Loads `holdout_path` (outcomes required; weak_response for cascade models),
// scores it with `model` and picks the threshold for the target: exactly one
// of `target_pgr` and `max_strong_share` is set. Errors name the file.
struct ThresholdTarget {
  std::optional<double> target_pgr;
  std::optional<double> max_strong_share;
};
core::Result<ThresholdChoice> ThresholdFromHoldout(const RouterModel& model,
                                                   const std::string& holdout_path,
                                                   const ThresholdTarget& target);

}  // namespace switchyard::routing
