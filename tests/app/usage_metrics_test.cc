#include "app/usage_metrics.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchyard::app {
namespace {

gateway::Outcome Answered(std::string task, std::string tenant) {
  gateway::Outcome o;
  o.provider = "openai";
  o.model = "gpt-4o-mini";
  o.task = std::move(task);
  o.tenant = std::move(tenant);
  o.usage.prompt_tokens = 100;
  o.usage.cached_prompt_tokens = 40;
  o.usage.completion_tokens = 20;
  o.usage.reasoning_tokens = 0;
  o.cost_usd = 0.25;
  return o;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(UsageMetricsTest, CountsTokensAndCostByProviderModelTaskAndTenant) {
  observe::Registry registry;
  UsageMetrics usage(registry);
  usage.Add(Answered("triage", "acme"));
  usage.Add(Answered("triage", "acme"));
  usage.Add(Answered("", ""));
  const std::string text = registry.RenderPrometheus();
  const std::string acme = R"(provider="openai",model="gpt-4o-mini",task="triage",tenant="acme")";
  const std::string none = R"(provider="openai",model="gpt-4o-mini",task="none",tenant="none")";
  EXPECT_TRUE(Has(text, "switchyard_tokens_total{" + acme + R"(,type="input"} 200)")) << text;
  EXPECT_TRUE(Has(text, "switchyard_tokens_total{" + acme + R"(,type="cached_input"} 80)"));
  EXPECT_TRUE(Has(text, "switchyard_tokens_total{" + acme + R"(,type="output"} 40)"));
  EXPECT_TRUE(Has(text, "switchyard_cost_usd_total{" + acme + "} 0.5"));
  EXPECT_TRUE(Has(text, "switchyard_tokens_total{" + none + R"(,type="input"} 100)"));
  EXPECT_TRUE(Has(text, "switchyard_cost_usd_total{" + none + "} 0.25"));
  // All four types' series exist once a tuple was seen (reasoning stayed 0).
  EXPECT_TRUE(Has(text, "switchyard_tokens_total{" + acme + R"(,type="reasoning"} 0)"));
  EXPECT_TRUE(Has(text, "switchyard_usage_estimated_total 0"));
}

TEST(UsageMetricsTest, SkipsOutcomesThatReachedNoProviderAndCountsEstimates) {
  observe::Registry registry;
  UsageMetrics usage(registry);
  gateway::Outcome rejected;  // e.g. a 400 before routing: no provider
  rejected.usage.prompt_tokens = 5;
  usage.Add(rejected);
  gateway::Outcome estimated = Answered("t", "x");
  estimated.usage.estimated = true;
  usage.Add(estimated);
  const std::string text = registry.RenderPrometheus();
  EXPECT_EQ(text.find(R"(provider="")"), std::string::npos) << text;
  EXPECT_TRUE(Has(text, "switchyard_usage_estimated_total 1")) << text;
}

// The series are cached by (provider, model, task, tenant): tuples that differ
// only in where one label ends and the next begins are different series, also
// on repeated (cached) lookups.
TEST(UsageMetricsTest, TuplesThatDifferOnlyInTheirSplitAreSeparateSeries) {
  observe::Registry registry;
  UsageMetrics usage(registry);
  gateway::Outcome a = Answered("t", "x");
  a.provider = "ab";
  a.model = "c";
  gateway::Outcome b = Answered("t", "x");
  b.provider = "a";
  b.model = "bc";
  for (int i = 0; i < 3; ++i) usage.Add(a);
  usage.Add(b);
  const std::string text = registry.RenderPrometheus();
  EXPECT_TRUE(Has(text, R"(switchyard_tokens_total{provider="ab",model="c",task="t",tenant="x",)"
                        R"(type="input"} 300)"))
      << text;
  EXPECT_TRUE(Has(text, R"(switchyard_tokens_total{provider="a",model="bc",task="t",tenant="x",)"
                        R"(type="input"} 100)"))
      << text;
}

TEST(UsageMetricsTest, ConcurrentLoopsAddUpExactly) {
  observe::Registry registry;
  UsageMetrics usage(registry);
  std::vector<std::thread> loops;
  for (int t = 0; t < 4; ++t) {
    loops.emplace_back([&usage] {
      for (int i = 0; i < 1000; ++i) usage.Add(Answered("task" + std::to_string(i % 3), "acme"));
    });
  }
  for (auto& th : loops) th.join();
  const std::string text = registry.RenderPrometheus();
  // 4000 outcomes over three tasks: 1336 + 1332 + 1332 outcomes of 20 output tokens.
  const std::string prefix =
      R"(switchyard_tokens_total{provider="openai",model="gpt-4o-mini",task=")";
  EXPECT_TRUE(Has(text, prefix + R"(task0",tenant="acme",type="output"} 26720)")) << text;
  EXPECT_TRUE(Has(text, prefix + R"(task1",tenant="acme",type="output"} 26640)"));
  EXPECT_TRUE(Has(text, prefix + R"(task2",tenant="acme",type="output"} 26640)"));
}

}  // namespace
}  // namespace switchyard::app
