// Usage metrics: Prometheus counters of tokens and spend by provider, model,
// task and tenant, fed by the recorder callback of `switchyard serve` once per
// answered request.
//
// Thread-safety: Add() may be called from every event loop at once. The
// series of one (provider, model, task, tenant) tuple are looked up in the
// registry's families once and then kept in a cache read under a shared lock,
// so a request costs one hash lookup instead of five family lookups (with the
// key joined on the stack: no allocation).
// Ownership: holds references into the Registry, which must outlive it.
#pragma once

#include <array>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/gateway.h"
#include "observe/metrics.h"

namespace switchyard::app {

class UsageMetrics {
 public:
  explicit UsageMetrics(observe::Registry& registry);
  UsageMetrics(const UsageMetrics&) = delete;
  UsageMetrics& operator=(const UsageMetrics&) = delete;

  // Counts the outcome's tokens by type (input, cached_input, output,
  // reasoning) and its cost. Outcomes that reached no provider are skipped.
  // An empty task or tenant is labelled "none".
  void Add(const gateway::Outcome& outcome);

 private:
  enum Type { kInput, kCachedInput, kOutput, kReasoning, kTypes };
  struct Series {
    std::array<observe::Counter*, kTypes> tokens{};
    observe::Counter* cost = nullptr;
  };
  // Key: provider, model, task and tenant joined by '\x1f'.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const Series& Lookup(std::string_view provider, std::string_view model, std::string_view task,
                       std::string_view tenant);

  observe::CounterFamily& tokens_;
  observe::CounterFamily& cost_;
  observe::Counter& estimated_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Series>, KeyHash, std::equal_to<>> cache_;
};

}  // namespace switchyard::app
