#include "economics/self_hosted_price.h"

#include <gtest/gtest.h>

#include "economics/price_book.h"

namespace switchyard::economics {
namespace {

// 4 GPUs at $2.50 per GPU-hour = $10/h; 2,000 output tok/s and 20,000 prefill
// tok/s measured; busy half the time.
SelfHostedPrice Example() {
  SelfHostedPrice p;
  p.hourly_cost_usd = 2.5;
  p.gpus = 4;
  p.output_tokens_per_second = 2000;
  p.input_tokens_per_second = 20000;
  p.utilization = 0.5;
  return p;
}

TEST(SelfHostedPriceTest, FormulaByHand) {
  SelfHostedPrice p = Example();
  ASSERT_TRUE(ValidateSelfHostedPrice(p).ok());
  // $10/h / 3600 s = $1/360 per second.
  EXPECT_NEAR(SelfHostedCostPerSecond(p), 1.0 / 360.0, 1e-12);
  // (1/360) / (2000 x 0.5) x 1e6 = 1e6 / 360000 = 25/9 USD per million output.
  EXPECT_NEAR(SelfHostedCostPerMillionOutput(p), 25.0 / 9.0, 1e-12);
  // (1/360) / (20000 x 0.5) x 1e6 = 2.5/9 USD per million input.
  EXPECT_NEAR(SelfHostedCostPerMillionInput(p), 2.5 / 9.0, 1e-12);

  p.input_tokens_per_second = 0;  // input treated as free
  EXPECT_EQ(SelfHostedCostPerMillionInput(p), 0);
  p.utilization = 1.0;
  EXPECT_NEAR(SelfHostedCostPerMillionOutput(p), 25.0 / 18.0, 1e-12);
}

TEST(SelfHostedPriceTest, ComparableWithAnApiThroughThePriceBook) {
  PriceBook book;
  book.Override(SelfHostedModelPrice("local-vllm", "llama-3.1-8b", Example()));
  core::Usage u;
  u.prompt_tokens = 900000;
  u.cached_prompt_tokens = 400000;  // prefix-cache hits skip prefill: free
  u.completion_tokens = 180000;
  u.present = true;
  CostBreakdown c = book.Cost("local-vllm", "llama-3.1-8b", u);
  ASSERT_TRUE(c.priced);
  EXPECT_EQ(c.matched_model, "local-vllm/llama-3.1-8b");
  EXPECT_NEAR(c.input_usd, 0.5 * 2.5 / 9.0, 1e-12);
  EXPECT_EQ(c.cached_input_usd, 0);
  EXPECT_NEAR(c.output_usd, 0.18 * 25.0 / 9.0, 1e-12);  // 0.5
  // = the GPU time the request used at the cost per second, over utilization:
  // 500,000 / 20,000 + 180,000 / 2,000 = 115 s; 115 / 0.5 x $1/360.
  EXPECT_NEAR(c.total_usd, 115.0 / 0.5 / 360.0, 1e-12);
}

TEST(SelfHostedPriceTest, ValidationNamesTheField) {
  auto error = [](auto mutate) {
    SelfHostedPrice p = Example();
    mutate(p);
    core::Status s = ValidateSelfHostedPrice(p);
    EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument);
    // Invalid prices cost nothing rather than a negative or infinite amount.
    EXPECT_EQ(SelfHostedCostPerMillionOutput(p), 0);
    EXPECT_EQ(SelfHostedCostPerMillionInput(p), 0);
    return s.message();
  };
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.hourly_cost_usd = -1; }),
            "hourly_cost_usd must be >= 0");
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.gpus = 0; }), "gpus must be >= 1");
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.output_tokens_per_second = 0; }),
            "output_tokens_per_second must be > 0");
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.input_tokens_per_second = -5; }),
            "input_tokens_per_second must be >= 0");
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.utilization = 0; }), "utilization must be in (0, 1]");
  EXPECT_EQ(error([](SelfHostedPrice& p) { p.utilization = 1.5; }),
            "utilization must be in (0, 1]");
}

}  // namespace
}  // namespace switchyard::economics
