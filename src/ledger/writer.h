// AsyncWriter: takes ledger records off the request path and commits them in
// batches, losing none.
//
//   Push() ──► bounded queue ──► ONE writer thread ──► Store::WriteBatch()
//     │ (queue full, or after Shutdown)                 (one transaction per batch)
//     └──► <data_dir>/ledger.spill  (JSON lines, fflush per line)
//              └── renamed to ledger.spill.replay.<n> and replayed by the writer
//                  thread whenever the queue is empty; deleted once committed.
//
// A batch is committed as soon as max_batch records are queued, or max_delay
// after the first of them arrived. A batch the store rejects is retried with
// exponential backoff (write_attempts tries); then it is spilled. Queue
// batches are written as new records (IdCheck::kNew: no id lookup); replay
// is idempotent (IdCheck::kSkipStored: the store skips ids it already has),
// so a crash mid-replay duplicates nothing. Spill files left by a previous run are replayed after
// Start(). Unparsable spill lines (a line torn by a crash) are moved to
// ledger.spill.rejected and counted, never silently dropped.
//
// Ownership: the writer owns its Store and uses it only on its thread.
// Threading: Push(), Flush(), Stats() and LastError() are safe from any
// thread; Shutdown() from one thread. Push() never touches the database: it
// takes a mutex, moves the record into the queue and wakes the writer only
// when the writer is asleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "ledger/record.h"
#include "ledger/store.h"

namespace switchyard::ledger {

struct WriterOptions {
  std::string data_dir = "./switchyard-data";    // spill files: <data_dir>/ledger.spill*
  size_t queue_capacity = 65536;                 // records queued before Push() spills
  size_t max_batch = 512;                        // records per transaction, at most
  std::chrono::milliseconds max_delay{50};       // wait at most this to fill a batch
  int write_attempts = 4;                        // tries per batch before it is spilled
  std::chrono::milliseconds retry_backoff{20};   // first retry delay; doubles, capped at 1 s
  std::chrono::milliseconds replay_retry{1000};  // wait after a failed replay attempt
  std::chrono::milliseconds destructor_deadline{10000};  // Shutdown() deadline in ~AsyncWriter
};

// A snapshot of the writer's counters. Invariants once Shutdown() returned:
// pushes == queued + spilled_by_push, and every queued record was either
// written or spilled; every spilled record is replayed (now or at a later
// start), rejected, or counted in `lost`.
struct WriterStats {
  uint64_t queued = 0;        // records accepted into the queue
  uint64_t written = 0;       // queued records committed to the store
  uint64_t spilled = 0;       // records appended to the spill file (any reason)
  uint64_t replayed = 0;      // spilled records committed to the store
  uint64_t write_errors = 0;  // failed WriteBatch() calls, retries included
  uint64_t batches = 0;       // committed transactions (queue and replay)
  uint64_t rejected = 0;      // unparsable spill lines / records without id, set aside
  uint64_t lost = 0;          // records the spill file could not take (I/O error)
  size_t queue_depth = 0;     // records waiting in the queue now
  double last_batch_ms = 0;   // duration of the last committed transaction
};

class AsyncWriter {
 public:
  // Creates data_dir, collects spill files left by a previous run, opens the
  // spill file and starts the writer thread.
  // Errors: InvalidArgument for a zero capacity/batch/attempts;
  // FailedPrecondition "ledger: cannot ..." when data_dir or the spill file
  // cannot be created or renamed.
  static core::Result<std::unique_ptr<AsyncWriter>> Start(std::unique_ptr<Store> store,
                                                          WriterOptions options);
  // Calls Shutdown(options.destructor_deadline) if it was not called.
  ~AsyncWriter();
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Hands `record` (id must be non-empty) to the writer. Never blocks on the
  // database, never drops: queue full or writer shut down -> spill file.
  void Push(Record&& record);
  // As Push(make()), but the record returned by `make` is constructed in its
  // queue slot (GCC elides the move of the Record, ~20 strings; the standard
  // does not promise it), while the queue's lock is held: `make` must only
  // move prepared values (no hashing, no copies of bodies) and must not call
  // into this writer.
  template <typename Make>
  void Emplace(Make&& make);

  // Waits until every record queued before the call is committed or spilled.
  // Errors: DeadlineExceeded "ledger: flush timed out with <n> records pending".
  core::Status Flush(std::chrono::milliseconds timeout);

  // Stops accepting into the queue (later pushes spill), commits what is
  // queued, replays spill files, and joins the thread. When `deadline` passes
  // (checked between transactions) the rest of the queue is spilled at once.
  // Returns OK when everything reached the store; otherwise nothing is lost
  // but some records wait in spill files for the next start:
  //   DeadlineExceeded "ledger: shutdown deadline of <n> ms passed; ..."
  //   Unavailable "ledger: could not write every record (<last error>); ..."
  //   Unavailable "ledger: records were pushed during shutdown; ..."
  // A second call returns the first call's status.
  core::Status Shutdown(std::chrono::milliseconds deadline);

  WriterStats Stats() const;
  // The last store or spill error message, "" if none.
  std::string LastError() const;
  const std::string& spill_path() const { return spill_path_; }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Waiting { kNone, kIdle, kFilling };

  AsyncWriter(std::unique_ptr<Store> store, WriterOptions options);
  core::Status Prepare();
  void Run();
  void CommitQueueBatch(std::span<const Record> batch);
  void ReplayStep();
  bool RotateSpillFile();
  bool ShutdownDeadlinePassed();
  // Appends records as JSON lines to the spill file; false (and `lost`
  // counted) on an I/O error.
  bool SpillRecords(std::span<const Record> records);
  bool AppendSpill(const std::string& lines, size_t count);
  // With mu_ held: the queue chunk a new record goes to, or null when the
  // queue is full or stopping (the record is then spilled).
  std::vector<Record>* QueueSlotLocked();
  // With mu_ held, after a record was appended to QueueSlotLocked()'s chunk:
  // counts it, releases `lk` and wakes the writer if it waits for it.
  void EnqueuedLocked(std::unique_lock<std::mutex>& lk);
  // A record the queue could not take (or without id) goes to the spill file.
  void SpillOne(const Record& record);
  void WakeIfIdle();
  void SetLastError(std::string message);

  const WriterOptions options_;
  const std::string spill_path_;
  const size_t batch_trigger_;    // queue depth that ends the fill delay
  std::unique_ptr<Store> store_;  // writer thread only
  std::thread thread_;

  // Queue state, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::condition_variable done_cv_;  // wakes Flush() callers
  // The queue: chunks of up to max_batch records (one transaction each). A
  // chunk is reserved once and recycled, so Push() never moves queued records
  // (a burst grows the list of chunks, not one big array), and the writer
  // takes the whole list with a swap.
  using Chunk = std::vector<Record>;
  std::vector<Chunk> queue_;
  std::vector<Chunk> spare_chunks_;  // emptied chunks, capacity kept
  size_t queue_size_ = 0;            // records in queue_
  Waiting waiting_ = Waiting::kNone;
  bool stopping_ = false;
  Clock::time_point shutdown_deadline_;
  uint64_t enqueued_ = 0;        // records ever accepted into the queue
  uint64_t done_ = 0;            // of those, committed or spilled
  uint64_t flush_target_ = 0;    // a Flush() waits for done_ >= this
  bool deadline_spill_ = false;  // the writer spilled because the deadline passed
  bool shut_down_ = false;
  core::Status shutdown_status_;

  // Spill file, guarded by spill_mu_.
  std::mutex spill_mu_;
  std::FILE* spill_file_ = nullptr;
  uint64_t spill_bytes_ = 0;                // bytes in the current spill file
  std::atomic<bool> spill_pending_{false};  // current spill file has lines to replay

  // Replay state: writer thread only (and Prepare() before it starts).
  std::deque<std::string> replay_files_;
  uint64_t next_replay_n_ = 1;
  std::ifstream replay_in_;  // the front of replay_files_, while being replayed
  std::optional<Clock::time_point> replay_retry_at_;

  mutable std::mutex error_mu_;
  std::string last_error_;

  std::atomic<uint64_t> queued_{0}, written_{0}, spilled_{0}, replayed_{0}, write_errors_{0},
      batches_{0}, rejected_{0}, lost_{0};
  std::atomic<size_t> depth_{0};
  std::atomic<double> last_batch_ms_{0};
};

template <typename Make>
void AsyncWriter::Emplace(Make&& make) {
  // Converts to the Record `make` returns: emplace_back constructs the slot
  // from it (GCC elides the move of the returned prvalue).
  struct Build {
    Make& make;
    operator Record() const { return make(); }  // NOLINT(google-explicit-constructor)
  };
  std::unique_lock lk(mu_);
  if (std::vector<Record>* chunk = QueueSlotLocked()) {
    const Record& r = chunk->emplace_back(Build{make});
    if (!r.id.empty()) {
      EnqueuedLocked(lk);
      return;
    }
    Record rejected = std::move(chunk->back());
    chunk->pop_back();
    lk.unlock();
    SpillOne(rejected);
    return;
  }
  lk.unlock();
  SpillOne(make());
}

}  // namespace switchyard::ledger
