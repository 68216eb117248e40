#include "api/anthropic.h"

#include <simdjson.h>

#include <algorithm>
#include <utility>

#include "api/openai_write.h"
#include "core/json_writer.h"

namespace switchyard::api {
namespace {

namespace dom = simdjson::dom;
using core::JsonWriter;

// ---- DOM access: a missing or mistyped member reads as absent. ----

bool Member(dom::element el, std::string_view key, dom::element& out) {
  dom::object obj;
  if (el.get(obj) != simdjson::SUCCESS) return false;
  return obj.at_key(key).get(out) == simdjson::SUCCESS;
}

std::string_view StringMember(dom::element el, std::string_view key) {
  dom::element v;
  std::string_view s;
  if (!Member(el, key, v) || v.get(s) != simdjson::SUCCESS) return {};
  return s;
}

bool IntMember(dom::element el, std::string_view key, int64_t& out) {
  dom::element v;
  return Member(el, key, v) && v.get(out) == simdjson::SUCCESS;
}

std::string_view TrimWhitespace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

core::Status Invalid(std::string path, std::string_view what) {
  core::Status status = core::InvalidArgument(path + ": " + std::string(what));
  status.set_param(std::move(path));
  return status;
}

// ---- Request ----

struct Block {
  bool tool_result = false;
  std::string json;
};

struct OutMessage {
  std::string role;    // user | assistant
  bool plain = false;  // a lone plain-text message: content is the string `text`
  std::string text;
  std::vector<Block> blocks;
};

Block TextBlock(std::string_view text) {
  Block b;
  JsonWriter(b.json).BeginObject().Field("type", "text").Field("text", text).EndObject();
  return b;
}

core::Result<Block> ImageBlock(std::string_view url, const std::string& path) {
  Block b;
  JsonWriter w(b.json);
  if (StartsWithNoCase(url, "data:")) {
    const std::string_view rest = url.substr(5);
    const size_t comma = rest.find(',');
    const std::string_view header = rest.substr(0, comma);
    constexpr std::string_view kBase64 = ";base64";
    if (comma == std::string_view::npos || header.size() < kBase64.size() ||
        !StartsWithNoCase(header.substr(header.size() - kBase64.size()), kBase64)) {
      return Invalid(path + ".image_url", "data URL must be base64-encoded");
    }
    const std::string_view media_type = header.substr(0, header.find(';'));
    if (media_type.empty()) return Invalid(path + ".image_url", "data URL has no media type");
    w.BeginObject()
        .Field("type", "image")
        .Key("source")
        .BeginObject()
        .Field("type", "base64")
        .Field("media_type", media_type)
        .Field("data", rest.substr(comma + 1))
        .EndObject()
        .EndObject();
    return b;
  }
  if (StartsWithNoCase(url, "http://") || StartsWithNoCase(url, "https://")) {
    w.BeginObject()
        .Field("type", "image")
        .Key("source")
        .BeginObject()
        .Field("type", "url")
        .Field("url", url)
        .EndObject()
        .EndObject();
    return b;
  }
  return Invalid(path + ".image_url", "expected an http(s) or data URL");
}

core::Result<Block> ToolUseBlock(dom::parser& parser, const core::ToolCall& call,
                                 const std::string& path) {
  std::string_view input = TrimWhitespace(call.arguments);
  if (input.empty()) {
    input = "{}";
  } else {
    dom::element doc;
    if (parser.parse(input.data(), input.size()).get(doc) != simdjson::SUCCESS ||
        !doc.is_object()) {
      return Invalid(path + ".function.arguments", "not a JSON object");
    }
  }
  Block b;
  JsonWriter(b.json)
      .BeginObject()
      .Field("type", "tool_use")
      .Field("id", call.id)
      .Field("name", call.name)
      .Key("input")
      .Raw(input)
      .EndObject();
  return b;
}

Block ToolResultBlock(const core::Message& m) {
  Block b;
  b.tool_result = true;
  JsonWriter w(b.json);
  w.BeginObject().Field("type", "tool_result").Field("tool_use_id", m.tool_call_id);
  if (!m.content.empty()) w.Field("content", m.content);
  w.EndObject();
  return b;
}

std::string PartType(dom::parser& parser, const std::string& raw_json) {
  dom::element doc;
  if (parser.parse(raw_json.data(), raw_json.size()).get(doc) != simdjson::SUCCESS) return {};
  return std::string(StringMember(doc, "type"));
}

// Converts one user/assistant/tool message into `m`.
core::Status ConvertMessage(dom::parser& parser, const core::Message& msg, size_t i,
                            OutMessage& m) {
  const std::string path = "messages[" + std::to_string(i) + "]";
  m.role = msg.role == "assistant" ? "assistant" : "user";
  if (msg.role == "tool") {
    if (msg.tool_call_id.empty())
      return Invalid(path + ".tool_call_id", "required for role \"tool\"");
    m.blocks.push_back(ToolResultBlock(msg));
    return core::Status::Ok();
  }
  if (msg.parts.empty() && msg.tool_calls.empty()) {
    m.plain = true;
    m.text = msg.content;
    if (!msg.content.empty()) m.blocks.push_back(TextBlock(msg.content));
    return core::Status::Ok();
  }
  if (msg.parts.empty()) {
    if (!msg.content_is_null && !msg.content.empty()) m.blocks.push_back(TextBlock(msg.content));
  }
  for (size_t j = 0; j < msg.parts.size(); ++j) {
    const core::ContentPart& part = msg.parts[j];
    const std::string part_path = path + ".content[" + std::to_string(j) + "]";
    switch (part.kind) {
      case core::ContentPart::Kind::kText:
        if (!part.text.empty()) m.blocks.push_back(TextBlock(part.text));
        break;
      case core::ContentPart::Kind::kImageUrl: {
        core::Result<Block> image = ImageBlock(part.url, part_path);
        if (!image.ok()) return image.take_status();
        m.blocks.push_back(std::move(image).value());
        break;
      }
      case core::ContentPart::Kind::kOther:
        return Invalid(part_path, "content part \"" + PartType(parser, part.raw_json) +
                                      "\" is not supported by Anthropic");
    }
  }
  for (size_t k = 0; k < msg.tool_calls.size(); ++k) {
    core::Result<Block> use =
        ToolUseBlock(parser, msg.tool_calls[k], path + ".tool_calls[" + std::to_string(k) + "]");
    if (!use.ok()) return use.take_status();
    m.blocks.push_back(std::move(use).value());
  }
  return core::Status::Ok();
}

// OpenAI "tools" -> Anthropic "tools" array text ("" when there are none).
core::Result<std::string> ConvertTools(dom::parser& parser, std::string_view tools_json) {
  if (TrimWhitespace(tools_json).empty()) return std::string();
  dom::element doc;
  dom::array tools;
  if (parser.parse(tools_json.data(), tools_json.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(tools) != simdjson::SUCCESS) {
    return Invalid("tools", "expected an array of tools");
  }
  if (tools.size() == 0) return std::string();
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  size_t i = 0;
  for (dom::element tool : tools) {
    const std::string path = "tools[" + std::to_string(i++) + "]";
    dom::element function;
    if (StringMember(tool, "type") != "function" || !Member(tool, "function", function) ||
        !function.is_object()) {
      return Invalid(path, "only function tools are supported by Anthropic");
    }
    const std::string_view name = StringMember(function, "name");
    if (name.empty()) return Invalid(path + ".function.name", "required");
    w.BeginObject().Field("name", name);
    dom::element description;
    if (Member(function, "description", description) && description.is_string()) {
      w.Field("description", StringMember(function, "description"));
    }
    w.Key("input_schema");
    dom::element parameters;
    if (Member(function, "parameters", parameters) && parameters.is_object()) {
      w.Raw(simdjson::to_string(parameters));
    } else {
      w.Raw(R"({"type":"object","properties":{}})");
    }
    w.EndObject();
  }
  w.EndArray();
  return out;
}

struct ToolChoice {
  enum class Kind { kAbsent, kNone, kAuto, kAny, kTool };
  Kind kind = Kind::kAbsent;
  std::string name;
};

core::Result<ToolChoice> ConvertToolChoice(dom::parser& parser, std::string_view json) {
  ToolChoice choice;
  if (TrimWhitespace(json).empty()) return choice;
  dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Invalid("tool_choice", "unsupported value");
  }
  std::string_view s;
  if (doc.get(s) == simdjson::SUCCESS) {
    if (s == "none") {
      choice.kind = ToolChoice::Kind::kNone;
    } else if (s == "auto") {
      choice.kind = ToolChoice::Kind::kAuto;
    } else if (s == "required") {
      choice.kind = ToolChoice::Kind::kAny;
    } else {
      return Invalid("tool_choice", "unsupported value");
    }
    return choice;
  }
  dom::element function;
  if (StringMember(doc, "type") == "function" && Member(doc, "function", function) &&
      !StringMember(function, "name").empty()) {
    choice.kind = ToolChoice::Kind::kTool;
    choice.name = std::string(StringMember(function, "name"));
    return choice;
  }
  return Invalid("tool_choice", "unsupported value");
}

core::Status Malformed(std::string_view detail) {
  return core::Unavailable("anthropic: malformed response: " + std::string(detail));
}

}  // namespace

core::Result<std::string> BuildAnthropicRequest(const core::ChatRequest& req,
                                                std::string_view upstream_model,
                                                int64_t default_max_tokens) {
  dom::parser parser;
  std::string system;
  std::vector<OutMessage> messages;
  bool has_tool_history = false;
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const core::Message& msg = req.messages[i];
    if (msg.role == "system" || msg.role == "developer") {
      if (msg.content.empty()) continue;
      if (!system.empty()) system.append("\n\n");
      system.append(msg.content);
      continue;
    }
    if (msg.role != "user" && msg.role != "assistant" && msg.role != "tool") {
      return Invalid("messages[" + std::to_string(i) + "].role",
                     "\"" + msg.role + "\" is not supported by Anthropic");
    }
    has_tool_history = has_tool_history || msg.role == "tool" || !msg.tool_calls.empty();
    OutMessage m;
    if (core::Status s = ConvertMessage(parser, msg, i, m); !s.ok()) return s;
    if (!messages.empty() && messages.back().role == m.role) {
      OutMessage& prev = messages.back();
      prev.plain = false;
      for (Block& b : m.blocks) prev.blocks.push_back(std::move(b));
    } else {
      messages.push_back(std::move(m));
    }
  }
  if (messages.empty()) {
    return Invalid("messages", "Anthropic requires at least one user or assistant message");
  }

  core::Result<std::string> tools = ConvertTools(parser, req.tools_json);
  if (!tools.ok()) return tools.take_status();
  core::Result<ToolChoice> choice = ConvertToolChoice(parser, req.tool_choice_json);
  if (!choice.ok()) return choice.take_status();
  const bool choice_none = choice->kind == ToolChoice::Kind::kNone;
  const bool send_tools = !tools->empty() && (!choice_none || has_tool_history);

  std::string out;
  out.reserve(512);
  JsonWriter w(out);
  w.BeginObject()
      .Field("model", upstream_model)
      .Field("max_tokens", req.max_tokens.value_or(default_max_tokens));
  if (!system.empty()) w.Field("system", system);
  w.Key("messages").BeginArray();
  for (OutMessage& m : messages) {
    w.BeginObject().Field("role", m.role).Key("content");
    if (m.plain || m.blocks.empty()) {
      w.String(m.text);
    } else {
      // Anthropic wants a user turn's tool_result blocks before anything else.
      std::stable_partition(m.blocks.begin(), m.blocks.end(),
                            [](const Block& b) { return b.tool_result; });
      w.BeginArray();
      for (const Block& b : m.blocks) w.Raw(b.json);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  if (!req.stop.empty()) {
    w.Key("stop_sequences").BeginArray();
    for (const std::string& s : req.stop) w.String(s);
    w.EndArray();
  }
  if (req.temperature) w.Field("temperature", *req.temperature);
  if (req.top_p) w.Field("top_p", *req.top_p);
  if (req.stream) w.Field("stream", true);
  if (send_tools) {
    w.Key("tools").Raw(*tools);
    switch (choice->kind) {
      case ToolChoice::Kind::kAbsent:
        break;
      case ToolChoice::Kind::kNone:
        w.Key("tool_choice").BeginObject().Field("type", "none").EndObject();
        break;
      case ToolChoice::Kind::kAuto:
        w.Key("tool_choice").BeginObject().Field("type", "auto").EndObject();
        break;
      case ToolChoice::Kind::kAny:
        w.Key("tool_choice").BeginObject().Field("type", "any").EndObject();
        break;
      case ToolChoice::Kind::kTool:
        w.Key("tool_choice")
            .BeginObject()
            .Field("type", "tool")
            .Field("name", choice->name)
            .EndObject();
        break;
    }
  }
  if (!req.user.empty()) {
    w.Key("metadata").BeginObject().Field("user_id", req.user).EndObject();
  }
  w.EndObject();
  return out;
}

std::string_view MapAnthropicStopReason(std::string_view stop_reason) {
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn, unknown
}

core::Result<core::ChatResponse> ParseAnthropicResponse(std::string_view body) {
  dom::parser parser;
  dom::element doc;
  if (const simdjson::error_code err = parser.parse(body.data(), body.size()).get(doc)) {
    return Malformed(simdjson::error_message(err));
  }
  if (!doc.is_object()) return Malformed("expected a JSON object");
  dom::element content_el;
  dom::array content;
  if (!Member(doc, "content", content_el) || content_el.get(content) != simdjson::SUCCESS) {
    return Malformed("missing \"content\" array");
  }

  core::ChatResponse r;
  r.id = std::string(StringMember(doc, "id"));
  r.model = std::string(StringMember(doc, "model"));
  bool has_text = false;
  for (dom::element block : content) {
    const std::string_view type = StringMember(block, "type");
    if (type == "text") {
      r.content.append(StringMember(block, "text"));
      has_text = true;
    } else if (type == "tool_use") {
      core::ToolCall call;
      call.id = std::string(StringMember(block, "id"));
      call.name = std::string(StringMember(block, "name"));
      dom::element input;
      call.arguments = Member(block, "input", input) ? simdjson::to_string(input) : "{}";
      r.tool_calls.push_back(std::move(call));
    }
  }
  r.content_is_null = !has_text && !r.tool_calls.empty();
  r.finish_reason = std::string(MapAnthropicStopReason(StringMember(doc, "stop_reason")));

  dom::element usage;
  if (Member(doc, "usage", usage) && usage.is_object()) {
    int64_t input = 0, output = 0, cache_read = 0, cache_creation = 0;
    (void)IntMember(usage, "input_tokens", input);
    (void)IntMember(usage, "output_tokens", output);
    (void)IntMember(usage, "cache_read_input_tokens", cache_read);
    (void)IntMember(usage, "cache_creation_input_tokens", cache_creation);
    r.usage.prompt_tokens = input + cache_read + cache_creation;
    r.usage.completion_tokens = output;
    r.usage.cached_prompt_tokens = cache_read;
    r.usage.cache_write_tokens = cache_creation;
    r.usage.present = true;
  }
  return r;
}

core::Status AnthropicErrorToStatus(int http_status, std::string_view body) {
  core::StatusCode code = core::StatusCode::kUnavailable;
  if (http_status == 401) {
    code = core::StatusCode::kUnauthenticated;
  } else if (http_status == 403) {
    code = core::StatusCode::kPermissionDenied;
  } else if (http_status == 404) {
    code = core::StatusCode::kNotFound;
  } else if (http_status == 413) {
    code = core::StatusCode::kPayloadTooLarge;
  } else if (http_status == 429) {
    code = core::StatusCode::kResourceExhausted;
  } else if (http_status >= 400 && http_status < 500) {
    code = core::StatusCode::kInvalidArgument;
  }

  std::string message;
  dom::parser parser;
  dom::element doc;
  dom::element error;
  if (parser.parse(body.data(), body.size()).get(doc) == simdjson::SUCCESS &&
      Member(doc, "error", error)) {
    message = std::string(StringMember(error, "message"));
  }
  if (message.empty()) {
    constexpr size_t kMaxBodyExcerpt = 200;
    message = "HTTP " + std::to_string(http_status);
    const std::string_view excerpt = TrimWhitespace(body).substr(0, kMaxBodyExcerpt);
    if (!excerpt.empty()) message.append(": ").append(excerpt);
  }
  core::Status status(code, "anthropic: " + message);
  status.set_upstream_status(http_status);
  return status;
}

// ---- Stream translator ----

AnthropicStreamTranslator::AnthropicStreamTranslator(std::string id_fallback, std::string model,
                                                     int64_t created, bool include_usage)
    : id_(std::move(id_fallback)),
      model_(std::move(model)),
      created_(created),
      include_usage_(include_usage),
      parser_(std::make_unique<dom::parser>()) {}

AnthropicStreamTranslator::~AnthropicStreamTranslator() = default;
AnthropicStreamTranslator::AnthropicStreamTranslator(AnthropicStreamTranslator&&) noexcept =
    default;
AnthropicStreamTranslator& AnthropicStreamTranslator::operator=(
    AnthropicStreamTranslator&&) noexcept = default;

core::Status AnthropicStreamTranslator::Feed(std::string_view raw_upstream_bytes,
                                             std::string& out) {
  if (!error_.ok()) return error_;
  if (done_) return core::Status::Ok();
  events_.clear();
  const core::Status sse_status = sse_.Feed(raw_upstream_bytes, events_);
  for (const SseEvent& event : events_) {
    if (done_) break;
    if (core::Status s = HandleEvent(event, out); !s.ok()) {
      error_ = s;
      return s;
    }
  }
  if (!sse_status.ok() && !done_) {
    error_ = core::Status(sse_status.code(), "anthropic: " + sse_status.message());
    return error_;
  }
  return core::Status::Ok();
}

void AnthropicStreamTranslator::EnsureRole(std::string& out) {
  if (role_sent_) return;
  AppendChunkRole(out, id_, model_, created_);
  role_sent_ = true;
}

void AnthropicStreamTranslator::EmitFinish(std::string& out, std::string_view reason) {
  if (finish_sent_) return;
  EnsureRole(out);
  finish_reason_ = std::string(reason);
  AppendChunkFinish(out, id_, model_, created_, finish_reason_);
  finish_sent_ = true;
}

core::Status AnthropicStreamTranslator::HandleEvent(const SseEvent& event, std::string& out) {
  dom::element doc;
  if (const simdjson::error_code err =
          parser_->parse(event.data.data(), event.data.size()).get(doc)) {
    return core::Unavailable(std::string("anthropic: malformed stream event: ") +
                             simdjson::error_message(err));
  }
  std::string_view type = StringMember(doc, "type");
  if (type.empty()) type = event.event;

  const auto update_usage = [this](dom::element usage) {
    if (!usage.is_object()) return;
    (void)IntMember(usage, "input_tokens", input_tokens_);
    (void)IntMember(usage, "cache_read_input_tokens", cache_read_tokens_);
    (void)IntMember(usage, "cache_creation_input_tokens", cache_creation_tokens_);
    (void)IntMember(usage, "output_tokens", usage_.completion_tokens);
    usage_.prompt_tokens = input_tokens_ + cache_read_tokens_ + cache_creation_tokens_;
    usage_.cached_prompt_tokens = cache_read_tokens_;
    usage_.cache_write_tokens = cache_creation_tokens_;
    usage_.present = true;
  };

  if (type == "message_start") {
    dom::element message;
    if (Member(doc, "message", message)) {
      const std::string_view id = StringMember(message, "id");
      if (!id.empty() && !role_sent_) id_ = std::string(id);
      dom::element usage;
      if (Member(message, "usage", usage)) update_usage(usage);
    }
    EnsureRole(out);
  } else if (type == "content_block_start") {
    int64_t index = -1;
    (void)IntMember(doc, "index", index);
    dom::element block;
    if (!Member(doc, "content_block", block)) return core::Status::Ok();
    const std::string_view block_type = StringMember(block, "type");
    if (block_type == "text") {
      const std::string_view text = StringMember(block, "text");
      EnsureRole(out);
      if (!text.empty()) AppendChunkContent(out, id_, model_, created_, text);
    } else if (block_type == "tool_use") {
      EnsureRole(out);
      const int tool = tool_count_++;
      tool_blocks_.emplace_back(index, tool);
      std::string call_id(StringMember(block, "id"));
      if (call_id.empty()) call_id = "call_" + std::to_string(tool);
      std::string arguments;
      dom::element input;
      dom::object input_obj;
      if (Member(block, "input", input) && input.get(input_obj) == simdjson::SUCCESS &&
          input_obj.size() > 0) {
        arguments = simdjson::to_string(input);
      }
      AppendChunkToolCall(out, id_, model_, created_, tool, call_id, StringMember(block, "name"),
                          arguments);
    }
  } else if (type == "content_block_delta") {
    int64_t index = -1;
    (void)IntMember(doc, "index", index);
    dom::element delta;
    if (!Member(doc, "delta", delta)) return core::Status::Ok();
    const std::string_view delta_type = StringMember(delta, "type");
    if (delta_type == "text_delta") {
      const std::string_view text = StringMember(delta, "text");
      if (!text.empty()) {
        EnsureRole(out);
        AppendChunkContent(out, id_, model_, created_, text);
      }
    } else if (delta_type == "input_json_delta") {
      const std::string_view partial = StringMember(delta, "partial_json");
      const auto it = std::find_if(tool_blocks_.begin(), tool_blocks_.end(),
                                   [index](const auto& entry) { return entry.first == index; });
      if (it != tool_blocks_.end() && !partial.empty()) {
        AppendChunkToolCall(out, id_, model_, created_, it->second, {}, {}, partial);
      }
    }
  } else if (type == "message_delta") {
    dom::element usage;
    if (Member(doc, "usage", usage)) update_usage(usage);
    dom::element delta;
    if (Member(doc, "delta", delta)) {
      const std::string_view stop_reason = StringMember(delta, "stop_reason");
      if (!stop_reason.empty()) EmitFinish(out, MapAnthropicStopReason(stop_reason));
    }
  } else if (type == "message_stop") {
    EmitFinish(out, "stop");
    if (include_usage_) AppendChunkUsage(out, id_, model_, created_, usage_);
    AppendDone(out);
    done_ = true;
  } else if (type == "error") {
    dom::element error;
    std::string_view message;
    if (Member(doc, "error", error)) {
      message = StringMember(error, "message");
      if (message.empty()) message = StringMember(error, "type");
    }
    if (message.empty()) message = "stream error";
    return core::Unavailable("anthropic: " + std::string(message));
  }
  // ping, content_block_stop and unknown events produce nothing.
  return core::Status::Ok();
}

}  // namespace switchyard::api
