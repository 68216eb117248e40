#include "learn/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace switchyard::learn {
namespace {

double Logit(double p) {
  return std::log(p / (1 - p));
}

// Examples whose labels are drawn from softmax(z) while the model reports
// scores `overconfidence * z`: the right temperature is `overconfidence`.
std::vector<ScoredExample> Overconfident(double overconfidence, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.5);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<ScoredExample> out;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> z = {normal(rng), normal(rng), normal(rng)};
    double sum = 0;
    for (double v : z) sum += std::exp(v);
    double u = uniform(rng) * sum;
    int label = 0;
    for (; label < 2; ++label) {
      u -= std::exp(z[label]);
      if (u <= 0) break;
    }
    ScoredExample e;
    for (double v : z) e.scores.push_back(v * overconfidence);
    e.label = label;
    out.push_back(std::move(e));
  }
  return out;
}

TEST(CalibrationTest, TemperatureRecoversAKnownOverconfidence) {
  const auto examples = Overconfident(2.5, 20000, 3);
  auto cal = FitTemperature(examples, ScoreKind::kSoftmax);
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(cal->method(), CalibrationMethod::kTemperature);
  EXPECT_NEAR(cal->temperature(), 2.5, 0.1);

  // And it lowers the calibration error.
  std::vector<double> raw;
  std::vector<double> calibrated;
  std::vector<bool> correct;
  for (const auto& e : examples) {
    const size_t top = ArgMax(e.scores);
    raw.push_back(Calibration::RawConfidence(e.scores, top, ScoreKind::kSoftmax));
    calibrated.push_back(cal->Confidence(e.scores, top, ScoreKind::kSoftmax));
    correct.push_back(static_cast<int>(top) == e.label);
  }
  const double before = ExpectedCalibrationError(raw, correct);
  const double after = ExpectedCalibrationError(calibrated, correct);
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, 0.02);
}

TEST(CalibrationTest, WellCalibratedScoresKeepTemperatureNearOne) {
  auto cal = FitTemperature(Overconfident(1.0, 20000, 5), ScoreKind::kSoftmax);
  ASSERT_TRUE(cal.ok());
  EXPECT_NEAR(cal->temperature(), 1.0, 0.05);
}

TEST(CalibrationTest, TemperatureForSigmoidScores) {
  // One label; p(correct) = sigmoid(z), model reports 3z.
  std::mt19937 rng(9);
  std::normal_distribution<double> normal(0.0, 2.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<ScoredExample> examples;
  for (int i = 0; i < 20000; ++i) {
    const double z = normal(rng);
    const bool yes = uniform(rng) < 1 / (1 + std::exp(-z));
    examples.push_back({{3 * z}, yes ? 0 : -1});
  }
  auto cal = FitTemperature(examples, ScoreKind::kSigmoid);
  ASSERT_TRUE(cal.ok());
  EXPECT_NEAR(cal->temperature(), 3.0, 0.15);
}

TEST(CalibrationTest, TemperatureNeedsAKnownLabel) {
  auto cal = FitTemperature({{{1.0, 2.0}, -1}}, ScoreKind::kSoftmax);
  ASSERT_FALSE(cal.ok());
  EXPECT_EQ(cal.status().message(), "calibration needs at least one held-out label");
}

TEST(CalibrationTest, ConfidenceUnderTemperature) {
  const std::vector<double> scores = {2.0, 0.0};
  // softmax([1, 0]) at T = 2.
  const double expected = std::exp(1.0) / (std::exp(1.0) + 1.0);
  EXPECT_NEAR(Calibration::Temperature(2.0).Confidence(scores, 0, ScoreKind::kSoftmax), expected,
              1e-12);
  EXPECT_NEAR(Calibration().Confidence(scores, 0, ScoreKind::kSoftmax),
              std::exp(2.0) / (std::exp(2.0) + 1.0), 1e-12);
  EXPECT_NEAR(Calibration::Temperature(2.0).Probability(scores, 1, ScoreKind::kSoftmax),
              1 - expected, 1e-12);
  EXPECT_NEAR(Calibration::Temperature(2.0).Confidence({{4.0}}, 0, ScoreKind::kSigmoid),
              1 / (1 + std::exp(-2.0)), 1e-12);
}

TEST(CalibrationTest, IsotonicPoolsAdjacentViolators) {
  // Raw confidences 0.6 (wrong), 0.7 (right), 0.8 (wrong), 0.9 (right):
  // 0.7 and 0.8 violate monotonicity and pool to 0.5 at x = 0.75.
  std::vector<ScoredExample> ex = {
      {{Logit(0.6)}, -1}, {{Logit(0.7)}, 0}, {{Logit(0.8)}, -1}, {{Logit(0.9)}, 0}};
  auto cal = FitIsotonic(ex, ScoreKind::kSigmoid);
  ASSERT_TRUE(cal.ok());
  const auto& pts = cal->points();
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_NEAR(pts[0].first, 0.6, 1e-12);
  EXPECT_DOUBLE_EQ(pts[0].second, 0.0);
  EXPECT_NEAR(pts[1].first, 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(pts[1].second, 0.5);
  EXPECT_NEAR(pts[2].first, 0.9, 1e-12);
  EXPECT_DOUBLE_EQ(pts[2].second, 1.0);
  // Interpolation between points, clamping outside.
  EXPECT_NEAR(cal->Confidence({{Logit(0.825)}}, 0, ScoreKind::kSigmoid), 0.75, 1e-9);
  EXPECT_NEAR(cal->Confidence({{Logit(0.99)}}, 0, ScoreKind::kSigmoid), 1.0, 1e-12);
  EXPECT_NEAR(cal->Confidence({{Logit(0.1)}}, 0, ScoreKind::kSigmoid), 0.0, 1e-12);
}

TEST(CalibrationTest, ExpectedCalibrationErrorByHand) {
  // Bin 9: confidences 0.95, 0.95, one right -> |0.5 - 0.95| * 2/4.
  // Bin 5: confidences 0.55, 0.55, both right -> |1 - 0.55| * 2/4.
  const std::vector<double> conf = {0.95, 0.95, 0.55, 0.55};
  const std::vector<bool> correct = {true, false, true, true};
  EXPECT_NEAR(ExpectedCalibrationError(conf, correct), 0.45, 1e-12);
  EXPECT_NEAR(ExpectedCalibrationError(std::vector<double>{1.0}, {true}), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ(ExpectedCalibrationError({}, {}), 0.0);
}

TEST(CalibrationTest, JsonRoundTripAndErrors) {
  auto t = Calibration::FromJson(Calibration::Temperature(1.75).ToJson());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->method(), CalibrationMethod::kTemperature);
  EXPECT_DOUBLE_EQ(t->temperature(), 1.75);
  EXPECT_EQ(Calibration::Temperature(1.75).ToJson(),
            R"({"method":"temperature","temperature":1.75})");

  auto iso = Calibration::FromJson(Calibration::Isotonic({{0.5, 0.25}, {0.9, 0.75}}).ToJson());
  ASSERT_TRUE(iso.ok());
  ASSERT_EQ(iso->points().size(), 2u);
  EXPECT_DOUBLE_EQ(iso->points()[1].second, 0.75);

  auto none = Calibration::FromJson(Calibration().ToJson());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->method(), CalibrationMethod::kNone);

  const std::pair<const char*, const char*> bad[] = {
      {"{", "calibration JSON: not valid JSON"},
      {"{}", "calibration JSON: missing string field \"method\""},
      {R"({"method":"temperature","temperature":0})",
       "calibration JSON: \"temperature\" must be a positive number"},
      {R"({"method":"isotonic","points":[[1]]})",
       "calibration JSON: \"points\" must be an array of [x, y] pairs"},
      {R"({"method":"platt"})", "calibration JSON: unknown method \"platt\""},
  };
  for (const auto& [json, message] : bad) {
    auto r = Calibration::FromJson(json);
    ASSERT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().message(), message);
  }
}

}  // namespace
}  // namespace switchyard::learn
