// Provider: one adapter per wire format. Vendor JSON never leaves an adapter:
// callers hand in a core::ChatRequest (plus the client's original body for
// pass-through) and get back OpenAI-shaped output.
//
// Threading: Chat() runs on the request's event loop and uses that loop's
// UpstreamClient. Implementations hold only immutable configuration, so one
// instance serves every loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "config/config.h"
#include "core/chat.h"
#include "core/status.h"
#include "http/asio.h"
#include "http/cancel.h"
#include "http/client.h"
#include "http/stream_flush.h"

namespace simdjson::dom {
class parser;
}

namespace switchyard::providers {

class AnswerReader;  // openai_provider.h

// A non-owning reference to a callable taking the body about to be sent: a
// function pointer and the object it calls, so setting a hook allocates
// nothing (a std::function holding a lambda with three captures does).
// Empty by default. The referenced callable must outlive every call.
class SendHook {
 public:
  SendHook() = default;
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, SendHook> &&
           std::is_invocable_v<F&, std::string_view>) explicit SendHook(F& f)
      : call_([](void* obj, std::string_view body) { (*static_cast<F*>(obj))(body); }),
        obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))) {}

  explicit operator bool() const { return call_ != nullptr; }
  void operator()(std::string_view body) const { call_(obj_, body); }

 private:
  void (*call_)(void*, std::string_view) = nullptr;
  void* obj_ = nullptr;
};

struct CallContext {
  const core::ChatRequest* request = nullptr;
  std::string_view raw_body;        // the client's OpenAI JSON, for pass-through
  std::string_view upstream_model;  // the model name the upstream knows
  http::UpstreamClient* client = nullptr;
  http::CancelToken* cancel = nullptr;  // fires when the client goes away
  std::string_view request_id;          // "chatcmpl-…" used for generated ids
  int64_t created = 0;                  // unix seconds, for generated objects
  // The loop's reusable DOM parser for answers (null: adapters use their own).
  simdjson::dom::parser* json = nullptr;
  // The loop's on-demand reader for whole (non-streamed) OpenAI answers
  // (null: the DOM parser above is used).
  AnswerReader* answers = nullptr;
  // Called with the exact request body just before it is sent upstream (once
  // per attempt that reaches the network); the egress audit hashes it. May be
  // empty; the callable must outlive the call.
  SendHook on_send;
};

// Where a streamed answer goes. BeginStream() sends the response head: from
// then on the request can no longer be retried or sent elsewhere.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual http::awaitable<bool> BeginStream() = 0;
  // OpenAI-format SSE bytes (whole events). False when the client is gone.
  // kWithNext: the caller writes again (or the stream ends) without waiting
  // on the network first, so the bytes may go out with the next write.
  virtual http::awaitable<bool> Write(std::string_view sse_bytes, http::StreamFlush flush) = 0;
  virtual bool started() const = 0;
};

struct ChatResult {
  std::string body;       // non-streamed: the chat.completion JSON for the client
  bool streamed = false;  // the answer went out through the StreamSink
  core::Usage usage;
  std::string finish_reason;
  std::string model;  // the model the upstream says answered
  // The answer's text, filled only when the upstream reported no usage, so
  // the caller can count tokens itself.
  std::string completion_text;
};

// Failures are Statuses with upstream detail:
//   Unavailable        connect/TLS/reset/5xx/malformed answer (retryable)
//   ResourceExhausted  upstream 429, retry_after() when it said (retryable)
//   DeadlineExceeded   connect/first-byte/total timeout
//   InvalidArgument    the upstream rejected the request (400/404/422): not retried
//   Cancelled          the client went away
class Provider {
 public:
  virtual ~Provider() = default;
  virtual const config::ProviderConfig& config() const = 0;
  virtual http::awaitable<core::Result<ChatResult>> Chat(const CallContext& ctx,
                                                         StreamSink& sink) = 0;
};

// Builds the adapter for `cfg.kind`; InvalidArgument for an unknown kind or a
// bad base_url.
core::Result<std::unique_ptr<Provider>> MakeProvider(const config::ProviderConfig& cfg);

// True when a failed attempt may be repeated on the same target.
bool IsRetryable(const core::Status& status);

// Maps an upstream's non-2xx answer to a Status naming the provider. `message`
// is what the upstream said (may be empty).
core::Status UpstreamHttpError(std::string_view provider, int http_status, std::string_view message,
                               std::string_view retry_after, std::string_view retry_after_ms);

}  // namespace switchyard::providers
