// What the bench upstream (bench/proxy/upstream.cc) answers, for it and for the
// micro-benchmarks that process the same bytes (bench/relay_bench.cc).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::bench {

// A non-streamed chat.completion of ~1 KB, shaped like a real OpenAI answer.
inline std::string ChatCompletionBody() {
  const std::string content =
      "Switchyard benchmark answer. A gateway sits on every model call, so whatever it costs is "
      "paid on all of them: parsing, routing, accounting, and the copy of every byte. This reply "
      "has a fixed size so that proxies are compared on equal work; its text carries no meaning "
      "beyond filling roughly one kilobyte of JSON the way a short chat answer would. The usage "
      "block below is what the ledger records. ";
  // (Appended piece by piece: GCC 12 reports a chain of operator+ on a literal as
  // an out-of-bounds copy, -Warray-bounds.)
  std::string body;
  body.reserve(2048);
  body += R"({"id":"chatcmpl-bench0000000000000000000000","object":"chat.completion",)"
          R"("created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,)"
          R"("message":{"role":"assistant","content":")";
  body += content;
  body += R"(","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
          R"("usage":{"prompt_tokens":25,"completion_tokens":150,"total_tokens":175,)"
          R"("prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
          R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
          R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},)"
          R"("service_tier":"default","system_fingerprint":"fp_bench"})";
  return body;
}

// The data (JSON text) of each event of the streamed answer: eight
// chat.completion.chunk events with one word of content each (the last with
// finish_reason "stop"), then the usage-only chunk. [DONE] is not included.
inline std::vector<std::string> StreamChunkData() {
  constexpr int kContentChunks = 8;
  static constexpr std::string_view kPrefix =
      R"({"id":"chatcmpl-bench0000000000000000000000","object":"chat.completion.chunk",)"
      R"("created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench",)"
      R"("choices":[)";
  static constexpr std::array<std::string_view, kContentChunks> kWords = {
      "Switchyard ", "benchmark ", "stream: ", "eight ", "content ", "chunks, ", "then ", "usage."};
  std::vector<std::string> data;
  for (int i = 0; i < kContentChunks; ++i) {
    std::string d;
    d.reserve(512);  // (one allocation; also keeps GCC 12's -Warray-bounds quiet)
    d += kPrefix;
    d += R"({"index":0,"delta":)";
    d += i == 0 ? R"({"role":"assistant","content":")" : R"({"content":")";
    d += kWords[static_cast<size_t>(i)];
    d += R"("},"logprobs":null,"finish_reason":)";
    d += i == kContentChunks - 1 ? "\"stop\"" : "null";
    d += "}]}";
    data.push_back(std::move(d));
  }
  std::string usage;
  usage.reserve(512);
  usage += kPrefix;
  usage += R"(],"usage":{"prompt_tokens":25,"completion_tokens":8,)"
           R"("total_tokens":33,"prompt_tokens_details":{"cached_tokens":0},)"
           R"("completion_tokens_details":{"reasoning_tokens":0}}})";
  data.push_back(std::move(usage));
  return data;
}

}  // namespace switchyard::bench
