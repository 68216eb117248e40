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
#include <functional>
#include <optional>
#include <system_error>
#include <tuple>
#include <unordered_set>

#include "core/hex.h"
#include "core/json_writer.h"
#include "core/thread_name.h"
#include "core/utf8.h"
#include "guard/audit_codec.h"
#include "sqlite/checkpointer.h"
#include "sqlite/db.h"

namespace switchyard::guard {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS guard_egress_audit_chunks (
  seq INTEGER PRIMARY KEY,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  n INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS guard_egress_audit_chunks_by_time ON guard_egress_audit_chunks(max_ts);
)sql";

// The row-per-record table of files written before chunks (audit.h).
constexpr const char* kColumns =
    "ts_ms, request_id, tenant, task, provider, model, policy, findings_before, findings_after, "
    "payload_sha256, payload_bytes";

// A findings column of the row table: a JSON object of integer counts (the
// column's default is {}); false for anything else.
bool ParseCounts(simdjson::dom::parser& parser, const std::string& json, FindingCounts& out) {
  out.clear();
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get(obj) != simdjson::SUCCESS) return false;
  for (auto field : obj) {
    int64_t v = 0;
    if (field.value.get(v) != simdjson::SUCCESS) return false;
    out.emplace(std::string(field.key), v);
  }
  return true;
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

// Every record's digest passes here on the request path (core::IsLowerHex
// has no branch per byte: a range test with an early exit cost ~90 ns).
bool IsHex64(std::string_view s) {
  return s.size() == 64 && core::IsLowerHex(s);
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
  const auto counts = [&](const char* key, FindingCounts& out) {
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

std::string CountsText(const FindingCounts& counts) {
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
  std::string out;
  core::HexEncode(std::string_view(reinterpret_cast<const char*>(digest), n), out);
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

// Whether `schema` ("main", "adopted") has the row-per-record table.
core::Result<bool> HasRowTable(sqlite::Db& db, const std::string& schema, std::string_view doing) {
  const std::string sql = "SELECT count(*) FROM " + schema +
                          ".sqlite_master WHERE type = 'table' AND name = 'guard_egress_audit'";
  auto stmt = db.Prepare(sql.c_str(), doing);
  if (!stmt.ok()) return stmt.take_status();
  const int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_ROW) return db.Error(rc, doing);
  return sqlite3_column_int(stmt->get(), 0) != 0;
}

// At most the first `max` bytes of a stored value for a one-line message: cut
// at a UTF-8 character boundary ("..." after), control characters as spaces.
std::string Excerpt(std::string_view text, size_t max) {
  std::string out(core::CutUtf8(text, max));
  const bool cut = out.size() < text.size();
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (cut) out += "...";
  return out;
}

// An old row in an error: "<request id> at <ts_ms>" (the id as Excerpt shows
// it, "(no request id)" when empty).
std::string OldRecordName(const AuditRecord& r) {
  return (r.request_id.empty() ? std::string("(no request id)") : Excerpt(r.request_id, 64)) +
         " at " + std::to_string(r.ts_ms);
}

// What a conversion that stops on a bad old row leaves behind.
constexpr const char* kOldTableKept = "; the old table is kept";

// Which rows of a row-per-record table to read: ts_ms >= since_ms and seq >
// after_seq, in seq order, at most `limit` (-1: all).
struct RowRange {
  int64_t since_ms = INT64_MIN;
  int64_t after_seq = 0;
  int64_t limit = -1;
};

// Appends the records of `schema`'s row-per-record table in `range` (the
// caller knows the table exists); *last_seq is the seq of the last one read.
// A findings column that is not an object of counts stops the read with an
// error naming the record, `where` (the file) and `consequence` (appended):
// showing or converting it as "no findings" would make the audit say less
// than was recorded.
core::Status ReadRowTable(sqlite::Db& db, const std::string& schema, RowRange range,
                          std::vector<AuditRecord>& out, const std::string& where,
                          std::string_view consequence, int64_t* last_seq = nullptr) {
  const std::string sql = std::string("SELECT seq, ") + kColumns + " FROM " + schema +
                          ".guard_egress_audit WHERE ts_ms >= ?1 AND seq > ?2 ORDER BY seq "
                          "LIMIT ?3";
  auto stmt = db.Prepare(sql.c_str(), "cannot read audit records");
  if (!stmt.ok()) return stmt.take_status();
  sqlite3_stmt* s = stmt->get();
  sqlite3_bind_int64(s, 1, range.since_ms);
  sqlite3_bind_int64(s, 2, range.after_seq);
  sqlite3_bind_int64(s, 3, range.limit);
  simdjson::dom::parser parser;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (last_seq != nullptr) *last_seq = sqlite3_column_int64(s, 0);
    AuditRecord& r = out.emplace_back();
    r.ts_ms = sqlite3_column_int64(s, 1);
    r.request_id = sqlite::ColumnText(s, 2);
    r.tenant = sqlite::ColumnText(s, 3);
    r.task = sqlite::ColumnText(s, 4);
    r.provider = sqlite::ColumnText(s, 5);
    r.model = sqlite::ColumnText(s, 6);
    r.policy = sqlite::ColumnText(s, 7);
    for (const auto& [column, name, counts] :
         {std::tuple{8, "findings_before", &r.findings_before},
          std::tuple{9, "findings_after", &r.findings_after}}) {
      const std::string text = sqlite::ColumnText(s, column);
      if (!ParseCounts(parser, text, *counts)) {
        return core::FailedPrecondition("audit: " + where + ": the old audit record " +
                                        OldRecordName(r) + " has a " + name +
                                        " that is not a JSON object of counts ('" +
                                        Excerpt(text, 40) + "')" + std::string(consequence));
      }
    }
    r.payload_sha256 = sqlite::ColumnText(s, 10);
    r.payload_bytes = sqlite3_column_int64(s, 11);
  }
  if (rc != SQLITE_DONE) return db.Error(rc, "cannot read audit records");
  return core::Status::Ok();
}

// Rows of an older version go into chunks only with a digest a chunk can
// hold: 64 hex digits (uppercase ones are lowered). Anything else stops the
// conversion (the old table stays) rather than storing a wrong digest.
core::Status CheckOldDigests(std::vector<AuditRecord>& rows, const std::string& where) {
  for (AuditRecord& r : rows) {
    std::transform(r.payload_sha256.begin(), r.payload_sha256.end(), r.payload_sha256.begin(),
                   [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c + 32) : c; });
    if (!IsHex64(r.payload_sha256)) {
      return core::FailedPrecondition(
          "audit: " + where + ": the old audit record " + OldRecordName(r) +
          " has a payload_sha256 that is not 64 hex digits" + kOldTableKept);
    }
  }
  return core::Status::Ok();
}

// A record's identity when an adoption that stopped half-way is repeated.
std::string AdoptKey(const AuditRecord& r) {
  return std::to_string(r.ts_ms) + '\n' + r.request_id + '\n' + r.provider + '\n' +
         r.payload_sha256;
}

}  // namespace

AuditStore::AuditStore(std::unique_ptr<sqlite::Db> db, AuditStoreOptions options,
                       std::string spill_path)
    : db_(std::move(db)), options_(std::move(options)), spill_path_(std::move(spill_path)) {}

core::Result<std::unique_ptr<AuditStore>> AuditStore::Open(const std::string& path,
                                                           AuditStoreOptions options) {
  if (options.read_only && !std::filesystem::exists(path)) {
    return core::NotFound("audit: no audit database at " + path);
  }
  auto db = sqlite::Db::Open("audit", path, {options.read_only, options.busy_timeout_ms});
  if (!db.ok()) return db.take_status();
  if (!options.read_only) {
    if (core::Status s = (*db)->Exec(kSchema, "cannot create the audit table"); !s.ok()) return s;
  }
  const std::string spill_path = path + ".audit.spill";
  const bool writable = !options.read_only;
  const bool start_writer = options.background && writable;
  const std::string adopt_from = writable ? options.adopt_from : std::string();
  std::unique_ptr<AuditStore> store(new AuditStore(std::move(*db), std::move(options), spill_path));
  if (writable) {
    // Checkpoints from 8192 pages of WAL (32 MiB) on a thread of its own; the
    // writer checkpoints itself only from twice that (CheckpointOptions).
    auto checkpointer = sqlite::Checkpointer::Start(*store->db_, {});
    if (!checkpointer.ok()) return checkpointer.take_status();
    store->checkpointer_ = std::move(*checkpointer);
    if (core::Status s = store->ConvertRowTable(); !s.ok()) return s;
    if (!adopt_from.empty()) {
      if (core::Status s = store->Adopt(adopt_from); !s.ok()) return s;
    }
  }
  if (start_writer) {
    store->writer_ = std::thread([s = store.get()] {
      core::NameThisThread("sy-audit");
      s->WriterLoop();
    });
  }
  return store;
}

// Files of older versions kept a row per record: converted into chunks (in
// storage order, kChunkRecords rows at a time) and the table dropped, in one
// transaction.
core::Status AuditStore::ConvertRowTable() {
  std::lock_guard lock(db_mu_);
  auto has = HasRowTable(*db_, "main", "cannot read the audit's tables");
  if (!has.ok()) return has.take_status();
  if (!*has) return core::Status::Ok();
  if (core::Status s = Step(begin_, "BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) {
    return s;
  }
  core::Status s;
  std::vector<AuditRecord> rows;
  for (int64_t last = 0; s.ok();) {
    rows.clear();
    s = ReadRowTable(*db_, "main", {INT64_MIN, last, static_cast<int64_t>(kChunkRecords)}, rows,
                     db_->path(), kOldTableKept, &last);
    if (!s.ok() || rows.empty()) break;
    s = CheckOldDigests(rows, db_->path());
    if (s.ok()) s = InsertChunks(rows);
  }
  if (s.ok()) s = db_->Exec("DROP TABLE guard_egress_audit", "cannot drop the old audit table");
  if (s.ok()) s = Step(commit_, "COMMIT", "cannot commit the converted audit");
  if (!s.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return s;
}

// AuditStoreOptions::adopt_from. One transaction over both files (BEGIN
// IMMEDIATE locks both, so a writer of the old table cannot insert between the
// copy and the drop) copies the old rows that are not here already (a record
// counts as here when ts_ms, request_id, provider and payload hash match: an
// earlier adoption that stopped between the two files' commits) and drops the
// old table. Rows are read and written kChunkRecords at a time; what is here
// is held as keys only.
core::Status AuditStore::Adopt(const std::string& from) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(from, ec)) return core::Status::Ok();
  if (std::filesystem::equivalent(from, db_->path(), ec)) return core::Status::Ok();
  const std::string from_spill = from + ".audit.spill";
  for (const char* suffix : {"", ".replay", ".rejected"}) {
    if (core::Status s = MoveOrAppend(from_spill + suffix, spill_path_ + suffix); !s.ok()) {
      return s;
    }
  }
  std::lock_guard lock(db_mu_);
  sqlite3* h = db_->handle();
  auto failed = [&](std::string_view doing) {
    return core::FailedPrecondition("audit: " + from + ": " + std::string(doing) +
                                    " (SQLite: " + sqlite3_errmsg(h) + ")");
  };
  char* quoted = sqlite3_mprintf("ATTACH DATABASE %Q AS adopted", from.c_str());
  const int rc = sqlite3_exec(h, quoted, nullptr, nullptr, nullptr);
  sqlite3_free(quoted);
  if (rc != SQLITE_OK) return failed("cannot open it to take its egress audit over");
  auto move = [&]() -> core::Status {
    // The earliest adopted time: only records here from then on can match.
    int64_t min_ts = INT64_MAX;
    {
      auto stmt = db_->Prepare("SELECT min(ts_ms) FROM adopted.guard_egress_audit",
                               "cannot read its egress audit");
      if (!stmt.ok()) return stmt.take_status();
      const int step = sqlite3_step(stmt->get());
      if (step != SQLITE_ROW) return db_->Error(step, "cannot read its egress audit");
      if (sqlite3_column_type(stmt->get(), 0) == SQLITE_NULL) return core::Status::Ok();
      min_ts = sqlite3_column_int64(stmt->get(), 0);
    }
    std::unordered_set<std::string> here;
    core::Status s = ForEachChunk(min_ts, [&](int64_t, std::vector<AuditRecord>& records) {
      for (const AuditRecord& r : records) here.insert(AdoptKey(r));
    });
    std::vector<AuditRecord> rows;
    for (int64_t last = 0; s.ok();) {
      rows.clear();
      s = ReadRowTable(*db_, "adopted", {INT64_MIN, last, static_cast<int64_t>(kChunkRecords)},
                       rows, from, kOldTableKept, &last);
      if (!s.ok() || rows.empty()) break;
      // (Digests lowered first: the keys here hold them as stored.)
      if (s = CheckOldDigests(rows, from); !s.ok()) break;
      std::erase_if(rows, [&](const AuditRecord& r) { return here.contains(AdoptKey(r)); });
      if (!rows.empty()) s = InsertChunks(rows);
    }
    return s;
  };
  auto adopt = [&]() -> core::Status {
    auto has = HasRowTable(*db_, "adopted", "cannot read it");
    if (!has.ok()) return failed("cannot read it to take its egress audit over");
    if (!*has) return core::Status::Ok();
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return failed("cannot move its egress audit rows");
    }
    core::Status s = move();
    if (s.ok() && sqlite3_exec(h, "DROP TABLE adopted.guard_egress_audit; COMMIT", nullptr, nullptr,
                               nullptr) != SQLITE_OK) {
      s = failed("cannot move its egress audit rows");
    }
    if (!s.ok()) {
      sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
      if (s.message().rfind("audit: ", 0) != 0) {
        s = core::FailedPrecondition("audit: " + from +
                                     ": cannot move its egress audit rows: " + s.message());
      }
    }
    return s;
  };
  core::Status st = adopt();
  sqlite3_exec(h, "DETACH DATABASE adopted", nullptr, nullptr, nullptr);
  return st;
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
  for (sqlite3_stmt* s : {insert_, begin_, commit_}) {
    if (s != nullptr) sqlite3_finalize(s);
  }
}

AuditStats AuditStore::Stats() const {
  AuditStats s{spilled_.load(), replayed_.load(), rejected_.load()};
  std::lock_guard lock(queue_mu_);
  s.queue_depth = enqueued_ - written_;
  return s;
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

core::Status AuditStore::Insert(std::span<const AuditRecord> records) {
  // BEGIN and COMMIT are prepared once, like the INSERT (sqlite3_exec would
  // compile them for every batch).
  if (core::Status s = Step(begin_, "BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) {
    return s;
  }
  core::Status err = InsertChunks(records);
  if (!err.ok()) {
    (void)db_->Exec("ROLLBACK", "cannot roll back");
    return err;
  }
  err = Step(commit_, "COMMIT", "cannot commit audit records");
  // A failed COMMIT leaves the transaction open: every later BEGIN would fail.
  if (!err.ok()) (void)db_->Exec("ROLLBACK", "cannot roll back");
  return err;
}

core::Status AuditStore::InsertChunks(std::span<const AuditRecord> records) {
  if (core::Status s = PrepareOnce(insert_,
                                   "INSERT INTO guard_egress_audit_chunks (min_ts, max_ts, n, "
                                   "body) VALUES (?1, ?2, ?3, ?4)",
                                   "cannot write audit records");
      !s.ok()) {
    return s;
  }
  core::Status err;
  for (size_t done = 0; err.ok() && done < records.size(); done += kChunkRecords) {
    const auto part = records.subspan(done, std::min(kChunkRecords, records.size() - done));
    int64_t min_ts = part.front().ts_ms;
    int64_t max_ts = min_ts;
    for (const AuditRecord& r : part) {
      min_ts = std::min(min_ts, r.ts_ms);
      max_ts = std::max(max_ts, r.ts_ms);
    }
    const std::string_view body = EncodeAuditChunk(part, chunk_);
    sqlite3_bind_int64(insert_, 1, min_ts);
    sqlite3_bind_int64(insert_, 2, max_ts);
    sqlite3_bind_int64(insert_, 3, static_cast<int64_t>(part.size()));
    sqlite3_bind_blob(insert_, 4, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(insert_);
    if (rc != SQLITE_DONE) err = db_->Error(rc, "cannot write audit records");
    sqlite3_reset(insert_);
  }
  sqlite3_clear_bindings(insert_);  // no pointer into chunk_ stays bound
  return err;
}

core::Status AuditStore::ForEachChunk(
    int64_t since_ms, const std::function<void(int64_t, std::vector<AuditRecord>&)>& fn,
    bool newest_first, const std::function<bool(int64_t)>& more) {
  auto stmt = db_->Prepare(newest_first ? "SELECT seq, min_ts, max_ts, n, body FROM "
                                          "guard_egress_audit_chunks WHERE max_ts >= ?1 ORDER BY "
                                          "max_ts DESC, seq DESC"
                                        : "SELECT seq, min_ts, max_ts, n, body FROM "
                                          "guard_egress_audit_chunks WHERE max_ts >= ?1 ORDER BY "
                                          "seq",
                           "cannot read audit records");
  if (!stmt.ok()) return stmt.take_status();
  sqlite3_stmt* s = stmt->get();
  sqlite3_bind_int64(s, 1, since_ms);
  std::vector<AuditRecord> records;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t seq = sqlite3_column_int64(s, 0);
    const int64_t min_ts = sqlite3_column_int64(s, 1);
    const int64_t max_ts = sqlite3_column_int64(s, 2);
    if (more && !more(max_ts)) break;
    records.clear();
    const auto* body = static_cast<const char*>(sqlite3_column_blob(s, 4));
    const std::string_view chunk(body == nullptr ? "" : body,
                                 static_cast<size_t>(sqlite3_column_bytes(s, 4)));
    core::Status decoded = DecodeAuditChunk(chunk, records);
    if (decoded.ok() && records.size() != static_cast<size_t>(sqlite3_column_int64(s, 3))) {
      decoded = core::InvalidArgument("audit chunk holds " + std::to_string(records.size()) +
                                      " records, its row says " +
                                      std::to_string(sqlite3_column_int64(s, 3)));
    }
    for (const AuditRecord& r : records) {
      if (decoded.ok() && (r.ts_ms < min_ts || r.ts_ms > max_ts)) {
        decoded = core::InvalidArgument("audit chunk has a record at " + std::to_string(r.ts_ms) +
                                        " outside its row's time range");
      }
    }
    if (!decoded.ok()) {
      return core::FailedPrecondition("audit: " + db_->path() +
                                      ": database file is corrupt (chunk at seq " +
                                      std::to_string(seq) + ": " + decoded.message() + ")");
    }
    fn(seq, records);
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_->Error(rc, "cannot read audit records");
  return core::Status::Ok();
}

namespace {

// A record and where it is stored: query results are ordered by time, then
// storage order (rows of an older version's table before chunks, chunk rows
// by seq, records in a chunk as written).
struct Placed {
  AuditRecord record;
  int64_t seq = 0;   // row seq (old table) or chunk seq
  size_t index = 0;  // in the chunk
  bool in_chunk = false;
};

bool Older(const Placed& a, const Placed& b) {
  return std::tie(a.record.ts_ms, a.in_chunk, a.seq, a.index) <
         std::tie(b.record.ts_ms, b.in_chunk, b.seq, b.index);
}

}  // namespace

core::Result<std::vector<AuditRecord>> AuditStore::Query(const AuditQuery& query) {
  std::lock_guard lock(db_mu_);
  std::vector<Placed> kept;
  // With a limit only the newest `limit` are kept: chunks are read newest
  // first (by max_ts) until none can hold a record newer than the oldest
  // kept, so a short query does not decode the whole audit.
  const auto trim = [&] {
    if (query.limit == 0 || kept.size() <= query.limit) return;
    std::nth_element(kept.begin(), kept.begin() + static_cast<ptrdiff_t>(kept.size() - query.limit),
                     kept.end(), Older);
    kept.erase(kept.begin(), kept.begin() + static_cast<ptrdiff_t>(kept.size() - query.limit));
  };
  // A read-only open of a file an older version wrote (not converted yet).
  auto has_rows = HasRowTable(*db_, "main", "cannot read audit records");
  if (!has_rows.ok()) return has_rows.take_status();
  if (*has_rows) {
    std::vector<AuditRecord> rows;
    if (core::Status s = ReadRowTable(*db_, "main", {query.since_ms, 0, -1}, rows, db_->path(), "");
        !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      kept.push_back(Placed{std::move(rows[i]), static_cast<int64_t>(i), 0, false});
    }
    trim();
  }
  {
    // A file without the table (e.g. another component's, before the first
    // external call) simply has no records.
    auto exists = db_->Prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
        "'guard_egress_audit_chunks'",
        "cannot read audit records");
    if (!exists.ok()) return exists.take_status();
    const int rc = sqlite3_step(exists->get());
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return db_->Error(rc, "cannot read audit records");
    if (rc == SQLITE_ROW) {
      const auto more = [&](int64_t max_ts) {
        if (query.limit == 0 || kept.size() < query.limit) return true;
        const auto oldest = std::min_element(kept.begin(), kept.end(), Older);
        return oldest->record.ts_ms <= max_ts;  // an equal time may still rank newer
      };
      core::Status s = ForEachChunk(
          query.since_ms,
          [&](int64_t chunk_seq, std::vector<AuditRecord>& records) {
            for (size_t i = 0; i < records.size(); ++i) {
              // A chunk spans a time range: only its records in the window count.
              if (records[i].ts_ms < query.since_ms) continue;
              kept.push_back(Placed{std::move(records[i]), chunk_seq, i, true});
            }
            if (kept.size() >= 2 * query.limit) trim();
          },
          query.limit > 0, more);
      if (!s.ok()) return s;
    }
  }
  trim();
  std::sort(kept.begin(), kept.end(), Older);
  std::vector<AuditRecord> out;
  out.reserve(kept.size());
  for (Placed& p : kept) out.push_back(std::move(p.record));
  return out;
}

}  // namespace switchyard::guard
