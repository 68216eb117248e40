#include "app/accounting.h"

#include "economics/self_hosted_price.h"

namespace switchyard::app {

core::Result<std::unique_ptr<PriceAccounting>> PriceAccounting::Create(
    const config::Config& config) {
  auto book = economics::PriceBook::Embedded();
  if (!book.ok()) return book.take_status();
  auto acc = std::make_unique<PriceAccounting>();
  acc->book_ = std::move(*book);
  for (const auto& p : config.prices) {
    economics::ModelPrice mp;
    mp.provider = p.provider;
    mp.id = p.model;
    mp.input = p.input < 0 ? 0 : p.input;
    mp.output = p.output < 0 ? 0 : p.output;
    mp.cached_input = p.cached_input;
    mp.cache_write = p.cache_write;
    acc->book_.Override(std::move(mp));
  }
  for (const auto& p : config.providers) {
    if (p.hourly_cost_usd <= 0) continue;
    economics::SelfHostedPrice shp;
    shp.hourly_cost_usd = p.hourly_cost_usd;
    shp.gpus = p.gpus;
    shp.output_tokens_per_second = p.output_tokens_per_second;
    shp.input_tokens_per_second = p.input_tokens_per_second;
    shp.utilization = p.utilization;
    if (auto s = economics::ValidateSelfHostedPrice(shp); !s.ok()) {
      return core::InvalidArgument("provider '" + p.name + "': " + s.message());
    }
    acc->self_hosted_[p.name] = true;
    // One price for every model of the deployment: the provider name is the
    // price-book provider, and "*" stands for any model (see CostUsd).
    acc->book_.Override(economics::SelfHostedModelPrice("selfhosted:" + p.name, "*", shp));
  }
  return acc;
}

const tokenize::Tokenizer* PriceAccounting::GetTokenizer(tokenize::Encoding e) const {
  LazyTokenizer& slot = Slot(e);
  std::call_once(slot.once, [&] {
    auto loaded = tokenize::Tokenizer::Load(e);
    if (loaded.ok()) slot.tokenizer = std::move(*loaded);
    slot.loaded.store(true, std::memory_order_release);
  });
  return slot.tokenizer.get();
}

void PriceAccounting::EstimateUsage(const core::ChatRequest& request, std::string_view model,
                                    std::string_view completion_text, core::Usage& usage) const {
  const tokenize::Tokenizer* tokenizer = GetTokenizer(tokenize::EncodingForModel(model));
  if (tokenizer == nullptr) return;
  const tokenize::Tokenizer& t = *tokenizer;
  usage.prompt_tokens = tokenize::CountChatPromptTokens(t, request);
  usage.completion_tokens = static_cast<int64_t>(t.Count(completion_text));
  usage.cached_prompt_tokens = 0;
  usage.cache_write_tokens = 0;
  usage.reasoning_tokens = 0;
  usage.estimated = true;
}

double PriceAccounting::CostUsd(const config::ProviderConfig& provider, std::string_view model,
                                const core::Usage& usage, bool* priced) const {
  economics::CostBreakdown cost;
  if (self_hosted_.count(provider.name) != 0) {
    cost = book_.CostFigures("selfhosted:" + provider.name, "*", usage);
  } else if (provider.owned) {
    cost = {};  // owned, no hourly price configured: unpriced, never an API list price
  } else if (!provider.price_as.empty()) {
    const size_t slash = provider.price_as.find('/');
    cost = book_.CostFigures(std::string_view(provider.price_as).substr(0, slash),
                             std::string_view(provider.price_as).substr(slash + 1), usage);
  } else {
    cost = book_.CostFigures(provider.name, model, usage);
  }
  if (priced != nullptr) *priced = cost.priced;
  return cost.total_usd;
}

}  // namespace switchyard::app
