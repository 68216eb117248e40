// Ledger writer throughput: records/s into SQLite (WAL), through the store
// directly and through the async writer (queue + writer thread + batches).
//
//   build/bench/ledger_writer_bench --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "ledger/sqlite_store.h"
#include "ledger/writer.h"

namespace {

using switchyard::ledger::AsyncWriter;
using switchyard::ledger::IdCheck;
using switchyard::ledger::Record;
using switchyard::ledger::SqliteStore;

std::string TempDir() {
  std::string dir = "/tmp/sy-ledger-bench-" + std::to_string(::getpid()) + "-" +
                    std::to_string(reinterpret_cast<uintptr_t>(&dir));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Record i starts at millisecond i / per_ms: one per millisecond is an
// append-only stream of rowids; a gateway at ~30k requests/s puts ~32 in each
// millisecond, whose slots (a hash of the id) arrive in no order.
Record MakeRecord(int64_t i, int64_t per_ms = 1) {
  Record r;
  r.id = "chatcmpl-bench-" + std::to_string(i);
  r.ts_ms = 1'795'000'000'000 + i / per_ms;
  r.route = "default";
  r.stages_tried = {"openai/gpt-4o-mini"};
  r.answered_by = "openai/gpt-4o-mini";
  r.provider = "openai";
  r.model = "gpt-4o-mini";
  r.attempts = 1;
  r.input_tokens = 812;
  r.output_tokens = 97;
  r.cost_usd = 0.0001800;
  r.first_byte_ms = 210.5;
  r.total_ms = 950.25;
  r.status = 200;
  r.template_hash = "f7fd83aa7507f5d6";
  return r;
}

// Batches of 512 straight into the store: the database's own ceiling.
// Arguments: records per millisecond (see MakeRecord); 0 = new ids (the
// writer's queue, IdCheck::kNew), 1 = ids looked up first (a replay).
void BM_StoreWriteBatch(benchmark::State& state) {
  const int64_t per_ms = state.range(0);
  const IdCheck ids = state.range(1) == 0 ? IdCheck::kNew : IdCheck::kSkipStored;
  const std::string dir = TempDir();
  auto store = SqliteStore::Open(dir + "/ledger.db");
  if (!store.ok()) {
    state.SkipWithError(store.status().message().c_str());
    return;
  }
  std::vector<Record> batch;
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (int i = 0; i < 512; ++i) batch.push_back(MakeRecord(next++, per_ms));
    state.ResumeTiming();
    auto written = (*store)->WriteBatch(batch, ids);
    if (!written.ok()) state.SkipWithError(written.status().message().c_str());
  }
  state.SetItemsProcessed(state.iterations() * 512);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreWriteBatch)
    ->Args({1, 0})
    ->Args({32, 0})
    ->Args({32, 1})
    ->Unit(benchmark::kMillisecond);

// Push N records from one thread and wait until all are committed: end-to-end
// records/s of the writer with default options.
void BM_AsyncWriterEndToEnd(benchmark::State& state) {
  const int64_t n = state.range(0);
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string dir = TempDir();
    auto store = SqliteStore::Open(dir + "/ledger.db");
    switchyard::ledger::WriterOptions options;
    options.data_dir = dir;
    options.queue_capacity = static_cast<size_t>(n);  // measure writing, not spilling
    auto writer = AsyncWriter::Start(std::move(*store), options);
    std::vector<Record> records;
    records.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) records.push_back(MakeRecord(next++));
    state.ResumeTiming();
    for (auto& r : records) (*writer)->Push(std::move(r));
    auto s = (*writer)->Flush(std::chrono::seconds(60));
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    state.PauseTiming();
    (void)(*writer)->Shutdown(std::chrono::seconds(10));
    writer->reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AsyncWriterEndToEnd)->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();

// The cost the request path pays: one Push (queue insert) per record.
void BM_PushOnly(benchmark::State& state) {
  const std::string dir = TempDir();
  auto store = SqliteStore::Open(dir + "/ledger.db");
  switchyard::ledger::WriterOptions options;
  options.data_dir = dir;
  options.queue_capacity = 1 << 22;
  auto writer = AsyncWriter::Start(std::move(*store), options);
  int64_t next = 0;
  for (auto _ : state) {
    (*writer)->Push(MakeRecord(next++));
  }
  state.SetItemsProcessed(state.iterations());
  (void)(*writer)->Shutdown(std::chrono::seconds(60));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PushOnly);

}  // namespace

int main(int argc, char** argv) {
  // As `switchyard` itself does (src/app/main.cc): no SQLite memory statistics.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
