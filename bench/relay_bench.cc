// The SSE relay's per-event work (docs/BENCHMARKS.md, "Session 10: instructions
// are not time"): finding the "usage" and "finish_reason" keys in each
// chunk's JSON text, with core::FindLiteral against the library searches it
// replaced or could use, OpenAiStreamRelay over a whole stream, and the
// read of a non-streamed answer (AnswerReader).
//
//   sy_bench_relay [--benchmark_filter=KeySearch]
//
// The stream and the answer are the bench upstream's (bench/proxy/bodies.h).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/find_literal.h"
#include "providers/openai_provider.h"
#include "proxy/bodies.h"

namespace {

constexpr std::string_view kUsage = R"("usage")";
constexpr std::string_view kFinish = R"("finish_reason")";

// One stream's searches: both keys in every chunk, each with its own finder
// (built once, outside the timed loop): find_usage(chunk), find_finish(chunk).
template <typename FindUsage, typename FindFinish>
void SearchKeys(benchmark::State& state, FindUsage find_usage, FindFinish find_finish) {
  const std::vector<std::string> data = switchyard::bench::StreamChunkData();
  for (auto _ : state) {
    size_t sum = 0;
    for (const std::string& d : data) sum += find_usage(d) + find_finish(d);
    benchmark::DoNotOptimize(sum);
  }
}

void BM_KeySearch_FindLiteral(benchmark::State& state) {
  SearchKeys(
      state, [](std::string_view hay) { return switchyard::core::FindLiteral(hay, kUsage); },
      [](std::string_view hay) { return switchyard::core::FindLiteral(hay, kFinish); });
}
BENCHMARK(BM_KeySearch_FindLiteral);

// Every occurrence of both keys in every chunk (what the relay's key scan
// does when neither key has a value that counts): a FindLiteral pass per key
// against one FindEitherLiteral pass for both.
void BM_KeyScan_TwoPasses(benchmark::State& state) {
  using switchyard::core::FindLiteral;
  const std::vector<std::string> data = switchyard::bench::StreamChunkData();
  for (auto _ : state) {
    size_t sum = 0;
    for (const std::string& d : data) {
      for (size_t at = FindLiteral(d, kUsage); at != std::string_view::npos;
           at = FindLiteral(d, kUsage, at + 1)) {
        sum += at;
      }
      for (size_t at = FindLiteral(d, kFinish); at != std::string_view::npos;
           at = FindLiteral(d, kFinish, at + 1)) {
        sum += at;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_KeyScan_TwoPasses);

void BM_KeyScan_OnePass(benchmark::State& state) {
  using switchyard::core::FindEitherLiteral;
  const std::vector<std::string> data = switchyard::bench::StreamChunkData();
  for (auto _ : state) {
    size_t sum = 0;
    for (const std::string& d : data) {
      for (auto m = FindEitherLiteral(d, kUsage, kFinish); m.pos != std::string_view::npos;
           m = FindEitherLiteral(d, kUsage, kFinish, m.pos + 1)) {
        sum += m.pos;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_KeyScan_OnePass);

void BM_KeySearch_BoyerMooreHorspool(benchmark::State& state) {
  const std::boyer_moore_horspool_searcher usage(kUsage.begin(), kUsage.end());
  const std::boyer_moore_horspool_searcher finish(kFinish.begin(), kFinish.end());
  auto find = [](std::string_view hay, const auto& searcher) {
    return static_cast<size_t>(std::search(hay.begin(), hay.end(), searcher) - hay.begin());
  };
  SearchKeys(
      state, [&](std::string_view hay) { return find(hay, usage); },
      [&](std::string_view hay) { return find(hay, finish); });
}
BENCHMARK(BM_KeySearch_BoyerMooreHorspool);

size_t Memmem(std::string_view hay, std::string_view key) {
  const void* at = ::memmem(hay.data(), hay.size(), key.data(), key.size());
  return at == nullptr ? std::string_view::npos
                       : static_cast<size_t>(static_cast<const char*>(at) - hay.data());
}

void BM_KeySearch_Memmem(benchmark::State& state) {
  SearchKeys(
      state, [](std::string_view hay) { return Memmem(hay, kUsage); },
      [](std::string_view hay) { return Memmem(hay, kFinish); });
}
BENCHMARK(BM_KeySearch_Memmem);

void BM_KeySearch_StringViewFind(benchmark::State& state) {
  SearchKeys(
      state, [](std::string_view hay) { return hay.find(kUsage); },
      [](std::string_view hay) { return hay.find(kFinish); });
}
BENCHMARK(BM_KeySearch_StringViewFind);

// What the request path does per streamed answer: every event through the
// relay (keys, the model of the first chunk, usage read on demand).
void BM_StreamRelay(benchmark::State& state) {
  std::string stream;
  for (const std::string& d : switchyard::bench::StreamChunkData()) stream += "data: " + d + "\n\n";
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
  std::string body = switchyard::bench::ChatCompletionBody();
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
