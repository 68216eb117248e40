// SqliteStore: the embedded ledger store (one SQLite file, WAL mode).
//
// Open() creates the parent directory and the file if needed, switches the
// database to WAL with synchronous=NORMAL (a commit survives a process crash;
// the last few may be lost on power failure), sets a busy timeout, and
// migrates the schema (versioned with PRAGMA user_version, an ordered list of
// migrations applied in one transaction). Statements are prepared once and
// reused.
//
// Ownership: the store owns its connection and closes it on destruction.
// Threading: one thread at a time (see store.h); open one store per thread.
// Errors from Open(), all FailedPrecondition, message
// "ledger: <path>: <cause> (SQLite: <sqlite message>)", where cause is e.g.
//   "file is not a database"      the file exists but is not SQLite
//   "database file is corrupt"    SQLite detected a malformed file
//   "database is locked by another process or connection"
//                                 a lock was held longer than busy_timeout_ms
//   "cannot open the file"        missing directory (read-only), permissions
//   "cannot create directory <dir> (<reason>)"
//   "cannot enable WAL (journal mode stays \"<mode>\")"   (no SQLite part; sqlite/db.h)
//   "schema version N is newer than this build supports (M)"
// Later calls return the same form of message (the writer retries them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ledger/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace switchyard::sqlite {
class Checkpointer;
class Db;
}  // namespace switchyard::sqlite

namespace switchyard::ledger {

struct SqliteOptions {
  // How long a statement waits for another connection's lock before failing
  // with "database is locked".
  int busy_timeout_ms = 5000;
  // Open an existing ledger for reading only (CLI, admin endpoint): no
  // directory or file creation, no migration; the schema must be current.
  bool read_only = false;
};

// The schema version this build creates and expects.
inline constexpr int kLedgerSchemaVersion = 9;

// "<data_dir>/ledger.db".
std::string LedgerDbPath(std::string_view data_dir);

class SqliteStore final : public Store {
 public:
  static core::Result<std::unique_ptr<SqliteStore>> Open(std::string path,
                                                         SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // A batch is stored as chunks (rows) of records sorted by time: at most
  // kChunkRecords records and about kChunkBytes bytes each, and no chunk
  // spans more than kMaxChunkSpanMs between its first and last record time
  // (readers rely on that bound: changing it needs a migration).
  static constexpr size_t kChunkRecords = 256;
  static constexpr size_t kChunkBytes = size_t{64} * 1024;
  static constexpr int64_t kMaxChunkSpanMs = 60'000;
  // A chunk buffer larger than this (records with large bodies) is freed
  // after its batch instead of kept for the next one.
  static constexpr size_t kKeptScratchBytes = size_t{128} * 1024;

  core::Status Migrate() override;
  using Store::WriteBatch;
  core::Result<size_t> WriteBatch(std::span<const Record> records, IdCheck ids) override;
  core::Result<int64_t> Count() override;
  core::Result<std::vector<Record>> Latest(size_t n) override;
  core::Status Scan(const ScanOptions& options, const std::function<bool(Record&)>& fn) override;

  // The schema version stored in the file (PRAGMA user_version).
  core::Result<int> SchemaVersion();
  // Bytes held by the encode buffers kept between batches.
  size_t scratch_bytes() const;
  const std::string& path() const { return path_; }

 private:
  struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const;
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

  SqliteStore(std::unique_ptr<sqlite::Db> db, SqliteOptions options);
  sqlite3* db() const;

  core::Status Error(int rc, std::string_view doing) const;
  core::Status Exec(const char* sql, std::string_view doing);
  core::Result<sqlite3_stmt*> Prepared(Stmt& slot, const char* sql);
  // "database file is corrupt" naming the chunk's seq and `why`.
  core::Status Corrupt(int64_t seq, const core::Status& why) const;
  template <typename Bind, typename IdAt>
  core::Result<bool> InsertSlotted(sqlite3_stmt* insert, int seq_param, const Record& r,
                                   const Bind& bind, const IdAt& id_at);
  core::Status CopyRows(int version);
  // Migration 7: the rows of `records` (one per record) into `chunks`.
  core::Status CopyIntoChunks();
  // Marks in skip_ the records of `records` whose id is already stored or
  // repeated earlier in the batch (order_ must be sorted).
  core::Status MarkStored(std::span<const Record> records);
  // Encodes the records of order_ not marked in skip_ into chunks_ (sorted
  // by time, split by kChunkRecords / kChunkBytes / kMaxChunkSpanMs).
  void BuildChunks(std::span<const Record> records);
  // Inserts chunks_[0 .. chunk_count_).
  core::Status InsertChunks();

  // Declared before the statements (closed after them) and before path_ (a
  // copy of its path).
  std::unique_ptr<sqlite::Db> db_;
  // Writable stores: checkpoints on a thread of its own (closed before db_).
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  SqliteOptions options_;
  std::string path_;
  Stmt begin_, commit_, rollback_, insert_, window_, count_, latest_, scan_, scan_bodies_;
  // WriteBatch's working state, reused between batches: the records as
  // (ts_ms, index) sorted, which of them to skip, one encode buffer, and the
  // chunks built (chunk_count_ of chunks_ in use).
  struct Chunk {
    int64_t min_ts = 0;
    int64_t max_ts = 0;
    int64_t n = 0;
    std::string body;           // the records, encoded without payloads
    bool has_payloads = false;  // `payloads` holds an entry per record
    std::string payloads;
  };
  std::vector<std::pair<int64_t, size_t>> order_;
  std::vector<bool> skip_;
  std::string scratch_;
  std::vector<Chunk> chunks_;
  size_t chunk_count_ = 0;
};

}  // namespace switchyard::ledger
