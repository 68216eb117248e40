#include "routing/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

namespace switchyard::routing {
namespace {

struct Totals {
  double weak = 0;
  double strong = 0;
};

core::Result<Totals> Accuracies(std::span<const Outcome> outcomes) {
  if (outcomes.empty()) return core::InvalidArgument("no rows to evaluate");
  Totals t;
  for (const auto& o : outcomes) {
    t.weak += o.weak_correct ? 1 : 0;
    t.strong += o.strong_correct ? 1 : 0;
  }
  t.weak /= static_cast<double>(outcomes.size());
  t.strong /= static_cast<double>(outcomes.size());
  if (t.weak == t.strong) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", t.weak);
    return core::InvalidArgument(
        std::string("the strong and weak models have the same accuracy (") + buf +
        "): PGR is undefined");
  }
  return t;
}

// numpy.quantile's default (linear) on sorted values.
double Quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

void FillSummary(RouterMetrics& m) {
  m.apgr = AreaUnderPgr(m.curve);
  m.cpt20 = CostToReach(m.curve, 0.2);
  m.cpt50 = CostToReach(m.curve, 0.5);
  m.cpt80 = CostToReach(m.curve, 0.8);
}

}  // namespace

std::optional<double> CostToReach(const std::vector<CurvePoint>& curve, double target_pgr) {
  if (curve.empty()) return std::nullopt;
  if (curve.front().pgr >= target_pgr) return curve.front().strong_fraction;
  for (size_t i = 0; i + 1 < curve.size(); ++i) {
    const CurvePoint& a = curve[i];
    const CurvePoint& b = curve[i + 1];
    if (a.pgr < target_pgr && b.pgr >= target_pgr) {
      const double t = (target_pgr - a.pgr) / (b.pgr - a.pgr);
      return a.strong_fraction + t * (b.strong_fraction - a.strong_fraction);
    }
  }
  return std::nullopt;
}

double AreaUnderPgr(const std::vector<CurvePoint>& curve) {
  double area = 0;
  for (size_t i = 0; i + 1 < curve.size(); ++i) {
    area += (curve[i + 1].strong_fraction - curve[i].strong_fraction) *
            (curve[i + 1].pgr + curve[i].pgr) / 2;
  }
  return area;
}

core::Result<RouterMetrics> EvaluateRouter(std::span<const double> scores,
                                           std::span<const Outcome> outcomes, int bins) {
  auto acc = Accuracies(outcomes);
  if (!acc.ok()) return acc.take_status();
  if (scores.size() != outcomes.size()) {
    return core::InvalidArgument(std::to_string(scores.size()) + " scores for " +
                                 std::to_string(outcomes.size()) + " rows");
  }
  for (double s : scores) {
    if (!std::isfinite(s)) return core::InvalidArgument("a score is not a finite number");
  }
  if (bins < 1) bins = 1;
  std::vector<double> sorted(scores.begin(), scores.end());
  std::sort(sorted.begin(), sorted.end());

  RouterMetrics m;
  m.rows = outcomes.size();
  m.weak_accuracy = acc->weak;
  m.strong_accuracy = acc->strong;
  const double n = static_cast<double>(outcomes.size());
  const double gap = acc->strong - acc->weak;
  // From the last threshold (0% strong) to the first (100%): fraction ascending.
  for (int i = bins; i >= 0; --i) {
    const double t = Quantile(sorted, static_cast<double>(i) / bins);
    size_t strong_calls = 0;
    size_t correct = 0;
    for (size_t j = 0; j < scores.size(); ++j) {
      const bool strong = i == bins ? scores[j] > t : scores[j] >= t;
      strong_calls += strong ? 1 : 0;
      correct += (strong ? outcomes[j].strong_correct : outcomes[j].weak_correct) ? 1 : 0;
    }
    CurvePoint p;
    p.threshold = t;
    p.strong_fraction = static_cast<double>(strong_calls) / n;
    p.accuracy = static_cast<double>(correct) / n;
    p.pgr = (p.accuracy - acc->weak) / gap;
    m.curve.push_back(p);
  }
  FillSummary(m);
  return m;
}

core::Result<RouterMetrics> RandomBaseline(std::span<const Outcome> outcomes, uint64_t seed,
                                           int draws, int bins) {
  auto acc = Accuracies(outcomes);
  if (!acc.ok()) return acc.take_status();
  if (draws < 1) draws = 1;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> scores(outcomes.size());
  RouterMetrics mean;
  double cpt_sum[3] = {0, 0, 0};
  int cpt_count[3] = {0, 0, 0};
  for (int d = 0; d < draws; ++d) {
    for (double& s : scores) s = uniform(rng);
    auto m = EvaluateRouter(scores, outcomes, bins);
    if (!m.ok()) return m.take_status();
    if (d == 0) {
      mean = *m;
      for (auto& p : mean.curve) p = CurvePoint{};
      mean.apgr = 0;
    }
    for (size_t i = 0; i < m->curve.size(); ++i) {
      mean.curve[i].strong_fraction += m->curve[i].strong_fraction / draws;
      mean.curve[i].accuracy += m->curve[i].accuracy / draws;
      mean.curve[i].pgr += m->curve[i].pgr / draws;
    }
    mean.apgr += m->apgr / draws;
    const std::optional<double> cpts[3] = {m->cpt20, m->cpt50, m->cpt80};
    for (int k = 0; k < 3; ++k) {
      if (cpts[k]) {
        cpt_sum[k] += *cpts[k];
        ++cpt_count[k];
      }
    }
  }
  for (auto& p : mean.curve) p.threshold = std::numeric_limits<double>::quiet_NaN();
  std::optional<double>* dest[3] = {&mean.cpt20, &mean.cpt50, &mean.cpt80};
  for (int k = 0; k < 3; ++k) {
    *dest[k] = cpt_count[k] == draws ? std::optional<double>(cpt_sum[k] / draws) : std::nullopt;
  }
  return mean;
}

core::Result<RouterMetrics> OracleBaseline(std::span<const Outcome> outcomes) {
  auto acc = Accuracies(outcomes);
  if (!acc.ok()) return acc.take_status();
  const double n = static_cast<double>(outcomes.size());
  double gain = 0;
  for (const auto& o : outcomes) gain += (!o.weak_correct && o.strong_correct) ? 1 : 0;
  const double g = gain / n;
  const double gap = acc->strong - acc->weak;
  RouterMetrics m;
  m.rows = outcomes.size();
  m.weak_accuracy = acc->weak;
  m.strong_accuracy = acc->strong;
  std::vector<double> fractions;
  for (int i = 0; i <= 10; ++i) fractions.push_back(i / 10.0);
  fractions.push_back(g);
  std::sort(fractions.begin(), fractions.end());
  fractions.erase(std::unique(fractions.begin(), fractions.end()), fractions.end());
  for (double f : fractions) {
    CurvePoint p;
    p.threshold = std::numeric_limits<double>::quiet_NaN();
    p.strong_fraction = f;
    p.accuracy = acc->weak + std::min(f, g);
    p.pgr = std::min(f, g) / gap;
    m.curve.push_back(p);
  }
  m.apgr = (g - g * g / 2) / gap;
  // The oracle's PGR is min(f, g) / gap; it reaches x at f = x * gap when gap > 0.
  auto cpt = [&](double x) -> std::optional<double> {
    if (gap <= 0) return x <= 0 ? std::optional<double>(0.0) : std::nullopt;
    return x * gap;
  };
  m.cpt20 = cpt(0.2);
  m.cpt50 = cpt(0.5);
  m.cpt80 = cpt(0.8);
  return m;
}

}  // namespace switchyard::routing
