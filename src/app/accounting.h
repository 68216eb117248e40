// The composition root's Accounting: prices from the embedded price book (plus
// config overrides and self-hosted hourly pricing), token estimates from the
// BPE tokenizer.
#pragma once

#include <memory>
#include <unordered_map>

#include "config/config.h"
#include "economics/price_book.h"
#include "gateway/accounting.h"
#include "tokenize/bpe.h"

namespace switchyard::app {

class PriceAccounting final : public gateway::Accounting {
 public:
  // Loads the embedded price book, applies config overrides and the
  // self-hosted prices of owned providers. Errors: InvalidArgument naming the
  // bad price.
  static core::Result<std::unique_ptr<PriceAccounting>> Create(const config::Config& config);

  void EstimateUsage(const core::ChatRequest& request, std::string_view model,
                     std::string_view completion_text, core::Usage& usage) const override;
  double CostUsd(const config::ProviderConfig& provider, std::string_view model,
                 const core::Usage& usage, bool* priced) const override;

  const economics::PriceBook& price_book() const { return book_; }

 private:
  economics::PriceBook book_;
  std::shared_ptr<const tokenize::Tokenizer> o200k_;
  std::shared_ptr<const tokenize::Tokenizer> cl100k_;
  // Owned providers with an hourly price: provider name -> priced.
  std::unordered_map<std::string, bool> self_hosted_;
};

}  // namespace switchyard::app
