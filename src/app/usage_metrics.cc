#include "app/usage_metrics.h"

#include <mutex>

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
  // Small strings: the key fits the SSO buffer or one allocation.
  std::string key;
  key.reserve(provider.size() + model.size() + task.size() + tenant.size() + 3);
  key.append(provider).push_back(kSep);
  key.append(model).push_back(kSep);
  key.append(task).push_back(kSep);
  key.append(tenant);
  {
    std::shared_lock lock(mu_);
    if (auto it = cache_.find(std::string_view(key)); it != cache_.end()) return *it->second;
  }
  auto series = std::make_unique<Series>();
  static constexpr std::array<std::string_view, kTypes> kTypeNames = {"input", "cached_input",
                                                                      "output", "reasoning"};
  for (size_t t = 0; t < kTypes; ++t) {
    series->tokens[t] = &tokens_.WithLabels({provider, model, task, tenant, kTypeNames[t]});
  }
  series->cost = &cost_.WithLabels({provider, model, task, tenant});
  std::unique_lock lock(mu_);
  auto [it, inserted] = cache_.try_emplace(std::move(key), std::move(series));
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
