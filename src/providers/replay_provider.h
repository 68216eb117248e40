// The "replay" kind: a recorded teacher. Answers each request with the
// response recorded for its input (the last user message) in a trace file —
// CSV with a header row, or JSONL — after a configurable latency. An input
// that is not in the trace is NotFound (404, code "replay_miss"). It serves
// demos, counterfactual analysis and tests; it is a recorded teacher, nothing
// more. It reports no usage: the gateway counts tokens and prices the answer
// as the model named by `price_as`.
#pragma once

#include <string>
#include <unordered_map>

#include "providers/provider.h"

namespace switchyard::providers {

class ReplayProvider final : public Provider {
 public:
  // Loads the trace. Errors: InvalidArgument naming the file and the problem
  // (unreadable, missing column/field, malformed line, no rows).
  static core::Result<std::unique_ptr<ReplayProvider>> Create(const config::ProviderConfig& cfg);

  const config::ProviderConfig& config() const override { return cfg_; }
  http::awaitable<core::Result<ChatResult>> Chat(const CallContext& ctx, StreamSink& sink) override;

  size_t size() const { return answers_.size(); }
  // The recorded answer for `input` (whitespace-trimmed), or nullptr.
  const std::string* Find(std::string_view input) const;

 private:
  explicit ReplayProvider(config::ProviderConfig cfg) : cfg_(std::move(cfg)) {}
  config::ProviderConfig cfg_;
  std::unordered_map<std::string, std::string> answers_;
};

}  // namespace switchyard::providers
