// LabelStore: the teacher's labels of each task, kept in SQLite (table
// `task_labels` in the file the caller names — the ledger's file in
// `switchyard serve`; the table and the connection are our own).
//
// Rows are appended (id, task, ts_ms, request_id, input, label) and read back
// oldest first for training; deduplication by normalised input happens in
// training (learn/trainer.h Deduplicate), not here, so the history stays whole.
//
// Ownership: the store owns its connection; the clock must outlive it.
// Thread-safety: every method may be called from any thread (one internal
// mutex serialises them). Calls do disk I/O: keep them off event loops.
// Errors: Open: FailedPrecondition "label store <path>: <cause> (SQLite:
// <msg>)"; later calls: FailedPrecondition "label store <path>: <doing>
// (SQLite: <msg>)".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "learn/student.h"

struct sqlite3;

namespace switchyard::learn {

class LabelStore {
 public:
  // Opens (creating the file, its directory and the table when needed).
  static core::Result<std::unique_ptr<LabelStore>> Open(const std::string& db_path,
                                                        const core::Clock& clock,
                                                        int busy_timeout_ms = 5000);
  ~LabelStore();
  LabelStore(const LabelStore&) = delete;
  LabelStore& operator=(const LabelStore&) = delete;

  // Appends one label.
  core::Status Add(std::string_view task, std::string_view input, std::string_view label,
                   std::string_view request_id);
  // Every label of `task`, oldest first.
  core::Result<std::vector<Example>> Load(std::string_view task);
  // How many labels `task` has.
  core::Result<int64_t> Count(std::string_view task);

 private:
  LabelStore(std::string path, sqlite3* db, const core::Clock& clock)
      : path_(std::move(path)), db_(db), clock_(clock) {}
  core::Status SqlError(std::string_view doing) const;

  std::string path_;
  sqlite3* db_;
  const core::Clock& clock_;
  std::mutex mu_;
};

}  // namespace switchyard::learn
