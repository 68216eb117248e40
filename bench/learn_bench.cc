// Student benchmarks: decision latency (p50/p99 per call, in process) and
// training time and quality on the headlines task.
//
//   sy_bench_learn [--data=DIR] [benchmark flags]
//
// DIR defaults to ../shared/data; it must hold headlines/train.csv and
// headlines/dev.csv. Without them the decision benchmark runs on a generated
// task and the headlines benchmarks are skipped with a message.
//
// Counters: BM_Decide reports p50_us and p99_us over every timed call.
// BM_TrainHeadlines trains on train.csv (the library defaults: cross-fit,
// target 0.95), reports the wall time of one TrainStudent call (train_s) and
// its CPU time (cpu_s: training runs on the calling thread, so this is the
// one-core cost), then evaluates on dev.csv: agreement, coverage at the chosen
// threshold, agreement among accepted, system agreement (student where
// accepted, teacher elsewhere) and ECE.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "learn/eval.h"
#include "learn/trainer.h"

namespace {

using switchyard::learn::Example;

const std::vector<std::string> kHeadlineLabels = {"up", "down", "neutral", "none"};

std::string HeadlinesFile(const std::string& data_dir, const char* name) {
  return data_dir + "/headlines/" + name;
}

bool HaveHeadlines(const std::string& data_dir) {
  std::error_code ec;
  return std::filesystem::exists(HeadlinesFile(data_dir, "train.csv"), ec) &&
         std::filesystem::exists(HeadlinesFile(data_dir, "dev.csv"), ec);
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A generated stand-in for headlines: short texts whose label is carried by a
// keyword among filler words.
std::vector<Example> GeneratedExamples(size_t n) {
  static const char* kFiller[] = {"gold",    "prices", "market", "today", "ounce", "spot",
                                  "futures", "dollar", "fed",    "trade", "week",  "session"};
  static const char* kKeys[][2] = {
      {"rises", "up"}, {"falls", "down"}, {"steady", "neutral"}, {"outlook", "none"}};
  std::vector<Example> out;
  uint64_t x = 88172645463325252ULL;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    for (int w = 0; w < 7; ++w) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      if (w == 3) text.append(kKeys[i % 4][0]).append(" ");
      text.append(kFiller[x % 12]).append(" ");
    }
    out.push_back({text, kKeys[i % 4][1]});
  }
  return out;
}

void Percentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  const auto at = [&us](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = us.back();
}

// Decide() on real headlines (dev.csv) with a student trained on train.csv,
// or on generated text when the data is absent.
void BM_Decide(benchmark::State& state, const std::string& data_dir) {
  std::vector<Example> train;
  std::vector<Example> inputs;
  if (HaveHeadlines(data_dir)) {
    auto t = switchyard::learn::LoadExamplesCsv(HeadlinesFile(data_dir, "train.csv"));
    auto d = switchyard::learn::LoadExamplesCsv(HeadlinesFile(data_dir, "dev.csv"));
    if (!t.ok() || !d.ok()) {
      state.SkipWithError((t.ok() ? d.status() : t.status()).message().c_str());
      return;
    }
    train = std::move(*t);
    inputs = std::move(*d);
  } else {
    train = GeneratedExamples(5000);
    inputs = GeneratedExamples(2500);
  }
  auto trained = switchyard::learn::TrainStudent("bench", kHeadlineLabels, train, {});
  if (!trained.ok()) {
    state.SkipWithError(trained.status().message().c_str());
    return;
  }
  switchyard::learn::Student student = trained->student;
  student.set_serving(true);
  std::vector<double> us;
  us.reserve(1 << 20);
  size_t i = 0;
  size_t accepted = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const auto d = student.Decide(inputs[i].text);
    const auto end = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(d);
    accepted += d.accept ? 1 : 0;
    if (us.size() < us.capacity()) {
      us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    }
    if (++i == inputs.size()) i = 0;
  }
  Percentiles(state, us);
  state.counters["accept_rate"] =
      static_cast<double>(accepted) / static_cast<double>(state.iterations());
}

// One TrainStudent on the 5,000 headlines of train.csv, evaluated on dev.csv.
void BM_TrainHeadlines(benchmark::State& state, const std::string& data_dir) {
  if (!HaveHeadlines(data_dir)) {
    state.SkipWithError(
        ("headlines data not found under " + data_dir + " (pass --data=DIR): skipped").c_str());
    return;
  }
  auto train = switchyard::learn::LoadExamplesCsv(HeadlinesFile(data_dir, "train.csv"));
  auto dev = switchyard::learn::LoadExamplesCsv(HeadlinesFile(data_dir, "dev.csv"));
  if (!train.ok() || !dev.ok()) {
    state.SkipWithError((train.ok() ? dev.status() : train.status()).message().c_str());
    return;
  }
  switchyard::learn::TrainOptions options;
  options.final_model = static_cast<switchyard::learn::FinalModel>(state.range(0));
  double wall = 0;
  double cpu = 0;
  std::optional<switchyard::learn::TrainedStudent> last;
  for (auto _ : state) {
    const double cpu_start = CpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    auto t = switchyard::learn::TrainStudent("headlines", kHeadlineLabels, *train, options);
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    cpu = CpuSeconds() - cpu_start;
    if (!t.ok()) {
      state.SkipWithError(t.status().message().c_str());
      return;
    }
    last = std::move(*t);
  }
  const auto report = switchyard::learn::Evaluate(last->student, *dev, kHeadlineLabels);
  state.counters["train_s"] = wall;
  state.counters["cpu_s"] = cpu;
  state.counters["holdout_coverage"] = last->metrics.coverage;
  state.counters["threshold"] = last->threshold.threshold.value_or(-1);
  state.counters["dev_agreement"] = report.agreement;
  state.counters["dev_coverage"] = report.coverage;
  state.counters["dev_accepted_agreement"] = report.accepted_agreement;
  state.counters["dev_system_agreement"] = report.system_agreement;
  state.counters["dev_ece"] = report.ece;
}

}  // namespace

int main(int argc, char** argv) {
  // Take our own --data=DIR out before Google Benchmark sees the flags.
  std::string data_dir = "../shared/data";
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--data=", 7) == 0) {
      data_dir = argv[i] + 7;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  if (!HaveHeadlines(data_dir)) {
    std::fprintf(stderr,
                 "sy_bench_learn: no headlines data under %s: decision benchmark on "
                 "generated text, headlines benchmarks skipped\n",
                 data_dir.c_str());
  }
  benchmark::RegisterBenchmark("BM_Decide",
                               [data_dir](benchmark::State& s) { BM_Decide(s, data_dir); });
  // final_model: 0 = hold-out model, 1 = retrain on all, 2 = cross-fit (the default).
  benchmark::RegisterBenchmark("BM_TrainHeadlines",
                               [data_dir](benchmark::State& s) { BM_TrainHeadlines(s, data_dir); })
      ->ArgName("final_model")
      ->Arg(2)
      ->Arg(0)
      ->Iterations(1)
      ->Unit(benchmark::kSecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
