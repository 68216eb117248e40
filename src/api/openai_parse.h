// Parsing of OpenAI chat.completions requests into core::ChatRequest.
//
// One pass over the body with simdjson On-Demand. Unknown fields are skipped
// (the proxy forwards the original bytes, so they reach the upstream
// untouched). Every error is InvalidArgument with a message naming the field,
// and param() set to the field path.
#pragma once

#include <string>
#include <string_view>

#include <memory>

#include "core/chat.h"
#include "core/status.h"

namespace switchyard::api {

class ChatRequestParser {
 public:
  ChatRequestParser();
  ~ChatRequestParser();
  ChatRequestParser(const ChatRequestParser&) = delete;
  ChatRequestParser& operator=(const ChatRequestParser&) = delete;

  // Parses `body`. The string's capacity is grown to hold simdjson's padding
  // (no copy when it already has room). Not thread-safe: one parser per loop.
  core::Result<core::ChatRequest> Parse(std::string& body);

 private:
  // Hidden so that only openai_parse.cc (compiled for the SIMD kernel) sees
  // simdjson's On-Demand types.
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Rewrites the request body for an upstream: sets "model" to `upstream_model`
// (a splice at the recorded byte span — nothing else is re-serialised) and,
// when `add_include_usage` is set and the request has no stream_options, asks
// for the usage chunk.
std::string RewriteForUpstream(std::string_view body, const core::ChatRequest& req,
                               std::string_view upstream_model, bool add_include_usage);

}  // namespace switchyard::api
