// The acceptance threshold: the student answers a request only when its
// calibrated confidence is at least the threshold, and the threshold is chosen
// so that, on held-out labels, the student's agreement with the teacher among
// the accepted examples is at least the target with 95% (one-sided) confidence.
//
// Bounds on a binomial proportion k/n (one-sided, z = 1.645 for 95%):
//  - Wilson score (the default): closed form, close to nominal coverage even
//    for small n and for proportions near 1.
//  - Clopper–Pearson ("exact"): the Beta(k, n-k+1) quantile; never below
//    nominal coverage, a little more conservative than Wilson.
//
// Thread-safety: pure functions.
// Errors: none; a threshold that cannot be met is nullopt (the student stays in
// shadow).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace switchyard::learn {

inline constexpr double kZ95OneSided = 1.6448536269514722;

enum class BoundMethod { kWilson, kClopperPearson };

std::string_view BoundMethodName(BoundMethod method);  // "wilson", "clopper-pearson"

// Wilson score lower bound of successes/n at normal quantile z; 0 when n == 0.
double WilsonLowerBound(uint64_t successes, uint64_t n, double z = kZ95OneSided);
// Wilson score upper bound; 1 when n == 0.
double WilsonUpperBound(uint64_t successes, uint64_t n, double z = kZ95OneSided);
// Clopper–Pearson one-sided lower bound at confidence 1 - alpha; 0 when
// successes == 0 or n == 0.
double ClopperPearsonLowerBound(uint64_t successes, uint64_t n, double alpha = 0.05);
// The lower bound by `method` at one-sided 95% confidence.
double LowerBound(BoundMethod method, uint64_t successes, uint64_t n);

// The regularised incomplete beta function I_x(a, b), for a, b > 0 and x in [0, 1].
double RegularizedIncompleteBeta(double a, double b, double x);

struct ThresholdOptions {
  double target_agreement = 0.95;  // the lower bound must reach this
  BoundMethod bound = BoundMethod::kWilson;
};

// The outcome of threshold selection on held-out examples.
struct ThresholdChoice {
  std::optional<double> threshold;  // nullopt: no threshold meets the target
  size_t accepted = 0;              // held-out examples with confidence >= threshold
  size_t agreed = 0;                // of those, how many agreed with the teacher
  size_t total = 0;                 // held-out examples
  double coverage = 0;              // accepted / total (0 without a threshold)
  double agreement = 0;             // agreed / accepted
  double lower_bound = 0;           // the bound at the threshold
  // Without a threshold: the best lower bound any threshold reached, to say how
  // far from the target the student is.
  double best_lower_bound = 0;
};

// Chooses the smallest threshold t among the held-out confidences such that the
// examples with confidence >= t agree with the teacher with a lower bound >=
// target. `confidence[i]` is example i's calibrated confidence, `agree[i]`
// whether its top label equals the teacher's. With no examples: nullopt.
ThresholdChoice ChooseThreshold(std::span<const double> confidence, const std::vector<bool>& agree,
                                const ThresholdOptions& options);

}  // namespace switchyard::learn
