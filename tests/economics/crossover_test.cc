#include "economics/crossover.h"

#include <gtest/gtest.h>

#include <memory>

#include "economics/cost_model.h"

namespace switchyard::economics {
namespace {

class CrossoverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = PriceBook::Embedded();
    ASSERT_TRUE(r.ok()) << r.status().message();
    book_ = std::make_unique<PriceBook>(std::move(r).value());
  }
  static void TearDownTestSuite() { book_.reset(); }
  static std::unique_ptr<PriceBook> book_;

  // The issue's what-if: one H100 at $3.99/h, 15,220 tok/s, 20% utilization.
  static WhatIfInput IssueInput(std::string model) {
    WhatIfInput in;
    in.model = std::move(model);
    in.shape = {1000, 0, 1000};
    in.assumptions.gpu_hourly_usd = 3.99;
    in.assumptions.gpus = 1;
    in.assumptions.throughput_tokens_per_second = 15220;
    in.assumptions.utilization = 0.2;
    return in;
  }
};
std::unique_ptr<PriceBook> CrossoverTest::book_;

// Must show: gpt-4o-mini ($0.15 / $0.60 per million) at 1000:1000.
//   p = 1000 x 0.15e-6 + 1000 x 0.6e-6 = $0.00075 per request
//   G = 3.99 x 1 x 24 = $95.76 per day, F = 0
//   crossover = G / p = 127,680 requests/day x 2000 tokens = 255,360,000 tokens/day
//   capacity = 15220 x 0.2 x 86400 = 263,001,600 output tokens/day
//            = 263,001.6 requests x 2000 = 526,003,200 tokens/day
TEST_F(CrossoverTest, GptFourOMiniMatchesTheIssue) {
  auto r = ComputeWhatIf(*book_, IssueInput("gpt-4o-mini"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->api.matched_model, "openai/gpt-4o-mini");
  EXPECT_NEAR(r->api.total_usd, 0.00075, 1e-15);
  const Crossover& c = r->crossover;
  EXPECT_FALSE(c.never);
  EXPECT_NEAR(c.api_usd_per_million_tokens, 0.375, 1e-12);
  EXPECT_NEAR(c.gpu_daily_usd, 95.76, 1e-9);
  EXPECT_EQ(c.fixed_daily_usd, 0);
  EXPECT_NEAR(c.requests_per_day, 127680, 1e-6);
  EXPECT_NEAR(c.tokens_per_day, 255360000, 1e-3);
  EXPECT_NEAR(c.replica_output_tokens_per_day, 263001600, 1e-3);
  EXPECT_NEAR(c.replica_requests_per_day, 263001.6, 1e-6);
  EXPECT_NEAR(c.replica_tokens_per_day, 526003200, 1e-3);
  EXPECT_EQ(c.replicas, 1);
  EXPECT_EQ(c.gpus, 1);
  EXPECT_EQ(c.machines, 1);
  EXPECT_FALSE(c.exceeds_one_replica);
  EXPECT_NEAR(c.stays_cheaper_requests_per_day, 127680, 1e-6);
  EXPECT_EQ(DescribeCrossover(c),
            "crossover at 255.4 million tokens/day (127,680 requests/day) on 1 replica (1 GPU)");
}

// gpt-4o ($2.50 / $10): p = $0.0125, crossover = 95.76 / 0.0125 = 7,660.8 requests
// = 15,321,600 tokens/day.
TEST_F(CrossoverTest, GptFourOMatchesTheIssue) {
  auto r = ComputeWhatIf(*book_, IssueInput("gpt-4o"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NEAR(r->api.total_usd, 0.0125, 1e-15);
  EXPECT_NEAR(r->crossover.requests_per_day, 7660.8, 1e-9);
  EXPECT_NEAR(r->crossover.tokens_per_day, 15321600, 1e-4);
}

// A model far cheaper per request than one replica's GPUs at full capacity:
// p = 1000 x 0.01e-6 x 2 = $0.00002 < G / C = 95.76 / 263,001.6 = $0.0003641.
TEST_F(CrossoverTest, NeverWhenTheGpusAloneCostMore) {
  PriceBook book;
  ModelPrice cheap;
  cheap.provider = "acme";
  cheap.id = "cheap";
  cheap.input = 0.01;
  cheap.output = 0.01;
  book.Override(cheap);
  auto r = ComputeWhatIf(book, IssueInput("acme/cheap"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Crossover& c = r->crossover;
  EXPECT_TRUE(c.never);
  EXPECT_EQ(c.requests_per_day, 0);
  EXPECT_NEAR(c.gpu_cost_per_request_at_capacity, 95.76 / 263001.6, 1e-15);
  EXPECT_EQ(DescribeCrossover(c),
            "never: at full capacity the GPUs alone cost $0.0003641 per request, at or above the "
            "API's $0.00002");
}

// Equal cost per request at full capacity is still "never": it only ties.
TEST_F(CrossoverTest, NeverWhenItOnlyTies) {
  SelfHostingAssumptions a;
  const RequestShape shape{1000, 0, 1000};
  const double tie = GpuDailyCost(a) / (ReplicaOutputTokensPerDay(a) / 1000);
  EXPECT_TRUE(ComputeCrossover(tie, shape, a).never);
  EXPECT_FALSE(ComputeCrossover(tie * 1.01, shape, a).never);
  EXPECT_TRUE(ComputeCrossover(0, shape, a).never);
  EXPECT_EQ(DescribeCrossover(ComputeCrossover(0, shape, a)),
            "never: the API costs nothing per request at this shape");
}

// Fixed costs push the crossover past one replica. gpt-4o-mini 1000:1000,
// ops $9,000/month: F = 300/day, G = 95.76, C = 263,001.6, p = 0.00075,
// C p - G = 101.4912.
//   n = ceil(300 / 101.4912) = ceil(2.956) = 3
//   crossover = (3 x 95.76 + 300) / 0.00075 = 783,040 requests/day
//             (between 2C = 526,003.2 and 3C = 789,004.8)
//   m = ceil(395.76 / 101.4912) = ceil(3.8995) = 4
//   stays cheaper from (4 x 95.76 + 300) / 0.00075 = 910,720 requests/day:
//   just past 3C the 4th replica costs 683.04/day against the API's 591.75.
TEST_F(CrossoverTest, CapacityExceededNeedsMoreReplicas) {
  WhatIfInput in = IssueInput("gpt-4o-mini");
  in.assumptions.ops_monthly_usd = 9000;
  auto r = ComputeWhatIf(*book_, in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Crossover& c = r->crossover;
  EXPECT_FALSE(c.never);
  EXPECT_NEAR(c.fixed_daily_usd, 300, 1e-9);
  EXPECT_NEAR(c.cost_per_request_at_capacity, 395.76 / 263001.6, 1e-15);
  EXPECT_EQ(c.replicas, 3);
  EXPECT_EQ(c.gpus, 3);
  EXPECT_EQ(c.machines, 1);
  EXPECT_TRUE(c.exceeds_one_replica);
  EXPECT_NEAR(c.requests_per_day, 783040, 1e-6);
  EXPECT_NEAR(c.tokens_per_day, 1566080000, 1e-2);
  EXPECT_NEAR(c.stays_cheaper_requests_per_day, 910720, 1e-6);
  EXPECT_EQ(DescribeCrossover(c),
            "crossover at 1.57 billion tokens/day (783,040 requests/day) on 3 replicas (3 GPUs); "
            "beyond one replica's capacity of 526.0 million tokens/day: needs 3 GPUs on 1 "
            "machine; self-hosting stays cheaper only from 1.82 billion tokens/day (910,720 "
            "requests/day)");
  // The sawtooth it warns about, checked directly.
  const RequestShape shape{1000, 0, 1000};
  const VolumeComparison just_after_3c = CompareAtVolume(0.00075, shape, in.assumptions, 789005);
  EXPECT_EQ(just_after_3c.self_hosted.replicas, 4);
  EXPECT_LT(just_after_3c.monthly_saving_usd, 0);
  EXPECT_GT(CompareAtVolume(0.00075, shape, in.assumptions, 783041).monthly_saving_usd, 0);
  EXPECT_GT(CompareAtVolume(0.00075, shape, in.assumptions, 910721).monthly_saving_usd, 0);
}

// Eight GPUs per replica: machines count whole 8-GPU boxes; training amortised.
// G = 3.99 x 8 x 24 = 766.08; F = 36,000 / (12 x 30) = 100; p = 0.0125 (gpt-4o);
// C = 263,001.6: C p - G = 2521.44, n = 1; crossover = 866.08 / 0.0125 = 69,286.4.
TEST_F(CrossoverTest, TrainingAmortisedAndMachines) {
  WhatIfInput in = IssueInput("gpt-4o");
  in.assumptions.gpus = 8;
  in.assumptions.training_usd = 36000;
  auto r = ComputeWhatIf(*book_, in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NEAR(r->crossover.gpu_daily_usd, 766.08, 1e-9);
  EXPECT_NEAR(r->crossover.fixed_daily_usd, 100, 1e-9);
  EXPECT_NEAR(r->crossover.requests_per_day, 69286.4, 1e-6);
  EXPECT_EQ(r->crossover.replicas, 1);
  EXPECT_EQ(r->crossover.gpus, 8);
  EXPECT_EQ(r->crossover.machines, 1);
}

// Cached input lowers the API price and so raises the crossover:
// 500 x 0.15 + 500 x 0.075 + 1000 x 0.6 per million = $0.0007125;
// 95.76 / 0.0007125 = 134,400 requests = 268.8M tokens/day.
TEST_F(CrossoverTest, CachedTokensRaiseTheCrossover) {
  WhatIfInput in = IssueInput("gpt-4o-mini");
  in.shape.cached_input_tokens = 500;
  auto r = ComputeWhatIf(*book_, in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_NEAR(r->api.total_usd, 0.0007125, 1e-15);
  EXPECT_NEAR(r->crossover.requests_per_day, 134400, 1e-6);
  EXPECT_NEAR(r->crossover.tokens_per_day, 268800000, 1e-2);
}

// At 300M tokens/day = 150,000 requests: API 150,000 x 0.00075 x 30 = $3,375;
// self-hosted 1 replica (150M output < 263M) = 95.76 x 30 = $2,872.80.
TEST_F(CrossoverTest, AtVolume) {
  WhatIfInput in = IssueInput("gpt-4o-mini");
  in.tokens_per_day = 300e6;
  auto r = ComputeWhatIf(*book_, in);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->at_volume.has_value());
  const VolumeComparison& v = *r->at_volume;
  EXPECT_NEAR(v.requests_per_day, 150000, 1e-9);
  EXPECT_NEAR(v.api_monthly_usd, 3375, 1e-9);
  EXPECT_NEAR(v.self_hosted_monthly_usd, 2872.8, 1e-9);
  EXPECT_NEAR(v.monthly_saving_usd, 502.2, 1e-9);
  EXPECT_NEAR(v.self_hosted_cost_per_request, 95.76 / 150000, 1e-15);
  EXPECT_NEAR(v.capacity_used, 150e6 / 263001600, 1e-12);
  EXPECT_EQ(v.self_hosted.replicas, 1);
}

TEST_F(CrossoverTest, WhatIfBadInputs) {
  WhatIfInput in = IssueInput("gpt-4o-mini");
  in.assumptions.throughput_tokens_per_second = 0;
  EXPECT_EQ(ComputeWhatIf(*book_, in).status().message(),
            "throughput must be > 0 output tokens/s, got 0");
  in.assumptions.throughput_tokens_per_second = -1;
  EXPECT_EQ(ComputeWhatIf(*book_, in).status().message(),
            "throughput must be > 0 output tokens/s, got -1");
  in = IssueInput("gpt-nonexistent-9");
  EXPECT_EQ(ComputeWhatIf(*book_, in).status().message(),
            "unknown model \"gpt-nonexistent-9\": not in the price book (add it under "
            "[[prices]] in the config)");
  in = IssueInput("");
  EXPECT_EQ(ComputeWhatIf(*book_, in).status().message(), "--model is required with --what-if");
  in = IssueInput("gpt-4o-mini");
  in.tokens_per_day = -5;
  EXPECT_EQ(ComputeWhatIf(*book_, in).status().message(), "tokens per day must be >= 0, got -5");
}

TEST_F(CrossoverTest, WhatIfText) {
  WhatIfInput in = IssueInput("gpt-4o-mini");
  in.tokens_per_day = 300e6;
  auto r = ComputeWhatIf(*book_, in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RenderWhatIfText(*r),
            "What-if: openai/gpt-4o-mini, 1000 input (0 cached) + 1000 output tokens per request\n"
            "  API:          $0.00075 per request ($0.375 per million tokens)\n"
            "  Self-hosted:  1 GPU x $3.99/h per replica, 15220 output tok/s at 20.0% "
            "utilization, ops $0/month, training $0 over 12 months\n"
            "                $95.76/day per replica + $0/day fixed; $0.0003641 per request at "
            "full capacity\n"
            "  Capacity:     526.0 million tokens/day per replica (263.0 million output tokens, "
            "263,002 requests)\n"
            "  Crossover:    crossover at 255.4 million tokens/day (127,680 requests/day) on 1 "
            "replica (1 GPU)\n"
            "  At 300.0 million tokens/day (150,000 requests/day): API $3,375/month, "
            "self-hosted $2,873/month on 1 replica (1 GPU, 57.0% of capacity used); "
            "self-hosting saves $502.20/month\n");
}

TEST_F(CrossoverTest, WhatIfJsonHasEveryFigure) {
  auto r = ComputeWhatIf(*book_, IssueInput("gpt-4o-mini"));
  ASSERT_TRUE(r.ok());
  const std::string json = RenderWhatIfJson(*r);
  for (const char* needle :
       {"\"matched_model\":\"openai/gpt-4o-mini\"", "\"cost_per_request_usd\":0.00075",
        "\"requests_per_day\":127680", "\"tokens_per_day\":255360000",
        "\"replica_tokens_per_day\":526003200", "\"replica_output_tokens_per_day\":263001600",
        "\"gpu_daily_usd\":95.76", "\"never\":false", "\"throughput_tokens_per_second\":15220",
        "\"utilization\":0.2", "\"at_volume\":null"}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
}

}  // namespace
}  // namespace switchyard::economics
