// Crossover: the daily volume at which self-hosting costs the same as the API,
// and the what-if calculator built on it (`switchyard advise --what-if`).
//
// With p = API cost per request, C = requests per day one replica serves
// (replica output tokens per day / output tokens per request), G = one
// replica's GPU cost per day and F = the fixed cost per day (cost_model.h),
// self-hosting V requests/day costs ceil(V / C) x G + F, the API V x p:
//
//   never                 when G / C >= p: even at full capacity the GPUs alone
//                         cost more per request than the API
//   crossover (first)     V* = (n G + F) / p with n = max(1, ceil(F / (C p - G))),
//                         the first volume where self-hosting is no dearer;
//                         n replicas serve it. n > 1: "exceeds one replica".
//   stays cheaper from    (m G + F) / p with m = max(1, ceil((G + F) / (C p - G))):
//                         above it self-hosting is never dearer again. Between the
//                         two, adding a replica can make the API cheaper for a while.
//   tokens per day        = requests per day x (input + output tokens per request)
//
// Worked example (docs/ECONOMICS.md): gpt-4o-mini, 1000 in / 1000 out, one H100
// at $3.99/h, 15,220 tok/s, 20% utilization: p = $0.00075, G = $95.76, F = 0,
// C = 263,001.6 requests -> crossover 127,680 requests = 255.36M tokens/day,
// capacity 526.0M tokens/day.
//
// Thread-safety: pure functions. Errors: see ComputeWhatIf.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/json_writer.h"
#include "core/status.h"
#include "economics/cost_model.h"
#include "economics/price_book.h"

namespace switchyard::economics {

struct Crossover {
  double api_cost_per_request = 0;  // p
  int64_t tokens_per_request = 0;   // input + output
  int64_t output_tokens_per_request = 0;
  double api_usd_per_million_tokens = 0;  // p / tokens_per_request x 1e6
  double gpu_daily_usd = 0;               // G, one replica
  double fixed_daily_usd = 0;             // F
  double replica_output_tokens_per_day = 0;
  double replica_requests_per_day = 0;  // C
  double replica_tokens_per_day = 0;    // C x tokens_per_request
  // One replica at full capacity: (G + F) / C; its GPUs alone: G / C.
  double cost_per_request_at_capacity = 0;
  double gpu_cost_per_request_at_capacity = 0;
  bool never = false;
  // The first break-even volume (0 when never) and what it needs.
  double requests_per_day = 0;
  double tokens_per_day = 0;
  int64_t replicas = 0;
  int64_t gpus = 0;
  int64_t machines = 0;
  bool exceeds_one_replica = false;
  // Self-hosting is never dearer above this volume (0 when never).
  double stays_cheaper_requests_per_day = 0;
  double stays_cheaper_tokens_per_day = 0;
};

// Requires valid assumptions and shape (ValidateSelfHosting, ValidateShape).
Crossover ComputeCrossover(double api_cost_per_request, const RequestShape& shape,
                           const SelfHostingAssumptions& a);

// One sentence: "crossover at 255.4 million tokens/day (127,680 requests/day)
// on 1 replica (1 GPU)", or why never, with the numbers.
std::string DescribeCrossover(const Crossover& c);

// Both options at one daily volume.
struct VolumeComparison {
  double requests_per_day = 0;
  double tokens_per_day = 0;
  double output_tokens_per_day = 0;
  double api_daily_usd = 0;
  double api_monthly_usd = 0;
  SelfHostedDay self_hosted;
  double self_hosted_monthly_usd = 0;
  double self_hosted_cost_per_request = 0;  // 0 at zero volume
  double capacity_used = 0;                 // requests / (replicas x C), in [0, 1]
  // api_monthly_usd - self_hosted_monthly_usd: > 0 when self-hosting saves.
  double monthly_saving_usd = 0;
};

VolumeComparison CompareAtVolume(double api_cost_per_request, const RequestShape& shape,
                                 const SelfHostingAssumptions& a, double requests_per_day);

struct WhatIfInput {
  std::string model;  // "gpt-4o-mini" or "openai/gpt-4o-mini"
  RequestShape shape;
  std::optional<double> tokens_per_day;  // input + output tokens; unset: crossover only
  SelfHostingAssumptions assumptions;
};

struct WhatIfReport {
  WhatIfInput input;
  CostBreakdown api;  // one request of the shape
  Crossover crossover;
  std::optional<VolumeComparison> at_volume;
};

// Errors (InvalidArgument unless noted), one line each:
//   ValidateSelfHosting / ValidateShape messages;
//   "--model is required with --what-if";
//   "tokens per day must be >= 0, got <v>";
//   NotFound: `unknown model "<m>": not in the price book (add it under [[prices]] in the config)`.
core::Result<WhatIfReport> ComputeWhatIf(const PriceBook& book, const WhatIfInput& input);

// A few labelled lines ending with '\n'.
std::string RenderWhatIfText(const WhatIfReport& r);
// Every figure: {"model":..,"matched_model":..,"shape":{..},"assumptions":{..},
// "api":{..},"crossover":{..},"at_volume":{..}|null}
std::string RenderWhatIfJson(const WhatIfReport& r);

// "1 GPU x $3.99/h per replica, 15220 output tok/s at 20.0% utilization, ops
// $0/month, training $0 over 12 months".
std::string DescribeAssumptions(const SelfHostingAssumptions& a);

// For JSON: `v` rounded to 12 significant digits, so arithmetic noise
// (526003199.99999994) prints as the figure it stands for (526003200).
double RoundSignificant(double v);

// JSON objects shared by the advisor's reports (field names = struct fields,
// money with a _usd suffix; a crossover also carries "summary").
void WriteShapeJson(core::JsonWriter& w, const RequestShape& s);
void WriteAssumptionsJson(core::JsonWriter& w, const SelfHostingAssumptions& a);
void WriteCrossoverJson(core::JsonWriter& w, const Crossover& c);
void WriteVolumeJson(core::JsonWriter& w, const VolumeComparison& v);

}  // namespace switchyard::economics
