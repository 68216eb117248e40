#include "ledger/writer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "ledger/record_json.h"
#include "ledger/sqlite_store.h"
#include "ledger_test_util.h"

namespace switchyard::ledger {
namespace {

using namespace std::chrono_literals;
using testing::SampleRecord;
using testing::TempDir;

constexpr auto kLong = 60s;  // generous: only reached when something is broken

// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = kLong) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::unique_ptr<SqliteStore> OpenStore(const TempDir& dir) {
  auto store = SqliteStore::Open(LedgerDbPath(dir.path()));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::set<std::string> StoredIds(const TempDir& dir) {
  std::set<std::string> ids;
  auto store = OpenStore(dir);
  if (store == nullptr) return ids;
  EXPECT_TRUE(store
                  ->Scan({},
                         [&](Record& r) {
                           EXPECT_TRUE(ids.insert(r.id).second) << "duplicate " << r.id;
                           return true;
                         })
                  .ok());
  return ids;
}

std::unique_ptr<AsyncWriter> StartOrDie(std::unique_ptr<Store> store, WriterOptions options) {
  auto w = AsyncWriter::Start(std::move(store), std::move(options));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

// Delegates to a real store; WriteBatch() blocks until the gate opens, and
// fails while `fail_remaining` is positive (or always with fail_always).
class FaultyStore final : public Store {
 public:
  explicit FaultyStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  void OpenGate() {
    std::lock_guard lk(mu_);
    gate_open_ = true;
    cv_.notify_all();
  }
  void CloseGate() {
    std::lock_guard lk(mu_);
    gate_open_ = false;
  }
  bool WaitEntered() {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, kLong, [&] { return entered_ > 0; });
  }
  void FailNext(int n) {
    std::lock_guard lk(mu_);
    fail_remaining_ = n;
  }
  void FailAlways(bool on = true) {
    std::lock_guard lk(mu_);
    fail_always_ = on;
  }

  core::Status Migrate() override { return inner_->Migrate(); }
  using Store::WriteBatch;
  core::Result<size_t> WriteBatch(std::span<const Record> records, IdCheck ids) override {
    {
      std::unique_lock lk(mu_);
      ++entered_;
      cv_.notify_all();
      if (!cv_.wait_for(lk, kLong, [&] { return gate_open_; })) {
        return core::Internal("test gate never opened");
      }
      if (fail_always_ || fail_remaining_ > 0) {
        if (fail_remaining_ > 0) --fail_remaining_;
        return core::Unavailable("injected failure");
      }
    }
    return inner_->WriteBatch(records, ids);
  }
  core::Result<int64_t> Count() override { return inner_->Count(); }
  core::Result<std::vector<Record>> Latest(size_t n) override { return inner_->Latest(n); }
  core::Status Scan(const ScanOptions& o, const std::function<bool(Record&)>& fn) override {
    return inner_->Scan(o, fn);
  }

 private:
  std::unique_ptr<Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool gate_open_ = true;
  int entered_ = 0;
  int fail_remaining_ = 0;
  bool fail_always_ = false;
};

Record NumberedRecord(int thread, int i) {
  Record r = SampleRecord(i);
  r.id = "t" + std::to_string(thread) + "-" + std::to_string(i);
  r.request_body.clear();
  r.response_body.clear();
  return r;
}

TEST(AsyncWriterTest, ConcurrentPushesIntoASmallQueueLoseNothing) {
  TempDir dir;
  auto faulty = std::make_unique<FaultyStore>(OpenStore(dir));
  FaultyStore* store = faulty.get();
  store->CloseGate();  // hold the first batch until the queue has overflowed
  auto writer = StartOrDie(std::move(faulty), {.data_dir = dir.path(), .queue_capacity = 64});
  ASSERT_NE(writer, nullptr);

  constexpr int kThreads = 10;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    // Half the producers hand over built records, half build them in the
    // queue slot (Emplace; spilled the same way when the queue is full).
    producers.emplace_back([&writer, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (t % 2 == 0) {
          writer->Push(NumberedRecord(t, i));
        } else {
          writer->Emplace([t, i] { return NumberedRecord(t, i); });
        }
      }
    });
  }
  EXPECT_TRUE(WaitFor([&] { return writer->Stats().spilled > 0; }));
  store->OpenGate();
  for (auto& p : producers) p.join();
  ASSERT_TRUE(writer->Shutdown(kLong).ok()) << writer->LastError();

  const WriterStats s = writer->Stats();
  constexpr uint64_t kTotal = kThreads * kPerThread;
  EXPECT_GT(s.spilled, 0u);
  EXPECT_EQ(s.queued + s.spilled, kTotal);
  EXPECT_EQ(s.written, s.queued);
  EXPECT_EQ(s.replayed, s.spilled);
  EXPECT_EQ(s.write_errors, 0u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_GT(s.batches, 0u);

  const std::set<std::string> ids = StoredIds(dir);
  EXPECT_EQ(ids.size(), kTotal);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_TRUE(ids.count(NumberedRecord(t, i).id)) << NumberedRecord(t, i).id;
    }
  }
  writer.reset();
  // Everything replayed: no spill file is left behind.
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().rfind("ledger.spill", 0), std::string::npos) << e.path();
  }
}

TEST(AsyncWriterTest, FlushCommitsWithoutWaitingForTheBatchDelay) {
  TempDir dir;
  auto writer =
      StartOrDie(OpenStore(dir), {.data_dir = dir.path(), .max_batch = 1000, .max_delay = 1h});
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 100; ++i) writer->Push(SampleRecord(i));
  ASSERT_TRUE(writer->Flush(kLong).ok());
  EXPECT_EQ(writer->Stats().written, 100u);
  EXPECT_EQ(StoredIds(dir).size(), 100u);
  EXPECT_TRUE(writer->Flush(kLong).ok());  // nothing pending
  EXPECT_TRUE(writer->Shutdown(kLong).ok());
  EXPECT_EQ(writer->Stats().batches, 1u);  // the 100 records went in one transaction
}

// A writer (max_batch 4, no fill timeout) whose first batch of 4 records is
// in flight, held by the store's closed gate.
struct HeldWriter {
  bool Start() {
    auto gated = std::make_unique<FaultyStore>(OpenStore(dir));
    store = gated.get();
    store->CloseGate();
    writer =
        StartOrDie(std::move(gated), {.data_dir = dir.path(), .max_batch = 4, .max_delay = 1h});
    if (writer == nullptr) return false;
    for (int i = 0; i < 4; ++i) writer->Push(SampleRecord(i));
    return store->WaitEntered();
  }
  TempDir dir;
  FaultyStore* store = nullptr;
  std::unique_ptr<AsyncWriter> writer;
};

// A backlog (the store was slow) is taken from the queue at once but still
// committed max_batch records per transaction.
TEST(AsyncWriterTest, BacklogIsCommittedMaxBatchPerTransaction) {
  HeldWriter held;
  ASSERT_TRUE(held.Start());
  AsyncWriter* writer = held.writer.get();
  FaultyStore* store = held.store;
  const TempDir& dir = held.dir;
  for (int i = 4; i < 14; ++i) writer->Push(SampleRecord(i));
  EXPECT_EQ(writer->Stats().queue_depth, 10u);
  store->OpenGate();
  ASSERT_TRUE(writer->Flush(kLong).ok());
  const WriterStats s = writer->Stats();
  EXPECT_EQ(s.written, 14u);
  EXPECT_EQ(s.batches, 4u);  // 4, then the backlog of 10 as 4 + 4 + 2
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_EQ(StoredIds(dir).size(), 14u);
  EXPECT_TRUE(writer->Shutdown(kLong).ok());
}

// When a batch is full, a chunk still filling behind it is not committed
// with it (a transaction for a handful of records): it waits for its own fill.
TEST(AsyncWriterTest, PartlyFilledChunkWaitsBehindAFullBatch) {
  HeldWriter held;
  ASSERT_TRUE(held.Start());
  AsyncWriter* writer = held.writer.get();
  FaultyStore* store = held.store;
  for (int i = 4; i < 9; ++i) writer->Push(SampleRecord(i));  // a full chunk and one record
  store->OpenGate();
  ASSERT_TRUE(WaitFor([&] { return writer->Stats().written >= 8; }));
  EXPECT_EQ(writer->Stats().written, 8u);
  EXPECT_EQ(writer->Stats().queue_depth, 1u);
  ASSERT_TRUE(writer->Flush(kLong).ok());  // Flush does not wait for the fill delay
  EXPECT_EQ(writer->Stats().written, 9u);
  EXPECT_EQ(writer->Stats().batches, 3u);
  EXPECT_TRUE(writer->Shutdown(kLong).ok());
}

TEST(AsyncWriterTest, ReplaysSpillFilesLeftByAPreviousRun) {
  TempDir dir;
  std::string spill =
      R"({"id":"hand-written","ts_ms":1714564800000,"tenant":"acme","stages_tried":["a/b"],)"
      R"("cost_usd":0.25,"confidence":null,"status":200})"
      "\n";
  AppendRecordJson(spill, SampleRecord(1));
  spill += "\n";
  AppendRecordJson(spill, SampleRecord(2));
  spill += "\n{\"id\":\"torn-by-a-cra";  // the last line of a crashed process
  testing::WriteFile(dir.File("ledger.spill"), spill);
  std::string older;
  AppendRecordJson(older, SampleRecord(3));
  older += "\n";
  // Left by a crash mid-replay; SampleRecord(1) is in both files.
  AppendRecordJson(older, SampleRecord(1));
  older += "\n";
  testing::WriteFile(dir.File("ledger.spill.replay.7"), older);

  auto writer = StartOrDie(OpenStore(dir), {.data_dir = dir.path()});
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Shutdown(kLong).ok()) << writer->LastError();
  const WriterStats s = writer->Stats();
  EXPECT_EQ(s.replayed, 5u);  // 2 + 3 lines parsed (one id twice: stored once)
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(writer->LastError(), "ledger: 1 unreadable lines in " +
                                     dir.File("ledger.spill.replay.8") + " moved to " +
                                     dir.File("ledger.spill.rejected"));
  EXPECT_EQ(StoredIds(dir), (std::set<std::string>{"hand-written", "req-1", "req-2", "req-3"}));
  EXPECT_EQ(testing::ReadFile(dir.File("ledger.spill.rejected")), "{\"id\":\"torn-by-a-cra\n");
  EXPECT_FALSE(std::filesystem::exists(dir.File("ledger.spill.replay.7")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("ledger.spill.replay.8")));

  auto store = OpenStore(dir);
  std::vector<Record> got;
  ASSERT_TRUE(store
                  ->Scan({.since_ms = 0, .include_bodies = true},
                         [&](Record& r) {
                           got.push_back(r);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].id, "hand-written");
  EXPECT_EQ(got[0].tenant, "acme");
  EXPECT_EQ(got[0].stages_tried, std::vector<std::string>{"a/b"});
  EXPECT_EQ(got[0].cost_usd, 0.25);
  EXPECT_EQ(got[1], SampleRecord(1));
  EXPECT_EQ(got[3], SampleRecord(3));
}

TEST(AsyncWriterTest, PushAfterShutdownSpillsAndIsReplayedAtNextStart) {
  TempDir dir;
  {
    auto writer = StartOrDie(OpenStore(dir), {.data_dir = dir.path()});
    ASSERT_NE(writer, nullptr);
    writer->Push(SampleRecord(1));
    ASSERT_TRUE(writer->Shutdown(kLong).ok());
    writer->Push(SampleRecord(2));
    writer->Push(SampleRecord(3));
    const WriterStats s = writer->Stats();
    EXPECT_EQ(s.written, 1u);
    EXPECT_EQ(s.spilled, 2u);
    EXPECT_TRUE(writer->Shutdown(kLong).ok());  // a second call repeats the first status
    const std::string spill = testing::ReadFile(writer->spill_path());
    EXPECT_EQ(std::count(spill.begin(), spill.end(), '\n'), 2);
  }
  EXPECT_EQ(StoredIds(dir), (std::set<std::string>{"req-1"}));
  auto writer = StartOrDie(OpenStore(dir), {.data_dir = dir.path()});
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Shutdown(kLong).ok());
  EXPECT_EQ(writer->Stats().replayed, 2u);
  EXPECT_EQ(StoredIds(dir), (std::set<std::string>{"req-1", "req-2", "req-3"}));
}

TEST(AsyncWriterTest, TransientStoreErrorsAreRetried) {
  TempDir dir;
  auto faulty = std::make_unique<FaultyStore>(OpenStore(dir));
  faulty->FailNext(2);
  auto writer = StartOrDie(std::move(faulty),
                           {.data_dir = dir.path(), .write_attempts = 3, .retry_backoff = 1ms});
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 10; ++i) writer->Push(SampleRecord(i));
  ASSERT_TRUE(writer->Shutdown(kLong).ok());
  const WriterStats s = writer->Stats();
  EXPECT_EQ(s.write_errors, 2u);
  EXPECT_EQ(s.written, 10u);
  EXPECT_EQ(s.spilled, 0u);
  EXPECT_EQ(writer->LastError(), "injected failure");
  EXPECT_EQ(StoredIds(dir).size(), 10u);
}

TEST(AsyncWriterTest, PersistentStoreFailureSpillsAndTheNextStartReplays) {
  TempDir dir;
  {
    auto faulty = std::make_unique<FaultyStore>(OpenStore(dir));
    faulty->FailAlways();
    auto writer = StartOrDie(std::move(faulty),
                             {.data_dir = dir.path(), .write_attempts = 2, .retry_backoff = 1ms});
    ASSERT_NE(writer, nullptr);
    for (int i = 0; i < 10; ++i) writer->Push(SampleRecord(i));
    const core::Status st = writer->Shutdown(kLong);
    EXPECT_EQ(st.code(), core::StatusCode::kUnavailable);
    EXPECT_EQ(st.message(),
              "ledger: could not write every record (injected failure); records "
              "not yet in the store are saved in " +
                  dir.File("ledger.spill") + "* and replayed at the next start");
    const WriterStats s = writer->Stats();
    EXPECT_EQ(s.written, 0u);
    EXPECT_EQ(s.spilled, 10u);
    EXPECT_GE(s.write_errors, 2u);
    EXPECT_EQ(s.lost, 0u);
  }
  EXPECT_TRUE(StoredIds(dir).empty());
  auto writer = StartOrDie(OpenStore(dir), {.data_dir = dir.path()});
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Shutdown(kLong).ok()) << writer->LastError();
  EXPECT_EQ(writer->Stats().replayed, 10u);
  EXPECT_EQ(StoredIds(dir).size(), 10u);
}

TEST(AsyncWriterTest, ReplayIsRetriedUntilTheStoreRecovers) {
  TempDir dir;
  auto faulty = std::make_unique<FaultyStore>(OpenStore(dir));
  FaultyStore* store = faulty.get();
  store->FailAlways();
  auto writer = StartOrDie(
      std::move(faulty),
      {.data_dir = dir.path(), .max_delay = 1ms, .write_attempts = 1, .replay_retry = 1ms});
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 5; ++i) writer->Push(SampleRecord(i));
  ASSERT_TRUE(writer->Flush(kLong).ok());
  EXPECT_EQ(writer->Stats().spilled, 5u);
  // A replay attempt fails too (the batch's own failure is one error).
  EXPECT_TRUE(WaitFor([&] { return writer->Stats().write_errors >= 2; }));
  EXPECT_EQ(writer->Stats().replayed, 0u);
  store->FailAlways(false);
  EXPECT_TRUE(WaitFor([&] { return writer->Stats().replayed == 5; }));
  ASSERT_TRUE(writer->Shutdown(kLong).ok());
  EXPECT_EQ(StoredIds(dir).size(), 5u);
}

TEST(AsyncWriterTest, ShutdownDeadlineSpillsWhatIsLeftAndNothingIsLost) {
  TempDir dir;
  auto faulty = std::make_unique<FaultyStore>(OpenStore(dir));
  FaultyStore* store = faulty.get();
  store->CloseGate();
  auto writer =
      StartOrDie(std::move(faulty), {.data_dir = dir.path(), .max_batch = 4, .max_delay = 1h});
  ASSERT_NE(writer, nullptr);
  int pushed = 0;
  for (; pushed < 10; ++pushed) writer->Push(SampleRecord(pushed));
  ASSERT_TRUE(store->WaitEntered());  // the first batch of 4 is in flight

  core::Status status;
  std::thread stopper([&] { status = writer->Shutdown(0ms); });
  // Once Shutdown() has begun, pushes go straight to the spill file.
  EXPECT_TRUE(WaitFor([&] {
    writer->Push(SampleRecord(pushed++));
    return writer->Stats().spilled > 0;
  }));
  store->OpenGate();
  stopper.join();
  EXPECT_EQ(status.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(),
            "ledger: shutdown deadline of 0 ms passed; records not yet in the "
            "store are saved in " +
                dir.File("ledger.spill") + "* and replayed at the next start");
  const WriterStats s = writer->Stats();
  EXPECT_EQ(s.written, 4u);
  EXPECT_EQ(s.written + s.spilled, static_cast<uint64_t>(pushed));
  EXPECT_EQ(StoredIds(dir).size(), 4u);
  writer.reset();

  writer = StartOrDie(OpenStore(dir), {.data_dir = dir.path()});
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Shutdown(kLong).ok());
  EXPECT_EQ(StoredIds(dir).size(), static_cast<size_t>(pushed));
}

TEST(AsyncWriterTest, StartRejectsBadOptionsAndUnusableDataDir) {
  TempDir dir;
  auto bad = AsyncWriter::Start(OpenStore(dir), {.data_dir = dir.path(), .queue_capacity = 0});
  EXPECT_EQ(bad.status().message(), "ledger writer: queue_capacity must be at least 1");
  bad = AsyncWriter::Start(OpenStore(dir), {.data_dir = dir.path(), .max_batch = 0});
  EXPECT_EQ(bad.status().message(), "ledger writer: max_batch must be at least 1");
  bad = AsyncWriter::Start(OpenStore(dir), {.data_dir = dir.path(), .write_attempts = 0});
  EXPECT_EQ(bad.status().message(), "ledger writer: write_attempts must be at least 1");
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  bad = AsyncWriter::Start(OpenStore(dir), {.data_dir = ""});
  EXPECT_EQ(bad.status().message(), "ledger writer: data_dir is empty");
  bad = AsyncWriter::Start(nullptr, {.data_dir = dir.path()});
  EXPECT_EQ(bad.status().message(), "ledger writer: no store");

  testing::WriteFile(dir.File("plain-file"), "x");
  bad = AsyncWriter::Start(OpenStore(dir), {.data_dir = dir.File("plain-file")});
  EXPECT_EQ(bad.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "ledger: cannot create directory " + dir.File("plain-file") + ": Not a directory");
}

}  // namespace
}  // namespace switchyard::ledger
