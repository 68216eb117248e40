// Checkpointer: copies a WAL database's log back into the database on a thread
// of its own, so the connection that commits (a store's writer thread) does
// not stall for a checkpoint. With SQLite's autocheckpoint the commit that takes
// the log past its limit copies the whole log (128 MiB for the ledger) and
// fsyncs both files before it returns; under load the writer's queue grew by
// thousands of records each time (docs/BENCHMARKS.md, "RSS soak").
//
// How: a WAL hook on the writer connection (which replaces its autocheckpoint)
// sees the log's size after every commit of its main database; from
// `wake_pages` frames it wakes the thread, which runs PASSIVE checkpoints on a
// connection of its own until a commit finds nothing to ask for (PASSIVE never
// waits for the writer: it copies what is committed). SQLite restarts the log
// from its start at the first transaction that begins after everything was
// copied, which needs a gap between the writer's transactions longer than the
// copy of the last few; a writer that never pauses takes the log on to
// `inline_pages` frames, where it checkpoints itself, as SQLite's
// autocheckpoint would, after waiting for a copy the thread is running. So,
// unless a reader keeps an old snapshot open (which holds any checkpoint
// back), the log passes `inline_pages` by one transaction at most, as it
// passed the autocheckpoint limit before.
//
// Threading: Start() and the destructor use the writer connection (installing
// and removing the hook), so nothing else may use it while they run; the hook
// runs on whichever thread commits. Counters and the last error are safe from
// any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "sqlite/db.h"

namespace switchyard::sqlite {

// The defaults are what the ledger and the audit use (128 MiB / 32 MiB of
// WAL with their 16 KiB / 4 KiB pages before the thread copies it).
struct CheckpointOptions {
  int wake_pages = 8192;     // log frames after a commit that wake the thread
  int inline_pages = 16384;  // log frames from which the writer checkpoints itself
};

class Checkpointer {
 public:
  // Opens a second connection to writer's file and installs the hook on
  // `writer`, which must outlive the Checkpointer.
  // Errors: InvalidArgument "<what>: <path>: cannot checkpoint a read-only
  // connection"; InvalidArgument when wake_pages < 1 or inline_pages <
  // wake_pages; the second connection's open errors (Db::Open's format).
  static core::Result<std::unique_ptr<Checkpointer>> Start(Db& writer,
                                                           const CheckpointOptions& options);
  // Removes the hook (the writer then has no autocheckpoint: its owner closes
  // it next, and closing a file's last connection checkpoints it), then stops
  // the thread after the checkpoint it is running, if any.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run by the thread / by the writer itself (inline_pages).
  uint64_t background_checkpoints() const;
  uint64_t inline_checkpoints() const;
  // Log frames the last commit reported (0 before the first).
  int last_wal_frames() const;
  // The last failed checkpoint's error ("" if none failed); a busy
  // checkpoint (another one running) is not a failure.
  std::string last_error() const;
  // Returns once no checkpoint is requested or running (tests).
  void WaitIdle();

 private:
  Checkpointer(Db& writer, std::unique_ptr<Db> own, const CheckpointOptions& options);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);
  void Run();
  // Records `rc` of a checkpoint on `db` (a failure other than busy sets the
  // last error); true when it ran.
  bool Checked(Db& db, int rc);

  Db& writer_;
  std::unique_ptr<Db> own_;  // the thread's connection
  const CheckpointOptions options_;

  std::mutex checkpoint_mu_;  // one checkpoint at a time: the thread's or the writer's
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the thread
  std::condition_variable idle_cv_;  // wakes WaitIdle()
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  uint64_t background_ = 0;
  uint64_t inline_ = 0;
  int last_frames_ = 0;
  std::string last_error_;
  std::thread thread_;
};

}  // namespace switchyard::sqlite
