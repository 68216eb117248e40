// OpenAI wire output: the chat.completion object and the chat.completion.chunk
// SSE frames, written with core::JsonWriter.
//
// All functions are pure (no state, thread-safe) and cannot fail. The Append*
// functions append one complete SSE frame, "data: {...}\n\n", to `out`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/chat.h"

namespace switchyard::api {

// The full non-streaming response:
// {"id","object":"chat.completion","created","model","choices":[{"index":0,
//  "message":{"role":"assistant","content":...,"tool_calls":[...]},"logprobs":null,
//  "finish_reason":...}],"usage":{...}}
// content is null when response.content_is_null; tool_calls only when there are
// any; finish_reason is null when empty; usage only when usage.present or
// usage.estimated.
std::string WriteChatCompletion(const core::ChatResponse& response);

// Appends the OpenAI usage object {"prompt_tokens","completion_tokens",
// "total_tokens","prompt_tokens_details":{"cached_tokens"},
// "completion_tokens_details":{"reasoning_tokens"}} to `out`.
void AppendUsageJson(std::string& out, const core::Usage& usage);

// First chunk: delta {"role":"assistant","content":""}.
void AppendChunkRole(std::string& out, std::string_view id, std::string_view model,
                     int64_t created);

// Delta {"content": text}.
void AppendChunkContent(std::string& out, std::string_view id, std::string_view model,
                        int64_t created, std::string_view text);

// Delta {"tool_calls":[{"index":index,...}]}. A non-empty `call_id` marks the
// first fragment of a call: it carries "id", "type":"function" and
// function.name besides function.arguments. With an empty `call_id` only
// function.arguments is written (`name` is ignored).
void AppendChunkToolCall(std::string& out, std::string_view id, std::string_view model,
                         int64_t created, int index, std::string_view call_id,
                         std::string_view name, std::string_view arguments_fragment);

// Empty delta with "finish_reason": finish_reason.
void AppendChunkFinish(std::string& out, std::string_view id, std::string_view model,
                       int64_t created, std::string_view finish_reason);

// The include_usage chunk: "choices":[] and "usage":{...}.
void AppendChunkUsage(std::string& out, std::string_view id, std::string_view model,
                      int64_t created, const core::Usage& usage);

// "data: [DONE]\n\n".
void AppendDone(std::string& out);

}  // namespace switchyard::api
