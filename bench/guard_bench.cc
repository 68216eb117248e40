// Guard benchmarks: PII scanner throughput (MB/s per core; target >= 200 MB/s on
// mixed text), redaction and restore, key authentication, limit admission,
// UTF-8 validation and the JSON depth check.
//
//   sy_bench_guard --benchmark_filter=Scan
//
// "Mixed text" is generated deterministically (fixed seed): prose, numbers,
// dates, times, versions, URLs, file paths, code and JSON fragments, with one
// piece of PII (e-mail, phone, card, IBAN, SSN, IP, key) about every 2 KiB.
// Throughput is reported by Google Benchmark as bytes_per_second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json_writer.h"
#include "guard/hardening.h"
#include "guard/keys.h"
#include "guard/limits.h"
#include "guard/pii.h"
#include "guard/redact.h"

namespace {

using namespace switchyard;  // NOLINT(google-build-using-namespace)

const char* const kWords[] = {
    "the",      "model",     "request",  "answer",   "latency", "gateway", "token",   "budget",
    "student",  "teacher",   "cascade",  "provider", "routing", "quality", "cost",    "which",
    "should",   "would",     "between",  "through",  "summary", "invoice", "please",  "review",
    "customer", "account",   "shipment", "delivery", "monday",  "report",  "draft",   "meeting",
    "über",     "naïve",     "café",     "日本語",   "données", "ação",    "привет",  "function",
    "return",   "const",     "static",   "value",    "error",   "status",  "config",  "server",
    "database", "migration", "schema",   "index",    "payload", "header",  "cluster", "replica",
};

const char* const kNoise[] = {
    "2024",
    "1999",
    "12:30:45",
    "v1.2.3",
    "3.14159",
    "42",
    "1,234,567",
    "2024-05-01",
    "01.02.2024",
    "https://example.org/docs/page?id=17",
    "/usr/local/lib/libfoo.so",
    "std::vector<int>",
    "{\"key\": \"value\", \"n\": 3}",
    "x = y + 1;",
    "for (int i = 0; i < n; ++i)",
    "ORDER-88231",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "550e8400-e29b-41d4-a716-446655440000",
    "#1234",
    "(see section 4.2)",
    "100%",
    "$19.99",
};

const char* const kPii[] = {
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
    "192.168.10.20",
    "2001:db8:85a3::8a2e:370:7334",
    "sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_aB3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5",
};

std::string MixedText(size_t bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(bytes + 256);
  size_t next_pii = 2048;
  while (out.size() < bytes) {
    const uint64_t r = rng() % 100;
    if (out.size() >= next_pii) {
      out += kPii[rng() % std::size(kPii)];
      next_pii += 1024 + rng() % 2048;
    } else if (r < 85) {
      out += kWords[rng() % std::size(kWords)];
    } else {
      out += kNoise[rng() % std::size(kNoise)];
    }
    out += (rng() % 12 == 0) ? ".\n" : " ";
  }
  out.resize(bytes);
  // Do not end in the middle of a UTF-8 sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
  if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
  return out;
}

const guard::PiiScanner& Scanner() {
  static const auto* scanner = [] {
    auto s = guard::PiiScanner::Create();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.status().ToString().c_str());
      std::abort();
    }
    return std::move(*s).release();
  }();
  return *scanner;
}

void BM_ScanMixedText(benchmark::State& state) {
  const std::string text = MixedText(static_cast<size_t>(state.range(0)), 7);
  const auto& scanner = Scanner();
  size_t findings = 0;
  for (auto _ : state) {
    auto f = scanner.ScanText(text);
    findings = f->size();
    benchmark::DoNotOptimize(findings);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_ScanMixedText)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

void BM_ScanCleanProse(benchmark::State& state) {
  std::mt19937_64 rng(3);
  std::string text;
  while (text.size() < (1u << 20)) {
    text += kWords[rng() % 32];
    text += ' ';
  }
  const auto& scanner = Scanner();
  for (auto _ : state) benchmark::DoNotOptimize(scanner.ScanText(text)->size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ScanCleanProse);

// A chat request: 6 messages of ~600 bytes each, scanned in one pass (ScanTexts).
void BM_ScanChatMessages(benchmark::State& state) {
  std::vector<std::string> messages;
  for (uint64_t i = 0; i < 6; ++i) messages.push_back(MixedText(600, 100 + i) + " a@b.io");
  const auto& scanner = Scanner();
  size_t bytes = 0;
  for (const auto& m : messages) bytes += m.size();
  for (auto _ : state) benchmark::DoNotOptimize(scanner.ScanTexts(messages)->size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_ScanChatMessages);

// The short messages of a typical chat request (bench/proxy/chat.lua's two,
// then a 12-turn conversation): a scan's fixed cost dominates here, which is
// why ScanTexts makes one Hyperscan pass over all of them.
void BM_ScanShortMessages(benchmark::State& state) {
  std::vector<std::string> messages = {"You are a concise assistant for a benchmark.",
                                       "Summarise in one paragraph why a gateway should be cheap."};
  for (int64_t i = 2; i < state.range(0); ++i) {
    messages.push_back("Turn " + std::to_string(i) +
                       ": could you say a little more about the second point, please?");
  }
  const auto& scanner = Scanner();
  for (auto _ : state) benchmark::DoNotOptimize(scanner.ScanTexts(messages)->size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ScanShortMessages)->Arg(2)->Arg(12);

void BM_RedactAndRestore(benchmark::State& state) {
  const std::string text = MixedText(16 << 10, 11);
  const auto& scanner = Scanner();
  const auto findings = *scanner.ScanText(text);
  for (auto _ : state) {
    guard::RedactionMap map;
    std::string redacted = guard::Redact(text, findings, map);
    std::string restored = guard::Restore(redacted, map);
    benchmark::DoNotOptimize(restored.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_RedactAndRestore);

void BM_StreamRestore(benchmark::State& state) {
  const std::string text = MixedText(16 << 10, 13);
  const auto findings = *Scanner().ScanText(text);
  guard::RedactionMap map;
  const std::string redacted = guard::Redact(text, findings, map);
  for (auto _ : state) {
    guard::StreamRestorer restorer(map);
    size_t n = 0;
    for (size_t i = 0; i < redacted.size(); i += 7) {
      n += restorer.Push(std::string_view(redacted).substr(i, 7)).size();
    }
    n += restorer.Finish().size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(redacted.size()));
}
BENCHMARK(BM_StreamRestore);

void BM_Authenticate(benchmark::State& state) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "sy_guard_bench_keys.db").string();
  std::filesystem::remove(path);
  core::SystemClock clock;
  auto store = guard::KeyStore::Open(path, {}, clock);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  guard::CreateKeyRequest req;
  req.tenant = "acme";
  std::string key;
  for (int i = 0; i < 100; ++i) key = (*store)->Create(req)->key;
  const std::string header = "Bearer " + key;
  for (auto _ : state) benchmark::DoNotOptimize((*store)->Authenticate(header).ok());
  store->reset();
  std::filesystem::remove(path);
}
BENCHMARK(BM_Authenticate);

void BM_LimitReserveCommit(benchmark::State& state) {
  core::SystemClock clock;
  guard::InProcessLimitStore limits(clock);
  guard::TenantLimits l;
  l.rpm = 1'000'000'000;
  l.tpm = 1'000'000'000'000;
  l.budget_usd_day = 1e12;
  for (auto _ : state) {
    auto r = limits.Reserve("acme", l, 100, 0.001);
    limits.Commit(*r, 120, 0.0012);
  }
}
BENCHMARK(BM_LimitReserveCommit)->Threads(1)->Threads(2);

void BM_ValidateUtf8(benchmark::State& state) {
  const std::string text = MixedText(1 << 20, 17);
  for (auto _ : state) benchmark::DoNotOptimize(guard::IsValidUtf8(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ValidateUtf8);

void BM_JsonDepth(benchmark::State& state) {
  std::string body = R"({"model":"gpt-4o-mini","messages":[)";
  for (int i = 0; i < 200; ++i) {
    body += R"({"role":"user","content":)";
    core::AppendJsonString(body, "hello \"world\" [not {nested}] " + MixedText(400, 19 + i));
    body += "},";
  }
  body += R"({"role":"user","content":"end"}]})";
  for (auto _ : state) benchmark::DoNotOptimize(guard::CheckJsonDepth(body, 64).ok());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_JsonDepth);

}  // namespace

BENCHMARK_MAIN();
