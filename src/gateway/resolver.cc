#include "gateway/resolver.h"

namespace switchyard::gateway {

Resolver::Resolver(const config::Config& config, std::vector<ProviderSlot>& slots) {
  for (auto& slot : slots) by_provider_[slot.provider->config().name] = &slot;
  auto make_target = [&](ProviderSlot* slot, std::string_view model) {
    Target t;
    t.provider = slot->provider.get();
    t.breaker = slot->breaker.get();
    t.model = std::string(model);
    t.label = slot->provider->config().name + "/" + t.model;
    return t;
  };
  for (const auto& route : config.routes) {
    Plan plan;
    plan.route = route.name;
    for (const auto& target : route.targets) {
      const size_t slash = target.find('/');
      auto it = by_provider_.find(target.substr(0, slash));
      if (slash == std::string::npos || it == by_provider_.end()) continue;  // validated
      plan.targets.push_back(make_target(it->second, target.substr(slash + 1)));
    }
    routes_[route.name] = std::move(plan);
    models_.push_back({route.name, "switchyard"});
  }
  for (auto& slot : slots) {
    const auto& cfg = slot.provider->config();
    for (const auto& model : cfg.models) {
      bare_.emplace(model, make_target(&slot, model));
      models_.push_back({cfg.name + "/" + model, cfg.name});
    }
  }
  for (const auto& [name, target] : bare_) {
    models_.push_back({name, target.provider->config().name});
  }
}

core::Result<Plan> Resolver::Resolve(std::string_view model) const {
  if (auto it = routes_.find(std::string(model)); it != routes_.end()) return it->second;
  if (auto it = bare_.find(std::string(model)); it != bare_.end()) {
    return Plan{it->second.label, {it->second}};
  }
  const size_t slash = model.find('/');
  if (slash != std::string_view::npos && slash + 1 < model.size()) {
    if (auto it = by_provider_.find(std::string(model.substr(0, slash)));
        it != by_provider_.end()) {
      Target t;
      t.provider = it->second->provider.get();
      t.breaker = it->second->breaker.get();
      t.model = std::string(model.substr(slash + 1));
      t.label = std::string(model);
      return Plan{t.label, {t}};
    }
  }
  core::Status s = core::NotFound("model \"" + std::string(model) +
                                  "\" not found: it is not a route, a model listed by a "
                                  "provider, or \"provider/model\" with a configured provider");
  s.set_error_code("model_not_found").set_param("model");
  return s;
}

}  // namespace switchyard::gateway
