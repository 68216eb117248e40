#include "routing/cross_validation.h"

#include <gtest/gtest.h>

#include "test_data.h"

namespace switchyard::routing {
namespace {

TEST(AssignFoldsTest, BalancedAndSeeded) {
  const auto a = AssignFolds(103, 5, 9);
  EXPECT_EQ(a, AssignFolds(103, 5, 9));
  EXPECT_NE(a, AssignFolds(103, 5, 10));
  int counts[5] = {0, 0, 0, 0, 0};
  for (int f : a) ++counts[f];
  for (int c : counts) EXPECT_TRUE(c == 20 || c == 21) << c;
}

TEST(CrossValidateTest, OutOfFoldScoresBeatRandom) {
  CvOptions o;
  o.train = DefaultTrainOptions(RouterKind::kPrompt);
  o.train.features.hash_bits = 14;
  o.random_draws = 10;
  const auto rows = testing::Generated(150);
  auto cv = CrossValidate(rows, o);
  ASSERT_TRUE(cv.ok()) << cv.status().message();
  EXPECT_EQ(cv->scores.size(), rows.size());
  EXPECT_EQ(cv->per_fold.size(), 5u);
  EXPECT_GT(cv->pooled.apgr, 0.8);
  EXPECT_NEAR(cv->random.apgr, 0.5, 0.1);
  EXPECT_GT(cv->oracle.apgr, cv->pooled.apgr - 1e-9);
  const FoldMean mean = MeanOverFolds({cv->per_fold[0].router, cv->per_fold[1].router});
  EXPECT_NEAR(mean.apgr, (cv->per_fold[0].router.apgr + cv->per_fold[1].router.apgr) / 2, 1e-12);
}

TEST(CrossValidateTest, Errors) {
  CvOptions o;
  EXPECT_EQ(CrossValidate(testing::Generated(3), o).status().message(),
            "need at least 5 rows for 5 folds");
  o.folds = 1;
  EXPECT_EQ(CrossValidate(testing::Generated(3), o).status().message(), "folds must be at least 2");
}

}  // namespace
}  // namespace switchyard::routing
