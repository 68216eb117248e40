// Cost model of the build-vs-buy advisor: what a request costs on a rented API
// and what a self-hosted deployment costs per day. docs/ECONOMICS.md has the
// formulas with a worked example; the conventions in short:
//
//   API cost per request   = PriceBook::Cost() of the request shape (input,
//                            cached input, output tokens; tiers applied)
//   GPU cost per day       = gpu_hourly_usd x gpus x 24           (one replica)
//   fixed cost per day     = ops_monthly_usd / 30 + training_usd / (horizon_months x 30)
//   replica capacity / day = throughput_tokens_per_second x utilization x 86400
//                            OUTPUT tokens (input is free: the measured throughput
//                            already includes prefill at the benchmark's shape)
//   replicas at a volume   = max(1, ceil(output tokens per day / replica capacity))
//   self-hosted cost / day = replicas x GPU cost per day + fixed cost per day
//   tokens per day         = requests per day x (input + output tokens per request)
//   a month                = 30 days
//
// A replica is one copy of the model: `gpus` GPUs serving
// `throughput_tokens_per_second` output tokens per second together (the
// benchmark's figure for that deployment). More volume adds whole replicas.
//
// Thread-safety: pure functions and plain values.
// Errors: ValidateSelfHosting returns InvalidArgument naming the assumption,
// e.g. "throughput must be > 0 output tokens/s, got 0"; ApiCostPerRequest
// returns NotFound `unknown model "x": not in the price book (add it under
// [[prices]] in the config)` or InvalidArgument for a bad shape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "economics/price_book.h"

namespace switchyard::economics {

inline constexpr double kDaysPerMonth = 30;
inline constexpr double kSecondsPerDay = 86400;

// Hardware and operations assumptions of a self-hosted deployment. The
// defaults are documented with their sources in docs/ECONOMICS.md
// ("Default assumptions").
struct SelfHostingAssumptions {
  // USD per GPU-hour: an on-demand H100 SXM 80GB at the upper end of the
  // published $2.49-$3.99/h range.
  double gpu_hourly_usd = 3.99;
  // GPUs per replica (one copy of the model).
  int gpus = 1;
  // Output tokens per second of one replica at full load: Llama 3.1 8B FP8 on
  // one H100 at 1000 input / 1000 output tokens (TensorRT-LLM perf overview).
  double throughput_tokens_per_second = 15220;
  // Share of paid GPU time spent serving at that throughput (0, 1].
  double utilization = 0.2;
  // Engineering time, monitoring, on-call: USD per month, fixed.
  double ops_monthly_usd = 0;
  // One-off training / fine-tuning cost, USD, amortised over horizon_months.
  double training_usd = 0;
  double horizon_months = 12;
  // GPUs in one machine, to say how many machines a volume needs.
  int gpus_per_machine = 8;
};

// Ok, or InvalidArgument with one of:
//   "gpu hourly cost must be >= 0 USD, got <v>"
//   "gpus must be >= 1, got <v>"
//   "throughput must be > 0 output tokens/s, got <v>"
//   "utilization must be in (0, 1], got <v>"
//   "ops cost must be >= 0 USD/month, got <v>"
//   "training cost must be >= 0 USD, got <v>"
//   "horizon must be > 0 months, got <v>"
//   "gpus per machine must be >= 1, got <v>"
core::Status ValidateSelfHosting(const SelfHostingAssumptions& a);

// Tokens of one request.
struct RequestShape {
  int64_t input_tokens = 1000;      // all prompt tokens, cached ones included
  int64_t cached_input_tokens = 0;  // of those, read from the provider's cache
  int64_t output_tokens = 1000;     // completion tokens, reasoning included
  int64_t total_tokens() const { return input_tokens + output_tokens; }
};

// Ok, or InvalidArgument: "input tokens must be >= 0, got <v>", "output tokens
// must be > 0, got <v>", "cached input tokens must be between 0 and the input
// tokens (<in>), got <v>".
core::Status ValidateShape(const RequestShape& shape);

// The API price of one request of `shape` on `model` ("model" or
// "provider/model", looked up with PriceBook::Find("", model)).
core::Result<CostBreakdown> ApiCostPerRequest(const PriceBook& book, std::string_view model,
                                              const RequestShape& shape);

// ---- Formatting for reports ----------------------------------------------
// "%g": 15220, 0.2, 3.99 (messages and assumptions).
std::string FormatNumber(double v);
// USD: "$1,234" from 1000 up, "$95.76" from 1, below that 4 significant digits in
// fixed notation without trailing zeros ("$0.00075", "$0.0003641").
std::string FormatUsd(double v);
// Rounded with thousands separators: 127680.4 -> "127,680".
std::string FormatCount(double v);
// Token volumes: "950", "12,345", "255.4 million", "1.23 billion".
std::string FormatTokens(double v);
// 0.2 -> "20.0%".
std::string FormatPercent(double share);

// gpu_hourly_usd x gpus x 24: one replica's GPUs for a day.
double GpuDailyCost(const SelfHostingAssumptions& a);
// ops_monthly_usd / 30 + training_usd / (horizon_months x 30).
double FixedDailyCost(const SelfHostingAssumptions& a);
// throughput x utilization x 86400 output tokens.
double ReplicaOutputTokensPerDay(const SelfHostingAssumptions& a);

// What a self-hosted deployment needs and costs at a daily volume.
struct SelfHostedDay {
  int64_t replicas = 0;  // max(1, ceil(output tokens per day / replica capacity))
  int64_t gpus = 0;      // replicas x gpus
  int64_t machines = 0;  // ceil(gpus / gpus_per_machine)
  double gpu_usd = 0;    // replicas x GpuDailyCost
  double fixed_usd = 0;  // FixedDailyCost
  double total_usd = 0;
};
SelfHostedDay SelfHostedCostPerDay(const SelfHostingAssumptions& a, double output_tokens_per_day);

}  // namespace switchyard::economics
