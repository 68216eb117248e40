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
  o.folds = 5;
  o.train_outcomes = {{true, true}};
  EXPECT_EQ(CrossValidate(testing::Generated(10), o).status().message(),
            "train_outcomes has 1 rows for 10 examples");
}

TEST(CrossValidateTest, TrainOutcomesReplaceTheLabelsOfTrainingOnly) {
  CvOptions o;
  o.train = DefaultTrainOptions(RouterKind::kPrompt);
  o.train.features.hash_bits = 14;
  o.random_draws = 10;
  const auto rows = testing::Generated(150);
  auto graded = CrossValidate(rows, o);
  ASSERT_TRUE(graded.ok()) << graded.status().message();
  // Labels that say the opposite of the truth: the router learns to send the
  // easy rows strong, and the held-out rows, graded on their true outcomes,
  // show it.
  for (const RoutingExample& ex : rows) {
    o.train_outcomes.push_back({ex.weak_correct == 0, ex.strong_correct != 0});
  }
  auto flipped = CrossValidate(rows, o);
  ASSERT_TRUE(flipped.ok()) << flipped.status().message();
  EXPECT_LT(flipped->pooled.apgr, 0.5);
  EXPECT_GT(graded->pooled.apgr, 0.8);
  EXPECT_DOUBLE_EQ(flipped->oracle.apgr, graded->oracle.apgr);  // evaluated on the truth
  EXPECT_DOUBLE_EQ(flipped->pooled.weak_accuracy, graded->pooled.weak_accuracy);
}

TrainOptions Learner() {
  TrainOptions o = DefaultTrainOptions(RouterKind::kPrompt);
  o.features.hash_bits = 14;
  o.target = Target::kBenefit;
  o.c = 1;
  return o;
}

TrainOptions Blind() {
  TrainOptions o = Learner();
  o.features.word_weight = 0;
  o.features.subject_weight = 0;
  o.features.structure_weight = 0;
  return o;
}

TEST(BenefitSquaredErrorTest, HandComputed) {
  std::vector<RoutingExample> rows(3);
  rows[0].strong_correct = 1;  // benefit +1
  rows[1].weak_correct = 1;    // benefit -1
  rows[2].weak_correct = 1;    // benefit 0
  rows[2].strong_correct = 1;
  // (0.5 - 1)^2 + (0 + 1)^2 + (0.5 - 0)^2 = 0.25 + 1 + 0.25 = 1.5; / 3 = 0.5
  EXPECT_DOUBLE_EQ(BenefitSquaredError(rows, {0.5, 0, 0.5}), 0.5);
  EXPECT_DOUBLE_EQ(BenefitSquaredError(rows, {1, -1, 0}), 0);
  EXPECT_DOUBLE_EQ(BenefitSquaredError(rows, {1, 2}), 0);  // sizes differ
}

TEST(SelectTrainOptionsTest, PrefersTheCandidateThatLearns) {
  // Candidate 0 sees no feature (every score is its bias: APGR 0.5);
  // candidate 1 sees the prompt. The inner cross-validation must pick 1.
  const TrainOptions strong = Learner();
  const TrainOptions weak = Blind();
  const auto rows = testing::Generated(90);
  auto pick = SelectTrainOptions(rows, {weak, strong}, 3, 5);
  ASSERT_TRUE(pick.ok()) << pick.status().message();
  EXPECT_EQ(*pick, 1u);
  auto by_error = SelectTrainOptions(rows, {weak, strong}, 3, 5, Selection::kBenefitSquaredError);
  ASSERT_TRUE(by_error.ok());
  EXPECT_EQ(*by_error, 1u);
  auto first = SelectTrainOptions(rows, {strong, strong}, 3, 5);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 0u);  // ties go to the first
  EXPECT_EQ(SelectTrainOptions(rows, {}, 3, 5).status().message(), "no candidate options");
}

TEST(CrossValidateTest, NestedSelectionRecordsTheChoicePerFold) {
  CvOptions o;
  o.random_draws = 5;
  const TrainOptions strong = Learner();
  const TrainOptions weak = Blind();
  o.candidates = {weak, strong};
  auto cv = CrossValidate(testing::Generated(150), o);
  ASSERT_TRUE(cv.ok()) << cv.status().message();
  EXPECT_EQ(cv->chosen, (std::vector<size_t>{1, 1, 1, 1, 1}));
  EXPECT_GT(cv->pooled.apgr, 0.8);
  // Without candidates nothing is chosen.
  o.candidates.clear();
  o.train = strong;
  auto plain = CrossValidate(testing::Generated(150), o);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->chosen.empty());
}

}  // namespace
}  // namespace switchyard::routing
