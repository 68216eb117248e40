// Egress audit: one record per call that left the boundary (an external
// provider), saying to whom, for which tenant and task, under which policy,
// what was found before and after redaction, and the SHA-256 of the exact
// payload sent (so a disputed payload can be matched without storing it).
//
// Stored in a SQLite file of its own (<data_dir>/audit.db in the gateway;
// not the ledger's: two writers of one WAL make each connection drop its page
// cache at every commit of the other), as chunks: one row per batch of up to
// kChunkRecords records,
//   guard_egress_audit_chunks(seq, min_ts, max_ts, n, body)
// with `body` the records in the compact encoding of audit_codec.h (the
// digest as 32 bytes, texts repeated from the record before not stored) and
// an index on max_ts for `since` queries. `switchyard audit` reads it.
// Files written before chunks hold a row per record,
//   guard_egress_audit(seq, ts_ms, request_id, tenant, task, provider, model,
//                      policy, findings_before, findings_after, payload_sha256,
//                      payload_bytes)
// with findings_* JSON objects of counts by finding name ({"email":2}): a
// read-write open converts those rows into chunks in one transaction and drops
// the table; a read-only one reads both. A row the conversion cannot carry
// whole (a digest that is not 64 hex digits, findings that are not an object
// of counts) stops it with an error naming the record, the old table kept; a
// read-only query shows a bad digest as stored but fails on bad findings
// rather than show them as none.
//
// Record() either inserts at once (default) or, with `background`, queues the
// record for a writer thread that inserts in batches (one transaction each) so
// the request path never waits for the disk; Flush() waits for the queue.
// Background mode loses nothing on overload or a failing disk: a record that
// finds the queue full, and a batch the database refuses, go as JSON lines to
// the spill file <path>.audit.spill; the writer replays it (oldest first) when
// the queue is idle, and retries every replay_retry while the database still
// refuses; a spill left by an earlier run is replayed at start. Replay is
// at-least-once: a crash in the middle of a replay writes the part already
// replayed a second time at the next start. A spilled line that cannot be
// parsed is moved to <path>.audit.spill.rejected.
//
// Ownership: owns its connection (and writer thread). Threading: all methods
// are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

struct sqlite3_stmt;   // <sqlite3.h>
struct evp_md_st;      // EVP_MD, <openssl/evp.h>
struct evp_md_ctx_st;  // EVP_MD_CTX

namespace switchyard::sqlite {
class Checkpointer;
class Db;
}  // namespace switchyard::sqlite

namespace switchyard::guard {

// Finding counts by name ({"email": 2}).
using FindingCounts = std::map<std::string, int64_t, std::less<>>;

struct AuditRecord {
  int64_t ts_ms = 0;  // unix ms when the call was made
  std::string request_id;
  std::string tenant;
  std::string task;
  std::string provider;
  std::string model;
  std::string policy;             // PolicyActionName() that applied, e.g. "redact"
  FindingCounts findings_before;  // in the client's request
  FindingCounts findings_after;   // in what was sent
  std::string payload_sha256;     // 64 lowercase hex
  int64_t payload_bytes = 0;
  bool operator==(const AuditRecord&) const = default;
};

// SHA-256 of `payload`, 64 lowercase hex characters. One-shot: OpenSSL looks
// the algorithm up on every call; hot paths use a Sha256Hasher.
std::string Sha256Hex(std::string_view payload);

// SHA-256 hex digests with the implementation fetched once (EVP_MD_fetch) and
// one digest context reused for every call, so a hash costs the compression
// rounds and little else. Same output as Sha256Hex(); if OpenSSL cannot
// provide the fetched implementation it falls back to Sha256Hex().
// Ownership: owns the fetched EVP_MD and the EVP_MD_CTX. Threading: not
// thread-safe (one per event loop or thread). No errors.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  std::string Hex(std::string_view payload);

 private:
  evp_md_st* md_ = nullptr;       // EVP_MD
  evp_md_ctx_st* ctx_ = nullptr;  // EVP_MD_CTX
};

// {"ts_ms":..,"time":"2024-..Z","request_id":..,"tenant":..,"task":..,
//  "provider":..,"model":..,"policy":..,"findings_before":{..},
//  "findings_after":{..},"payload_sha256":..,"payload_bytes":..}
std::string AuditRecordJson(const AuditRecord& record);
// {"since_ms":..,"count":N,"records":[...]}
std::string RenderAuditJson(const std::vector<AuditRecord>& records, int64_t since_ms);
// One line per record ("<time> <tenant>/<task> -> <provider>/<model> policy=..
// before={..} after={..} sha256=<first 16 hex> bytes=N"), then a summary line.
std::string RenderAuditText(const std::vector<AuditRecord>& records);

struct AuditStoreOptions {
  int busy_timeout_ms = 5000;
  bool read_only = false;    // CLI: open an existing file, no writes
  bool background = false;   // Record() queues; a writer thread inserts
  size_t max_queue = 65536;  // background: records queued before Record() fails
  // Background: one transaction per batch of up to max_batch records; the
  // writer waits at most batch_delay after the first record to fill a batch,
  // then takes all that is queued (a backlog goes in several batches).
  size_t max_batch = 512;
  std::chrono::milliseconds batch_delay{20};
  // Background: how long the writer waits before replaying the spill file
  // again after the database refused it.
  std::chrono::milliseconds replay_retry{1000};
  // Read-write: a database that held the audit before it had a file of its
  // own (the ledger's, up to schema 6). At open, in one transaction over both
  // files, its guard_egress_audit rows not already here are copied and its
  // table dropped; its spill, replay and rejected files are moved here (or
  // appended to ours). "", a missing file or this file itself: nothing to do.
  std::string adopt_from;
};

struct AuditStats {
  uint64_t spilled = 0;   // records written to the spill file
  uint64_t replayed = 0;  // spilled records since written to the database
  uint64_t rejected = 0;  // spilled lines that could not be parsed back
  // Background mode: records accepted and not yet written (or spilled) by
  // the writer, the batch it is writing included.
  uint64_t queue_depth = 0;
};

struct AuditQuery {
  int64_t since_ms = 0;  // records with ts_ms >= since_ms
  size_t limit = 0;      // 0 = all; otherwise the latest `limit` of them
};

class AuditStore {
 public:
  // Records per chunk row (a batch or a replay step larger than this takes
  // several rows).
  static constexpr size_t kChunkRecords = 512;

  // Errors: FailedPrecondition "audit: <path>: <cause> (SQLite: ...)";
  // read_only on a missing file: NotFound "audit: no audit database at <path>";
  // converting an older file, FailedPrecondition "audit: <file>: the old audit
  // record <id> at <ts_ms> has a payload_sha256 that is not 64 hex digits; the
  // old table is kept" or "... has a findings_before (findings_after) that is
  // not a JSON object of counts ('<text>'); the old table is kept".
  static core::Result<std::unique_ptr<AuditStore>> Open(const std::string& path,
                                                        AuditStoreOptions options = {});
  // Flushes the queue (background mode) and closes.
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  // Errors: InvalidArgument "audit: payload_sha256 must be 64 hex characters";
  // FailedPrecondition from SQLite (direct mode); ResourceExhausted
  // "audit: queue full (<n> records) and the spill file <path> cannot be
  // written (<cause>)" (background mode: the record is lost).
  core::Status Record(AuditRecord record);
  AuditStats Stats() const;
  // Background mode: waits until everything queued so far is written and
  // returns the last write error, if any. Direct mode: OK.
  core::Status Flush();

  // Oldest first. On a file not converted yet (read-only), an old row whose
  // findings are not an object of counts fails the query with the error
  // above, without "; the old table is kept".
  core::Result<std::vector<AuditRecord>> Query(const AuditQuery& query);

 private:
  AuditStore(std::unique_ptr<sqlite::Db> db, AuditStoreOptions options, std::string spill_path);
  // One transaction around InsertChunks; requires db_mu_.
  core::Status Insert(std::span<const AuditRecord> records);
  // A chunk row per kChunkRecords records, inside the caller's transaction;
  // requires db_mu_.
  core::Status InsertChunks(std::span<const AuditRecord> records);
  // Calls fn(seq, records) for each chunk that may hold a record at or
  // after since_ms (the caller filters by time), in storage order or, with
  // newest_first, by max_ts descending; stops before a chunk whose max_ts
  // `more` refuses. A chunk that does not decode, holds another count than
  // its row says or a record outside its row's time range is an error:
  // FailedPrecondition "audit: <path>: database file is corrupt (chunk at
  // seq N: <why>)". Requires db_mu_.
  core::Status ForEachChunk(int64_t since_ms,
                            const std::function<void(int64_t, std::vector<AuditRecord>&)>& fn,
                            bool newest_first = false,
                            const std::function<bool(int64_t)>& more = {});
  // Open(): the row-per-record table of an older version, in this file
  // (ConvertRowTable) or in options_.adopt_from (Adopt), into chunks.
  core::Status ConvertRowTable();
  core::Status Adopt(const std::string& from);
  // Prepares `stmt` from `sql` unless it is already; requires db_mu_.
  core::Status PrepareOnce(sqlite3_stmt*& stmt, const char* sql, std::string_view doing);
  // Steps a statement prepared on first use (BEGIN, COMMIT); requires db_mu_.
  core::Status Step(sqlite3_stmt*& stmt, const char* sql, std::string_view doing);
  void WriterLoop();
  // Appends the records to the spill file; the error names the file.
  core::Status Spill(std::span<const AuditRecord> records);
  // Writer thread: replays up to kReplayChunk spilled records in one
  // transaction. kRefused: the database refused them (last_error_ says why);
  // the same records are tried again next time.
  enum class ReplayResult { kDone, kMore, kRefused };
  ReplayResult ReplayStep();
  static constexpr size_t kReplayChunk = 4096;

  std::unique_ptr<sqlite::Db> db_;
  // Writable stores: checkpoints on a thread of its own; declared after db_,
  // so it stops (and unhooks db_) first.
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  // Prepared once (writer side, under db_mu_); finalized before db_ closes.
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  std::string chunk_;  // InsertChunks() scratch (under db_mu_), bound SQLITE_STATIC
  AuditStoreOptions options_;
  std::mutex db_mu_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable drained_cv_;
  // A vector swapped with the writer's batch: no allocation per record once
  // both have grown (a deque allocates one node per record of this size).
  std::vector<AuditRecord> queue_;
  uint64_t enqueued_ = 0;
  uint64_t written_ = 0;  // records taken from the queue and handled
  bool stop_ = false;
  bool urgent_ = false;  // Flush() is waiting: don't wait to fill a batch
  // What the writer waits for; Record() wakes it only when that arrives.
  enum class Waiting { kNone, kIdle, kFilling } waiting_ = Waiting::kNone;
  core::Status last_error_;

  // Spill file (appended by Record() and the writer), guarded by spill_mu_.
  const std::string spill_path_;
  std::mutex spill_mu_;
  std::FILE* spill_ = nullptr;
  std::atomic<bool> spill_pending_{false};  // the spill file has lines to replay
  // Replay (writer thread only): the file being replayed and how far.
  std::FILE* replay_ = nullptr;
  long replay_offset_ = 0;
  std::atomic<uint64_t> spilled_{0}, replayed_{0}, rejected_{0};
  std::thread writer_;
};

}  // namespace switchyard::guard
