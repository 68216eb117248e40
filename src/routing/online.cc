#include "routing/online.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace switchyard::routing {
namespace {

core::Status CheckSizes(std::span<const double> scores, std::span<const Outcome> outcomes) {
  if (outcomes.empty()) return core::InvalidArgument("no held-out rows");
  if (scores.size() != outcomes.size()) {
    return core::InvalidArgument(std::to_string(scores.size()) + " scores for " +
                                 std::to_string(outcomes.size()) + " rows");
  }
  return core::Status::Ok();
}

// Row indices by score, highest first.
std::vector<size_t> ByScoreDescending(std::span<const double> scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

double JustAbove(double x) {
  return std::nextafter(x, std::numeric_limits<double>::infinity());
}

}  // namespace

core::Result<ThresholdChoice> ThresholdForStrongShare(std::span<const double> scores,
                                                      std::span<const Outcome> outcomes,
                                                      double max_share) {
  if (auto s = CheckSizes(scores, outcomes); !s.ok()) return s;
  const std::vector<size_t> order = ByScoreDescending(scores);
  const double n = static_cast<double>(scores.size());
  ThresholdChoice best;
  best.threshold = JustAbove(scores[order.front()]);
  double weak_hits = 0, strong_hits = 0;
  for (const Outcome& o : outcomes) weak_hits += o.weak_correct ? 1 : 0;
  for (const Outcome& o : outcomes) strong_hits += o.strong_correct ? 1 : 0;
  const double gap = strong_hits - weak_hits;
  double correct = weak_hits;  // every row weak
  size_t i = 0;
  while (i < order.size()) {
    const double value = scores[order[i]];
    size_t j = i;
    double next_correct = correct;
    while (j < order.size() && scores[order[j]] == value) {
      const Outcome& o = outcomes[order[j]];
      next_correct += (o.strong_correct ? 1 : 0) - (o.weak_correct ? 1 : 0);
      ++j;
    }
    if (static_cast<double>(j) / n > max_share + 1e-12) break;
    correct = next_correct;
    best.threshold = value;
    best.strong_share = static_cast<double>(j) / n;
    i = j;
  }
  best.pgr = gap != 0 ? (correct - weak_hits) / gap : 0;
  return best;
}

core::Result<ThresholdChoice> ThresholdForTargetPgr(std::span<const double> scores,
                                                    std::span<const Outcome> outcomes,
                                                    double target_pgr) {
  if (auto s = CheckSizes(scores, outcomes); !s.ok()) return s;
  double weak_hits = 0, strong_hits = 0;
  for (const Outcome& o : outcomes) weak_hits += o.weak_correct ? 1 : 0;
  for (const Outcome& o : outcomes) strong_hits += o.strong_correct ? 1 : 0;
  const double gap = strong_hits - weak_hits;
  if (gap == 0) {
    return core::InvalidArgument(
        "the strong and weak models have the same accuracy on the held-out rows: target_pgr is "
        "undefined");
  }
  const std::vector<size_t> order = ByScoreDescending(scores);
  const double n = static_cast<double>(scores.size());
  double correct = weak_hits;
  size_t i = 0;
  while (i < order.size()) {
    const double value = scores[order[i]];
    size_t j = i;
    while (j < order.size() && scores[order[j]] == value) {
      const Outcome& o = outcomes[order[j]];
      correct += (o.strong_correct ? 1 : 0) - (o.weak_correct ? 1 : 0);
      ++j;
    }
    const double pgr = (correct - weak_hits) / gap;
    if (pgr >= target_pgr - 1e-12 || j == order.size()) {
      return ThresholdChoice{value, static_cast<double>(j) / n, pgr};
    }
    i = j;
  }
  return core::InvalidArgument("no held-out rows");  // unreachable: rows are not empty
}

core::Result<ThresholdChoice> ThresholdFromHoldout(const RouterModel& model,
                                                   const std::string& holdout_path,
                                                   const ThresholdTarget& target) {
  LoadOptions load;
  load.need_outcomes = true;
  load.need_weak_response = model.kind() == RouterKind::kCascade;
  auto rows = LoadRoutingCsv(holdout_path, load);
  if (!rows.ok()) return rows.take_status();
  auto scores = model.ScoreAll(*rows);
  if (!scores.ok()) return core::InvalidArgument(holdout_path + ": " + scores.status().message());
  const std::vector<Outcome> outcomes = Outcomes(*rows);
  core::Result<ThresholdChoice> choice =
      target.target_pgr
          ? ThresholdForTargetPgr(*scores, outcomes, *target.target_pgr)
          : ThresholdForStrongShare(*scores, outcomes, target.max_strong_share.value_or(0));
  if (!choice.ok()) return core::InvalidArgument(holdout_path + ": " + choice.status().message());
  return choice;
}

}  // namespace switchyard::routing
