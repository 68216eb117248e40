#include "guard/audit.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

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

// A spill file line (AuditRecordJson) back into a record; false when it is
// not one.
bool ParseSpilledRecord(simdjson::dom::parser& parser, std::string_view line, AuditRecord& r) {
  simdjson::dom::object o;
  if (parser.parse(line.data(), line.size()).get(o) != simdjson::SUCCESS) return false;
  const auto text = [&](const char* key, std::string& out) {
    std::string_view v;
    if (o[key].get(v) != simdjson::SUCCESS) return false;
    out.assign(v);
    return true;
  };
  const auto counts = [&](const char* key, std::map<std::string, int64_t, std::less<>>& out) {
    simdjson::dom::object c;
    if (o[key].get(c) != simdjson::SUCCESS) return false;
    for (auto field : c) {
      int64_t v = 0;
      if (field.value.get(v) != simdjson::SUCCESS) return false;
      out.emplace(std::string(field.key), v);
    }
    return true;
  };
  return o["ts_ms"].get(r.ts_ms) == simdjson::SUCCESS && text("request_id", r.request_id) &&
         text("tenant", r.tenant) && text("task", r.task) && text("provider", r.provider) &&
         text("model", r.model) && text("policy", r.policy) &&
         counts("findings_before", r.findings_before) &&
         counts("findings_after", r.findings_after) && text("payload_sha256", r.payload_sha256) &&
         IsHex64(r.payload_sha256) && o["payload_bytes"].get(r.payload_bytes) == simdjson::SUCCESS;
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

namespace {

// Moves `from` to `to`, or appends it to `to` when that exists already (a
// spill left at both places is replayed, not stranded).
core::Status MoveOrAppend(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(from, ec)) return core::Status::Ok();
  if (!std::filesystem::exists(to, ec)) {
    std::filesystem::rename(from, to, ec);
  } else {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary | std::ios::app);
    out << in.rdbuf();
    out.flush();
    if (!in || !out) ec = std::make_error_code(std::errc::io_error);
    if (!ec) std::filesystem::remove(from, ec);
  }
  if (!ec) return core::Status::Ok();
  std::string msg = "audit: cannot move " + from;
  msg += " to ";
  msg += to;
  msg += ": ";
  msg += ec.message();
  return core::FailedPrecondition(std::move(msg));
}

// AuditStoreOptions::adopt_from. One transaction over both files (BEGIN
// IMMEDIATE locks both, so a writer of the old table cannot insert between the
// copy and the drop) copies the old rows that are not here already (a row
// counts as here when ts_ms, request_id, provider and payload hash match: an
// earlier adoption that stopped between the two files' commits) and drops the
// old table.
core::Status Adopt(internal::SqliteDb& db, const std::string& from, const std::string& spill_path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(from, ec)) return core::Status::Ok();
  if (std::filesystem::equivalent(from, db.path(), ec)) return core::Status::Ok();
  const std::string from_spill = from + ".audit.spill";
  for (const char* suffix : {"", ".replay", ".rejected"}) {
    if (core::Status s = MoveOrAppend(from_spill + suffix, spill_path + suffix); !s.ok()) return s;
  }
  sqlite3* h = db.handle();
  auto failed = [&](std::string_view doing) {
    return core::FailedPrecondition("audit: " + from + ": " + std::string(doing) +
                                    " (SQLite: " + sqlite3_errmsg(h) + ")");
  };
  char* quoted = sqlite3_mprintf("ATTACH DATABASE %Q AS adopted", from.c_str());
  const int rc = sqlite3_exec(h, quoted, nullptr, nullptr, nullptr);
  sqlite3_free(quoted);
  if (rc != SQLITE_OK) return failed("cannot open it to take its egress audit over");
  auto adopt = [&]() -> core::Status {
    {
      sqlite3_stmt* raw = nullptr;
      const int prepared =
          sqlite3_prepare_v2(h,
                             "SELECT count(*) FROM adopted.sqlite_master WHERE type = 'table' AND "
                             "name = 'guard_egress_audit'",
                             -1, &raw, nullptr);
      internal::SqliteDb::Stmt stmt(raw);
      if (prepared != SQLITE_OK || sqlite3_step(raw) != SQLITE_ROW) {
        return failed("cannot read it to take its egress audit over");
      }
      if (sqlite3_column_int(raw, 0) == 0) return core::Status::Ok();
    }  // the statement is finalized before the table is dropped
    const std::string move =
        std::string("BEGIN IMMEDIATE; INSERT INTO main.guard_egress_audit (") + kColumns +
        ") SELECT " + kColumns +
        " FROM adopted.guard_egress_audit AS o WHERE NOT EXISTS (SELECT 1 FROM "
        "main.guard_egress_audit AS m WHERE m.ts_ms = o.ts_ms AND m.request_id = o.request_id "
        "AND m.provider = o.provider AND m.payload_sha256 = o.payload_sha256) ORDER BY o.seq; "
        "DROP TABLE adopted.guard_egress_audit; COMMIT;";
    if (sqlite3_exec(h, move.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      core::Status st = failed("cannot move its egress audit rows");
      sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
    return core::Status::Ok();
  };
  core::Status st = adopt();
  sqlite3_exec(h, "DETACH DATABASE adopted", nullptr, nullptr, nullptr);
  return st;
}

}  // namespace

AuditStore::AuditStore(std::unique_ptr<internal::SqliteDb> db, AuditStoreOptions options,
                       std::string spill_path)
    : db_(std::move(db)), options_(std::move(options)), spill_path_(std::move(spill_path)) {}

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
  const std::string spill_path = path + ".audit.spill";
  if (!options.read_only && !options.adopt_from.empty()) {
    if (core::Status s = Adopt(**db, options.adopt_from, spill_path); !s.ok()) return s;
  }
  const bool start_writer = options.background && !options.read_only;
  std::unique_ptr<AuditStore> store(new AuditStore(std::move(*db), std::move(options), spill_path));
  if (start_writer) {
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
  if (spill_ != nullptr) std::fclose(spill_);
  if (replay_ != nullptr) std::fclose(replay_);
  for (sqlite3_stmt* s : {insert_, insert_many_, begin_, commit_}) {
    if (s != nullptr) sqlite3_finalize(s);
  }
}

AuditStats AuditStore::Stats() const {
  return {spilled_.load(), replayed_.load(), rejected_.load()};
}

core::Status AuditStore::Spill(std::span<const AuditRecord> records) {
  std::string lines;
  for (const AuditRecord& r : records) {
    lines += AuditRecordJson(r);
    lines.push_back('\n');
  }
  std::lock_guard lock(spill_mu_);
  if (spill_ == nullptr) spill_ = std::fopen(spill_path_.c_str(), "ab");
  if (spill_ == nullptr || std::fwrite(lines.data(), 1, lines.size(), spill_) != lines.size() ||
      std::fflush(spill_) != 0) {
    const std::string cause = std::strerror(errno);
    if (spill_ != nullptr) std::fclose(spill_);
    spill_ = nullptr;
    return core::Unavailable("the spill file " + spill_path_ + " cannot be written (" + cause +
                             ")");
  }
  spilled_ += records.size();
  spill_pending_ = true;
  return core::Status::Ok();
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
    std::unique_lock lock(queue_mu_);
    if (queue_.size() >= options_.max_queue) {
      // Overload (or a stalled disk): the record goes to the spill file and
      // is written later, not dropped.
      const size_t depth = queue_.size();
      lock.unlock();  // (the spill file has its own lock)
      core::Status spilled = Spill(std::span(&record, 1));
      if (spilled.ok()) return spilled;
      return core::Status(
          core::StatusCode::kResourceExhausted,
          "audit: queue full (" + std::to_string(depth) + " records) and " + spilled.message());
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
  using Clock = std::chrono::steady_clock;
  const size_t max_batch = std::max<size_t>(1, options_.max_batch);
  std::vector<AuditRecord> batch;  // swapped with queue_: both keep their capacity
  // When to replay the spill file next; a spill left by an earlier run is
  // replayed first.
  std::optional<Clock::time_point> replay_at;
  // (Only regular files: whatever else sits at those paths is not a spill.)
  std::error_code ec;
  if (std::filesystem::is_regular_file(spill_path_, ec) ||
      std::filesystem::is_regular_file(spill_path_ + ".replay", ec)) {
    replay_at = Clock::now();
  }
  std::unique_lock lock(queue_mu_);
  // One replay step (the queue lock released meanwhile), then when the next.
  const auto replay = [&] {
    lock.unlock();
    const ReplayResult r = ReplayStep();
    lock.lock();
    if (r == ReplayResult::kDone) {
      replay_at.reset();
    } else if (r == ReplayResult::kRefused) {
      replay_at = Clock::now() + options_.replay_retry;
    } else {
      replay_at = Clock::now();  // more to replay
    }
  };
  while (true) {
    waiting_ = Waiting::kIdle;
    const auto has_work = [&] { return stop_ || !queue_.empty(); };
    if (replay_at) {
      queue_cv_.wait_until(lock, *replay_at, has_work);
    } else {
      queue_cv_.wait(lock, has_work);
    }
    if (queue_.empty()) {
      waiting_ = Waiting::kNone;
      if (stop_) return;  // a spill not yet replayed waits for the next start
      if (replay_at && Clock::now() >= *replay_at) replay();
      continue;
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
    bool refused = false;
    for (size_t i = 0; i < batch.size(); i += max_batch) {
      const size_t n = std::min(max_batch, batch.size() - i);
      const auto part = std::span<const AuditRecord>(batch).subspan(i, n);
      core::Status s;
      {
        std::lock_guard db_lock(db_mu_);
        s = Insert(part);
      }
      // A batch the database refused goes to the spill file, to be replayed.
      if (!s.ok()) {
        refused = true;
        if (core::Status spilled = Spill(part); !spilled.ok()) {
          s = core::Status(s.code(), s.message() + "; records lost: " + spilled.message());
        }
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
    // Spilled records are replayed between batches too, so that a steady
    // stream of new records cannot starve the replay.
    if (spill_pending_ || replay_ != nullptr) {
      if (refused) {
        replay_at = Clock::now() + options_.replay_retry;
      } else if (!replay_at) {
        replay_at = Clock::now();
      }
    }
    if (!refused && replay_at && Clock::now() >= *replay_at) replay();
  }
}

AuditStore::ReplayResult AuditStore::ReplayStep() {
  const std::string replay_path = spill_path_ + ".replay";
  if (replay_ == nullptr) {
    // Take the spill file over (new spills start a new one), unless a replay
    // of an earlier file is unfinished: that one goes first.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(replay_path, ec)) {
      std::lock_guard lock(spill_mu_);
      if (spill_ != nullptr) {
        std::fclose(spill_);
        spill_ = nullptr;
      }
      spill_pending_ = false;
      if (!std::filesystem::is_regular_file(spill_path_, ec)) return ReplayResult::kDone;
      std::filesystem::rename(spill_path_, replay_path, ec);
      if (ec) {
        std::lock_guard q(queue_mu_);
        last_error_ = core::Unavailable("audit: cannot rename " + spill_path_ + " for replay (" +
                                        ec.message() + ")");
        spill_pending_ = true;
        return ReplayResult::kRefused;
      }
    }
    replay_ = std::fopen(replay_path.c_str(), "rb");
    replay_offset_ = 0;
    if (replay_ == nullptr) {
      std::lock_guard q(queue_mu_);
      last_error_ = core::Unavailable("audit: cannot open " + replay_path + " (" +
                                      std::strerror(errno) + ")");
      return ReplayResult::kRefused;
    }
  }
  std::fseek(replay_, replay_offset_, SEEK_SET);
  simdjson::dom::parser parser;
  std::vector<AuditRecord> records;
  std::string rejected;
  std::string line;
  long offset = replay_offset_;
  bool eof = false;
  while (records.size() < kReplayChunk) {
    line.clear();
    int c;
    while ((c = std::fgetc(replay_)) != EOF && c != '\n') line.push_back(static_cast<char>(c));
    if (c == EOF && line.empty()) {
      eof = true;
      break;
    }
    offset = std::ftell(replay_);
    AuditRecord r;
    if (ParseSpilledRecord(parser, line, r)) {
      records.push_back(std::move(r));
    } else {
      rejected += line;
      rejected.push_back('\n');
    }
  }
  if (!records.empty()) {
    core::Status s;
    {
      std::lock_guard db_lock(db_mu_);
      s = Insert(records);
    }
    if (!s.ok()) {
      std::lock_guard q(queue_mu_);
      last_error_ = s;
      return ReplayResult::kRefused;  // the same lines again after replay_retry
    }
  }
  // Set aside only once the lines around them are written: a refused chunk is
  // read again, and its bad lines must not be set aside twice.
  if (!rejected.empty()) {
    const std::string rejected_path = spill_path_ + ".rejected";
    if (std::FILE* f = std::fopen(rejected_path.c_str(), "ab")) {
      std::fwrite(rejected.data(), 1, rejected.size(), f);
      std::fclose(f);
    }
    rejected_ += static_cast<uint64_t>(std::count(rejected.begin(), rejected.end(), '\n'));
  }
  // Counted after the rejected lines: whoever sees this chunk replayed (Stats()
  // reads replayed_ before rejected_) sees its rejected lines counted too.
  replayed_ += records.size();
  replay_offset_ = offset;
  if (!eof) return ReplayResult::kMore;
  std::fclose(replay_);
  replay_ = nullptr;
  std::error_code ec;
  std::filesystem::remove(replay_path, ec);
  return spill_pending_ ? ReplayResult::kMore : ReplayResult::kDone;
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
