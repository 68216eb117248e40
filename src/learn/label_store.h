// LabelStore: the learning store of the tasks, kept in SQLite (tables in the
// file the caller names — the ledger's file in `switchyard serve`; the tables
// and the connection are our own):
//  - task_labels: the teacher's labels (id, task, ts_ms, request_id, input,
//    label), appended and read back oldest first for training. Deduplication
//    by normalised input happens in training (learn/trainer.h Deduplicate),
//    not here, so the history stays whole.
//  - task_unparsed: teacher replies that map to no label (id, task, ts_ms,
//    request_id, reply cut to kMaxUnparsedReplyBytes, reply_bytes = the full
//    length, error). Kept whatever the ledger's payload retention, never
//    trained on; their count is the task's unparseable count.
//  - task_live: the live (shadow) comparison counts per (task, version),
//    replaced by SaveStats, with the Wilson lower bound at the time.
//  - task_counters: per task, inputs the student could not read
//    (input_unmatched) and demotions.
//
// Ownership: the store owns its connection; the clock must outlive it.
// Thread-safety: every method may be called from any thread (one internal
// mutex serialises them). Calls do disk I/O: keep them off event loops.
// Errors: FailedPrecondition "label store: <path>: <cause> (SQLite: <msg>)",
// the cause being what was being done unless SQLite's code names one (locked,
// read-only, disk full, ...; sqlite/db.h); Open also "label store: <path>:
// cannot create directory <dir> (<reason>)". A failed batch is rolled back whole.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "learn/live.h"
#include "learn/student.h"

namespace switchyard::sqlite {
class Db;
}

namespace switchyard::learn {

// Unparsed teacher replies are kept up to this many bytes (cut at a UTF-8
// character boundary).
inline constexpr size_t kMaxUnparsedReplyBytes = 4096;

struct LabelRow {
  std::string task;
  std::string input;
  std::string label;
  std::string request_id;
};

struct UnparsedRow {
  std::string task;
  std::string request_id;
  std::string reply;        // at most kMaxUnparsedReplyBytes (cut by AddBatch)
  int64_t reply_bytes = 0;  // the whole reply's length (AddBatch: 0 = reply.size())
  std::string error;        // why it maps to no label (learn/labels.h messages)
  int64_t ts_ms = 0;        // set by AddBatch
};

struct LiveRow {
  std::string task;
  int64_t version = 0;
  LiveStats stats;         // the counts; derived fields recomputed on load
  int64_t updated_ms = 0;  // set by SaveStats
};

struct TaskCounters {
  int64_t input_unmatched = 0;  // requests whose input the student could not read
  int64_t demotions = 0;        // promoted students demoted on live agreement
};

class LabelStore {
 public:
  // Opens (creating the file, its directory and the tables when needed; the
  // file in WAL mode with synchronous=NORMAL, as every store: sqlite/db.h).
  static core::Result<std::unique_ptr<LabelStore>> Open(const std::string& db_path,
                                                        const core::Clock& clock,
                                                        int busy_timeout_ms = 5000);
  ~LabelStore();
  LabelStore(const LabelStore&) = delete;
  LabelStore& operator=(const LabelStore&) = delete;

  // Appends one label.
  core::Status Add(std::string_view task, std::string_view input, std::string_view label,
                   std::string_view request_id);
  // Appends labels and unparsed replies in one transaction (all or none).
  core::Status AddBatch(const std::vector<LabelRow>& labels,
                        const std::vector<UnparsedRow>& unparsed = {});
  // Every label of `task`, oldest first.
  core::Result<std::vector<Example>> Load(std::string_view task);
  // How many labels `task` has.
  core::Result<int64_t> Count(std::string_view task);

  // The unparsed replies of `task`, oldest first.
  core::Result<std::vector<UnparsedRow>> LoadUnparsed(std::string_view task);
  core::Result<int64_t> CountUnparsed(std::string_view task);

  // Replaces the given live rows and counters, in one transaction.
  core::Status SaveStats(const std::vector<LiveRow>& live,
                         const std::map<std::string, TaskCounters>& counters);
  // Live rows of `task` ("" = every task), by task then version.
  core::Result<std::vector<LiveRow>> LoadLive(std::string_view task = "");
  // Counters by task (tasks without a row are absent).
  core::Result<std::map<std::string, TaskCounters>> LoadCounters();

 private:
  LabelStore(std::unique_ptr<sqlite::Db> db, const core::Clock& clock);
  core::Status AddBatchLocked(const std::vector<LabelRow>& labels,
                              const std::vector<UnparsedRow>& unparsed);
  core::Status SaveStatsLocked(const std::vector<LiveRow>& live,
                               const std::map<std::string, TaskCounters>& counters);

  std::unique_ptr<sqlite::Db> db_;
  const core::Clock& clock_;
  std::mutex mu_;
};

}  // namespace switchyard::learn
