// Calibration: turning a student's raw scores into a confidence that means
// "the probability that the teacher would give the same label".
//
// Two methods, both fitted on held-out examples the model was not trained on:
//  - Temperature scaling (the default): one parameter T, confidence =
//    softmax(scores / T)[top] (or sigmoid(score_top / T) for one-vs-all
//    models). T is found by minimising the negative log-likelihood of the
//    teacher's labels with a golden-section search over log T in [1/20, 20].
//  - Isotonic regression (pool-adjacent-violators) of "top label correct"
//    on the raw top-label confidence: a non-decreasing step function.
//
// Why temperature scaling by default: a held-out set is small (a few hundred
// to a thousand labels); one parameter cannot overfit it, while isotonic
// regression fits a step per pool and its flat steps tie many examples at one
// confidence, which makes the acceptance threshold coarse (a whole step is
// accepted or not). fastText's raw softmax is over-confident (probabilities
// round to 1.0 after a few epochs); scaling the logits keeps their order and
// separates those ties. Isotonic is offered for large hold-outs with a
// mis-shaped (not merely over-confident) reliability curve.
//
// Thread-safety: Calibration is an immutable value after construction; const
// methods may be called from any thread. The Fit functions are pure.
// Errors: FitTemperature returns InvalidArgument when no example has a known
// label; FromJson returns InvalidArgument naming what is wrong.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace switchyard::learn {

// How a model's scores become probabilities.
enum class ScoreKind {
  kSoftmax,  // one distribution over the labels (fastText loss "softmax")
  kSigmoid,  // independent per-label sigmoids (fastText loss "ova")
};

enum class CalibrationMethod { kNone, kTemperature, kIsotonic };

std::string_view CalibrationMethodName(CalibrationMethod method);  // "none", "temperature", ...

class Calibration {
 public:
  // The identity: the raw model probability.
  Calibration() = default;
  static Calibration Temperature(double temperature);
  // `points` are (raw confidence, calibrated) pairs sorted by raw confidence,
  // calibrated non-decreasing; values between points are interpolated
  // linearly, values outside clamp to the end points.
  static Calibration Isotonic(std::vector<std::pair<double, double>> points);

  CalibrationMethod method() const { return method_; }
  double temperature() const { return temperature_; }
  const std::vector<std::pair<double, double>>& points() const { return points_; }

  // The uncalibrated top-label probability for `scores` (logits), `top` being
  // the index of the largest score.
  static double RawConfidence(std::span<const double> scores, size_t top, ScoreKind kind);
  // The calibrated confidence of the top label.
  double Confidence(std::span<const double> scores, size_t top, ScoreKind kind) const;
  // The calibrated probability of label `index` (temperature or identity; for
  // isotonic, the raw probability mapped through the curve).
  double Probability(std::span<const double> scores, size_t index, ScoreKind kind) const;

  // {"method":"temperature","temperature":1.8} / {"method":"isotonic","points":[[x,y],...]}
  std::string ToJson() const;
  static core::Result<Calibration> FromJson(std::string_view json);

 private:
  CalibrationMethod method_ = CalibrationMethod::kNone;
  double temperature_ = 1.0;
  std::vector<std::pair<double, double>> points_;
};

// One held-out example as seen by calibration: the model's scores and the
// index of the teacher's label among the model's labels (-1 when the model does
// not know that label: it counts as a disagreement and is left out of the NLL).
struct ScoredExample {
  std::vector<double> scores;
  int label = -1;
};

// Index of the largest score (the first on ties). `scores` must be non-empty.
size_t ArgMax(std::span<const double> scores);

// Temperature minimising the mean NLL of the teacher labels.
core::Result<Calibration> FitTemperature(const std::vector<ScoredExample>& examples,
                                         ScoreKind kind);
// Isotonic regression of correctness on the raw top-label confidence.
core::Result<Calibration> FitIsotonic(const std::vector<ScoredExample>& examples, ScoreKind kind);
core::Result<Calibration> FitCalibration(CalibrationMethod method,
                                         const std::vector<ScoredExample>& examples,
                                         ScoreKind kind);

// Expected calibration error: examples binned by confidence into `bins`
// equal-width bins over [0, 1]; the sum over bins of
// (bin size / total) * |accuracy in bin - mean confidence in bin|.
// 0 for no examples. `confidence` and `correct` have the same length.
double ExpectedCalibrationError(std::span<const double> confidence,
                                const std::vector<bool>& correct, int bins = 10);

}  // namespace switchyard::learn
