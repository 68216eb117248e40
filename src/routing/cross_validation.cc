#include "routing/cross_validation.h"

#include <chrono>
#include <random>

namespace switchyard::routing {

std::vector<int> AssignFolds(size_t rows, int folds, uint64_t seed) {
  std::vector<size_t> order(rows);
  for (size_t i = 0; i < rows; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = rows; i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<int> fold_of(rows, 0);
  for (size_t k = 0; k < rows; ++k) fold_of[order[k]] = static_cast<int>(k % folds);
  return fold_of;
}

core::Result<CvResult> CrossValidate(const std::vector<RoutingExample>& examples,
                                     const CvOptions& options) {
  if (options.folds < 2) return core::InvalidArgument("folds must be at least 2");
  if (examples.size() < static_cast<size_t>(options.folds)) {
    return core::InvalidArgument("need at least " + std::to_string(options.folds) + " rows for " +
                                 std::to_string(options.folds) + " folds");
  }
  if (!options.train_outcomes.empty() && options.train_outcomes.size() != examples.size()) {
    return core::InvalidArgument("train_outcomes has " +
                                 std::to_string(options.train_outcomes.size()) + " rows for " +
                                 std::to_string(examples.size()) + " examples");
  }
  CvResult result;
  result.fold_of = AssignFolds(examples.size(), options.folds, options.seed);
  result.scores.assign(examples.size(), 0.0);
  for (int k = 0; k < options.folds; ++k) {
    std::vector<RoutingExample> train;
    std::vector<RoutingExample> test;
    std::vector<size_t> test_rows;
    for (size_t i = 0; i < examples.size(); ++i) {
      if (result.fold_of[i] == k) {
        test.push_back(examples[i]);
        test_rows.push_back(i);
      } else {
        train.push_back(examples[i]);
        if (!options.train_outcomes.empty()) {
          train.back().weak_correct = options.train_outcomes[i].weak_correct ? 1 : 0;
          train.back().strong_correct = options.train_outcomes[i].strong_correct ? 1 : 0;
        }
      }
    }
    const auto start = std::chrono::steady_clock::now();
    TrainOptions train_options = options.train;
    if (!options.candidates.empty()) {
      auto pick =
          SelectTrainOptions(train, options.candidates, options.inner_folds,
                             options.seed + 1000 + static_cast<uint64_t>(k), options.selection);
      if (!pick.ok()) return pick.take_status();
      train_options = options.candidates[*pick];
      result.chosen.push_back(*pick);
    }
    auto model = RouterModel::Train(train, train_options);
    if (!model.ok()) return model.take_status();
    result.train_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto scores = model->ScoreAll(test);
    if (!scores.ok()) return scores.take_status();
    for (size_t j = 0; j < test_rows.size(); ++j) result.scores[test_rows[j]] = (*scores)[j];

    const auto outcomes = Outcomes(test);
    FoldResult fr;
    auto m = EvaluateRouter(*scores, outcomes);
    if (!m.ok()) return m.take_status();
    fr.router = std::move(*m);
    auto rnd =
        RandomBaseline(outcomes, options.seed + static_cast<uint64_t>(k) + 1, options.random_draws);
    if (!rnd.ok()) return rnd.take_status();
    fr.random = std::move(*rnd);
    auto orc = OracleBaseline(outcomes);
    if (!orc.ok()) return orc.take_status();
    fr.oracle = std::move(*orc);
    result.per_fold.push_back(std::move(fr));
  }
  const auto outcomes = Outcomes(examples);
  auto pooled = EvaluateRouter(result.scores, outcomes);
  if (!pooled.ok()) return pooled.take_status();
  result.pooled = std::move(*pooled);
  auto rnd = RandomBaseline(outcomes, options.seed, options.random_draws);
  if (!rnd.ok()) return rnd.take_status();
  result.random = std::move(*rnd);
  auto orc = OracleBaseline(outcomes);
  if (!orc.ok()) return orc.take_status();
  result.oracle = std::move(*orc);
  return result;
}

double BenefitSquaredError(const std::vector<RoutingExample>& examples,
                           const std::vector<double>& scores) {
  if (examples.empty() || examples.size() != scores.size()) return 0;
  double sum = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const double d = scores[i] - (examples[i].strong_correct - examples[i].weak_correct);
    sum += d * d;
  }
  return sum / static_cast<double>(examples.size());
}

core::Result<size_t> SelectTrainOptions(const std::vector<RoutingExample>& examples,
                                        const std::vector<TrainOptions>& candidates, int folds,
                                        uint64_t seed, Selection selection) {
  if (candidates.empty()) return core::InvalidArgument("no candidate options");
  size_t best = 0;
  double best_loss = 0;
  for (size_t c = 0; c < candidates.size(); ++c) {
    CvOptions inner;
    inner.folds = folds;
    inner.seed = seed;
    inner.random_draws = 1;
    inner.train = candidates[c];
    auto cv = CrossValidate(examples, inner);
    if (!cv.ok()) return cv.take_status();
    // Lower is better.
    const double loss = selection == Selection::kApgr ? -cv->pooled.apgr
                                                      : BenefitSquaredError(examples, cv->scores);
    if (c == 0 || loss < best_loss) {
      best = c;
      best_loss = loss;
    }
  }
  return best;
}

FoldMean MeanOverFolds(const std::vector<RouterMetrics>& folds) {
  FoldMean m;
  if (folds.empty()) return m;
  for (const auto& f : folds) {
    m.apgr += f.apgr / static_cast<double>(folds.size());
    if (f.cpt20) {
      m.cpt20 += *f.cpt20;
      ++m.reached20;
    }
    if (f.cpt50) {
      m.cpt50 += *f.cpt50;
      ++m.reached50;
    }
    if (f.cpt80) {
      m.cpt80 += *f.cpt80;
      ++m.reached80;
    }
  }
  if (m.reached20) m.cpt20 /= m.reached20;
  if (m.reached50) m.cpt50 /= m.reached50;
  if (m.reached80) m.cpt80 /= m.reached80;
  return m;
}

}  // namespace switchyard::routing
