// CircuitBreaker on a FakeClock: opening, cooldown, the single half-open probe,
// closing on success and re-opening on a failed probe.
#include "providers/breaker.h"

#include <gtest/gtest.h>

namespace switchyard::providers {
namespace {

using std::chrono::milliseconds;
using State = CircuitBreaker::State;

class BreakerTest : public ::testing::Test {
 protected:
  core::FakeClock clock_;
  CircuitBreaker breaker_{3, milliseconds(1000), clock_};

  void Fail(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(breaker_.Allow());
      breaker_.RecordFailure();
    }
  }
};

TEST_F(BreakerTest, StaysClosedBelowTheThreshold) {
  Fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_TRUE(breaker_.Allow());
}

TEST_F(BreakerTest, OpensAfterConsecutiveFailuresAndRefusesCalls) {
  Fail(3);
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_FALSE(breaker_.Allow());
  clock_.Advance(milliseconds(999));
  EXPECT_FALSE(breaker_.Allow());
  EXPECT_EQ(breaker_.state(), State::kOpen);
}

TEST_F(BreakerTest, ASuccessResetsTheFailureCount) {
  Fail(2);
  ASSERT_TRUE(breaker_.Allow());
  breaker_.RecordSuccess();
  Fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed);
  Fail(1);
  EXPECT_EQ(breaker_.state(), State::kOpen);
}

TEST_F(BreakerTest, HalfOpenLetsExactlyOneProbeThrough) {
  Fail(3);
  clock_.Advance(milliseconds(1000));
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  EXPECT_TRUE(breaker_.Allow());   // the probe
  EXPECT_FALSE(breaker_.Allow());  // everyone else waits for its verdict
  EXPECT_FALSE(breaker_.Allow());
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
}

TEST_F(BreakerTest, SuccessfulProbeClosesTheCircuit) {
  Fail(3);
  clock_.Advance(milliseconds(1000));
  ASSERT_TRUE(breaker_.Allow());
  breaker_.RecordSuccess();
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_TRUE(breaker_.Allow());
  EXPECT_TRUE(breaker_.Allow());
  Fail(2);  // the count started again from zero
  EXPECT_EQ(breaker_.state(), State::kClosed);
}

TEST_F(BreakerTest, FailedProbeReopensForAnotherCooldown) {
  Fail(3);
  clock_.Advance(milliseconds(1000));
  ASSERT_TRUE(breaker_.Allow());
  breaker_.RecordFailure();
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_FALSE(breaker_.Allow());
  clock_.Advance(milliseconds(999));
  EXPECT_FALSE(breaker_.Allow());
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(breaker_.Allow());  // the next probe
  EXPECT_FALSE(breaker_.Allow());
}

TEST_F(BreakerTest, AbandonedProbeFreesTheSlot) {
  Fail(3);
  clock_.Advance(milliseconds(1000));
  ASSERT_TRUE(breaker_.Allow());
  breaker_.RecordAbandoned();
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  EXPECT_TRUE(breaker_.Allow());
  EXPECT_FALSE(breaker_.Allow());
}

TEST(BreakerMiscTest, ThresholdBelowOneMeansOne) {
  core::FakeClock clock;
  CircuitBreaker b(0, milliseconds(10), clock);
  ASSERT_TRUE(b.Allow());
  b.RecordFailure();
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(BreakerMiscTest, StateNames) {
  EXPECT_EQ(CircuitBreaker::StateName(State::kClosed), "closed");
  EXPECT_EQ(CircuitBreaker::StateName(State::kOpen), "open");
  EXPECT_EQ(CircuitBreaker::StateName(State::kHalfOpen), "half_open");
}

}  // namespace
}  // namespace switchyard::providers
