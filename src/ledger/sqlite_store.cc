#include "ledger/sqlite_store.h"

#include <sqlite3.h>

#include <simdjson.h>
#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "core/json_writer.h"
#include "ledger/record_codec.h"
#include "ledger/template_hash.h"
#include "sqlite/checkpointer.h"
#include "sqlite/db.h"

namespace switchyard::ledger {
namespace {

// Rows a migration copies in C++ between its `sql` and `sql_after`.
enum class MigrationCopy { kNone, kIntoSlotted, kIntoEncoded, kIntoChunks };

struct Migration {
  int version;
  const char* sql;
  MigrationCopy copy = MigrationCopy::kNone;  // see SqliteStore::CopyRows
  const char* sql_after = nullptr;
};

// Ordered; never edit a released migration, append a new one.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE records (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts_ms INTEGER NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  task TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  stages_tried TEXT NOT NULL DEFAULT '[]',
  answered_by TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  stream INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  first_byte_ms REAL NOT NULL DEFAULT 0,
  total_ms REAL NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  error_code TEXT NOT NULL DEFAULT '',
  escalated INTEGER NOT NULL DEFAULT 0,
  confidence REAL,
  template_hash TEXT NOT NULL DEFAULT '',
  request_body TEXT NOT NULL DEFAULT '',
  response_body TEXT NOT NULL DEFAULT '',
  pii_findings TEXT NOT NULL DEFAULT ''
);
CREATE INDEX records_ts ON records(ts_ms);
CREATE INDEX records_task_ts ON records(task, ts_ms);
CREATE INDEX records_tenant_ts ON records(tenant, ts_ms);
CREATE INDEX records_model_ts ON records(model, ts_ms);
CREATE INDEX records_template_ts ON records(template_hash, ts_ms);
)sql"},
    // Every query reads a time window (ts_ms) and groups in C++; the four
    // composite indexes were never used by a query but cost four extra b-tree
    // inserts per record on the writer thread (the ledger on/off benchmark).
    {2, R"sql(
DROP INDEX IF EXISTS records_task_ts;
DROP INDEX IF EXISTS records_tenant_ts;
DROP INDEX IF EXISTS records_model_ts;
DROP INDEX IF EXISTS records_template_ts;
)sql"},
    // Why a policy route forced its choice (latency_slo, local_only,
    // weak_failed, ...); "" when the score decided.
    {3, R"sql(
ALTER TABLE records ADD COLUMN route_reason TEXT NOT NULL DEFAULT '';
)sql"},
    // Time-slotted rowids: seq = ts_ms * 2^20 + slot, the slot derived from
    // the id (see SlotOf). Time-window scans read a rowid range, and a
    // duplicate id is found where it would be inserted, so neither the UNIQUE
    // index on id nor the ts_ms index is needed: two b-tree inserts and a
    // lookup less per record on the writer thread. The rows are copied by C++
    // (CopyIntoSlotted), which computes the slots.
    {4, R"sql(
CREATE TABLE records_v4 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  tenant TEXT NOT NULL DEFAULT '',
  task TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  stages_tried TEXT NOT NULL DEFAULT '[]',
  answered_by TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  stream INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  cached_input_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  first_byte_ms REAL NOT NULL DEFAULT 0,
  total_ms REAL NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  error_code TEXT NOT NULL DEFAULT '',
  escalated INTEGER NOT NULL DEFAULT 0,
  confidence REAL,
  template_hash TEXT NOT NULL DEFAULT '',
  route_reason TEXT NOT NULL DEFAULT '',
  request_body TEXT NOT NULL DEFAULT '',
  response_body TEXT NOT NULL DEFAULT '',
  pii_findings TEXT NOT NULL DEFAULT ''
);
)sql",
     MigrationCopy::kIntoSlotted, R"sql(
DROP TABLE records;
ALTER TABLE records_v4 RENAME TO records;
)sql"},
    // Every column but seq, id and ts_ms may be NULL, which reads as the
    // field's default ('' / 0 / false / "[]"; confidence: none). The writer
    // binds only the fields a record sets: a typical record leaves half of them
    // at their default, and each bind and NOT NULL check cost the writer thread
    // instructions per row. Rows are copied as they are ('' stays '').
    {5, R"sql(
CREATE TABLE records_v5 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  tenant TEXT,
  task TEXT,
  route TEXT,
  stages_tried TEXT,
  answered_by TEXT,
  provider TEXT,
  model TEXT,
  stream INTEGER,
  attempts INTEGER,
  input_tokens INTEGER,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  output_tokens INTEGER,
  reasoning_tokens INTEGER,
  usage_estimated INTEGER,
  cost_usd REAL,
  first_byte_ms REAL,
  total_ms REAL,
  status INTEGER,
  error_code TEXT,
  escalated INTEGER,
  confidence REAL,
  template_hash TEXT,
  route_reason TEXT,
  request_body TEXT,
  response_body TEXT,
  pii_findings TEXT
);
INSERT INTO records_v5 (seq, id, ts_ms, tenant, task, route, stages_tried, answered_by, provider,
  model, stream, attempts, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens,
  reasoning_tokens, usage_estimated, cost_usd, first_byte_ms, total_ms, status, error_code,
  escalated, confidence, template_hash, route_reason, request_body, response_body, pii_findings)
SELECT seq, id, ts_ms, tenant, task, route, stages_tried, answered_by, provider,
  model, stream, attempts, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens,
  reasoning_tokens, usage_estimated, cost_usd, first_byte_ms, total_ms, status, error_code,
  escalated, confidence, template_hash, route_reason, request_body, response_body, pii_findings
FROM records;
DROP TABLE records;
ALTER TABLE records_v5 RENAME TO records;
)sql"},
    // One column per record: the record encoded by EncodeRecord (see
    // record_codec.h), at the same time-slotted seq. SQLite's per-row work
    // grows with the column count (a bind, a register copy and a header entry
    // per column, NULL or not): 30 columns were most of the writer thread's
    // cost per record, and the row shrinks (repeated stages and the template
    // hash stored packed, defaults not at all). The rows are copied by C++.
    {6, R"sql(
CREATE TABLE records_v6 (
  seq INTEGER PRIMARY KEY,
  body BLOB NOT NULL
);
)sql",
     MigrationCopy::kIntoEncoded, R"sql(
DROP TABLE records;
ALTER TABLE records_v6 RENAME TO records;
)sql"},
    // A row per chunk of records (record_codec.h): SQLite's per-row work (a
    // b-tree seek for the explicit rowid, an insert, a VDBE run) was most of
    // the writer's cost per record. seq is assigned by SQLite (commit order,
    // no seek); min_ts orders and bounds scans (a chunk spans at most
    // SqliteStore::kMaxChunkSpanMs). Ids are no longer a key: writes of new
    // records look nothing up, replays check the ids in their time window.
    {7, R"sql(
CREATE TABLE chunks (
  seq INTEGER PRIMARY KEY,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  n INTEGER NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX chunks_by_time ON chunks (min_ts);
)sql",
     MigrationCopy::kIntoChunks, "DROP TABLE records;"},
    // Payloads (request/response bodies, PII findings) apart from the records
    // of a chunk: a scan without bodies (stats, tail, the advisor) no longer
    // reads them. NULL when no record of the chunk has any; chunks written
    // before keep their bodies inside the records, which still decode.
    {8, "ALTER TABLE chunks ADD COLUMN payloads BLOB;"},
    // The time index also holds max_ts: a replay's lookup of stored ids
    // filters the chunks of its window on the index alone (SQLite reads a
    // chunk row only for those that overlap), where it read every row of the
    // 60 s before its batch for max_ts.
    {9, R"sql(
DROP INDEX chunks_by_time;
CREATE INDEX chunks_by_time ON chunks (min_ts, max_ts);
)sql"},
};

constexpr int kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;
static_assert(kLatestVersion == kLedgerSchemaVersion);

// Schema versions 1-5 had a column per field. Column order shared by INSERT
// and SELECT (ReadColumns depends on it); used by migrations 4 and 6 only.
#define SY_LEDGER_COLUMNS_HEAD                                                                 \
  "id, ts_ms, tenant, task, route, stages_tried, answered_by, provider, model, stream, "       \
  "attempts, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, "           \
  "reasoning_tokens, usage_estimated, cost_usd, first_byte_ms, total_ms, status, error_code, " \
  "escalated, confidence, template_hash, route_reason, "

// seq is bound separately (InsertSlotted probes slots with it).
#define SY_LEDGER_INSERT_INTO(table)                                                        \
  "INSERT INTO " table " (" SY_LEDGER_COLUMNS_HEAD                                          \
  "request_body, response_body, pii_findings, seq) VALUES "                                 \
  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, " \
  "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)"
#define SY_LEDGER_SELECT_COLUMNS \
  "SELECT " SY_LEDGER_COLUMNS_HEAD "request_body, response_body, pii_findings, seq FROM records "
constexpr int kColumnsSeqParam = 30;
constexpr int kColumnsSeqColumn = 29;

// Schema version 7: a row per chunk of records (see record_codec.h).
constexpr const char* kInsertChunkSql =
    "INSERT INTO chunks (min_ts, max_ts, n, body, payloads) VALUES (?1, ?2, ?3, ?4, ?5)";
// Chunks that may hold a record with ts_ms >= ?1 (min_ts >= ?1 - span), in
// min_ts order (the index's order: no sort; the merge orders equal times by
// seq).
constexpr const char* kScanSql =
    "SELECT seq, min_ts, body FROM chunks WHERE min_ts >= ?1 ORDER BY min_ts, max_ts, seq";
constexpr const char* kScanWithBodiesSql =
    "SELECT seq, min_ts, body, payloads FROM chunks WHERE min_ts >= ?1 "
    "ORDER BY min_ts, max_ts, seq";
// Chunks that may hold a record with ts_ms in [?3, ?2] (?1 = ?3 - span bounds
// the index range; max_ts is read from the row, the body only for matches).
constexpr const char* kWindowSql =
    "SELECT seq, body FROM chunks WHERE min_ts BETWEEN ?1 AND ?2 AND max_ts >= ?3";
constexpr const char* kLatestSql =
    "SELECT seq, min_ts, body FROM chunks ORDER BY min_ts DESC, max_ts DESC, seq DESC";
constexpr const char* kCountSql = "SELECT coalesce(sum(n), 0) FROM chunks";

// a - b, saturating at INT64_MIN (b >= 0).
int64_t SaturatingSub(int64_t a, int64_t b) {
  return a < INT64_MIN + b ? INT64_MIN : a - b;
}

// seq = ts_ms * 2^kSlotBits + slot.
constexpr int kSlotBits = 20;
constexpr int64_t kSlots = int64_t{1} << kSlotBits;
constexpr int64_t kMaxTsMs = (INT64_MAX >> kSlotBits) - 1;  // year 2248

// Whether a record's time fits the slotted rowid (0 .. kMaxTsMs).
bool SlottableTime(int64_t ts_ms) {
  return ts_ms >= 0 && ts_ms <= kMaxTsMs;
}

// The first slot tried for `id` (FNV-1a 64 of the id, low bits); collisions
// probe the following slots of the same millisecond.
int64_t SlotOf(std::string_view id) {
  return static_cast<int64_t>(Fnv1a64(id) & static_cast<uint64_t>(kSlots - 1));
}

using sqlite::ColumnText;

// No copy: the statements here step before `v` goes away.
void BindText(sqlite3_stmt* s, int idx, const std::string& v) {
  sqlite::BindStaticText(s, idx, v);
}

// Whether `s` can go into a JSON string as it is (no quote, backslash,
// control character or non-ASCII byte to escape).
bool PlainJsonString(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

void EncodeStages(std::string& out, const std::vector<std::string>& stages) {
  out.clear();
  // Stage labels are "provider/model": plain ASCII, written without the JSON
  // writer's per-character escaping.
  if (std::all_of(stages.begin(), stages.end(), PlainJsonString)) {
    out.push_back('[');
    for (const auto& s : stages) {
      if (out.size() > 1) out.push_back(',');
      out.push_back('"');
      out.append(s);
      out.push_back('"');
    }
    out.push_back(']');
    return;
  }
  core::JsonWriter w(out);
  w.BeginArray();
  for (const auto& s : stages) w.String(s);
  w.EndArray();
}

void DecodeStages(simdjson::dom::parser& parser, std::string_view json,
                  std::vector<std::string>& out) {
  out.clear();
  if (json.empty() || json == "[]") return;
  simdjson::dom::array arr;
  if (parser.parse(json.data(), json.size()).get(arr) != simdjson::SUCCESS) return;
  for (auto item : arr) {
    std::string_view s;
    if (item.get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
}

// A row of schema versions 1-5 (SY_LEDGER_SELECT_COLUMNS).
void ReadColumns(sqlite3_stmt* s, simdjson::dom::parser& parser, Record& r) {
  r.id = ColumnText(s, 0);
  r.ts_ms = sqlite3_column_int64(s, 1);
  r.tenant = ColumnText(s, 2);
  r.task = ColumnText(s, 3);
  r.route = ColumnText(s, 4);
  DecodeStages(parser, ColumnText(s, 5), r.stages_tried);
  r.answered_by = ColumnText(s, 6);
  r.provider = ColumnText(s, 7);
  r.model = ColumnText(s, 8);
  r.stream = sqlite3_column_int(s, 9) != 0;
  r.attempts = sqlite3_column_int(s, 10);
  r.input_tokens = sqlite3_column_int64(s, 11);
  r.cached_input_tokens = sqlite3_column_int64(s, 12);
  r.cache_write_tokens = sqlite3_column_int64(s, 13);
  r.output_tokens = sqlite3_column_int64(s, 14);
  r.reasoning_tokens = sqlite3_column_int64(s, 15);
  r.usage_estimated = sqlite3_column_int(s, 16) != 0;
  r.cost_usd = sqlite3_column_double(s, 17);
  r.first_byte_ms = sqlite3_column_double(s, 18);
  r.total_ms = sqlite3_column_double(s, 19);
  r.status = sqlite3_column_int(s, 20);
  r.error_code = ColumnText(s, 21);
  r.escalated = sqlite3_column_int(s, 22) != 0;
  if (sqlite3_column_type(s, 23) == SQLITE_NULL) {
    r.confidence.reset();
  } else {
    r.confidence = sqlite3_column_double(s, 23);
  }
  r.template_hash = ColumnText(s, 24);
  r.route_reason = ColumnText(s, 25);
  r.request_body = ColumnText(s, 26);
  r.response_body = ColumnText(s, 27);
  r.pii_findings = ColumnText(s, 28);
}

// Binds every field of `r` to the parameters of SY_LEDGER_INSERT_INTO (seq
// is bound by the caller). Migration 4 only: records_v4 has NOT NULL columns.
void BindColumns(sqlite3_stmt* s, const Record& r, std::string& stages) {
  BindText(s, 1, r.id);
  sqlite3_bind_int64(s, 2, r.ts_ms);
  BindText(s, 3, r.tenant);
  BindText(s, 4, r.task);
  BindText(s, 5, r.route);
  EncodeStages(stages, r.stages_tried);
  BindText(s, 6, stages);
  BindText(s, 7, r.answered_by);
  BindText(s, 8, r.provider);
  BindText(s, 9, r.model);
  sqlite3_bind_int(s, 10, r.stream ? 1 : 0);
  sqlite3_bind_int(s, 11, r.attempts);
  sqlite3_bind_int64(s, 12, r.input_tokens);
  sqlite3_bind_int64(s, 13, r.cached_input_tokens);
  sqlite3_bind_int64(s, 14, r.cache_write_tokens);
  sqlite3_bind_int64(s, 15, r.output_tokens);
  sqlite3_bind_int64(s, 16, r.reasoning_tokens);
  sqlite3_bind_int(s, 17, r.usage_estimated ? 1 : 0);
  sqlite3_bind_double(s, 18, r.cost_usd);
  sqlite3_bind_double(s, 19, r.first_byte_ms);
  sqlite3_bind_double(s, 20, r.total_ms);
  sqlite3_bind_int(s, 21, r.status);
  BindText(s, 22, r.error_code);
  sqlite3_bind_int(s, 23, r.escalated ? 1 : 0);
  if (r.confidence) {
    sqlite3_bind_double(s, 24, *r.confidence);
  } else {
    sqlite3_bind_null(s, 24);
  }
  BindText(s, 25, r.template_hash);
  BindText(s, 26, r.route_reason);
  BindText(s, 27, r.request_body);
  BindText(s, 28, r.response_body);
  BindText(s, 29, r.pii_findings);
}

std::string_view ColumnBlob(sqlite3_stmt* s, int idx) {
  const void* p = sqlite3_column_blob(s, idx);
  if (p == nullptr) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, idx))};
}

}  // namespace

std::string LedgerDbPath(std::string_view data_dir) {
  std::string p(data_dir);
  if (!p.empty() && p.back() != '/') p.push_back('/');
  p += "ledger.db";
  return p;
}

void SqliteStore::StmtDeleter::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}

SqliteStore::SqliteStore(std::unique_ptr<sqlite::Db> db, SqliteOptions options)
    : db_(std::move(db)), options_(options), path_(db_->path()) {}

sqlite3* SqliteStore::db() const {
  return db_->handle();
}

SqliteStore::~SqliteStore() {
  // Statements must be finalized before the connection closes.
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  insert_.reset();
  window_.reset();
  count_.reset();
  latest_.reset();
  scan_.reset();
  scan_bodies_.reset();
  checkpointer_.reset();
  db_.reset();
}

core::Status SqliteStore::Error(int rc, std::string_view doing) const {
  return db_->Error(rc, doing);
}

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(std::string path,
                                                             SqliteOptions options) {
  // A new file gets 16 KiB pages. A batch's chunks are mostly overflow pages,
  // each written to the WAL as a frame (two pwrites): with 16 KiB pages the
  // writer thread used ~25% less CPU than with 4 KiB, most of it system time
  // (bench/thread_cpu.sh; 64 KiB was no better than 4 KiB).
  auto db = sqlite::Db::Open("ledger", std::move(path),
                             {.read_only = options.read_only,
                              .busy_timeout_ms = options.busy_timeout_ms,
                              .page_size = 16384});
  if (!db.ok()) return db.take_status();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db), options));
  if (!options.read_only) {
    // Checkpoint (and fsync) from 8192 pages of WAL (128 MiB with 16 KiB
    // pages) instead of 1000, on a thread of its own (the writer checkpoints
    // itself only from twice that: CheckpointOptions), and read pages through
    // a memory map instead of a read() per page.
    auto checkpointer = sqlite::Checkpointer::Start(*store->db_, {});
    if (!checkpointer.ok()) return checkpointer.take_status();
    store->checkpointer_ = std::move(*checkpointer);
    if (auto s = store->Exec("PRAGMA mmap_size=268435456", "cannot set mmap_size"); !s.ok()) {
      return s;
    }
  }
  if (core::Status st = store->Migrate(); !st.ok()) return st;
  return store;
}

core::Status SqliteStore::Exec(const char* sql, std::string_view doing) {
  return db_->Exec(sql, doing);
}

core::Result<sqlite3_stmt*> SqliteStore::Prepared(Stmt& slot, const char* sql) {
  if (!slot) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return Error(rc, "cannot prepare a statement");
    }
    slot.reset(raw);
  }
  sqlite3_reset(slot.get());
  sqlite3_clear_bindings(slot.get());
  return slot.get();
}

core::Result<int> SqliteStore::SchemaVersion() {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db(), "PRAGMA user_version", -1, &raw, nullptr);
  Stmt stmt(raw);
  if (rc != SQLITE_OK) return Error(rc, "cannot read the schema version");
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return Error(rc, "cannot read the schema version");
  return sqlite3_column_int(raw, 0);
}

core::Status SqliteStore::Migrate() {
  if (options_.read_only) {
    auto version = SchemaVersion();
    if (!version.ok()) return version.take_status();
    if (*version != kLatestVersion) {
      return core::FailedPrecondition("ledger: " + path_ + ": schema version " +
                                      std::to_string(*version) + ", this build needs " +
                                      std::to_string(kLatestVersion) +
                                      " (open it once read-write, e.g. start the gateway)");
    }
    return core::Status::Ok();
  }
  // BEGIN IMMEDIATE takes the write lock up front: a start-up check that the
  // ledger is writable, and no two processes migrate at once.
  if (core::Status st = Exec("BEGIN IMMEDIATE", "cannot begin a transaction"); !st.ok()) {
    return st;
  }
  auto fail = [this](core::Status st) {
    (void)Exec("ROLLBACK", "cannot roll back");
    return st;
  };
  auto version = SchemaVersion();
  if (!version.ok()) return fail(version.take_status());
  if (*version > kLatestVersion) {
    return fail(core::FailedPrecondition(
        "ledger: " + path_ + ": schema version " + std::to_string(*version) +
        " is newer than this build supports (" + std::to_string(kLatestVersion) + ")"));
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= *version) continue;
    const std::string failed = "migration " + std::to_string(m.version) + " failed";
    if (core::Status st = Exec(m.sql, failed); !st.ok()) return fail(st);
    if (m.copy == MigrationCopy::kIntoChunks) {
      if (core::Status st = CopyIntoChunks(); !st.ok()) return fail(st);
    } else if (m.copy != MigrationCopy::kNone) {
      if (core::Status st = CopyRows(m.version); !st.ok()) return fail(st);
    }
    if (m.sql_after != nullptr) {
      if (core::Status st = Exec(m.sql_after, failed); !st.ok()) return fail(st);
    }
    const std::string set = "PRAGMA user_version = " + std::to_string(m.version);
    if (core::Status st = Exec(set.c_str(), "cannot set the schema version"); !st.ok()) {
      return fail(st);
    }
  }
  return Exec("COMMIT", "cannot commit the migration");
}

// Inserts `r` at the first free slot of its millisecond, starting at
// SlotOf(r.id). A slot holding the same id means the record is already
// stored: it is skipped (returns false). Every record is stored on the probe
// path from its own slot, so this finds every duplicate. `bind` binds the
// record to `insert` (all parameters but the seq, parameter `seq_param`);
// `id_at` reads the id stored at a seq.
template <typename Bind, typename IdAt>
core::Result<bool> SqliteStore::InsertSlotted(sqlite3_stmt* insert, int seq_param, const Record& r,
                                              const Bind& bind, const IdAt& id_at) {
  if (!SlottableTime(r.ts_ms)) {
    return core::InvalidArgument("ledger: record " + r.id + " has ts_ms " +
                                 std::to_string(r.ts_ms) + " outside 0.." +
                                 std::to_string(kMaxTsMs));
  }
  bind();
  const int64_t base = r.ts_ms * kSlots;
  for (int64_t slot = SlotOf(r.id); slot < kSlots; ++slot) {
    sqlite3_bind_int64(insert, seq_param, base + slot);
    const int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (rc == SQLITE_DONE) return true;
    if (sqlite3_extended_errcode(db()) != SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Error(rc, "cannot insert a record");
    }
    auto same = id_at(base + slot);
    if (!same.ok()) return same.take_status();
    if (*same) return false;
  }
  return core::Internal("ledger: more than " + std::to_string(kSlots) + " records in millisecond " +
                        std::to_string(r.ts_ms));
}

// Migration 4: copies every row of `records` into `records_v4` at its slot.
// Migration 6: copies every row of `records` into `records_v6`, encoded, at
// the same seq.
core::Status SqliteStore::CopyRows(int version) {
  const std::string what = "migration " + std::to_string(version) + ": ";
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db(), SY_LEDGER_SELECT_COLUMNS "ORDER BY seq", -1, &raw, nullptr);
  Stmt select(raw);
  if (rc != SQLITE_OK) return Error(rc, what + "cannot read records");
  const bool encoded = version == 6;
  rc = sqlite3_prepare_v2(db(),
                          encoded ? "INSERT INTO records_v6 (body, seq) VALUES (?1, ?2)"
                                  : SY_LEDGER_INSERT_INTO("records_v4"),
                          -1, &raw, nullptr);
  Stmt insert(raw);
  if (rc != SQLITE_OK) return Error(rc, what + "cannot prepare the copy");
  Stmt id_at;  // migration 4 probes slots
  if (!encoded) {
    rc = sqlite3_prepare_v2(db(), "SELECT id FROM records_v4 WHERE seq = ?1", -1, &raw, nullptr);
    id_at.reset(raw);
    if (rc != SQLITE_OK) return Error(rc, what + "cannot prepare the copy");
  }
  simdjson::dom::parser parser;
  Record r;
  std::string buffer;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    ReadColumns(select.get(), parser, r);
    if (encoded) {
      const std::string_view body = EncodeRecord(r, buffer);
      sqlite3_bind_blob(insert.get(), 1, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert.get(), 2, sqlite3_column_int64(select.get(), kColumnsSeqColumn));
      const int step = sqlite3_step(insert.get());
      sqlite3_reset(insert.get());
      if (step != SQLITE_DONE) return Error(step, what + "cannot copy a record");
      continue;
    }
    auto added = InsertSlotted(
        insert.get(), kColumnsSeqParam, r, [&] { BindColumns(insert.get(), r, buffer); },
        [&](int64_t seq) -> core::Result<bool> {
          sqlite3_bind_int64(id_at.get(), 1, seq);
          const int step = sqlite3_step(id_at.get());
          const bool same = step == SQLITE_ROW && ColumnText(id_at.get(), 0) == r.id;
          sqlite3_reset(id_at.get());
          if (step != SQLITE_ROW) return Error(step, what + "cannot read a record's slot");
          return same;
        });
    if (!added.ok()) return added.take_status();
  }
  if (rc != SQLITE_DONE) return Error(rc, what + "cannot read records");
  return core::Status::Ok();
}

size_t SqliteStore::scratch_bytes() const {
  size_t n = scratch_.capacity();
  for (const Chunk& c : chunks_) n += c.body.capacity() + c.payloads.capacity();
  return n;
}

core::Status SqliteStore::Corrupt(int64_t seq, const core::Status& why) const {
  return core::FailedPrecondition("ledger: " + path_ + ": database file is corrupt (chunk at seq " +
                                  std::to_string(seq) + ": " + std::string(why.message()) + ")");
}

namespace {

// Whether a record at `ts_ms` goes into a new chunk after one holding `n`
// records in `bytes` bytes from `min_ts` on (records come in time order).
bool StartsNewChunk(int64_t n, size_t bytes, int64_t min_ts, int64_t ts_ms) {
  return n >= static_cast<int64_t>(SqliteStore::kChunkRecords) ||
         bytes >= SqliteStore::kChunkBytes ||
         min_ts < SaturatingSub(ts_ms, SqliteStore::kMaxChunkSpanMs);
}

// A chunk being read by a scan: its bytes (copied out of SQLite, which owns
// a column's bytes only until the next step) and its current record.
struct ChunkCursor {
  ChunkCursor(int64_t seq_in, std::string_view body, const void* payloads, int payloads_bytes)
      : seq(seq_in), bytes(body), reader(bytes) {
    if (payloads != nullptr) {
      payload_bytes.assign(static_cast<const char*>(payloads), static_cast<size_t>(payloads_bytes));
      payload_reader.emplace(payload_bytes);
    }
  }
  int64_t seq;
  std::string bytes;
  ChunkReader reader;  // reads `bytes`: a cursor never moves (held by pointer)
  std::string payload_bytes;
  std::optional<ChunkReader> payload_reader;  // when the chunk keeps payloads apart
  size_t index = 0;                           // of `current` in the chunk, from 1
  Record current;
};

// Scan order: time, then storage order (chunk seq, place in the chunk).
bool Later(const std::unique_ptr<ChunkCursor>& a, const std::unique_ptr<ChunkCursor>& b) {
  return std::tie(a->current.ts_ms, a->seq, a->index) >
         std::tie(b->current.ts_ms, b->seq, b->index);
}

// Moves `c` to its next record at or after `since_ms`; false at its end.
// Errors: InvalidArgument saying what is malformed (the caller names the chunk).
core::Result<bool> Advance(ChunkCursor& c, int64_t since_ms, bool include_bodies) {
  std::string_view record;
  while (c.reader.Next(record)) {
    ++c.index;
    std::string_view payloads;  // entry c.index - 1 of the payload chunk, read in step
    if (c.payload_reader && !c.payload_reader->Next(payloads)) {
      const core::Status& why = c.payload_reader->status();
      return core::InvalidArgument("payloads: " +
                                   (why.ok() ? "no entry for record " + std::to_string(c.index - 1)
                                             : std::string(why.message())));
    }
    auto head = ReadEncodedHead(record);
    if (head.ok() && head->ts_ms < since_ms) continue;
    core::Status st =
        head.ok() ? DecodeRecord(record, c.current, include_bodies) : head.take_status();
    if (st.ok() && include_bodies && c.payload_reader) st = DecodePayloads(payloads, c.current);
    if (!st.ok()) {
      return core::InvalidArgument("record " + std::to_string(c.index - 1) + ": " +
                                   std::string(st.message()));
    }
    return true;
  }
  if (!c.reader.status().ok()) return c.reader.status();
  return false;
}

}  // namespace

core::Status SqliteStore::MarkStored(std::span<const Record> records) {
  skip_.assign(records.size(), false);
  std::unordered_map<std::string_view, size_t> wanted;
  wanted.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (!wanted.emplace(records[i].id, i).second) skip_[i] = true;  // the first one is kept
  }
  const int64_t lo = order_.front().first;
  const int64_t hi = order_.back().first;
  auto stmt = Prepared(window_, kWindowSql);
  if (!stmt.ok()) return stmt.take_status();
  sqlite3_bind_int64(*stmt, 1, SaturatingSub(lo, kMaxChunkSpanMs));
  sqlite3_bind_int64(*stmt, 2, hi);
  sqlite3_bind_int64(*stmt, 3, lo);
  int rc = 0;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    ChunkReader reader(ColumnBlob(*stmt, 1));
    std::string_view record;
    while (reader.Next(record)) {
      // An undecodable record is not one of these (scans report it): one
      // corrupt row cannot stop the writer.
      auto head = ReadEncodedHead(record);
      if (!head.ok() || head->ts_ms < lo || head->ts_ms > hi) continue;
      auto it = wanted.find(head->id);
      if (it != wanted.end() && records[it->second].ts_ms == head->ts_ms) skip_[it->second] = true;
    }
  }
  sqlite3_reset(*stmt);
  if (rc != SQLITE_DONE) return Error(rc, "cannot read stored records");
  return core::Status::Ok();
}

void SqliteStore::BuildChunks(std::span<const Record> records) {
  chunk_count_ = 0;
  Chunk* c = nullptr;
  const Record none;  // an empty payload entry
  for (const auto& [ts_ms, i] : order_) {
    if (!skip_.empty() && skip_[i]) continue;
    const Record& r = records[i];
    const std::string_view encoded = EncodeRecord(r, scratch_, /*with_bodies=*/false);
    if (c == nullptr ||
        StartsNewChunk(c->n, c->body.size() + c->payloads.size(), c->min_ts, ts_ms)) {
      if (chunk_count_ == chunks_.size()) chunks_.emplace_back();
      c = &chunks_[chunk_count_++];
      BeginChunk(c->body);
      c->payloads.clear();  // a reused slot's last payloads must not count
      c->has_payloads = false;
      c->min_ts = ts_ms;
      c->n = 0;
    }
    AppendToChunk(c->body, encoded);
    // Payload entries start with the chunk's first record that has any (the
    // records before it get empty ones); from then on every record has one.
    if (!c->has_payloads && HasPayloads(r)) {
      c->has_payloads = true;
      BeginChunk(c->payloads);
      for (int64_t k = 0; k < c->n; ++k) AppendPayloadsToChunk(c->payloads, none);
    }
    if (c->has_payloads) AppendPayloadsToChunk(c->payloads, r);
    c->max_ts = ts_ms;
    ++c->n;
  }
}

core::Status SqliteStore::InsertChunks() {
  auto insert = Prepared(insert_, kInsertChunkSql);
  if (!insert.ok()) return insert.take_status();
  for (size_t k = 0; k < chunk_count_; ++k) {
    const Chunk& c = chunks_[k];
    sqlite3_bind_int64(*insert, 1, c.min_ts);
    sqlite3_bind_int64(*insert, 2, c.max_ts);
    sqlite3_bind_int64(*insert, 3, c.n);
    sqlite3_bind_blob(*insert, 4, c.body.data(), static_cast<int>(c.body.size()), SQLITE_STATIC);
    if (c.has_payloads) {
      sqlite3_bind_blob(*insert, 5, c.payloads.data(), static_cast<int>(c.payloads.size()),
                        SQLITE_STATIC);
    } else {
      sqlite3_bind_null(*insert, 5);
    }
    const int rc = sqlite3_step(*insert);
    sqlite3_reset(*insert);
    if (rc != SQLITE_DONE) return Error(rc, "cannot insert records");
  }
  return core::Status::Ok();
}

core::Result<size_t> SqliteStore::WriteBatch(std::span<const Record> records, IdCheck ids) {
  if (records.empty()) return size_t{0};
  if (options_.read_only) {
    return core::FailedPrecondition("ledger: " + path_ + ": opened read-only");
  }
  // Buffers grown by records with large bodies (store_payloads) are not kept
  // past the batch, so the writer's memory stays flat.
  struct ReleaseLarge {
    SqliteStore& store;
    ~ReleaseLarge() {
      if (store.scratch_.capacity() > kKeptScratchBytes) std::string().swap(store.scratch_);
      for (Chunk& c : store.chunks_) {
        if (c.body.capacity() > kKeptScratchBytes) std::string().swap(c.body);
        if (c.payloads.capacity() > kKeptScratchBytes) std::string().swap(c.payloads);
      }
    }
  } release{*this};
  // Records go into chunks in time order; equal times keep arrival order.
  order_.clear();
  for (size_t i = 0; i < records.size(); ++i) order_.emplace_back(records[i].ts_ms, i);
  std::sort(order_.begin(), order_.end());
  skip_.clear();
  // New records are encoded before the transaction: the write lock is held
  // for the inserts alone. A replay looks its ids up under the lock.
  if (ids == IdCheck::kNew) BuildChunks(records);

  auto begin = Prepared(begin_, "BEGIN IMMEDIATE");
  if (!begin.ok()) return begin.take_status();
  int rc = sqlite3_step(*begin);
  if (rc != SQLITE_DONE) return Error(rc, "cannot begin a transaction");
  auto rollback = [this](core::Status st) -> core::Status {
    if (auto rb = Prepared(rollback_, "ROLLBACK"); rb.ok()) sqlite3_step(*rb);
    if (insert_) sqlite3_reset(insert_.get());
    if (window_) sqlite3_reset(window_.get());
    return st;
  };
  // Inside the transaction nothing may escape without a rollback (bad_alloc
  // while encoding large bodies would leave the transaction open for good).
  try {
    if (ids == IdCheck::kSkipStored) {
      if (core::Status st = MarkStored(records); !st.ok()) return rollback(st);
      BuildChunks(records);
    }
    if (core::Status st = InsertChunks(); !st.ok()) return rollback(st);
  } catch (const std::exception& e) {
    return rollback(core::Internal("ledger: " + path_ + ": cannot write a batch: " + e.what()));
  }
  auto commit = Prepared(commit_, "COMMIT");
  if (!commit.ok()) return rollback(commit.take_status());
  rc = sqlite3_step(*commit);
  if (rc != SQLITE_DONE) return rollback(Error(rc, "cannot commit"));
  size_t inserted = 0;
  for (size_t k = 0; k < chunk_count_; ++k) inserted += static_cast<size_t>(chunks_[k].n);
  return inserted;
}

// Migration 7: the rows of `records` (v6: one encoded record each, in seq =
// time order) go into chunks as they are.
core::Status SqliteStore::CopyIntoChunks() {
  const std::string what = "migration 7: ";
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v2(db(), "SELECT seq, body FROM records ORDER BY seq", -1, &raw, nullptr);
  Stmt select(raw);
  if (rc != SQLITE_OK) return Error(rc, what + "cannot read records");
  // Schema 7 had no payloads column: the records keep their bodies inline.
  rc = sqlite3_prepare_v2(db(),
                          "INSERT INTO chunks (min_ts, max_ts, n, body) VALUES (?1, ?2, ?3, ?4)",
                          -1, &raw, nullptr);
  Stmt insert(raw);
  if (rc != SQLITE_OK) return Error(rc, what + "cannot prepare the copy");
  Chunk c;
  auto flush = [&]() -> core::Status {
    if (c.n == 0) return core::Status::Ok();
    sqlite3_bind_int64(insert.get(), 1, c.min_ts);
    sqlite3_bind_int64(insert.get(), 2, c.max_ts);
    sqlite3_bind_int64(insert.get(), 3, c.n);
    sqlite3_bind_blob(insert.get(), 4, c.body.data(), static_cast<int>(c.body.size()),
                      SQLITE_STATIC);
    const int step = sqlite3_step(insert.get());
    sqlite3_reset(insert.get());
    c.n = 0;
    if (step != SQLITE_DONE) return Error(step, what + "cannot copy records");
    return core::Status::Ok();
  };
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    const std::string_view body = ColumnBlob(select.get(), 1);
    auto head = ReadEncodedHead(body);
    if (!head.ok()) {
      return core::FailedPrecondition("ledger: " + path_ +
                                      ": database file is corrupt (record at seq " +
                                      std::to_string(sqlite3_column_int64(select.get(), 0)) + ": " +
                                      std::string(head.status().message()) + ")");
    }
    if (c.n > 0 && StartsNewChunk(c.n, c.body.size(), c.min_ts, head->ts_ms)) {
      if (core::Status st = flush(); !st.ok()) return st;
    }
    if (c.n == 0) {
      BeginChunk(c.body);
      c.min_ts = head->ts_ms;
    }
    AppendToChunk(c.body, body);
    c.max_ts = head->ts_ms;
    ++c.n;
  }
  if (rc != SQLITE_DONE) return Error(rc, what + "cannot read records");
  return flush();
}

core::Result<int64_t> SqliteStore::Count() {
  auto stmt = Prepared(count_, kCountSql);
  if (!stmt.ok()) return stmt.take_status();
  const int rc = sqlite3_step(*stmt);
  if (rc != SQLITE_ROW) return Error(rc, "cannot count records");
  const int64_t n = sqlite3_column_int64(*stmt, 0);
  sqlite3_reset(*stmt);
  return n;
}

core::Result<std::vector<Record>> SqliteStore::Latest(size_t n) {
  if (n == 0) return std::vector<Record>{};
  auto stmt = Prepared(latest_, kLatestSql);
  if (!stmt.ok()) return stmt.take_status();
  // The n latest seen so far, the earliest of them at the front.
  struct Entry {
    int64_t ts_ms;
    int64_t seq;
    size_t index;
    Record record;
  };
  auto key = [](const Entry& e) { return std::tie(e.ts_ms, e.seq, e.index); };
  auto later = [&key](const Entry& a, const Entry& b) { return key(a) > key(b); };
  std::vector<Entry> kept;
  core::Status st = core::Status::Ok();
  int rc = 0;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    const int64_t seq = sqlite3_column_int64(*stmt, 0);
    const int64_t min_ts = sqlite3_column_int64(*stmt, 1);
    // Chunks come newest first by min_ts; no record of this chunk or a later
    // one is newer than min_ts + kMaxChunkSpanMs.
    if (kept.size() == n && min_ts < SaturatingSub(kept.front().ts_ms, kMaxChunkSpanMs)) break;
    ChunkReader reader(ColumnBlob(*stmt, 2));
    std::string_view record;
    size_t index = 0;
    while (st.ok() && reader.Next(record)) {
      ++index;
      auto head = ReadEncodedHead(record);
      if (head.ok() && kept.size() == n && std::tie(head->ts_ms, seq, index) <= key(kept.front())) {
        continue;
      }
      Entry e{head.ok() ? head->ts_ms : 0, seq, index, Record{}};
      core::Status bad =
          head.ok() ? DecodeRecord(record, e.record, /*include_bodies=*/false) : head.take_status();
      if (!bad.ok()) {
        st = Corrupt(seq, core::InvalidArgument("record " + std::to_string(index - 1) + ": " +
                                                std::string(bad.message())));
        break;
      }
      if (kept.size() == n) {
        std::pop_heap(kept.begin(), kept.end(), later);
        kept.pop_back();
      }
      kept.push_back(std::move(e));
      std::push_heap(kept.begin(), kept.end(), later);
    }
    if (st.ok() && !reader.status().ok()) st = Corrupt(seq, reader.status());
    if (!st.ok()) break;
  }
  sqlite3_reset(*stmt);
  if (!st.ok()) return st;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "cannot read records");
  std::sort(kept.begin(), kept.end(),
            [&key](const Entry& a, const Entry& b) { return key(a) < key(b); });
  std::vector<Record> out;
  out.reserve(kept.size());
  for (Entry& e : kept) out.push_back(std::move(e.record));
  return out;
}

core::Status SqliteStore::Scan(const ScanOptions& options, const std::function<bool(Record&)>& fn) {
  // Without bodies the payloads column is not read at all.
  auto stmt = options.include_bodies ? Prepared(scan_bodies_, kScanWithBodiesSql)
                                     : Prepared(scan_, kScanSql);
  if (!stmt.ok()) return stmt.take_status();
  sqlite3_bind_int64(*stmt, 1, SaturatingSub(options.since_ms, kMaxChunkSpanMs));
  // A merge of the chunks by time: a chunk joins the heap once its min_ts is
  // not past the earliest record in the heap. Chunks overlap only by the
  // spread of record times within a batch, so few are held at once.
  std::vector<std::unique_ptr<ChunkCursor>> heap;
  std::unique_ptr<ChunkCursor> next;  // the chunk row read ahead, null at the end
  int64_t next_min_ts = 0;
  auto read_ahead = [&]() -> core::Status {
    const int rc = sqlite3_step(*stmt);
    if (rc == SQLITE_DONE) {
      next.reset();
      return core::Status::Ok();
    }
    if (rc != SQLITE_ROW) return Error(rc, "cannot read records");
    next_min_ts = sqlite3_column_int64(*stmt, 1);
    const void* payloads = nullptr;
    int payload_bytes = 0;
    if (options.include_bodies && sqlite3_column_type(*stmt, 3) != SQLITE_NULL) {
      payloads = sqlite3_column_blob(*stmt, 3);
      payload_bytes = sqlite3_column_bytes(*stmt, 3);
    }
    next = std::make_unique<ChunkCursor>(sqlite3_column_int64(*stmt, 0), ColumnBlob(*stmt, 2),
                                         payloads, payload_bytes);
    return core::Status::Ok();
  };
  core::Status st = read_ahead();
  while (st.ok()) {
    while (next && (heap.empty() || next_min_ts <= heap.front()->current.ts_ms)) {
      std::unique_ptr<ChunkCursor> c = std::move(next);
      auto has = Advance(*c, options.since_ms, options.include_bodies);
      if (!has.ok()) {
        st = Corrupt(c->seq, has.status());
        break;
      }
      if (*has) {
        heap.push_back(std::move(c));
        std::push_heap(heap.begin(), heap.end(), Later);
      }
      if (st = read_ahead(); !st.ok()) break;
    }
    if (!st.ok() || heap.empty()) break;
    std::pop_heap(heap.begin(), heap.end(), Later);
    ChunkCursor& c = *heap.back();
    if (!fn(c.current)) break;
    auto has = Advance(c, options.since_ms, options.include_bodies);
    if (!has.ok()) {
      st = Corrupt(c.seq, has.status());
      break;
    }
    if (*has) {
      std::push_heap(heap.begin(), heap.end(), Later);
    } else {
      heap.pop_back();
    }
  }
  sqlite3_reset(*stmt);
  return st;
}

}  // namespace switchyard::ledger
