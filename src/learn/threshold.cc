#include "learn/threshold.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace switchyard::learn {
namespace {

// Continued fraction for the incomplete beta function (modified Lentz).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIterations = 300;
  constexpr double kEpsilon = 1e-15;
  constexpr double kTiny = 1e-300;
  const double qab = a + b;
  const double qap = a + 1;
  const double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1) < kEpsilon) break;
  }
  return h;
}

}  // namespace

std::string_view BoundMethodName(BoundMethod method) {
  return method == BoundMethod::kWilson ? "wilson" : "clopper-pearson";
}

double WilsonLowerBound(uint64_t successes, uint64_t n, double z) {
  if (n == 0) return 0;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double center = p + z2 / (2 * nn);
  const double margin = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return std::max(0.0, (center - margin) / (1 + z2 / nn));
}

double WilsonUpperBound(uint64_t successes, uint64_t n, double z) {
  if (n == 0) return 1;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double z2 = z * z;
  const double center = p + z2 / (2 * nn);
  const double margin = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return std::min(1.0, (center + margin) / (1 + z2 / nn));
}

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
}

double ClopperPearsonLowerBound(uint64_t successes, uint64_t n, double alpha) {
  if (n == 0 || successes == 0) return 0;
  const auto k = static_cast<double>(successes);
  const auto nn = static_cast<double>(n);
  if (successes == n) return std::pow(alpha, 1.0 / nn);
  // The lower bound p solves P(X >= k | p) = alpha, i.e. I_p(k, n - k + 1) = alpha,
  // which increases with p: bisect.
  double lo = 0;
  double hi = 1;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    if (RegularizedIncompleteBeta(k, nn - k + 1, mid) < alpha) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return (lo + hi) / 2;
}

double LowerBound(BoundMethod method, uint64_t successes, uint64_t n) {
  return method == BoundMethod::kWilson ? WilsonLowerBound(successes, n)
                                        : ClopperPearsonLowerBound(successes, n);
}

ThresholdChoice ChooseThreshold(std::span<const double> confidence, const std::vector<bool>& agree,
                                const ThresholdOptions& options) {
  ThresholdChoice choice;
  const size_t n = std::min(confidence.size(), agree.size());
  choice.total = n;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return confidence[a] > confidence[b]; });
  size_t accepted = 0;
  size_t agreed = 0;
  for (size_t i = 0; i < n;) {
    const double t = confidence[order[i]];
    // Examples with equal confidence are accepted or refused together.
    for (; i < n && confidence[order[i]] == t; ++i) {
      ++accepted;
      if (agree[order[i]]) ++agreed;
    }
    const double lb = LowerBound(options.bound, agreed, accepted);
    choice.best_lower_bound = std::max(choice.best_lower_bound, lb);
    if (lb >= options.target_agreement) {
      choice.threshold = t;
      choice.accepted = accepted;
      choice.agreed = agreed;
      choice.lower_bound = lb;
    }
  }
  if (choice.threshold && n > 0) {
    choice.coverage = static_cast<double>(choice.accepted) / static_cast<double>(n);
    choice.agreement = static_cast<double>(choice.agreed) / static_cast<double>(choice.accepted);
  }
  return choice;
}

}  // namespace switchyard::learn
