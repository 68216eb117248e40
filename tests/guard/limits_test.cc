#include "guard/limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace switchyard::guard {
namespace {

using std::chrono::milliseconds;

void ExpectExhausted(const core::Result<Reservation>& r, const std::string& msg,
                     std::optional<milliseconds> retry_after) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), msg);
  EXPECT_EQ(r.status().retry_after(), retry_after);
}

TEST(LimitsTest, RequestsPerMinuteBucket) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{0, 3, 0};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.Reserve("acme", l, 0, 0).ok());
  auto r = store.Reserve("acme", l, 0, 0);
  // One request comes back every 20 s.
  ExpectExhausted(r, "rate limit exceeded for tenant 'acme': 3 requests per minute",
                  milliseconds(20000));
  EXPECT_EQ(r.status().error_code(), "rate_limit_exceeded");
  clock.Advance(milliseconds(19999));
  EXPECT_FALSE(store.Reserve("acme", l, 0, 0).ok());
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(store.Reserve("acme", l, 0, 0).ok());
  // Other tenants are independent.
  EXPECT_TRUE(store.Reserve("beta", l, 0, 0).ok());
  // Refill never exceeds a minute's worth.
  clock.Advance(std::chrono::hours(1));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.Reserve("acme", l, 0, 0).ok());
  EXPECT_FALSE(store.Reserve("acme", l, 0, 0).ok());
}

TEST(LimitsTest, TokensPerMinuteWithSettlement) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{0, 0, 600};  // 10 tokens per second
  auto a = store.Reserve("acme", l, 400, 0);
  ASSERT_TRUE(a.ok());
  ExpectExhausted(store.Reserve("acme", l, 300, 0),
                  "rate limit exceeded for tenant 'acme': 600 tokens per minute",
                  milliseconds(10000));
  // The call used only 100 tokens: 300 come back.
  store.Commit(*a, 100, 0);
  EXPECT_DOUBLE_EQ(store.Usage("acme", l).tokens_available, 500);
  auto b = store.Reserve("acme", l, 300, 0);
  ASSERT_TRUE(b.ok());
  // Under-estimated: charged the difference, the bucket goes negative.
  store.Commit(*b, 900, 0);
  EXPECT_DOUBLE_EQ(store.Usage("acme", l).tokens_available, -400);
  ExpectExhausted(store.Reserve("acme", l, 1, 0),
                  "rate limit exceeded for tenant 'acme': 600 tokens per minute",
                  milliseconds(40100));
  // A request that can never fit.
  auto huge = store.Reserve("acme", l, 601, 0);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(huge.status().message(),
            "request of 601 tokens exceeds the limit of 600 tokens per minute for tenant 'acme'");
  EXPECT_FALSE(huge.status().retry_after().has_value());
}

TEST(LimitsTest, RefundGivesBackTokensAndBudgetButNotTheRequest) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{1.0, 2, 100};
  auto a = store.Reserve("acme", l, 80, 0.75);
  ASSERT_TRUE(a.ok());
  store.Refund(*a);
  const LimitUsage u = store.Usage("acme", l);
  EXPECT_DOUBLE_EQ(u.tokens_available, 100);
  EXPECT_DOUBLE_EQ(u.reserved_usd_today, 0);
  EXPECT_DOUBLE_EQ(u.requests_available, 1);
}

TEST(LimitsTest, DailyBudgetReserveCommitAndReset) {
  core::FakeClock clock;  // unix 1'700'000'000'000 = 2023-11-14T22:13:20Z
  InProcessLimitStore store(clock);
  const TenantLimits l{1.00, 0, 0};
  auto a = store.Reserve("acme", l, 0, 0.60);
  ASSERT_TRUE(a.ok());
  // 0.60 reserved + 0.50 > 1.00: refused until midnight UTC.
  const int64_t to_midnight = 86'400'000 - (1'700'000'000'000 % 86'400'000);
  auto b = store.Reserve("acme", l, 0, 0.50);
  ExpectExhausted(b, "daily budget exceeded for tenant 'acme': $1.00 per day",
                  milliseconds(to_midnight));
  EXPECT_EQ(b.status().error_code(), "budget_exceeded");
  // Settled cheaper than estimated: room again.
  store.Commit(*a, 0, 0.20);
  EXPECT_DOUBLE_EQ(store.Usage("acme", l).spent_usd_today, 0.20);
  auto c = store.Reserve("acme", l, 0, 0.50);
  ASSERT_TRUE(c.ok());
  store.Commit(*c, 0, 0.80);  // more than estimated: spent 1.00
  ExpectExhausted(store.Reserve("acme", l, 0, 0.01),
                  "daily budget exceeded for tenant 'acme': $1.00 per day",
                  milliseconds(to_midnight));
  // A new UTC day starts from zero.
  clock.Advance(milliseconds(to_midnight));
  EXPECT_TRUE(store.Reserve("acme", l, 0, 0.99).ok());
  // One estimate larger than the whole budget.
  auto big = store.Reserve("acme", l, 0, 2.5);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(),
            "request estimated at $2.50 exceeds the daily budget of $1.00 for tenant 'acme'");
}

TEST(LimitsTest, ReservationFromYesterdaySettlesIntoToday) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{1.00, 0, 0};
  auto a = store.Reserve("acme", l, 0, 0.50);
  ASSERT_TRUE(a.ok());
  clock.Advance(std::chrono::hours(24));
  auto b = store.Reserve("acme", l, 0, 0.30);
  ASSERT_TRUE(b.ok());
  store.Commit(*a, 0, 0.40);
  const LimitUsage u = store.Usage("acme", l);
  EXPECT_DOUBLE_EQ(u.spent_usd_today, 0.40);
  EXPECT_DOUBLE_EQ(u.reserved_usd_today, 0.30);  // today's reservation untouched
}

TEST(LimitsTest, AllOrNothing) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{1.0, 10, 100};
  ASSERT_TRUE(store.Reserve("acme", l, 0, 1.0).ok());
  // Budget refuses: neither a request nor tokens were taken.
  EXPECT_FALSE(store.Reserve("acme", l, 50, 0.1).ok());
  const LimitUsage u = store.Usage("acme", l);
  EXPECT_DOUBLE_EQ(u.requests_available, 9);
  EXPECT_DOUBLE_EQ(u.tokens_available, 100);
}

TEST(LimitsTest, UnlimitedAndInvalidEstimates) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits unlimited{};
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store.Reserve("acme", unlimited, 1000000, 5).ok());
  auto bad = store.Reserve("acme", unlimited, -1, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "negative estimate");
  EXPECT_FALSE(store.Reserve("acme", unlimited, 0, -0.01).ok());
}

TEST(LimitsTest, ConcurrentRequestsNeverExceedTheLimit) {
  core::FakeClock clock;  // frozen: no refill during the race
  InProcessLimitStore store(clock);
  const TenantLimits l{0, 100, 0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (store.Reserve("acme", l, 0, 0).ok()) ++admitted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 100);
}

TEST(LimitsTest, ConcurrentTokensAndBudgetNeverOverAdmit) {
  core::FakeClock clock;
  InProcessLimitStore store(clock);
  const TenantLimits l{10.0, 0, 10000};
  std::atomic<int> admitted_tokens{0};
  std::atomic<int> admitted_budget{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 400; ++i) {
        // Half the threads hit tokens (70 each), half the budget ($0.03 each).
        if (t % 2 == 0) {
          if (store.Reserve("acme", l, 70, 0).ok()) ++admitted_tokens;
        } else {
          auto r = store.Reserve("acme", l, 0, 0.03);
          if (r.ok()) {
            ++admitted_budget;
            store.Commit(*r, 0, 0.03);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted_tokens.load(), 10000 / 70);
  EXPECT_EQ(admitted_budget.load(), 333);  // 333 * 0.03 = 9.99 <= 10
  EXPECT_LE(store.Usage("acme", l).spent_usd_today, 10.0);
}

TEST(LimitsTest, FormatUsd) {
  EXPECT_EQ(FormatUsd(5), "5.00");
  EXPECT_EQ(FormatUsd(12.5), "12.50");
  EXPECT_EQ(FormatUsd(0.0012), "0.0012");
  EXPECT_EQ(FormatUsd(1.234567), "1.234567");
}

}  // namespace
}  // namespace switchyard::guard
