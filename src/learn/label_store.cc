#include "learn/label_store.h"

#include <sqlite3.h>

#include <filesystem>

namespace switchyard::learn {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS task_labels ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " task TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " request_id TEXT NOT NULL,"
    " input TEXT NOT NULL,"
    " label TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS task_labels_task ON task_labels(task, id);"
    "CREATE TABLE IF NOT EXISTS task_unparsed ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " task TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " request_id TEXT NOT NULL,"
    " reply TEXT NOT NULL,"
    " reply_bytes INTEGER NOT NULL,"
    " error TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS task_unparsed_task ON task_unparsed(task, id);"
    "CREATE TABLE IF NOT EXISTS task_live ("
    " task TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " compared INTEGER NOT NULL,"
    " agreed INTEGER NOT NULL,"
    " accepted INTEGER NOT NULL,"
    " accepted_agreed INTEGER NOT NULL,"
    " lower_bound REAL NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (task, version));"
    "CREATE TABLE IF NOT EXISTS task_counters ("
    " task TEXT PRIMARY KEY,"
    " input_unmatched INTEGER NOT NULL,"
    " demotions INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);";

// Finalises a statement when it goes out of scope.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(s, i));
}

// Runs `sql` (no result rows); false on error.
bool Exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

}  // namespace

std::string_view CutUtf8(std::string_view reply, size_t max_bytes) {
  if (reply.size() <= max_bytes) return reply;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(reply[n]) & 0xC0) == 0x80) --n;
  return reply.substr(0, n);
}

core::Result<std::unique_ptr<LabelStore>> LabelStore::Open(const std::string& db_path,
                                                           const core::Clock& clock,
                                                           int busy_timeout_ms) {
  const auto fail = [&db_path](const std::string& cause, sqlite3* db) {
    std::string msg = "label store " + db_path + ": " + cause;
    if (db != nullptr) {
      msg += std::string(" (SQLite: ") + sqlite3_errmsg(db) + ")";
      sqlite3_close_v2(db);
    }
    return core::FailedPrecondition(msg);
  };
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return fail("cannot open the file", db);
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  char* err = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return fail("cannot create the task_labels tables", db);
  }
  return std::unique_ptr<LabelStore>(new LabelStore(db_path, db, clock));
}

LabelStore::~LabelStore() {
  sqlite3_close_v2(db_);
}

core::Status LabelStore::SqlError(std::string_view doing) const {
  return core::FailedPrecondition("label store " + path_ + ": " + std::string(doing) +
                                  " (SQLite: " + sqlite3_errmsg(db_) + ")");
}

core::Status LabelStore::Add(std::string_view task, std::string_view input, std::string_view label,
                             std::string_view request_id) {
  return AddBatch({LabelRow{std::string(task), std::string(input), std::string(label),
                            std::string(request_id)}});
}

core::Status LabelStore::AddBatch(const std::vector<LabelRow>& labels,
                                  const std::vector<UnparsedRow>& unparsed) {
  if (labels.empty() && unparsed.empty()) return core::Status::Ok();
  std::lock_guard lock(mu_);
  if (!Exec(db_, "BEGIN IMMEDIATE")) return SqlError("cannot start a batch");
  core::Status s = AddBatchLocked(labels, unparsed);
  if (s.ok() && !Exec(db_, "COMMIT")) s = SqlError("cannot commit a batch");
  if (!s.ok()) Exec(db_, "ROLLBACK");
  return s;
}

core::Status LabelStore::AddBatchLocked(const std::vector<LabelRow>& labels,
                                        const std::vector<UnparsedRow>& unparsed) {
  const int64_t now = clock_.UnixMillis();
  if (!labels.empty()) {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO task_labels (task, ts_ms, request_id, input, label) "
                           "VALUES (?, ?, ?, ?, ?)",
                           -1, &st.s, nullptr) != SQLITE_OK) {
      return SqlError("cannot add a label");
    }
    for (const LabelRow& r : labels) {
      sqlite3_reset(st.s);
      BindText(st.s, 1, r.task);
      sqlite3_bind_int64(st.s, 2, now);
      BindText(st.s, 3, r.request_id);
      BindText(st.s, 4, r.input);
      BindText(st.s, 5, r.label);
      if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError("cannot add a label");
    }
  }
  if (!unparsed.empty()) {
    Stmt st;
    if (sqlite3_prepare_v2(
            db_,
            "INSERT INTO task_unparsed (task, ts_ms, request_id, reply, reply_bytes, "
            "error) VALUES (?, ?, ?, ?, ?, ?)",
            -1, &st.s, nullptr) != SQLITE_OK) {
      return SqlError("cannot add an unparsed reply");
    }
    for (const UnparsedRow& r : unparsed) {
      sqlite3_reset(st.s);
      BindText(st.s, 1, r.task);
      sqlite3_bind_int64(st.s, 2, now);
      BindText(st.s, 3, r.request_id);
      BindText(st.s, 4, CutUtf8(r.reply, kMaxUnparsedReplyBytes));
      sqlite3_bind_int64(st.s, 5,
                         r.reply_bytes > 0 ? r.reply_bytes : static_cast<int64_t>(r.reply.size()));
      BindText(st.s, 6, r.error);
      if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError("cannot add an unparsed reply");
    }
  }
  return core::Status::Ok();
}

core::Result<std::vector<Example>> LabelStore::Load(std::string_view task) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT input, label FROM task_labels WHERE task = ? ORDER BY id", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return SqlError("cannot read labels");
  }
  BindText(st.s, 1, task);
  std::vector<Example> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    out.push_back(Example{ColumnText(st.s, 0), ColumnText(st.s, 1)});
  }
  if (rc != SQLITE_DONE) return SqlError("cannot read labels");
  return out;
}

core::Result<int64_t> LabelStore::Count(std::string_view task) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM task_labels WHERE task = ?", -1, &st.s,
                         nullptr) != SQLITE_OK) {
    return SqlError("cannot count labels");
  }
  BindText(st.s, 1, task);
  if (sqlite3_step(st.s) != SQLITE_ROW) return SqlError("cannot count labels");
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

core::Result<std::vector<UnparsedRow>> LabelStore::LoadUnparsed(std::string_view task) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "SELECT task, request_id, reply, reply_bytes, error, ts_ms FROM "
                         "task_unparsed WHERE task = ? ORDER BY id",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return SqlError("cannot read unparsed replies");
  }
  BindText(st.s, 1, task);
  std::vector<UnparsedRow> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    UnparsedRow r;
    r.task = ColumnText(st.s, 0);
    r.request_id = ColumnText(st.s, 1);
    r.reply = ColumnText(st.s, 2);
    r.reply_bytes = sqlite3_column_int64(st.s, 3);
    r.error = ColumnText(st.s, 4);
    r.ts_ms = sqlite3_column_int64(st.s, 5);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("cannot read unparsed replies");
  return out;
}

core::Result<int64_t> LabelStore::CountUnparsed(std::string_view task) {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM task_unparsed WHERE task = ?", -1, &st.s,
                         nullptr) != SQLITE_OK) {
    return SqlError("cannot count unparsed replies");
  }
  BindText(st.s, 1, task);
  if (sqlite3_step(st.s) != SQLITE_ROW) return SqlError("cannot count unparsed replies");
  return static_cast<int64_t>(sqlite3_column_int64(st.s, 0));
}

core::Status LabelStore::SaveStats(const std::vector<LiveRow>& live,
                                   const std::map<std::string, TaskCounters>& counters) {
  if (live.empty() && counters.empty()) return core::Status::Ok();
  std::lock_guard lock(mu_);
  if (!Exec(db_, "BEGIN IMMEDIATE")) return SqlError("cannot start saving statistics");
  core::Status s = SaveStatsLocked(live, counters);
  if (s.ok() && !Exec(db_, "COMMIT")) s = SqlError("cannot commit statistics");
  if (!s.ok()) Exec(db_, "ROLLBACK");
  return s;
}

core::Status LabelStore::SaveStatsLocked(const std::vector<LiveRow>& live,
                                         const std::map<std::string, TaskCounters>& counters) {
  const int64_t now = clock_.UnixMillis();
  if (!live.empty()) {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO task_live (task, version, compared, agreed, "
                           "accepted, accepted_agreed, lower_bound, updated_ms) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st.s, nullptr) != SQLITE_OK) {
      return SqlError("cannot save live statistics");
    }
    for (const LiveRow& r : live) {
      const LiveStats s = MakeLiveStats(r.stats.compared, r.stats.agreed, r.stats.accepted,
                                        r.stats.accepted_agreed);
      sqlite3_reset(st.s);
      BindText(st.s, 1, r.task);
      sqlite3_bind_int64(st.s, 2, r.version);
      sqlite3_bind_int64(st.s, 3, static_cast<int64_t>(s.compared));
      sqlite3_bind_int64(st.s, 4, static_cast<int64_t>(s.agreed));
      sqlite3_bind_int64(st.s, 5, static_cast<int64_t>(s.accepted));
      sqlite3_bind_int64(st.s, 6, static_cast<int64_t>(s.accepted_agreed));
      sqlite3_bind_double(st.s, 7, s.lower_bound);
      sqlite3_bind_int64(st.s, 8, now);
      if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError("cannot save live statistics");
    }
  }
  if (!counters.empty()) {
    Stmt st;
    if (sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO task_counters (task, input_unmatched, "
                           "demotions, updated_ms) VALUES (?, ?, ?, ?)",
                           -1, &st.s, nullptr) != SQLITE_OK) {
      return SqlError("cannot save task counters");
    }
    for (const auto& [task, c] : counters) {
      sqlite3_reset(st.s);
      BindText(st.s, 1, task);
      sqlite3_bind_int64(st.s, 2, c.input_unmatched);
      sqlite3_bind_int64(st.s, 3, c.demotions);
      sqlite3_bind_int64(st.s, 4, now);
      if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError("cannot save task counters");
    }
  }
  return core::Status::Ok();
}

core::Result<std::vector<LiveRow>> LabelStore::LoadLive(std::string_view task) {
  std::lock_guard lock(mu_);
  Stmt st;
  const char* sql = task.empty()
                        ? "SELECT task, version, compared, agreed, accepted, accepted_agreed, "
                          "updated_ms FROM task_live ORDER BY task, version"
                        : "SELECT task, version, compared, agreed, accepted, accepted_agreed, "
                          "updated_ms FROM task_live WHERE task = ? ORDER BY task, version";
  if (sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) != SQLITE_OK) {
    return SqlError("cannot read live statistics");
  }
  if (!task.empty()) BindText(st.s, 1, task);
  std::vector<LiveRow> out;
  int rc;
  const auto count = [&st](int i) {
    const int64_t v = sqlite3_column_int64(st.s, i);
    return static_cast<uint64_t>(v < 0 ? 0 : v);
  };
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    LiveRow r;
    r.task = ColumnText(st.s, 0);
    r.version = sqlite3_column_int64(st.s, 1);
    r.stats = MakeLiveStats(count(2), count(3), count(4), count(5));
    r.updated_ms = sqlite3_column_int64(st.s, 6);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError("cannot read live statistics");
  return out;
}

core::Result<std::map<std::string, TaskCounters>> LabelStore::LoadCounters() {
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_, "SELECT task, input_unmatched, demotions FROM task_counters", -1,
                         &st.s, nullptr) != SQLITE_OK) {
    return SqlError("cannot read task counters");
  }
  std::map<std::string, TaskCounters> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    TaskCounters c;
    c.input_unmatched = sqlite3_column_int64(st.s, 1);
    c.demotions = sqlite3_column_int64(st.s, 2);
    out[ColumnText(st.s, 0)] = c;
  }
  if (rc != SQLITE_DONE) return SqlError("cannot read task counters");
  return out;
}

}  // namespace switchyard::learn
