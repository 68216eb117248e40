#include "economics/cost_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace switchyard::economics {

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string FormatCount(double v) {
  if (!std::isfinite(v)) return "n/a";
  const bool negative = v < 0;
  const double rounded = static_cast<double>(std::llround(std::fabs(v)));
  std::string digits = std::to_string(static_cast<long long>(rounded));
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return negative && rounded != 0 ? "-" + out : out;
}

std::string FormatUsd(double v) {
  if (!std::isfinite(v)) return "n/a";
  const double a = std::fabs(v);
  const std::string sign = v < 0 ? "-" : "";
  char buf[64];
  if (a >= 1000) return sign + "$" + FormatCount(a);
  if (a >= 1) {
    std::snprintf(buf, sizeof(buf), "%.2f", a);
    return sign + "$" + buf;
  }
  if (a == 0) return "$0";
  // Four significant digits in fixed notation, trailing zeros dropped.
  const int decimals = std::min(12, 3 - static_cast<int>(std::floor(std::log10(a))));
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, a);
  std::string digits = buf;
  while (digits.back() == '0') digits.pop_back();
  if (digits.back() == '.') digits.pop_back();
  return sign + "$" + digits;
}

std::string FormatTokens(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2f billion", v / 1e9);
  } else if (a >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.1f million", v / 1e6);
  } else {
    return FormatCount(v);
  }
  return buf;
}

std::string FormatPercent(double share) {
  if (!std::isfinite(share)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.1f%%", share * 100);
  return buf;
}

core::Status ValidateSelfHosting(const SelfHostingAssumptions& a) {
  auto bad = [](const char* what, double v) {
    return core::InvalidArgument(std::string(what) + ", got " + FormatNumber(v));
  };
  if (!(a.gpu_hourly_usd >= 0) || !std::isfinite(a.gpu_hourly_usd)) {
    return bad("gpu hourly cost must be >= 0 USD", a.gpu_hourly_usd);
  }
  if (a.gpus < 1) return bad("gpus must be >= 1", a.gpus);
  if (!(a.throughput_tokens_per_second > 0) || !std::isfinite(a.throughput_tokens_per_second)) {
    return bad("throughput must be > 0 output tokens/s", a.throughput_tokens_per_second);
  }
  if (!(a.utilization > 0 && a.utilization <= 1)) {
    return bad("utilization must be in (0, 1]", a.utilization);
  }
  if (!(a.ops_monthly_usd >= 0) || !std::isfinite(a.ops_monthly_usd)) {
    return bad("ops cost must be >= 0 USD/month", a.ops_monthly_usd);
  }
  if (!(a.training_usd >= 0) || !std::isfinite(a.training_usd)) {
    return bad("training cost must be >= 0 USD", a.training_usd);
  }
  if (!(a.horizon_months > 0) || !std::isfinite(a.horizon_months)) {
    return bad("horizon must be > 0 months", a.horizon_months);
  }
  if (a.gpus_per_machine < 1) return bad("gpus per machine must be >= 1", a.gpus_per_machine);
  return core::Status::Ok();
}

core::Status ValidateShape(const RequestShape& shape) {
  if (shape.input_tokens < 0) {
    return core::InvalidArgument("input tokens must be >= 0, got " +
                                 std::to_string(shape.input_tokens));
  }
  if (shape.output_tokens <= 0) {
    return core::InvalidArgument("output tokens must be > 0, got " +
                                 std::to_string(shape.output_tokens));
  }
  if (shape.cached_input_tokens < 0 || shape.cached_input_tokens > shape.input_tokens) {
    return core::InvalidArgument("cached input tokens must be between 0 and the input tokens (" +
                                 std::to_string(shape.input_tokens) + "), got " +
                                 std::to_string(shape.cached_input_tokens));
  }
  return core::Status::Ok();
}

core::Result<CostBreakdown> ApiCostPerRequest(const PriceBook& book, std::string_view model,
                                              const RequestShape& shape) {
  if (auto s = ValidateShape(shape); !s.ok()) return s;
  if (book.Find("", model) == nullptr) {
    return core::NotFound("unknown model \"" + std::string(model) +
                          "\": not in the price book (add it under [[prices]] in the config)");
  }
  core::Usage usage;
  usage.prompt_tokens = shape.input_tokens;
  usage.cached_prompt_tokens = shape.cached_input_tokens;
  usage.completion_tokens = shape.output_tokens;
  usage.present = true;
  return book.Cost("", model, usage);
}

double GpuDailyCost(const SelfHostingAssumptions& a) {
  return a.gpu_hourly_usd * a.gpus * 24;
}

double FixedDailyCost(const SelfHostingAssumptions& a) {
  return a.ops_monthly_usd / kDaysPerMonth + a.training_usd / (a.horizon_months * kDaysPerMonth);
}

double ReplicaOutputTokensPerDay(const SelfHostingAssumptions& a) {
  return a.throughput_tokens_per_second * a.utilization * kSecondsPerDay;
}

SelfHostedDay SelfHostedCostPerDay(const SelfHostingAssumptions& a, double output_tokens_per_day) {
  SelfHostedDay d;
  const double capacity = ReplicaOutputTokensPerDay(a);
  double replicas = capacity > 0 ? std::ceil(output_tokens_per_day / capacity) : 1;
  if (!(replicas >= 1)) replicas = 1;
  d.replicas = static_cast<int64_t>(replicas);
  d.gpus = d.replicas * a.gpus;
  const int64_t per_machine = a.gpus_per_machine < 1 ? 1 : a.gpus_per_machine;
  d.machines = (d.gpus + per_machine - 1) / per_machine;
  d.gpu_usd = static_cast<double>(d.replicas) * GpuDailyCost(a);
  d.fixed_usd = FixedDailyCost(a);
  d.total_usd = d.gpu_usd + d.fixed_usd;
  return d;
}

}  // namespace switchyard::economics
