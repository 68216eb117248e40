// Store: where ledger records live. SqliteStore is the embedded default; a
// PostgreSQL store implements the same interface, so the writer, the CLI and
// the admin endpoint never name a backend.
//
// Threading: a Store instance is used by one thread at a time (the writer
// thread owns its store; a reader such as the CLI opens its own). Separate
// instances on the same database are safe across threads and processes.
// Errors: every method returns a Status naming the database and the cause,
// e.g. FailedPrecondition "ledger: <path>: database is locked ...". Nothing throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/status.h"
#include "ledger/record.h"

namespace switchyard::ledger {

struct ScanOptions {
  int64_t since_ms = 0;         // only records with ts_ms >= since_ms
  bool include_bodies = false;  // fill request_body / response_body / pii_findings
};

// How WriteBatch treats record ids (see there).
enum class IdCheck { kSkipStored, kNew };

class Store {
 public:
  virtual ~Store() = default;

  // Brings the schema to the current version; a no-op when it already is.
  // Errors: FailedPrecondition when the schema is newer than this build knows.
  virtual core::Status Migrate() = 0;

  // Inserts `records` in ONE transaction, all or nothing, and returns how many
  // were newly inserted. With IdCheck::kSkipStored a record whose id is
  // already stored with the same ts_ms, or repeated earlier in the batch, is
  // skipped (idempotent replay). With IdCheck::kNew the caller guarantees the ids are new (the
  // writer's queue: ids made by the gateway) and nothing is looked up; a
  // repeated id is then stored twice.
  virtual core::Result<size_t> WriteBatch(std::span<const Record> records, IdCheck ids) = 0;
  core::Result<size_t> WriteBatch(std::span<const Record> records) {
    return WriteBatch(records, IdCheck::kSkipStored);
  }

  // Number of stored records.
  virtual core::Result<int64_t> Count() = 0;

  // The latest `n` records by ts_ms (ties in storage order), oldest first,
  // without bodies.
  virtual core::Result<std::vector<Record>> Latest(size_t n) = 0;

  // Calls `fn` for every record matching `options`, in ts_ms order. `fn` may
  // move from its argument; returning false stops the scan early.
  virtual core::Status Scan(const ScanOptions& options, const std::function<bool(Record&)>& fn) = 0;
};

}  // namespace switchyard::ledger
