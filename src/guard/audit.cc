#include "guard/audit.h"

#include <openssl/sha.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "core/json_writer.h"
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

std::string CountsJson(const std::map<std::string, int64_t, std::less<>>& counts) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  for (const auto& [k, v] : counts) w.Field(k, v);
  w.EndObject();
  return out;
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

std::string Sha256Hex(std::string_view payload) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (size_t i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
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

core::Result<std::unique_ptr<AuditStore>> AuditStore::Open(std::string path,
                                                           AuditStoreOptions options) {
  if (options.read_only && !std::filesystem::exists(path)) {
    return core::NotFound("audit: no audit database at " + path);
  }
  auto db = internal::SqliteDb::Open("audit", path, options.read_only, options.busy_timeout_ms);
  if (!db.ok()) return db.take_status();
  if (!options.read_only) {
    if (core::Status s = (*db)->Exec(kSchema, "cannot create the audit table"); !s.ok()) return s;
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
  if (insert_ != nullptr) sqlite3_finalize(insert_);
}

core::Status AuditStore::Record(AuditRecord record) {
  if (!IsHex64(record.payload_sha256)) {
    return core::InvalidArgument("audit: payload_sha256 must be 64 hex characters");
  }
  if (!writer_.joinable()) {
    std::lock_guard lock(db_mu_);
    return Insert({std::move(record)});
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
    if (!stop_ && !urgent_ && queue_.size() < options_.max_batch) {
      waiting_ = Waiting::kFilling;
      queue_cv_.wait_for(lock, options_.batch_delay,
                         [&] { return stop_ || urgent_ || queue_.size() >= options_.max_batch; });
    }
    waiting_ = Waiting::kNone;
    std::vector<AuditRecord> batch;
    batch.reserve(std::min(queue_.size(), options_.max_batch));
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (queue_.empty()) urgent_ = false;
    lock.unlock();
    core::Status s;
    {
      std::lock_guard db_lock(db_mu_);
      s = Insert(batch);
    }
    lock.lock();
    if (!s.ok()) last_error_ = s;
    written_ += batch.size();
    drained_cv_.notify_all();
  }
}

core::Status AuditStore::Insert(const std::vector<AuditRecord>& records) {
  if (core::Status s = db_->Exec("BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) {
    return s;
  }
  if (insert_ == nullptr) {
    const std::string sql = std::string("INSERT INTO guard_egress_audit (") + kColumns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    auto stmt = db_->Prepare(sql.c_str(), "cannot write audit records");
    if (!stmt.ok()) {
      (void)db_->Exec("ROLLBACK", "cannot roll back");
      return stmt.take_status();
    }
    insert_ = stmt->Release();
  }
  sqlite3_stmt* s = insert_;
  for (const AuditRecord& r : records) {
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, r.ts_ms);
    internal::BindText(s, 2, r.request_id);
    internal::BindText(s, 3, r.tenant);
    internal::BindText(s, 4, r.task);
    internal::BindText(s, 5, r.provider);
    internal::BindText(s, 6, r.model);
    internal::BindText(s, 7, r.policy);
    internal::BindText(s, 8, CountsJson(r.findings_before));
    internal::BindText(s, 9, CountsJson(r.findings_after));
    internal::BindText(s, 10, r.payload_sha256);
    sqlite3_bind_int64(s, 11, r.payload_bytes);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
      core::Status err = db_->Error(rc, "cannot write audit records");
      sqlite3_reset(s);
      (void)db_->Exec("ROLLBACK", "cannot roll back");
      return err;
    }
  }
  sqlite3_reset(s);
  return db_->Exec("COMMIT", "cannot commit audit records");
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
