#include "economics/self_hosted_price.h"

#include <string>

namespace switchyard::economics {

namespace {
constexpr double kSecondsPerHour = 3600;
constexpr double kPerMillion = 1e6;
}  // namespace

core::Status ValidateSelfHostedPrice(const SelfHostedPrice& p) {
  if (!(p.hourly_cost_usd >= 0)) return core::InvalidArgument("hourly_cost_usd must be >= 0");
  if (p.gpus < 1) return core::InvalidArgument("gpus must be >= 1");
  if (!(p.output_tokens_per_second > 0)) {
    return core::InvalidArgument("output_tokens_per_second must be > 0");
  }
  if (!(p.input_tokens_per_second >= 0)) {
    return core::InvalidArgument("input_tokens_per_second must be >= 0");
  }
  if (!(p.utilization > 0 && p.utilization <= 1)) {
    return core::InvalidArgument("utilization must be in (0, 1]");
  }
  return core::Status::Ok();
}

double SelfHostedCostPerSecond(const SelfHostedPrice& p) {
  if (!ValidateSelfHostedPrice(p).ok()) return 0;
  return p.hourly_cost_usd * p.gpus / kSecondsPerHour;
}

double SelfHostedCostPerMillionOutput(const SelfHostedPrice& p) {
  if (!ValidateSelfHostedPrice(p).ok()) return 0;
  return SelfHostedCostPerSecond(p) / (p.output_tokens_per_second * p.utilization) * kPerMillion;
}

double SelfHostedCostPerMillionInput(const SelfHostedPrice& p) {
  if (!ValidateSelfHostedPrice(p).ok() || p.input_tokens_per_second == 0) return 0;
  return SelfHostedCostPerSecond(p) / (p.input_tokens_per_second * p.utilization) * kPerMillion;
}

ModelPrice SelfHostedModelPrice(std::string_view provider, std::string_view model,
                                const SelfHostedPrice& p) {
  ModelPrice mp;
  mp.provider = std::string(provider);
  mp.id = std::string(model);
  mp.input = SelfHostedCostPerMillionInput(p);
  mp.cached_input = 0;
  mp.cache_write = -1;
  mp.output = SelfHostedCostPerMillionOutput(p);
  return mp;
}

}  // namespace switchyard::economics
