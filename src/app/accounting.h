// The composition root's Accounting: prices from the embedded price book (plus
// config overrides and self-hosted hourly pricing), token estimates from the
// BPE tokenizer.
//
// The tokenizers are loaded lazily: most upstreams report usage, so a gateway
// may never estimate. Each encoding's rank table (o200k_base ~5 MB, cl100k_base
// ~2.5 MB of heap once parsed) is built by the first EstimateUsage that needs
// it (a one-off of tens of ms on that request's event loop), exactly once
// (std::call_once); later calls cost one atomic check, no lock.
//
// Thread-safety: every const method may be called from any thread at once.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
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

  // Whether the tokenizer of `e` has been loaded (by an estimate) yet.
  bool tokenizer_loaded(tokenize::Encoding e) const {
    return Slot(e).loaded.load(std::memory_order_acquire);
  }

 private:
  // One encoding's tokenizer, built on first use.
  struct LazyTokenizer {
    std::once_flag once;
    std::atomic<bool> loaded{false};
    // Null if the embedded ranks failed to load (a build defect the tokenize
    // tests catch): estimates then leave usage as the upstream reported it.
    std::shared_ptr<const tokenize::Tokenizer> tokenizer;
  };
  LazyTokenizer& Slot(tokenize::Encoding e) const {
    return tokenizers_[e == tokenize::Encoding::kCl100kBase ? 1 : 0];
  }
  // The tokenizer of `e`, loading it on the first call; null if it failed to load.
  const tokenize::Tokenizer* GetTokenizer(tokenize::Encoding e) const;

  economics::PriceBook book_;
  mutable std::array<LazyTokenizer, 2> tokenizers_;
  // Owned providers with an hourly price: provider name -> priced.
  std::unordered_map<std::string, bool> self_hosted_;
};

}  // namespace switchyard::app
