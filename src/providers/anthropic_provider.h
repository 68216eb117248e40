// The "anthropic" kind: the Messages API, translated both ways (api/anthropic.h).
#pragma once

#include <string>

#include "http/url.h"
#include "providers/provider.h"

namespace switchyard::providers {

class AnthropicProvider final : public Provider {
 public:
  AnthropicProvider(config::ProviderConfig cfg, http::Url url);
  const config::ProviderConfig& config() const override { return cfg_; }
  http::awaitable<core::Result<ChatResult>> Chat(const CallContext& ctx, StreamSink& sink) override;

 private:
  config::ProviderConfig cfg_;
  http::Url url_;
  std::string messages_target_;
  http::HeaderList headers_;
};

}  // namespace switchyard::providers
