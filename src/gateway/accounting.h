// Accounting: what the gateway needs to know about money and tokens, without
// depending on the price book or the tokenizer (the composition root supplies
// an implementation: app/accounting.h).
#pragma once

#include <string_view>

#include "config/config.h"
#include "core/chat.h"

namespace switchyard::gateway {

class Accounting {
 public:
  virtual ~Accounting() = default;

  // Fills `usage` by counting tokens locally when the upstream reported none:
  // prompt tokens from the request, completion tokens from `completion_text`.
  // Sets usage.estimated. Called on the event loop; must be thread-safe.
  virtual void EstimateUsage(const core::ChatRequest& request, std::string_view model,
                             std::string_view completion_text, core::Usage& usage) const = 0;

  // Cost in USD of `usage` answered by `provider` with `model`; 0 (and
  // *priced = false) when no price is known.
  virtual double CostUsd(const config::ProviderConfig& provider, std::string_view model,
                         const core::Usage& usage, bool* priced) const = 0;
};

}  // namespace switchyard::gateway
