#include "learn/live.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "learn/threshold.h"

namespace switchyard::learn {
namespace {

TEST(LiveAgreementTest, CountsAndBounds) {
  LiveAgreement live;
  for (int i = 0; i < 100; ++i) live.Record(/*student_accepted=*/i < 80, /*agreed=*/i % 10 != 0);
  const LiveStats s = live.Stats();
  EXPECT_EQ(s.compared, 100u);
  EXPECT_EQ(s.agreed, 90u);
  EXPECT_EQ(s.accepted, 80u);
  EXPECT_EQ(s.accepted_agreed, 72u);
  EXPECT_DOUBLE_EQ(s.agreement, 0.9);
  EXPECT_DOUBLE_EQ(s.accepted_agreement, 0.9);
  EXPECT_DOUBLE_EQ(s.lower_bound, WilsonLowerBound(72, 80));
  EXPECT_DOUBLE_EQ(s.upper_bound, WilsonUpperBound(72, 80));
}

TEST(LiveAgreementTest, DemotesWhenTheLowerBoundDropsAfterTheMinimumSample) {
  LiveAgreement live;
  LiveOptions o;
  o.min_samples = 200;
  // A good start: 300 accepted, all agreeing.
  for (int i = 0; i < 300; ++i) live.Record(true, true);
  EXPECT_FALSE(live.ShouldDemote(0.95, o));
  // Then the teacher's world changes: the student starts to disagree.
  double before = live.Stats().lower_bound;
  int recorded = 0;
  while (!live.ShouldDemote(0.95, o) && recorded < 1000) {
    before = live.Stats().lower_bound;
    live.Record(true, recorded % 2 == 0);
    ++recorded;
  }
  EXPECT_TRUE(live.ShouldDemote(0.95, o));
  EXPECT_GE(before, 0.95);  // demoted by the first comparison that took it below
  EXPECT_LT(live.Stats().lower_bound, 0.95);
  EXPECT_GT(recorded, 10);
}

TEST(LiveAgreementTest, NoDemotionBeforeTheMinimumSampleOrOnEscalatedOnes) {
  LiveAgreement live;
  for (int i = 0; i < 199; ++i) live.Record(true, false);
  EXPECT_FALSE(live.ShouldDemote(0.95));                     // 199 < 200
  for (int i = 0; i < 1000; ++i) live.Record(false, false);  // escalated: not counted
  EXPECT_FALSE(live.ShouldDemote(0.95));
  live.Record(true, false);
  EXPECT_TRUE(live.ShouldDemote(0.95));
}

TEST(LiveAgreementTest, UpperBoundRuleNeedsEvidenceOfBeingBelow) {
  LiveOptions upper;
  upper.rule = DemoteRule::kUpperBound;
  LiveAgreement live;
  // 96% agreement on 250 accepted: the lower bound (0.934) is under 0.95, the
  // upper bound is not.
  for (int i = 0; i < 250; ++i) live.Record(true, i % 25 != 0);
  EXPECT_TRUE(live.ShouldDemote(0.95));
  EXPECT_FALSE(live.ShouldDemote(0.95, upper));
  // 85% agreement: both rules demote.
  LiveAgreement bad;
  for (int i = 0; i < 400; ++i) bad.Record(true, i % 20 >= 3);
  EXPECT_TRUE(bad.ShouldDemote(0.95, upper));
}

TEST(LiveTrackerTest, OneCounterPerTaskAndVersionUnderConcurrency) {
  LiveTracker tracker;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&tracker, t] {
      auto counter = tracker.For("headlines", t % 2 + 1);
      for (int i = 0; i < 10000; ++i) counter->Record(true, i % 4 != 0);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(tracker.For("headlines", 1), tracker.For("headlines", 1));
  const auto snap = tracker.Snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].first, (std::pair<std::string, int64_t>{"headlines", 1}));
  EXPECT_EQ(snap[0].second.compared, 40000u);
  EXPECT_EQ(snap[0].second.agreed, 30000u);
  EXPECT_EQ(snap[1].second.accepted, 40000u);
}

}  // namespace
}  // namespace switchyard::learn
