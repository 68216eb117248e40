#include "providers/anthropic_provider.h"

#include "api/anthropic.h"
#include "api/openai_write.h"
#include "providers/internal.h"

namespace switchyard::providers {

AnthropicProvider::AnthropicProvider(config::ProviderConfig cfg, http::Url url)
    : cfg_(std::move(cfg)), url_(std::move(url)) {
  messages_target_ = url_.path + "/messages";
  if (!cfg_.api_key.empty()) headers_.emplace_back("x-api-key", cfg_.api_key);
  headers_.emplace_back("anthropic-version", cfg_.anthropic_version);
  for (const auto& [k, v] : cfg_.headers) headers_.emplace_back(k, v);
}

http::awaitable<core::Result<ChatResult>> AnthropicProvider::Chat(const CallContext& ctx,
                                                                  StreamSink& sink) {
  const core::ChatRequest& req = *ctx.request;
  auto body = api::BuildAnthropicRequest(req, ctx.upstream_model, cfg_.default_max_tokens);
  if (!body.ok()) co_return NameProvider(cfg_.name, body.status());

  auto resp = co_await SendToUpstream(cfg_, url_, messages_target_, headers_, *body, ctx);
  if (!resp.ok()) co_return resp.take_status();

  ChatResult result;
  if (!req.stream) {
    auto all = co_await resp->ReadAll(kMaxUpstreamBody);
    if (!all.ok()) co_return NameProvider(cfg_.name, all.status());
    auto parsed = api::ParseAnthropicResponse(*all);
    if (!parsed.ok()) co_return NameProvider(cfg_.name, parsed.status());
    parsed->created = ctx.created;
    if (parsed->id.empty()) parsed->id = std::string(ctx.request_id);
    result.body = api::WriteChatCompletion(*parsed);
    result.usage = parsed->usage;
    result.finish_reason = parsed->finish_reason;
    result.model = parsed->model;
    co_return result;
  }

  if (!co_await sink.BeginStream()) co_return core::Cancelled("client went away");
  api::AnthropicStreamTranslator translator(
      std::string(ctx.request_id), std::string(ctx.upstream_model), ctx.created, req.include_usage);
  std::string out;
  for (;;) {
    auto piece = co_await resp->ReadSome();
    if (!piece.ok()) co_return NameProvider(cfg_.name, piece.status());
    if (piece->empty()) break;
    out.clear();
    core::Status fed = translator.Feed(*piece, out);
    // The last piece goes out with the end of the stream, in one write.
    const auto flush =
        resp->done() || translator.done() ? http::StreamFlush::kWithNext : http::StreamFlush::kNow;
    if (!out.empty() && !co_await sink.Write(out, flush)) {
      co_return core::Cancelled("client went away");
    }
    if (!fed.ok()) co_return NameProvider(cfg_.name, fed);
    if (translator.done()) break;
  }
  if (!translator.done()) {
    co_return NameProvider(cfg_.name, core::Unavailable("stream ended before message_stop"));
  }
  result.streamed = true;
  result.usage = translator.usage();
  result.finish_reason = translator.finish_reason();
  result.model = std::string(ctx.upstream_model);
  co_return result;
}

}  // namespace switchyard::providers
