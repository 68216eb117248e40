#include "learn/threshold.h"

#include <gtest/gtest.h>

#include <vector>

namespace switchyard::learn {
namespace {

// Expected values computed independently (closed form and a binomial-sum
// bisection in Python).
TEST(BoundsTest, WilsonMatchesHandComputedValues) {
  EXPECT_NEAR(WilsonLowerBound(95, 100), 0.9008389147, 1e-9);
  EXPECT_NEAR(WilsonUpperBound(95, 100), 0.9754526366, 1e-9);
  EXPECT_NEAR(WilsonLowerBound(480, 500), 0.9429367485, 1e-9);
  EXPECT_NEAR(WilsonUpperBound(480, 500), 0.9721118441, 1e-9);
  EXPECT_NEAR(WilsonLowerBound(9, 10), 0.6522813327, 1e-9);
  EXPECT_NEAR(WilsonLowerBound(52, 52), 0.9505435230, 1e-9);  // n / (n + z^2)
  EXPECT_NEAR(WilsonLowerBound(51, 51), 0.9496226408, 1e-9);
  EXPECT_DOUBLE_EQ(WilsonLowerBound(0, 10), 0.0);
  EXPECT_NEAR(WilsonUpperBound(0, 10), 0.2129419701, 1e-9);
  EXPECT_DOUBLE_EQ(WilsonLowerBound(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(WilsonUpperBound(0, 0), 1.0);
}

TEST(BoundsTest, ClopperPearsonMatchesHandComputedValues) {
  EXPECT_NEAR(ClopperPearsonLowerBound(8, 10), 0.4930986989, 1e-8);
  EXPECT_NEAR(ClopperPearsonLowerBound(95, 100), 0.8977466224, 1e-8);
  EXPECT_NEAR(ClopperPearsonLowerBound(10, 10), 0.7411344491, 1e-9);  // alpha^(1/n)
  EXPECT_NEAR(ClopperPearsonLowerBound(1, 20), 0.0025613788, 1e-9);
  EXPECT_DOUBLE_EQ(ClopperPearsonLowerBound(0, 20), 0.0);
  // More conservative than Wilson.
  EXPECT_LT(ClopperPearsonLowerBound(95, 100), WilsonLowerBound(95, 100));
  EXPECT_DOUBLE_EQ(LowerBound(BoundMethod::kWilson, 95, 100), WilsonLowerBound(95, 100));
  EXPECT_DOUBLE_EQ(LowerBound(BoundMethod::kClopperPearson, 95, 100),
                   ClopperPearsonLowerBound(95, 100));
}

TEST(BoundsTest, IncompleteBetaMatchesBinomialTails) {
  // I_x(a, b) = P(Binomial(a + b - 1, x) >= a) for integers.
  EXPECT_NEAR(RegularizedIncompleteBeta(2, 3, 0.3), 0.3483, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(8, 3, 0.9), 0.9298091736, 1e-10);
  EXPECT_DOUBLE_EQ(RegularizedIncompleteBeta(2, 3, 0), 0.0);
  EXPECT_DOUBLE_EQ(RegularizedIncompleteBeta(2, 3, 1), 1.0);
}

TEST(ChooseThresholdTest, SeparableConfidenceIsAccepted) {
  // 100 confident examples all agree; 100 unsure ones agree half the time.
  std::vector<double> conf;
  std::vector<bool> agree;
  for (int i = 0; i < 100; ++i) {
    conf.push_back(0.99);
    agree.push_back(true);
  }
  for (int i = 0; i < 100; ++i) {
    conf.push_back(0.6);
    agree.push_back(i % 2 == 0);
  }
  const ThresholdChoice c = ChooseThreshold(conf, agree, {});
  ASSERT_TRUE(c.threshold.has_value());
  EXPECT_DOUBLE_EQ(*c.threshold, 0.99);
  EXPECT_EQ(c.accepted, 100u);
  EXPECT_EQ(c.agreed, 100u);
  EXPECT_EQ(c.total, 200u);
  EXPECT_DOUBLE_EQ(c.coverage, 0.5);
  EXPECT_DOUBLE_EQ(c.agreement, 1.0);
  EXPECT_NEAR(c.lower_bound, 100.0 / (100 + kZ95OneSided * kZ95OneSided), 1e-12);
}

TEST(ChooseThresholdTest, NoisyTeacherKeepsTheStudentInShadow) {
  std::vector<double> conf;
  std::vector<bool> agree;
  for (int i = 0; i < 400; ++i) {
    conf.push_back(0.5 + (i % 40) / 100.0);
    agree.push_back(i % 2 == 0);
  }
  const ThresholdChoice c = ChooseThreshold(conf, agree, {});
  EXPECT_FALSE(c.threshold.has_value());
  EXPECT_EQ(c.accepted, 0u);
  EXPECT_DOUBLE_EQ(c.coverage, 0.0);
  EXPECT_GT(c.best_lower_bound, 0.0);
  EXPECT_LT(c.best_lower_bound, 0.95);
}

TEST(ChooseThresholdTest, NeedsEnoughEvidenceEvenWhenPerfect) {
  // With z = 1.645 a perfect record reaches 0.95 at n = 52, not at n = 51.
  std::vector<double> conf(51, 0.9);
  std::vector<bool> agree(51, true);
  EXPECT_FALSE(ChooseThreshold(conf, agree, {}).threshold.has_value());
  conf.push_back(0.9);
  agree.push_back(true);
  const ThresholdChoice c = ChooseThreshold(conf, agree, {});
  ASSERT_TRUE(c.threshold.has_value());
  EXPECT_DOUBLE_EQ(*c.threshold, 0.9);
  EXPECT_DOUBLE_EQ(c.coverage, 1.0);
  // Clopper-Pearson needs more: 0.05^(1/52) < 0.95.
  ThresholdOptions cp;
  cp.bound = BoundMethod::kClopperPearson;
  EXPECT_FALSE(ChooseThreshold(conf, agree, cp).threshold.has_value());
}

TEST(ChooseThresholdTest, PicksTheSmallestQualifyingThreshold) {
  // Descending confidence: 200 agreeing, then 10 disagreeing at 0.8, then 200
  // agreeing at 0.7, then 20 disagreeing at 0.1. At 0.7: 400/410 agree, lower
  // bound 0.960 >= 0.95, so the smallest threshold is 0.7 although a higher
  // one (0.8) would pass too and a lower one (0.1) would not.
  std::vector<double> conf;
  std::vector<bool> agree;
  for (int i = 0; i < 200; ++i) {
    conf.push_back(0.95 - i * 1e-4);
    agree.push_back(true);
  }
  for (int i = 0; i < 10; ++i) {
    conf.push_back(0.8);
    agree.push_back(false);
  }
  for (int i = 0; i < 200; ++i) {
    conf.push_back(0.7);
    agree.push_back(true);
  }
  for (int i = 0; i < 20; ++i) {  // 400/430 would be too few
    conf.push_back(0.1);
    agree.push_back(false);
  }
  const ThresholdChoice c = ChooseThreshold(conf, agree, {});
  ASSERT_TRUE(c.threshold.has_value());
  EXPECT_DOUBLE_EQ(*c.threshold, 0.7);
  EXPECT_EQ(c.accepted, 410u);
  EXPECT_EQ(c.agreed, 400u);
  EXPECT_NEAR(c.lower_bound, WilsonLowerBound(400, 410), 1e-12);
}

TEST(ChooseThresholdTest, TiesAreAcceptedTogether) {
  // 60 at one confidence with 3 disagreements: 57/60 -> bound 0.881, so no
  // threshold can split the tie to accept only the agreeing ones.
  std::vector<double> conf(60, 0.9);
  std::vector<bool> agree(60, true);
  agree[0] = agree[1] = agree[2] = false;
  EXPECT_FALSE(ChooseThreshold(conf, agree, {}).threshold.has_value());
}

TEST(ChooseThresholdTest, EmptyInputHasNoThreshold) {
  const ThresholdChoice c = ChooseThreshold({}, {}, {});
  EXPECT_FALSE(c.threshold.has_value());
  EXPECT_EQ(c.total, 0u);
}

}  // namespace
}  // namespace switchyard::learn
