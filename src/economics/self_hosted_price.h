// Self-hosted pricing: turns what a GPU deployment costs per hour and what it
// measurably serves into USD per million tokens, comparable with an API's price.
//
//   cost per second (USD/s)      = hourly_cost_usd x gpus / 3600
//   output USD per million       = cost per second / (output_tokens_per_second x utilization) x 1e6
//   input USD per million        = cost per second / (input_tokens_per_second x utilization) x 1e6,
//                                  or 0 when input_tokens_per_second is 0
//
// Throughputs are the whole deployment's measured tokens per second (all GPUs,
// at the concurrency it runs). Utilization is the share of paid hours spent
// serving (idle time is paid for too, so it raises the price per token).
// input_tokens_per_second = 0 treats input as free: prefill runs 10-100x faster
// than decoding, and an output throughput measured under real traffic already
// includes the prefill time, so adding an input price would count it twice. Give a
// measured prefill throughput instead to charge input separately; then
// output_tokens_per_second should be the pure decode rate.
// A request's cost is then input x input price + output x output price, i.e. the
// GPU-seconds it occupied times the cost per second.
//
// Thread-safety: pure functions. Errors: ValidateSelfHostedPrice returns
// InvalidArgument naming the bad field; the other functions require a valid price
// and return 0 for an invalid one.
#pragma once

#include <string_view>

#include "core/status.h"
#include "economics/price_book.h"

namespace switchyard::economics {

struct SelfHostedPrice {
  double hourly_cost_usd = 0;           // per GPU-hour, USD
  int gpus = 1;                         // GPUs the deployment pays for
  double output_tokens_per_second = 0;  // measured generation throughput, whole deployment
  double input_tokens_per_second = 0;   // measured prefill throughput; 0 = input free (see above)
  double utilization = 1.0;             // (0, 1]: share of paid time spent serving
};

// Ok, or InvalidArgument: "hourly_cost_usd must be >= 0", "gpus must be >= 1",
// "output_tokens_per_second must be > 0", "input_tokens_per_second must be >= 0",
// "utilization must be in (0, 1]".
core::Status ValidateSelfHostedPrice(const SelfHostedPrice& p);

// USD per second of the deployment.
double SelfHostedCostPerSecond(const SelfHostedPrice& p);
// USD per million output tokens.
double SelfHostedCostPerMillionOutput(const SelfHostedPrice& p);
// USD per million input tokens (0 when input_tokens_per_second is 0).
double SelfHostedCostPerMillionInput(const SelfHostedPrice& p);

// A ModelPrice with those per-million prices (cached input at 0: a prefix-cache
// hit skips prefill), to add with PriceBook::Override() so the self-hosted model
// is priced by PriceBook::Cost() like any API model.
ModelPrice SelfHostedModelPrice(std::string_view provider, std::string_view model,
                                const SelfHostedPrice& p);

}  // namespace switchyard::economics
