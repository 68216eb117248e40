// Resolver: turns the request's "model" into an ordered list of targets.
//
// Order of interpretation: a route name; a bare model listed by exactly one
// provider; "provider/model" with a known provider (any model the upstream
// knows). Anything else is NotFound (code model_not_found). Immutable after
// construction; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/status.h"
#include "providers/breaker.h"
#include "providers/provider.h"

namespace switchyard::gateway {

struct Target {
  providers::Provider* provider = nullptr;
  providers::CircuitBreaker* breaker = nullptr;
  std::string model;  // the upstream's model name
  std::string label;  // "provider/model", for headers, metrics and records
};

struct Plan {
  std::string route;  // the route name, or the label of the single target
  std::vector<Target> targets;
};

struct ProviderSlot {
  std::unique_ptr<providers::Provider> provider;
  std::unique_ptr<providers::CircuitBreaker> breaker;
};

class Resolver {
 public:
  // `slots` must outlive the resolver.
  Resolver(const config::Config& config, std::vector<ProviderSlot>& slots);

  core::Result<Plan> Resolve(std::string_view model) const;

  // Every name a client may use: routes, "provider/model" and bare names.
  struct ModelEntry {
    std::string id;
    std::string owned_by;
  };
  const std::vector<ModelEntry>& Models() const { return models_; }

 private:
  std::unordered_map<std::string, ProviderSlot*> by_provider_;
  std::unordered_map<std::string, Plan> routes_;
  std::unordered_map<std::string, Target> bare_;
  std::vector<ModelEntry> models_;
};

}  // namespace switchyard::gateway
