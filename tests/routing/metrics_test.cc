#include "routing/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace switchyard::routing {
namespace {

// Eleven queries scored 0.0, 0.1, ..., 1.0. The 0%, 10%, ..., 100% quantiles
// are the scores themselves, so threshold i (< 10) sends queries j >= i to the
// strong model and the last (1.0) sends none: strong fractions 11/11, 10/11,
// ..., 2/11 and 0 (1/11 never occurs).
//   j:      0 1 2 3 4 5 6 7 8 9 10
//   weak:   1 1 1 0 1 0 1 0 0 0 0    -> 5/11
//   strong: 1 0 1 0 1 1 1 1 0 1 1    -> 8/11, gap 3/11
// correct(i) = weak right below i + strong right from i:
//   i=0..9: 8 8 9 9 9 9 8 8 7 7; i=10: 5.  PGR = (correct - 5) / 3.
struct Fixture {
  std::vector<double> scores;
  std::vector<Outcome> outcomes;
};

Fixture Eleven() {
  const int weak[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0};
  const int strong[] = {1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1};
  Fixture f;
  for (int j = 0; j <= 10; ++j) {
    f.scores.push_back(j / 10.0);
    f.outcomes.push_back({weak[j] == 1, strong[j] == 1});
  }
  return f;
}

TEST(EvaluateRouterTest, HandComputedCurve) {
  const Fixture f = Eleven();
  auto m = EvaluateRouter(f.scores, f.outcomes);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->rows, 11u);
  EXPECT_DOUBLE_EQ(m->weak_accuracy, 5.0 / 11);
  EXPECT_DOUBLE_EQ(m->strong_accuracy, 8.0 / 11);
  ASSERT_EQ(m->curve.size(), 11u);
  // Ascending strong fraction: thresholds 1.0, 0.9, ..., 0.0.
  const double fractions[] = {0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const double pgr[] = {0, 2.0 / 3, 2.0 / 3, 1, 1, 4.0 / 3, 4.0 / 3, 4.0 / 3, 4.0 / 3, 1, 1};
  const double thresholds[] = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0};
  for (size_t k = 0; k < 11; ++k) {
    EXPECT_NEAR(m->curve[k].threshold, thresholds[k], 1e-12) << k;
    EXPECT_NEAR(m->curve[k].strong_fraction, fractions[k] / 11, 1e-12) << k;
    EXPECT_NEAR(m->curve[k].pgr, pgr[k], 1e-12) << k;
    EXPECT_NEAR(m->curve[k].accuracy, (5 + 3 * pgr[k]) / 11, 1e-12) << k;
  }
  // Trapezoids in 66ths: 4 + 4 + 5 + 6 + 7 + 24 + 7 + 6 = 63.
  EXPECT_NEAR(m->apgr, 63.0 / 66, 1e-12);
  // CPT(20%), CPT(50%): inside the first segment (0 -> 2/11, PGR 0 -> 2/3).
  ASSERT_TRUE(m->cpt20 && m->cpt50 && m->cpt80);
  EXPECT_NEAR(*m->cpt20, 0.3 * 2 / 11, 1e-12);
  EXPECT_NEAR(*m->cpt50, 0.75 * 2 / 11, 1e-12);
  // CPT(80%): segment 3/11 -> 4/11, PGR 2/3 -> 1, at 40% of the way.
  EXPECT_NEAR(*m->cpt80, 3.4 / 11, 1e-12);
}

TEST(EvaluateRouterTest, TiesGoToTheStrongModel) {
  // Scores 0,0,0,1,1: quantile thresholds 0 (x6), 0.4, 0.8, 1, 1, 1.
  // ">= t" sends all 5 (t = 0) or the two 1s (t = 0.4 .. 1); the last "> 1" none.
  const std::vector<double> scores = {0, 0, 0, 1, 1};
  const std::vector<Outcome> outcomes = {
      {true, true}, {true, false}, {false, true}, {false, true}, {true, true}};
  auto m = EvaluateRouter(scores, outcomes);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->curve.size(), 11u);
  EXPECT_DOUBLE_EQ(m->curve[0].strong_fraction, 0.0);
  EXPECT_DOUBLE_EQ(m->curve[0].threshold, 1.0);
  for (size_t k = 1; k <= 4; ++k) {
    EXPECT_DOUBLE_EQ(m->curve[k].strong_fraction, 0.4) << k;
    EXPECT_DOUBLE_EQ(m->curve[k].pgr, 1.0) << k;  // accuracy 0.8 = strong-only
  }
  EXPECT_NEAR(m->curve[3].threshold, 0.8, 1e-12);
  EXPECT_NEAR(m->curve[4].threshold, 0.4, 1e-12);
  for (size_t k = 5; k <= 10; ++k) EXPECT_DOUBLE_EQ(m->curve[k].strong_fraction, 1.0) << k;
  EXPECT_NEAR(m->apgr, 0.4 * 0.5 + 0.6 * 1.0, 1e-12);
  ASSERT_TRUE(m->cpt50);
  EXPECT_NEAR(*m->cpt50, 0.2, 1e-12);
}

TEST(EvaluateRouterTest, ConstantScoresGiveOnlyTheEndPoints) {
  const std::vector<double> scores = {0.5, 0.5, 0.5, 0.5};
  const std::vector<Outcome> outcomes = {{true, true}, {false, true}, {false, false}, {true, true}};
  auto m = EvaluateRouter(scores, outcomes);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->curve.front().strong_fraction, 0.0);
  for (size_t k = 1; k < m->curve.size(); ++k) EXPECT_DOUBLE_EQ(m->curve[k].strong_fraction, 1.0);
  EXPECT_DOUBLE_EQ(m->apgr, 0.5);  // one straight segment: the random diagonal
}

TEST(CostToReachTest, NotReachedAndNonMonotone) {
  std::vector<CurvePoint> curve = {
      {0, 0.0, 0, 0.0}, {0, 0.5, 0, 0.6}, {0, 0.7, 0, 0.4}, {0, 1.0, 0, 1.0}};
  // First crossing of 0.5 is inside the first segment even though PGR dips later.
  EXPECT_NEAR(*CostToReach(curve, 0.5), 0.5 * 0.5 / 0.6, 1e-12);
  EXPECT_NEAR(*CostToReach(curve, 0.8), 0.7 + 0.3 * (0.4 / 0.6), 1e-12);
  EXPECT_FALSE(CostToReach(curve, 1.2).has_value());
  EXPECT_DOUBLE_EQ(*CostToReach(curve, 0.0), 0.0);
}

TEST(OracleBaselineTest, ClosedForm) {
  const Fixture f = Eleven();
  auto m = OracleBaseline(f.outcomes);
  ASSERT_TRUE(m.ok());
  // g = 4/11 (weak wrong, strong right: j = 5, 7, 9, 10); gap = 3/11.
  EXPECT_NEAR(m->apgr, (4.0 / 11 - 8.0 / 121) / (3.0 / 11), 1e-12);
  EXPECT_NEAR(m->apgr, 12.0 / 11, 1e-12);
  EXPECT_NEAR(*m->cpt50, 0.5 * 3 / 11, 1e-12);
  EXPECT_NEAR(*m->cpt80, 0.8 * 3 / 11, 1e-12);
  // Curve: 0, 0.1, 0.2, 0.3, g, 0.4, ... with the kink at g.
  ASSERT_EQ(m->curve.size(), 12u);
  EXPECT_NEAR(m->curve[4].strong_fraction, 4.0 / 11, 1e-12);
  EXPECT_NEAR(m->curve[4].pgr, 4.0 / 3, 1e-12);
  EXPECT_NEAR(m->curve.back().pgr, 4.0 / 3, 1e-12);
  EXPECT_NEAR(m->curve[1].accuracy, 5.0 / 11 + 0.1, 1e-12);
}

TEST(RandomBaselineTest, NearTheDiagonalAndSeeded) {
  std::vector<Outcome> outcomes;
  for (int i = 0; i < 2000; ++i) outcomes.push_back({i % 3 == 0, i % 4 != 0});
  auto a = RandomBaseline(outcomes, 42, 50);
  auto b = RandomBaseline(outcomes, 42, 50);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(a->apgr, b->apgr);
  EXPECT_NEAR(a->apgr, 0.5, 0.03);
  EXPECT_NEAR(*a->cpt50, 0.5, 0.05);
  EXPECT_TRUE(std::isnan(a->curve[3].threshold));
}

TEST(EvaluateRouterTest, Errors) {
  const std::vector<Outcome> same = {{true, true}, {false, false}};
  const std::vector<double> two = {0.1, 0.2};
  EXPECT_EQ(EvaluateRouter(two, same).status().message(),
            "the strong and weak models have the same accuracy (0.5000): PGR is undefined");
  EXPECT_EQ(EvaluateRouter({}, {}).status().message(), "no rows to evaluate");
  const std::vector<Outcome> ok = {{true, true}, {false, true}};
  const std::vector<double> three = {0.1, 0.2, 0.3};
  EXPECT_EQ(EvaluateRouter(three, ok).status().message(), "3 scores for 2 rows");
  const std::vector<double> nan = {0.1, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(EvaluateRouter(nan, ok).status().message(), "a score is not a finite number");
  EXPECT_EQ(EvaluateRouter(nan, ok).status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchyard::routing
