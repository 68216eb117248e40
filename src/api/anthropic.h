// Anthropic Messages API <-> internal chat model, both directions.
//
// The gateway speaks OpenAI to clients; when the chosen upstream is Anthropic the
// provider adapter builds the upstream body with BuildAnthropicRequest, turns a
// JSON answer into a core::ChatResponse with ParseAnthropicResponse, maps error
// bodies with AnthropicErrorToStatus and converts a streamed answer into OpenAI
// chunk frames with AnthropicStreamTranslator.
//
// Free functions are pure and thread-safe. A translator belongs to one stream and
// one thread at a time. No function throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/sse.h"
#include "core/chat.h"
#include "core/status.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace switchyard::api {

// The Messages API request body for `req`, with "model" set to upstream_model.
//
// system/developer messages become the top-level "system" string (joined with
// "\n\n"); user and assistant messages keep their role, consecutive messages of
// one role are merged (Anthropic requires alternation); tool messages become
// user messages holding a tool_result block (placed before any text of the
// merged message); assistant tool_calls become tool_use blocks. Content is a
// string for a lone plain-text message and an array of blocks otherwise.
// max_tokens falls back to default_max_tokens. tool_choice "none" drops the tools
// unless the conversation already holds tool calls, in which case the tools are
// kept with {"type":"none"} (Anthropic rejects tool blocks without tools).
//
// Errors (kInvalidArgument, param set to the field path):
//   "messages: Anthropic requires at least one user or assistant message"
//   "messages[i].role: \"<role>\" is not supported by Anthropic"
//   "messages[i].tool_call_id: required for role \"tool\""
//   "messages[i].tool_calls[j].function.arguments: not a JSON object"
//   "messages[i].content[j]: content part \"<type>\" is not supported by Anthropic"
//   "messages[i].content[j].image_url: data URL must be base64-encoded"
//   "messages[i].content[j].image_url: data URL has no media type"
//   "messages[i].content[j].image_url: expected an http(s) or data URL"
//   "tools: expected an array of tools"
//   "tools[i]: only function tools are supported by Anthropic"
//   "tools[i].function.name: required"
//   "tool_choice: unsupported value"
core::Result<std::string> BuildAnthropicRequest(const core::ChatRequest& req,
                                                std::string_view upstream_model,
                                                int64_t default_max_tokens);

// A Messages API JSON answer as a ChatResponse. Text blocks are concatenated
// into content; tool_use blocks become tool_calls (arguments = compact JSON of
// "input"); content is null when there is no text but there are tool calls;
// thinking and other blocks are skipped. created is 0 (the caller sets it).
// Errors: kUnavailable "anthropic: malformed response: <detail>".
core::Result<core::ChatResponse> ParseAnthropicResponse(std::string_view body);

// Maps an Anthropic stop_reason to an OpenAI finish_reason: end_turn,
// stop_sequence, pause_turn -> stop; max_tokens -> length; tool_use ->
// tool_calls; refusal -> content_filter; anything else -> stop.
std::string_view MapAnthropicStopReason(std::string_view stop_reason);

// The Status for a non-2xx Anthropic answer: message "anthropic: <error.message>"
// ("anthropic: HTTP <status>[: <start of body>]" when the body has none), code by
// HTTP status (400 and other 4xx -> InvalidArgument, 401 -> Unauthenticated,
// 403 -> PermissionDenied, 404 -> NotFound, 413 -> PayloadTooLarge,
// 429 -> ResourceExhausted, 5xx/529 and anything else -> Unavailable) and
// upstream_status() = http_status.
core::Status AnthropicErrorToStatus(int http_status, std::string_view body);

// Converts the raw bytes of an Anthropic event stream into OpenAI
// chat.completion.chunk SSE frames:
//   message_start        -> role chunk (message.id replaces id_fallback)
//   text deltas          -> content chunks
//   tool_use start/delta -> tool_call chunks (index counts tool blocks from 0)
//   message_delta        -> finish chunk (mapped stop_reason)
//   message_stop         -> usage chunk (when include_usage), then [DONE]
//   ping, thinking blocks, unknown events -> nothing
// Chunks carry the `model` and `created` given here. Bytes after message_stop
// are ignored.
//
// Errors from Feed (all kUnavailable; frames produced before the failure stay in
// `out`; the translator then stays failed and returns the same error):
//   "anthropic: <error.message>"              an `error` event
//   "anthropic: malformed stream event: <detail>"
//   "anthropic: SSE line exceeds <n> bytes"    (and other SseParser errors)
class AnthropicStreamTranslator {
 public:
  AnthropicStreamTranslator(std::string id_fallback, std::string model, int64_t created,
                            bool include_usage);
  ~AnthropicStreamTranslator();
  AnthropicStreamTranslator(AnthropicStreamTranslator&&) noexcept;
  AnthropicStreamTranslator& operator=(AnthropicStreamTranslator&&) noexcept;

  // Appends the OpenAI frames completed by `raw_upstream_bytes` to `out`.
  core::Status Feed(std::string_view raw_upstream_bytes, std::string& out);

  // True once message_stop was translated ([DONE] written).
  bool done() const { return done_; }
  // prompt = input + cache read + cache creation (message_start, or a later
  // message_delta that repeats them); completion = message_delta output_tokens.
  const core::Usage& usage() const { return usage_; }
  // The OpenAI finish_reason sent, "" until message_delta (or message_stop).
  const std::string& finish_reason() const { return finish_reason_; }
  // The chunk id in use: message.id from message_start, else id_fallback.
  const std::string& id() const { return id_; }

 private:
  core::Status HandleEvent(const SseEvent& event, std::string& out);
  void EnsureRole(std::string& out);
  void EmitFinish(std::string& out, std::string_view reason);

  std::string id_;
  std::string model_;
  int64_t created_;
  bool include_usage_;

  SseParser sse_;
  std::vector<SseEvent> events_;
  std::unique_ptr<simdjson::dom::parser> parser_;

  bool role_sent_ = false;
  bool finish_sent_ = false;
  bool done_ = false;
  // (Anthropic content-block index, OpenAI tool_calls index) per tool_use block.
  std::vector<std::pair<int64_t, int>> tool_blocks_;
  int tool_count_ = 0;
  int64_t input_tokens_ = 0;
  int64_t cache_read_tokens_ = 0;
  int64_t cache_creation_tokens_ = 0;
  core::Usage usage_;
  std::string finish_reason_;
  core::Status error_;
};

}  // namespace switchyard::api
