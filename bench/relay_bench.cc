// The SSE relay's per-event work (docs/BENCHMARKS.md, "Session 10: instructions
// are not time"): finding the "usage" and "finish_reason" keys in each
// chunk's JSON text, with core::FindLiteral against the library searches it
// replaced or could use, OpenAiStreamRelay over a whole stream, and the
// read of a non-streamed answer (AnswerReader).
//
//   sy_bench_relay [--benchmark_filter=KeySearch]
//
// The stream is the one bench/proxy/upstream.cc sends (eight content chunks,
// the usage chunk, [DONE]), built here the same way.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/find_literal.h"
#include "providers/openai_provider.h"

namespace {

constexpr std::string_view kUsage = R"("usage")";
constexpr std::string_view kFinish = R"("finish_reason")";

// Each event's data (the JSON text after "data: ").
std::vector<std::string> ChunkData() {
  const std::string prefix =
      R"({"id":"chatcmpl-bench0000000000000000000000","object":"chat.completion.chunk",)"
      R"("created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench",)"
      R"("choices":[)";
  const char* const words[] = {"Switchyard ", "benchmark ", "stream: ", "eight ",
                               "content ",    "chunks, ",   "then ",    "usage."};
  std::vector<std::string> data;
  for (int i = 0; i < 8; ++i) {
    data.push_back(prefix + R"({"index":0,"delta":{)" + (i == 0 ? R"("role":"assistant",)" : "") +
                   R"("content":")" + words[i] + R"("},"logprobs":null,"finish_reason":)" +
                   (i == 7 ? "\"stop\"" : "null") + "}]}");
  }
  data.push_back(prefix +
                 R"(],"usage":{"prompt_tokens":25,"completion_tokens":8,"total_tokens":33,)"
                 R"("prompt_tokens_details":{"cached_tokens":0},)"
                 R"("completion_tokens_details":{"reasoning_tokens":0}}})");
  return data;
}

// One stream's searches: both keys in every chunk.
template <typename Find>
void SearchKeys(benchmark::State& state, Find find) {
  const std::vector<std::string> data = ChunkData();
  for (auto _ : state) {
    size_t sum = 0;
    for (const std::string& d : data) sum += find(d, kUsage) + find(d, kFinish);
    benchmark::DoNotOptimize(sum);
  }
}

void BM_KeySearch_FindLiteral(benchmark::State& state) {
  SearchKeys(state, [](std::string_view hay, std::string_view key) {
    return switchyard::core::FindLiteral(hay, key);
  });
}
BENCHMARK(BM_KeySearch_FindLiteral);

void BM_KeySearch_BoyerMooreHorspool(benchmark::State& state) {
  const std::boyer_moore_horspool_searcher usage(kUsage.begin(), kUsage.end());
  const std::boyer_moore_horspool_searcher finish(kFinish.begin(), kFinish.end());
  SearchKeys(state, [&](std::string_view hay, std::string_view key) {
    const auto it = key == kUsage ? std::search(hay.begin(), hay.end(), usage)
                                  : std::search(hay.begin(), hay.end(), finish);
    return static_cast<size_t>(it - hay.begin());
  });
}
BENCHMARK(BM_KeySearch_BoyerMooreHorspool);

void BM_KeySearch_Memmem(benchmark::State& state) {
  SearchKeys(state, [](std::string_view hay, std::string_view key) {
    const void* at = ::memmem(hay.data(), hay.size(), key.data(), key.size());
    return at == nullptr ? hay.size()
                         : static_cast<size_t>(static_cast<const char*>(at) - hay.data());
  });
}
BENCHMARK(BM_KeySearch_Memmem);

void BM_KeySearch_StringViewFind(benchmark::State& state) {
  SearchKeys(state, [](std::string_view hay, std::string_view key) { return hay.find(key); });
}
BENCHMARK(BM_KeySearch_StringViewFind);

// What the request path does per streamed answer: every event through the
// relay (keys, the model of the first chunk, usage read on demand).
void BM_StreamRelay(benchmark::State& state) {
  std::string stream;
  for (const std::string& d : ChunkData()) stream += "data: " + d + "\n\n";
  stream += "data: [DONE]\n\n";
  simdjson::dom::parser parser;  // the event loop's shared ones, as in the gateway
  switchyard::providers::AnswerReader reader;
  std::string out;
  for (auto _ : state) {
    switchyard::providers::OpenAiStreamRelay relay(/*strip_usage_chunk=*/true, &parser, &reader);
    out.clear();
    relay.Feed(stream, out);
    relay.Finish(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_StreamRelay);

// A non-streamed answer (bench/proxy/upstream.cc's ~1 KB chat.completion) read
// for its model, finish reason and usage, as OpenAiProvider::Chat does.
void BM_AnswerRead(benchmark::State& state) {
  const std::string content =
      "Switchyard benchmark answer. A gateway sits on every model call, so whatever it costs is "
      "paid on all of them: parsing, routing, accounting, and the copy of every byte. This reply "
      "has a fixed size so that proxies are compared on equal work; its text carries no meaning "
      "beyond filling roughly one kilobyte of JSON the way a short chat answer would. The usage "
      "block below is what the ledger records. ";
  std::string body =
      R"({"id":"chatcmpl-bench0000000000000000000000","object":"chat.completion",)"
      R"("created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":")" +
      content +
      R"(","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":25,"completion_tokens":150,"total_tokens":175,)"
      R"("prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
      R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},)"
      R"("service_tier":"default","system_fingerprint":"fp_bench"})";
  switchyard::providers::AnswerReader reader;
  switchyard::providers::OpenAiAnswer answer;
  for (auto _ : state) {
    if (!reader.Read(body, answer)) state.SkipWithError("answer not read");
    benchmark::DoNotOptimize(answer.usage.completion_tokens);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_AnswerRead);

}  // namespace

BENCHMARK_MAIN();
