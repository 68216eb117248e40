// The internal model of a chat request and its answer, independent of any wire
// format. api/ converts OpenAI and Anthropic JSON to and from these types;
// providers and routing only ever see these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::core {

struct ContentPart {
  enum class Kind { kText, kImageUrl, kOther };
  Kind kind = Kind::kText;
  std::string text;      // kText
  std::string url;       // kImageUrl: http(s) or data: URL
  std::string raw_json;  // kOther: the part as sent, for pass-through
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the model produced it
};

struct Message {
  std::string role;  // system | developer | user | assistant | tool
  // Text content. When the message used the array form, `parts` holds every
  // part and `content` is the concatenation of the text parts.
  std::string content;
  std::vector<ContentPart> parts;
  bool content_is_null = false;  // assistant message with only tool calls
  std::string name;
  std::string tool_call_id;  // role == tool
  std::vector<ToolCall> tool_calls;
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop;
  std::string tools_json;        // raw "tools" array when present
  std::string tool_choice_json;  // raw "tool_choice" when present
  std::string user;

  // Byte span of the "model" string value (quotes included) in the original
  // body, so the proxy can rewrite the model name without re-serialising.
  size_t model_value_offset = 0;
  size_t model_value_length = 0;
  bool has_stream_options = false;

  // The text of the last user message (what students and routers read).
  std::string_view LastUserText() const;
};

struct Usage {
  int64_t prompt_tokens = 0;         // all input tokens, cached ones included
  int64_t completion_tokens = 0;     // all output tokens, reasoning included
  int64_t cached_prompt_tokens = 0;  // input read from the provider's cache
  int64_t cache_write_tokens = 0;    // input written to the provider's cache
  int64_t reasoning_tokens = 0;      // part of completion_tokens
  bool present = false;              // the upstream reported usage
  bool estimated = false;            // counted locally because the upstream did not
};

struct ChatResponse {
  std::string id;
  std::string model;
  int64_t created = 0;
  std::string content;
  bool content_is_null = false;
  std::string finish_reason;  // stop | length | tool_calls | content_filter
  std::vector<ToolCall> tool_calls;
  Usage usage;
};

}  // namespace switchyard::core
