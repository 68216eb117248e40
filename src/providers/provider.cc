#include "providers/provider.h"

#include <charconv>

#include <simdjson.h>

#include "providers/anthropic_provider.h"
#include "providers/internal.h"
#include "providers/openai_provider.h"
#include "providers/replay_provider.h"

namespace switchyard::providers {

core::Result<std::unique_ptr<Provider>> MakeProvider(const config::ProviderConfig& cfg) {
  if (cfg.kind == "replay") {
    auto replay = ReplayProvider::Create(cfg);
    if (!replay.ok()) return replay.take_status();
    return std::unique_ptr<Provider>(std::move(*replay));
  }
  auto url = http::Url::Parse(cfg.base_url);
  if (!url.ok()) {
    return core::InvalidArgument("provider '" + cfg.name +
                                 "': base_url: " + url.status().message());
  }
  if (cfg.kind == "openai") {
    return std::unique_ptr<Provider>(std::make_unique<OpenAiProvider>(cfg, std::move(*url)));
  }
  if (cfg.kind == "anthropic") {
    return std::unique_ptr<Provider>(std::make_unique<AnthropicProvider>(cfg, std::move(*url)));
  }
  return core::InvalidArgument("provider '" + cfg.name + "': unknown kind \"" + cfg.kind + "\"");
}

bool IsRetryable(const core::Status& status) {
  switch (status.code()) {
    case core::StatusCode::kUnavailable:
      // Connect errors and 5xx may pass; 501 Not Implemented and non-5xx
      // answers (401, 403, ...) will not get better by asking again.
      return status.upstream_status() == 0 ||
             (status.upstream_status() >= 500 && status.upstream_status() != 501);
    case core::StatusCode::kResourceExhausted:
      return true;
    case core::StatusCode::kDeadlineExceeded:
      // A connect timeout is a connect error (nothing reached the upstream);
      // a first-byte or total timeout is not retried (the upstream may be
      // working on it), only fallen back from.
      return status.error_code() == "connect_timeout";
    default:
      return false;
  }
}

namespace {
std::optional<int64_t> ParseInt(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}
}  // namespace

core::Status UpstreamHttpError(std::string_view provider, int http_status, std::string_view message,
                               std::string_view retry_after, std::string_view retry_after_ms) {
  std::string msg =
      "provider '" + std::string(provider) + "' answered HTTP " + std::to_string(http_status);
  if (!message.empty()) {
    msg += ": ";
    msg += message;
  }
  core::StatusCode code = core::StatusCode::kUnavailable;
  if (http_status == 429) {
    code = core::StatusCode::kResourceExhausted;
  } else if (http_status == 400 || http_status == 404 || http_status == 413 || http_status == 422) {
    code = core::StatusCode::kInvalidArgument;
  } else if (http_status == 408 || http_status == 504) {
    code = core::StatusCode::kDeadlineExceeded;
  }
  core::Status s(code, std::move(msg));
  s.set_upstream_status(http_status);
  if (auto ms = ParseInt(retry_after_ms)) {
    s.set_retry_after(std::chrono::milliseconds(*ms));
  } else if (auto secs = ParseInt(retry_after)) {
    s.set_retry_after(std::chrono::milliseconds(*secs * 1000));
  }
  return s;
}

core::Status NameProvider(std::string_view provider, const core::Status& s) {
  core::Status out(s.code(), "provider '" + std::string(provider) + "': " + s.message());
  out.set_upstream_status(s.upstream_status());
  out.set_error_code(s.error_code());
  out.set_param(s.param());
  if (s.retry_after()) out.set_retry_after(*s.retry_after());
  return out;
}

http::awaitable<core::Result<http::UpstreamResponse>> SendToUpstream(
    const config::ProviderConfig& cfg, const http::Url& url, std::string_view target,
    const http::HeaderList& headers, std::string_view body, const CallContext& ctx) {
  http::UpstreamRequest up;
  up.origin = &url.origin;
  up.target = target;
  up.headers = &headers;
  up.body = body;
  up.connect_timeout = std::chrono::milliseconds(cfg.connect_timeout_ms);
  up.first_byte_timeout = std::chrono::milliseconds(cfg.first_byte_timeout_ms);
  up.total_timeout = std::chrono::milliseconds(cfg.total_timeout_ms);
  if (ctx.on_send) ctx.on_send(body);
  auto resp = co_await ctx.client->Send(up, ctx.cancel);
  if (!resp.ok()) co_return NameProvider(cfg.name, resp.status());
  const int status = resp->status();
  if (status < 200 || status >= 300) {
    auto err_body = co_await resp->ReadAll(kMaxErrorBody);
    co_return UpstreamHttpError(cfg.name, status,
                                err_body.ok() ? ExtractErrorMessage(*err_body) : "",
                                resp->Header("retry-after"), resp->Header("retry-after-ms"));
  }
  co_return resp;
}

std::string ExtractErrorMessage(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) {
    std::string_view trimmed = body.substr(0, 200);
    return std::string(trimmed);
  }
  std::string_view msg;
  if (!doc.at_pointer("/error/message").get(msg)) return std::string(msg);
  if (!doc.at_pointer("/error").get(msg)) return std::string(msg);
  if (!doc.at_pointer("/message").get(msg)) return std::string(msg);
  return std::string(body.substr(0, 200));
}

}  // namespace switchyard::providers
