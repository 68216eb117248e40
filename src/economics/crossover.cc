#include "economics/crossover.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/json_writer.h"

namespace switchyard::economics {
namespace {

// The smallest integer n >= 1 with n >= x, guarding against x landing a hair
// above an integer through rounding.
int64_t CeilAtLeastOne(double x) {
  if (!(x > 1)) return 1;
  double n = std::ceil(x);
  if (n - x > 1 - 1e-9) n -= 1;  // x was an integer plus rounding noise
  return std::max<int64_t>(1, static_cast<int64_t>(n));
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Crossover ComputeCrossover(double api_cost_per_request, const RequestShape& shape,
                           const SelfHostingAssumptions& a) {
  Crossover c;
  const double p = api_cost_per_request;
  c.api_cost_per_request = p;
  c.tokens_per_request = shape.total_tokens();
  c.output_tokens_per_request = std::max<int64_t>(1, shape.output_tokens);
  c.api_usd_per_million_tokens =
      c.tokens_per_request > 0 ? p / static_cast<double>(c.tokens_per_request) * 1e6 : 0;
  c.gpu_daily_usd = GpuDailyCost(a);
  c.fixed_daily_usd = FixedDailyCost(a);
  c.replica_output_tokens_per_day = ReplicaOutputTokensPerDay(a);
  c.replica_requests_per_day =
      c.replica_output_tokens_per_day / static_cast<double>(c.output_tokens_per_request);
  c.replica_tokens_per_day = c.replica_requests_per_day * static_cast<double>(c.tokens_per_request);
  const double capacity = c.replica_requests_per_day;
  const double g = c.gpu_daily_usd;
  const double f = c.fixed_daily_usd;
  if (capacity > 0) {
    c.cost_per_request_at_capacity = (g + f) / capacity;
    c.gpu_cost_per_request_at_capacity = g / capacity;
  }
  // Per replica, the API earns C x p a day at full capacity; self-hosting pays G.
  const double margin = capacity * p - g;
  if (!(p > 0) || !(margin > 0)) {
    c.never = true;
    return c;
  }
  const int64_t n = CeilAtLeastOne(f / margin);
  c.requests_per_day = (static_cast<double>(n) * g + f) / p;
  c.tokens_per_day = c.requests_per_day * static_cast<double>(c.tokens_per_request);
  c.replicas = n;
  c.gpus = n * a.gpus;
  const int64_t per_machine = std::max(1, a.gpus_per_machine);
  c.machines = (c.gpus + per_machine - 1) / per_machine;
  c.exceeds_one_replica = n > 1;
  const int64_t m = CeilAtLeastOne((g + f) / margin);
  c.stays_cheaper_requests_per_day = (static_cast<double>(m) * g + f) / p;
  c.stays_cheaper_tokens_per_day =
      c.stays_cheaper_requests_per_day * static_cast<double>(c.tokens_per_request);
  return c;
}

std::string DescribeCrossover(const Crossover& c) {
  if (c.never) {
    if (!(c.api_cost_per_request > 0)) {
      return "never: the API costs nothing per request at this shape";
    }
    return "never: at full capacity the GPUs alone cost " +
           FormatUsd(c.gpu_cost_per_request_at_capacity) + " per request, at or above the API's " +
           FormatUsd(c.api_cost_per_request);
  }
  std::string s = "crossover at " + FormatTokens(c.tokens_per_day) + " tokens/day (" +
                  FormatCount(c.requests_per_day) + " requests/day) on " +
                  Plural(c.replicas, "replica", "replicas") + " (" + Plural(c.gpus, "GPU", "GPUs") +
                  ")";
  if (c.exceeds_one_replica) {
    s += "; beyond one replica's capacity of " + FormatTokens(c.replica_tokens_per_day) +
         " tokens/day: needs " + Plural(c.gpus, "GPU", "GPUs") + " on " +
         Plural(c.machines, "machine", "machines");
  }
  if (c.stays_cheaper_requests_per_day > c.requests_per_day * (1 + 1e-12)) {
    s += "; self-hosting stays cheaper only from " + FormatTokens(c.stays_cheaper_tokens_per_day) +
         " tokens/day (" + FormatCount(c.stays_cheaper_requests_per_day) + " requests/day)";
  }
  return s;
}

VolumeComparison CompareAtVolume(double api_cost_per_request, const RequestShape& shape,
                                 const SelfHostingAssumptions& a, double requests_per_day) {
  VolumeComparison v;
  v.requests_per_day = requests_per_day;
  v.tokens_per_day = requests_per_day * static_cast<double>(shape.total_tokens());
  v.output_tokens_per_day = requests_per_day * static_cast<double>(shape.output_tokens);
  v.api_daily_usd = requests_per_day * api_cost_per_request;
  v.api_monthly_usd = v.api_daily_usd * kDaysPerMonth;
  v.self_hosted = SelfHostedCostPerDay(a, v.output_tokens_per_day);
  v.self_hosted_monthly_usd = v.self_hosted.total_usd * kDaysPerMonth;
  v.self_hosted_cost_per_request =
      requests_per_day > 0 ? v.self_hosted.total_usd / requests_per_day : 0;
  const double capacity =
      ReplicaOutputTokensPerDay(a) * static_cast<double>(v.self_hosted.replicas);
  v.capacity_used = capacity > 0 ? std::min(1.0, v.output_tokens_per_day / capacity) : 0;
  v.monthly_saving_usd = v.api_monthly_usd - v.self_hosted_monthly_usd;
  return v;
}

core::Result<WhatIfReport> ComputeWhatIf(const PriceBook& book, const WhatIfInput& input) {
  if (input.model.empty()) return core::InvalidArgument("--model is required with --what-if");
  if (auto s = ValidateSelfHosting(input.assumptions); !s.ok()) return s;
  if (auto s = ValidateShape(input.shape); !s.ok()) return s;
  if (input.tokens_per_day && !(*input.tokens_per_day >= 0)) {
    return core::InvalidArgument("tokens per day must be >= 0, got " +
                                 FormatNumber(*input.tokens_per_day));
  }
  auto api = ApiCostPerRequest(book, input.model, input.shape);
  if (!api.ok()) return api.take_status();
  WhatIfReport r;
  r.input = input;
  r.api = *api;
  r.crossover = ComputeCrossover(r.api.total_usd, input.shape, input.assumptions);
  if (input.tokens_per_day) {
    const double requests = *input.tokens_per_day / static_cast<double>(input.shape.total_tokens());
    r.at_volume = CompareAtVolume(r.api.total_usd, input.shape, input.assumptions, requests);
  }
  return r;
}

std::string DescribeAssumptions(const SelfHostingAssumptions& a) {
  return Plural(a.gpus, "GPU", "GPUs") + " x " + FormatUsd(a.gpu_hourly_usd) + "/h per replica, " +
         FormatNumber(a.throughput_tokens_per_second) + " output tok/s at " +
         FormatPercent(a.utilization) + " utilization, ops " + FormatUsd(a.ops_monthly_usd) +
         "/month, training " + FormatUsd(a.training_usd) + " over " +
         FormatNumber(a.horizon_months) + " months";
}

double RoundSignificant(double v) {
  if (!std::isfinite(v) || v == 0) return v;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.12g", v);
  return std::strtod(buf, nullptr);
}

void WriteShapeJson(core::JsonWriter& w, const RequestShape& s) {
  w.BeginObject()
      .Field("input_tokens", s.input_tokens)
      .Field("cached_input_tokens", s.cached_input_tokens)
      .Field("output_tokens", s.output_tokens)
      .Field("total_tokens", s.total_tokens())
      .EndObject();
}

void WriteAssumptionsJson(core::JsonWriter& w, const SelfHostingAssumptions& a) {
  w.BeginObject()
      .Field("gpu_hourly_usd", RoundSignificant(a.gpu_hourly_usd))
      .Field("gpus", a.gpus)
      .Field("throughput_tokens_per_second", RoundSignificant(a.throughput_tokens_per_second))
      .Field("utilization", RoundSignificant(a.utilization))
      .Field("ops_monthly_usd", RoundSignificant(a.ops_monthly_usd))
      .Field("training_usd", RoundSignificant(a.training_usd))
      .Field("horizon_months", RoundSignificant(a.horizon_months))
      .Field("gpus_per_machine", a.gpus_per_machine)
      .EndObject();
}

void WriteCrossoverJson(core::JsonWriter& w, const Crossover& c) {
  w.BeginObject()
      .Field("never", c.never)
      .Field("api_cost_per_request_usd", RoundSignificant(c.api_cost_per_request))
      .Field("tokens_per_request", c.tokens_per_request)
      .Field("output_tokens_per_request", c.output_tokens_per_request)
      .Field("api_usd_per_million_tokens", RoundSignificant(c.api_usd_per_million_tokens))
      .Field("gpu_daily_usd", RoundSignificant(c.gpu_daily_usd))
      .Field("fixed_daily_usd", RoundSignificant(c.fixed_daily_usd))
      .Field("replica_output_tokens_per_day", RoundSignificant(c.replica_output_tokens_per_day))
      .Field("replica_requests_per_day", RoundSignificant(c.replica_requests_per_day))
      .Field("replica_tokens_per_day", RoundSignificant(c.replica_tokens_per_day))
      .Field("cost_per_request_at_capacity_usd", RoundSignificant(c.cost_per_request_at_capacity))
      .Field("gpu_cost_per_request_at_capacity_usd",
             RoundSignificant(c.gpu_cost_per_request_at_capacity))
      .Field("requests_per_day", RoundSignificant(c.requests_per_day))
      .Field("tokens_per_day", RoundSignificant(c.tokens_per_day))
      .Field("replicas", c.replicas)
      .Field("gpus", c.gpus)
      .Field("machines", c.machines)
      .Field("exceeds_one_replica", c.exceeds_one_replica)
      .Field("stays_cheaper_requests_per_day", RoundSignificant(c.stays_cheaper_requests_per_day))
      .Field("stays_cheaper_tokens_per_day", RoundSignificant(c.stays_cheaper_tokens_per_day))
      .Field("summary", DescribeCrossover(c))
      .EndObject();
}

void WriteVolumeJson(core::JsonWriter& w, const VolumeComparison& v) {
  w.BeginObject()
      .Field("requests_per_day", RoundSignificant(v.requests_per_day))
      .Field("tokens_per_day", RoundSignificant(v.tokens_per_day))
      .Field("output_tokens_per_day", RoundSignificant(v.output_tokens_per_day))
      .Field("api_daily_usd", RoundSignificant(v.api_daily_usd))
      .Field("api_monthly_usd", RoundSignificant(v.api_monthly_usd))
      .Field("self_hosted_daily_usd", RoundSignificant(v.self_hosted.total_usd))
      .Field("self_hosted_gpu_daily_usd", RoundSignificant(v.self_hosted.gpu_usd))
      .Field("self_hosted_fixed_daily_usd", RoundSignificant(v.self_hosted.fixed_usd))
      .Field("self_hosted_monthly_usd", RoundSignificant(v.self_hosted_monthly_usd))
      .Field("self_hosted_cost_per_request_usd", RoundSignificant(v.self_hosted_cost_per_request))
      .Field("replicas", v.self_hosted.replicas)
      .Field("gpus", v.self_hosted.gpus)
      .Field("machines", v.self_hosted.machines)
      .Field("capacity_used", RoundSignificant(v.capacity_used))
      .Field("monthly_saving_usd", RoundSignificant(v.monthly_saving_usd))
      .EndObject();
}

std::string RenderWhatIfText(const WhatIfReport& r) {
  const RequestShape& s = r.input.shape;
  const Crossover& c = r.crossover;
  const SelfHostingAssumptions& a = r.input.assumptions;
  std::string out;
  out += "What-if: " + r.api.matched_model + ", " + std::to_string(s.input_tokens) + " input (" +
         std::to_string(s.cached_input_tokens) + " cached) + " + std::to_string(s.output_tokens) +
         " output tokens per request\n";
  out += "  API:          " + FormatUsd(r.api.total_usd) + " per request (" +
         FormatUsd(c.api_usd_per_million_tokens) + " per million tokens)\n";
  out += "  Self-hosted:  " + DescribeAssumptions(a) + "\n";
  out += "                " + FormatUsd(c.gpu_daily_usd) + "/day per replica + " +
         FormatUsd(c.fixed_daily_usd) + "/day fixed; " + FormatUsd(c.cost_per_request_at_capacity) +
         " per request at full capacity\n";
  out += "  Capacity:     " + FormatTokens(c.replica_tokens_per_day) + " tokens/day per replica (" +
         FormatTokens(c.replica_output_tokens_per_day) + " output tokens, " +
         FormatCount(c.replica_requests_per_day) + " requests)\n";
  out += "  Crossover:    " + DescribeCrossover(c) + "\n";
  if (r.at_volume) {
    const VolumeComparison& v = *r.at_volume;
    out += "  At " + FormatTokens(v.tokens_per_day) + " tokens/day (" +
           FormatCount(v.requests_per_day) + " requests/day): API " + FormatUsd(v.api_monthly_usd) +
           "/month, self-hosted " + FormatUsd(v.self_hosted_monthly_usd) + "/month on " +
           Plural(v.self_hosted.replicas, "replica", "replicas") + " (" +
           Plural(v.self_hosted.gpus, "GPU", "GPUs") + ", " + FormatPercent(v.capacity_used) +
           " of capacity used)";
    out += v.monthly_saving_usd > 0
               ? "; self-hosting saves " + FormatUsd(v.monthly_saving_usd) + "/month\n"
               : "; the API is cheaper by " + FormatUsd(-v.monthly_saving_usd) + "/month\n";
  }
  return out;
}

std::string RenderWhatIfJson(const WhatIfReport& r) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("model", r.input.model);
  w.Field("matched_model", r.api.matched_model);
  w.Key("shape");
  WriteShapeJson(w, r.input.shape);
  w.Key("assumptions");
  WriteAssumptionsJson(w, r.input.assumptions);
  w.Key("api");
  w.BeginObject()
      .Field("cost_per_request_usd", RoundSignificant(r.api.total_usd))
      .Field("input_usd", RoundSignificant(r.api.input_usd))
      .Field("cached_input_usd", RoundSignificant(r.api.cached_input_usd))
      .Field("output_usd", RoundSignificant(r.api.output_usd))
      .Field("usd_per_million_tokens", RoundSignificant(r.crossover.api_usd_per_million_tokens))
      .EndObject();
  w.Key("crossover");
  WriteCrossoverJson(w, r.crossover);
  w.Key("at_volume");
  if (r.at_volume) {
    WriteVolumeJson(w, *r.at_volume);
  } else {
    w.Null();
  }
  w.EndObject();
  return out;
}

}  // namespace switchyard::economics
