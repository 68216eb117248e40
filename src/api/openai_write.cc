#include "api/openai_write.h"

#include "core/json_writer.h"

namespace switchyard::api {
namespace {

using core::JsonWriter;

void WriteUsage(JsonWriter& w, const core::Usage& u) {
  w.BeginObject()
      .Field("prompt_tokens", u.prompt_tokens)
      .Field("completion_tokens", u.completion_tokens)
      .Field("total_tokens", u.prompt_tokens + u.completion_tokens)
      .Key("prompt_tokens_details")
      .BeginObject()
      .Field("cached_tokens", u.cached_prompt_tokens)
      .EndObject()
      .Key("completion_tokens_details")
      .BeginObject()
      .Field("reasoning_tokens", u.reasoning_tokens)
      .EndObject()
      .EndObject();
}

// Opens the frame and the chunk object up to the "choices" key.
void BeginChunk(std::string& out, JsonWriter& w, std::string_view id, std::string_view model,
                int64_t created) {
  out.append("data: ");
  w.BeginObject()
      .Field("id", id)
      .Field("object", "chat.completion.chunk")
      .Field("created", created)
      .Field("model", model)
      .Key("choices");
}

// Opens choices[0] up to the value of "delta".
void BeginChoice(JsonWriter& w) {
  w.BeginArray().BeginObject().Field("index", 0).Key("delta");
}

// Closes choices[0], the array, the chunk object and the frame.
void EndChoiceAndChunk(std::string& out, JsonWriter& w, std::string_view finish_reason) {
  w.Key("logprobs").Null().Key("finish_reason");
  if (finish_reason.empty()) {
    w.Null();
  } else {
    w.String(finish_reason);
  }
  w.EndObject().EndArray().EndObject();
  out.append("\n\n");
}

}  // namespace

void AppendUsageJson(std::string& out, const core::Usage& usage) {
  JsonWriter w(out);
  WriteUsage(w, usage);
}

std::string WriteChatCompletion(const core::ChatResponse& r) {
  std::string out;
  out.reserve(256 + r.content.size());
  JsonWriter w(out);
  w.BeginObject()
      .Field("id", r.id)
      .Field("object", "chat.completion")
      .Field("created", r.created)
      .Field("model", r.model)
      .Key("choices")
      .BeginArray()
      .BeginObject()
      .Field("index", 0)
      .Key("message")
      .BeginObject()
      .Field("role", "assistant")
      .Key("content");
  if (r.content_is_null) {
    w.Null();
  } else {
    w.String(r.content);
  }
  if (!r.tool_calls.empty()) {
    w.Key("tool_calls").BeginArray();
    for (const core::ToolCall& call : r.tool_calls) {
      w.BeginObject()
          .Field("id", call.id)
          .Field("type", "function")
          .Key("function")
          .BeginObject()
          .Field("name", call.name)
          .Field("arguments", call.arguments)
          .EndObject()
          .EndObject();
    }
    w.EndArray();
  }
  w.EndObject().Key("logprobs").Null().Key("finish_reason");
  if (r.finish_reason.empty()) {
    w.Null();
  } else {
    w.String(r.finish_reason);
  }
  w.EndObject().EndArray();
  if (r.usage.present || r.usage.estimated) {
    w.Key("usage");
    WriteUsage(w, r.usage);
  }
  w.EndObject();
  return out;
}

void AppendChunkRole(std::string& out, std::string_view id, std::string_view model,
                     int64_t created) {
  JsonWriter w(out);
  BeginChunk(out, w, id, model, created);
  BeginChoice(w);
  w.BeginObject().Field("role", "assistant").Field("content", "").EndObject();
  EndChoiceAndChunk(out, w, {});
}

void AppendChunkContent(std::string& out, std::string_view id, std::string_view model,
                        int64_t created, std::string_view text) {
  JsonWriter w(out);
  BeginChunk(out, w, id, model, created);
  BeginChoice(w);
  w.BeginObject().Field("content", text).EndObject();
  EndChoiceAndChunk(out, w, {});
}

void AppendChunkToolCall(std::string& out, std::string_view id, std::string_view model,
                         int64_t created, int index, std::string_view call_id,
                         std::string_view name, std::string_view arguments_fragment) {
  JsonWriter w(out);
  BeginChunk(out, w, id, model, created);
  BeginChoice(w);
  w.BeginObject().Key("tool_calls").BeginArray().BeginObject().Field("index", index);
  if (!call_id.empty()) w.Field("id", call_id).Field("type", "function");
  w.Key("function").BeginObject();
  if (!call_id.empty()) w.Field("name", name);
  w.Field("arguments", arguments_fragment).EndObject().EndObject().EndArray().EndObject();
  EndChoiceAndChunk(out, w, {});
}

void AppendChunkFinish(std::string& out, std::string_view id, std::string_view model,
                       int64_t created, std::string_view finish_reason) {
  JsonWriter w(out);
  BeginChunk(out, w, id, model, created);
  BeginChoice(w);
  w.BeginObject().EndObject();
  EndChoiceAndChunk(out, w, finish_reason);
}

void AppendChunkUsage(std::string& out, std::string_view id, std::string_view model,
                      int64_t created, const core::Usage& usage) {
  JsonWriter w(out);
  BeginChunk(out, w, id, model, created);
  w.BeginArray().EndArray().Key("usage");
  WriteUsage(w, usage);
  w.EndObject();
  out.append("\n\n");
}

void AppendDone(std::string& out) {
  out.append("data: [DONE]\n\n");
}

}  // namespace switchyard::api
