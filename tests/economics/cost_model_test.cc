#include "economics/cost_model.h"

#include <gtest/gtest.h>

#include <memory>

namespace switchyard::economics {
namespace {

std::string ErrorOf(const SelfHostingAssumptions& a) {
  auto s = ValidateSelfHosting(a);
  return s.ok() ? "OK" : s.message();
}

TEST(CostModelTest, DefaultsAreTheDocumentedOnes) {
  SelfHostingAssumptions a;
  EXPECT_EQ(a.gpu_hourly_usd, 3.99);
  EXPECT_EQ(a.gpus, 1);
  EXPECT_EQ(a.throughput_tokens_per_second, 15220);
  EXPECT_EQ(a.utilization, 0.2);
  EXPECT_EQ(a.ops_monthly_usd, 0);
  EXPECT_EQ(a.training_usd, 0);
  EXPECT_EQ(a.horizon_months, 12);
  EXPECT_EQ(a.gpus_per_machine, 8);
  EXPECT_EQ(ErrorOf(a), "OK");
}

TEST(CostModelTest, BadAssumptionsNameTheField) {
  SelfHostingAssumptions a;
  a.throughput_tokens_per_second = 0;
  EXPECT_EQ(ErrorOf(a), "throughput must be > 0 output tokens/s, got 0");
  a.throughput_tokens_per_second = -15220;
  EXPECT_EQ(ErrorOf(a), "throughput must be > 0 output tokens/s, got -15220");
  a = {};
  a.gpu_hourly_usd = -1;
  EXPECT_EQ(ErrorOf(a), "gpu hourly cost must be >= 0 USD, got -1");
  a = {};
  a.gpus = 0;
  EXPECT_EQ(ErrorOf(a), "gpus must be >= 1, got 0");
  a = {};
  a.utilization = 0;
  EXPECT_EQ(ErrorOf(a), "utilization must be in (0, 1], got 0");
  a.utilization = 1.5;
  EXPECT_EQ(ErrorOf(a), "utilization must be in (0, 1], got 1.5");
  a = {};
  a.ops_monthly_usd = -5;
  EXPECT_EQ(ErrorOf(a), "ops cost must be >= 0 USD/month, got -5");
  a = {};
  a.training_usd = -1;
  EXPECT_EQ(ErrorOf(a), "training cost must be >= 0 USD, got -1");
  a = {};
  a.horizon_months = 0;
  EXPECT_EQ(ErrorOf(a), "horizon must be > 0 months, got 0");
  a = {};
  a.gpus_per_machine = 0;
  EXPECT_EQ(ErrorOf(a), "gpus per machine must be >= 1, got 0");
}

TEST(CostModelTest, BadShapes) {
  EXPECT_EQ(ValidateShape({-1, 0, 10}).message(), "input tokens must be >= 0, got -1");
  EXPECT_EQ(ValidateShape({10, 0, 0}).message(), "output tokens must be > 0, got 0");
  EXPECT_EQ(ValidateShape({10, 11, 5}).message(),
            "cached input tokens must be between 0 and the input tokens (10), got 11");
  EXPECT_TRUE(ValidateShape({0, 0, 1}).ok());
}

// 3.99 x 2 GPUs x 24 h = 191.52; ops 3000 / 30 = 100; training 36000 / (12 x 30) = 100.
TEST(CostModelTest, DailyCosts) {
  SelfHostingAssumptions a;
  a.gpus = 2;
  a.ops_monthly_usd = 3000;
  a.training_usd = 36000;
  EXPECT_NEAR(GpuDailyCost(a), 191.52, 1e-9);
  EXPECT_NEAR(FixedDailyCost(a), 200, 1e-9);
  a.horizon_months = 6;  // 36000 / 180 = 200
  EXPECT_NEAR(FixedDailyCost(a), 300, 1e-9);
}

// 15220 x 0.2 x 86400 = 263,001,600 output tokens per replica per day.
TEST(CostModelTest, CapacityAndReplicas) {
  SelfHostingAssumptions a;
  EXPECT_NEAR(ReplicaOutputTokensPerDay(a), 263001600, 1e-3);

  SelfHostedDay zero = SelfHostedCostPerDay(a, 0);
  EXPECT_EQ(zero.replicas, 1);  // a deployment is paid for even when idle
  EXPECT_NEAR(zero.total_usd, 95.76, 1e-9);

  SelfHostedDay full = SelfHostedCostPerDay(a, 263001600);
  EXPECT_EQ(full.replicas, 1);
  SelfHostedDay over = SelfHostedCostPerDay(a, 263001601);
  EXPECT_EQ(over.replicas, 2);
  EXPECT_NEAR(over.gpu_usd, 191.52, 1e-9);

  // 4 GPUs per replica, 3 replicas = 12 GPUs = 2 machines of 8; fixed 100/day.
  a.gpus = 4;
  a.ops_monthly_usd = 3000;
  SelfHostedDay big = SelfHostedCostPerDay(a, 2.5 * 263001600);
  EXPECT_EQ(big.replicas, 3);
  EXPECT_EQ(big.gpus, 12);
  EXPECT_EQ(big.machines, 2);
  EXPECT_NEAR(big.gpu_usd, 3 * 3.99 * 4 * 24, 1e-9);
  EXPECT_NEAR(big.fixed_usd, 100, 1e-9);
  EXPECT_NEAR(big.total_usd, 3 * 3.99 * 4 * 24 + 100, 1e-9);
}

class ApiCostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = PriceBook::Embedded();
    ASSERT_TRUE(r.ok()) << r.status().message();
    book_ = std::make_unique<PriceBook>(std::move(r).value());
  }
  static void TearDownTestSuite() { book_.reset(); }
  static std::unique_ptr<PriceBook> book_;
};
std::unique_ptr<PriceBook> ApiCostTest::book_;

// gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million.
TEST_F(ApiCostTest, InputCachedAndOutputTokens) {
  auto plain = ApiCostPerRequest(*book_, "gpt-4o-mini", {1000, 0, 1000});
  ASSERT_TRUE(plain.ok());
  EXPECT_NEAR(plain->total_usd, 0.00075, 1e-15);
  // 600 x 0.15 + 400 x 0.075 + 1000 x 0.6, per million = 0.00072.
  auto cached = ApiCostPerRequest(*book_, "openai/gpt-4o-mini", {1000, 400, 1000});
  ASSERT_TRUE(cached.ok());
  EXPECT_NEAR(cached->input_usd, 0.00009, 1e-15);
  EXPECT_NEAR(cached->cached_input_usd, 0.00003, 1e-15);
  EXPECT_NEAR(cached->output_usd, 0.0006, 1e-15);
  EXPECT_NEAR(cached->total_usd, 0.00072, 1e-15);
  EXPECT_EQ(cached->matched_model, "openai/gpt-4o-mini");
}

// A tier applies when the prompt exceeds its threshold.
TEST_F(ApiCostTest, TieredPrices) {
  PriceBook book;
  ModelPrice p;
  p.provider = "acme";
  p.id = "tiered";
  p.input = 1;
  p.output = 2;
  p.tiers.push_back({1000, 2, -1, -1, 4});
  book.Override(p);
  auto base = ApiCostPerRequest(book, "acme/tiered", {1000, 0, 100});
  ASSERT_TRUE(base.ok()) << base.status().message();
  EXPECT_NEAR(base->total_usd, 1000 * 1e-6 + 100 * 2e-6, 1e-15);  // 0.0012
  auto tier = ApiCostPerRequest(book, "acme/tiered", {2000, 0, 100});
  ASSERT_TRUE(tier.ok());
  EXPECT_NEAR(tier->total_usd, 2000 * 2e-6 + 100 * 4e-6, 1e-15);  // 0.0044
}

TEST_F(ApiCostTest, UnknownModelAndBadShape) {
  auto r = ApiCostPerRequest(*book_, "no-such-model-xyz", {1000, 0, 1000});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "unknown model \"no-such-model-xyz\": not in the price book (add it under [[prices]] "
            "in the config)");
  auto shape = ApiCostPerRequest(*book_, "gpt-4o-mini", {1000, 0, 0});
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().message(), "output tokens must be > 0, got 0");
}

TEST(FormatTest, Numbers) {
  EXPECT_EQ(FormatUsd(0), "$0");
  EXPECT_EQ(FormatUsd(0.00075), "$0.00075");
  EXPECT_EQ(FormatUsd(0.000364098), "$0.0003641");
  EXPECT_EQ(FormatUsd(0.03), "$0.03");
  EXPECT_EQ(FormatUsd(95.76), "$95.76");
  EXPECT_EQ(FormatUsd(2872.8), "$2,873");
  EXPECT_EQ(FormatUsd(-502.2), "-$502.20");
  EXPECT_EQ(FormatCount(127680.4), "127,680");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatTokens(255360000), "255.4 million");
  EXPECT_EQ(FormatTokens(1821440000), "1.82 billion");
  EXPECT_EQ(FormatTokens(28000), "28,000");
  EXPECT_EQ(FormatPercent(0.2), "20.0%");
  EXPECT_EQ(FormatNumber(15220), "15220");
}

}  // namespace
}  // namespace switchyard::economics
