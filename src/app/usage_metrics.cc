#include "app/usage_metrics.h"

#include <algorithm>
#include <mutex>

#include "core/joined_key.h"

namespace switchyard::app {
namespace {
constexpr std::string_view kNone = "none";
constexpr char kSep = '\x1f';
std::string_view OrNone(std::string_view v) {
  return v.empty() ? kNone : v;
}
}  // namespace

UsageMetrics::UsageMetrics(observe::Registry& r)
    : tokens_(r.AddCounter("switchyard_tokens_total",
                           "Tokens by provider, model, task, tenant and type "
                           "(input includes cached_input)",
                           {"provider", "model", "task", "tenant", "type"})),
      cost_(r.AddCounter("switchyard_cost_usd_total",
                         "Spend in USD by provider, model, task and tenant",
                         {"provider", "model", "task", "tenant"})),
      estimated_(r.AddCounter("switchyard_usage_estimated_total",
                              "Answers whose usage was counted locally (the upstream sent none)")
                     .Get()) {}

const UsageMetrics::Series& UsageMetrics::Lookup(std::string_view provider, std::string_view model,
                                                 std::string_view task, std::string_view tenant) {
  // The key is joined on the stack, so a hit allocates nothing.
  const core::JoinedKey joined({provider, model, task, tenant}, kSep);
  const std::string_view key = joined.view();
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  }
  auto series = std::make_unique<Series>();
  static constexpr std::array<std::string_view, kTypes> kTypeNames = {"input", "cached_input",
                                                                      "output", "reasoning"};
  for (size_t t = 0; t < kTypes; ++t) {
    series->tokens[t] = &tokens_.WithLabels({provider, model, task, tenant, kTypeNames[t]});
  }
  series->cost = &cost_.WithLabels({provider, model, task, tenant});
  std::unique_lock lock(mu_);
  auto [it, inserted] = cache_.try_emplace(std::string(key), std::move(series));
  return *it->second;
}

void UsageMetrics::Add(const gateway::Outcome& o) {
  if (o.provider.empty()) return;
  const Series& s = Lookup(o.provider, o.model, OrNone(o.task), OrNone(o.tenant));
  const std::array<int64_t, kTypes> counts = {o.usage.prompt_tokens, o.usage.cached_prompt_tokens,
                                              o.usage.completion_tokens, o.usage.reasoning_tokens};
  for (size_t t = 0; t < kTypes; ++t) {
    if (counts[t] > 0) s.tokens[t]->Inc(counts[t]);
  }
  if (o.cost_usd > 0) s.cost->Inc(o.cost_usd);
  if (o.usage.estimated) estimated_.Inc();
}

}  // namespace switchyard::app
