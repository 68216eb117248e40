#include "guard/audit.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/json_writer.h"
#include "core/sql_text.h"
#include "guard/internal/sqlite_db.h"

namespace switchyard::guard {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS guard_egress_audit (
  seq INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL DEFAULT '',
  tenant TEXT NOT NULL DEFAULT '',
  task TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  policy TEXT NOT NULL DEFAULT '',
  findings_before TEXT NOT NULL DEFAULT '{}',
  findings_after TEXT NOT NULL DEFAULT '{}',
  payload_sha256 TEXT NOT NULL DEFAULT '',
  payload_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS guard_egress_audit_ts ON guard_egress_audit(ts_ms);
)sql";

constexpr const char* kColumns =
    "ts_ms, request_id, tenant, task, provider, model, policy, findings_before, findings_after, "
    "payload_sha256, payload_bytes";

// Replaces `out` (keeping its capacity).
void CountsJson(const std::map<std::string, int64_t, std::less<>>& counts, std::string& out) {
  if (counts.empty()) {  // the common case: nothing found
    out.assign("{}");
    return;
  }
  out.clear();
  core::JsonWriter w(out);
  w.BeginObject();
  for (const auto& [k, v] : counts) w.Field(k, v);
  w.EndObject();
}

void ParseCounts(simdjson::dom::parser& parser, const std::string& json,
                 std::map<std::string, int64_t, std::less<>>& out) {
  out.clear();
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    int64_t v = 0;
    if (field.value.get(v) == simdjson::SUCCESS) out.emplace(std::string(field.key), v);
  }
}

std::string FormatUtc(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string CountsText(const std::map<std::string, int64_t, std::less<>>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (const auto& [k, v] : counts) {
    if (!out.empty()) out += ',';
    out += k + ":" + std::to_string(v);
  }
  return out;
}

}  // namespace

namespace {
std::string HexDigest(const unsigned char* digest, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}
}  // namespace

std::string Sha256Hex(std::string_view payload) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest);
  return HexDigest(digest, SHA256_DIGEST_LENGTH);
}

Sha256Hasher::Sha256Hasher()
    : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

std::string Sha256Hasher::Hex(std::string_view payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // Init with the same fetched EVP_MD keeps the context's provider state:
  // no lookup, no allocation after the first call.
  if (md_ == nullptr || ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, payload.data(), payload.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, digest, &n) != 1 || n != SHA256_DIGEST_LENGTH) {
    return Sha256Hex(payload);
  }
  return HexDigest(digest, n);
}

namespace {
void WriteRecord(core::JsonWriter& w, const AuditRecord& r) {
  w.BeginObject()
      .Field("ts_ms", r.ts_ms)
      .Field("time", FormatUtc(r.ts_ms))
      .Field("request_id", r.request_id)
      .Field("tenant", r.tenant)
      .Field("task", r.task)
      .Field("provider", r.provider)
      .Field("model", r.model)
      .Field("policy", r.policy);
  w.Key("findings_before").BeginObject();
  for (const auto& [k, v] : r.findings_before) w.Field(k, v);
  w.EndObject();
  w.Key("findings_after").BeginObject();
  for (const auto& [k, v] : r.findings_after) w.Field(k, v);
  w.EndObject();
  w.Field("payload_sha256", r.payload_sha256).Field("payload_bytes", r.payload_bytes).EndObject();
}
}  // namespace

std::string AuditRecordJson(const AuditRecord& record) {
  std::string out;
  core::JsonWriter w(out);
  WriteRecord(w, record);
  return out;
}

std::string RenderAuditJson(const std::vector<AuditRecord>& records, int64_t since_ms) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject().Field("since_ms", since_ms).Field("count", static_cast<int64_t>(records.size()));
  w.Key("records").BeginArray();
  for (const AuditRecord& r : records) WriteRecord(w, r);
  w.EndArray().EndObject();
  return out;
}

std::string RenderAuditText(const std::vector<AuditRecord>& records) {
  std::string out;
  std::map<std::string, int64_t, std::less<>> by_provider;
  for (const AuditRecord& r : records) {
    out += FormatUtc(r.ts_ms) + " " + (r.tenant.empty() ? "-" : r.tenant) + "/" +
           (r.task.empty() ? "-" : r.task) + " -> " + r.provider + "/" + r.model +
           " policy=" + (r.policy.empty() ? "-" : r.policy) +
           " before=" + CountsText(r.findings_before) + " after=" + CountsText(r.findings_after) +
           " sha256=" + r.payload_sha256.substr(0, 16) +
           " bytes=" + std::to_string(r.payload_bytes) + "\n";
    ++by_provider[r.provider];
  }
  out += std::to_string(records.size()) + " external call" + (records.size() == 1 ? "" : "s");
  for (const auto& [p, n] : by_provider) out += ", " + p + "=" + std::to_string(n);
  out += "\n";
  return out;
}

AuditStore::AuditStore(std::unique_ptr<internal::SqliteDb> db, AuditStoreOptions options)
    : db_(std::move(db)), options_(options) {}

core::Result<std::unique_ptr<AuditStore>> AuditStore::Open(const std::string& path,
                                                           AuditStoreOptions options) {
  if (options.read_only && !std::filesystem::exists(path)) {
    return core::NotFound("audit: no audit database at " + path);
  }
  auto db = internal::SqliteDb::Open("audit", path, options.read_only, options.busy_timeout_ms);
  if (!db.ok()) return db.take_status();
  if (!options.read_only) {
    if (core::Status s = (*db)->Exec(kSchema, "cannot create the audit table"); !s.ok()) return s;
    if (core::Status s =
            (*db)->Exec("PRAGMA wal_autocheckpoint=8192", "cannot set wal_autocheckpoint");
        !s.ok())
      return s;
  }
  std::unique_ptr<AuditStore> store(new AuditStore(std::move(*db), options));
  if (options.background && !options.read_only) {
    store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  }
  return store;
}

AuditStore::~AuditStore() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(queue_mu_);
      stop_ = true;
    }
    queue_cv_.notify_all();
    writer_.join();
  }
  for (sqlite3_stmt* s : {insert_, insert_many_, begin_, commit_}) {
    if (s != nullptr) sqlite3_finalize(s);
  }
}

core::Status AuditStore::Record(AuditRecord record) {
  if (!IsHex64(record.payload_sha256)) {
    return core::InvalidArgument("audit: payload_sha256 must be 64 hex characters");
  }
  if (!writer_.joinable()) {
    std::lock_guard lock(db_mu_);
    return Insert(std::span(&record, 1));
  }
  bool wake = false;
  {
    std::lock_guard lock(queue_mu_);
    if (queue_.size() >= options_.max_queue) {
      core::Status s(core::StatusCode::kResourceExhausted,
                     "audit: queue full (" + std::to_string(queue_.size()) + " records)");
      return s;
    }
    queue_.push_back(std::move(record));
    ++enqueued_;
    wake = waiting_ == Waiting::kIdle ||
           (waiting_ == Waiting::kFilling && queue_.size() >= options_.max_batch);
    if (wake) waiting_ = Waiting::kNone;
  }
  if (wake) queue_cv_.notify_one();
  return core::Status::Ok();
}

core::Status AuditStore::Flush() {
  if (!writer_.joinable()) return core::Status::Ok();
  std::unique_lock lock(queue_mu_);
  const uint64_t target = enqueued_;
  if (written_ < target) {
    urgent_ = true;
    waiting_ = Waiting::kNone;
    queue_cv_.notify_one();
  }
  drained_cv_.wait(lock, [&] { return written_ >= target; });
  return last_error_;
}

void AuditStore::WriterLoop() {
  const size_t max_batch = std::max<size_t>(1, options_.max_batch);
  std::vector<AuditRecord> batch;  // swapped with queue_: both keep their capacity
  std::unique_lock lock(queue_mu_);
  while (true) {
    waiting_ = Waiting::kIdle;
    queue_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) {
      waiting_ = Waiting::kNone;
      return;
    }
    // One transaction per batch: give the batch a moment to fill instead of
    // committing (and syncing the WAL) once per record.
    if (!stop_ && !urgent_ && queue_.size() < max_batch) {
      waiting_ = Waiting::kFilling;
      queue_cv_.wait_for(lock, options_.batch_delay,
                         [&] { return stop_ || urgent_ || queue_.size() >= max_batch; });
    }
    waiting_ = Waiting::kNone;
    batch.swap(queue_);
    urgent_ = false;
    lock.unlock();
    // More than max_batch queued (a slow disk): one transaction per max_batch.
    for (size_t i = 0; i < batch.size(); i += max_batch) {
      const size_t n = std::min(max_batch, batch.size() - i);
      core::Status s;
      {
        std::lock_guard db_lock(db_mu_);
        s = Insert(std::span<const AuditRecord>(batch).subspan(i, n));
      }
      lock.lock();
      if (!s.ok()) last_error_ = s;
      written_ += n;
      drained_cv_.notify_all();
      lock.unlock();
    }
    batch.clear();
    // Don't keep the memory of a backlog (up to max_queue records) for good.
    if (batch.capacity() > 4 * max_batch) std::vector<AuditRecord>().swap(batch);
    lock.lock();
  }
}

core::Status AuditStore::PrepareOnce(sqlite3_stmt*& stmt, const char* sql, std::string_view doing) {
  if (stmt != nullptr) return core::Status::Ok();
  auto prepared = db_->Prepare(sql, doing);
  if (!prepared.ok()) return prepared.take_status();
  stmt = prepared->Release();
  return core::Status::Ok();
}

core::Status AuditStore::Step(sqlite3_stmt*& stmt, const char* sql, std::string_view doing) {
  if (core::Status s = PrepareOnce(stmt, sql, doing); !s.ok()) return s;
  const int rc = sqlite3_step(stmt);
  core::Status status = rc == SQLITE_DONE ? core::Status::Ok() : db_->Error(rc, doing);
  sqlite3_reset(stmt);
  return status;
}

namespace {

constexpr int kAuditParams = 11;  // columns in kColumns

// "INSERT INTO guard_egress_audit (...) VALUES (?1, ..., ?11), (?12, ...)..."
std::string InsertSql(size_t rows) {
  std::string sql = std::string("INSERT INTO guard_egress_audit (") + kColumns + ") VALUES ";
  core::AppendValuesRows(sql, static_cast<int>(rows), kAuditParams);
  return sql;
}

// Binds `r` as the row whose first parameter is base + 1. Every text is bound
// SQLITE_STATIC (no copy): the record and the two JSON strings outlive the
// statement's step, and all are rebound per record.
void BindAudit(sqlite3_stmt* s, int base, const AuditRecord& r, const std::string& before_json,
               const std::string& after_json) {
  sqlite3_bind_int64(s, base + 1, r.ts_ms);
  internal::BindStaticText(s, base + 2, r.request_id);
  internal::BindStaticText(s, base + 3, r.tenant);
  internal::BindStaticText(s, base + 4, r.task);
  internal::BindStaticText(s, base + 5, r.provider);
  internal::BindStaticText(s, base + 6, r.model);
  internal::BindStaticText(s, base + 7, r.policy);
  internal::BindStaticText(s, base + 8, before_json);
  internal::BindStaticText(s, base + 9, after_json);
  internal::BindStaticText(s, base + 10, r.payload_sha256);
  sqlite3_bind_int64(s, base + 11, r.payload_bytes);
}

}  // namespace

core::Status AuditStore::Insert(std::span<const AuditRecord> records) {
  // BEGIN and COMMIT are prepared once, like the INSERTs (sqlite3_exec would
  // compile them for every batch).
  if (core::Status s = Step(begin_, "BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) {
    return s;
  }
  // Full chunks of kRowsPerInsert records take one statement execution
  // (step, reset) instead of one per record; the rest go one by one.
  core::Status err;
  size_t done = 0;
  while (err.ok() && done < records.size()) {
    const size_t rows = records.size() - done >= kRowsPerInsert ? kRowsPerInsert : 1;
    sqlite3_stmt*& stmt = rows > 1 ? insert_many_ : insert_;
    if (stmt == nullptr) {  // (the SQL text is built only the first time)
      err = PrepareOnce(stmt, InsertSql(rows).c_str(), "cannot write audit records");
      if (!err.ok()) break;
    }
    for (size_t row = 0; row < rows; ++row) {
      const AuditRecord& r = records[done + row];
      CountsJson(r.findings_before, before_json_[row]);
      CountsJson(r.findings_after, after_json_[row]);
      BindAudit(stmt, static_cast<int>(row) * kAuditParams, r, before_json_[row], after_json_[row]);
    }
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) err = db_->Error(rc, "cannot write audit records");
    sqlite3_reset(stmt);
    done += rows;
  }
  // No pointer into the records stays bound once they are gone.
  for (sqlite3_stmt* s : {insert_, insert_many_}) {
    if (s != nullptr) sqlite3_clear_bindings(s);
  }
  if (!err.ok()) {
    (void)db_->Exec("ROLLBACK", "cannot roll back");
    return err;
  }
  err = Step(commit_, "COMMIT", "cannot commit audit records");
  // A failed COMMIT leaves the transaction open: every later BEGIN would fail.
  if (!err.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return err;
}

core::Result<std::vector<AuditRecord>> AuditStore::Query(const AuditQuery& query) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM guard_egress_audit WHERE ts_ms >= ?1 ORDER BY ts_ms DESC, seq DESC";
  if (query.limit > 0) sql += " LIMIT " + std::to_string(query.limit);
  std::lock_guard lock(db_mu_);
  {
    // A file without the table (e.g. a ledger before the first external call)
    // simply has no records.
    auto exists = db_->Prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'guard_egress_audit'",
        "cannot read audit records");
    if (!exists.ok()) return exists.take_status();
    const int rc = sqlite3_step(exists->get());
    if (rc == SQLITE_DONE) return std::vector<AuditRecord>{};
    if (rc != SQLITE_ROW) return db_->Error(rc, "cannot read audit records");
  }
  auto stmt = db_->Prepare(sql.c_str(), "cannot read audit records");
  if (!stmt.ok()) return stmt.take_status();
  sqlite3_stmt* s = stmt->get();
  sqlite3_bind_int64(s, 1, query.since_ms);
  simdjson::dom::parser parser;
  std::vector<AuditRecord> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    AuditRecord r;
    r.ts_ms = sqlite3_column_int64(s, 0);
    r.request_id = internal::ColumnText(s, 1);
    r.tenant = internal::ColumnText(s, 2);
    r.task = internal::ColumnText(s, 3);
    r.provider = internal::ColumnText(s, 4);
    r.model = internal::ColumnText(s, 5);
    r.policy = internal::ColumnText(s, 6);
    ParseCounts(parser, internal::ColumnText(s, 7), r.findings_before);
    ParseCounts(parser, internal::ColumnText(s, 8), r.findings_after);
    r.payload_sha256 = internal::ColumnText(s, 9);
    r.payload_bytes = sqlite3_column_int64(s, 10);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_->Error(rc, "cannot read audit records");
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace switchyard::guard
