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
    "CREATE INDEX IF NOT EXISTS task_labels_task ON task_labels(task, id);";

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

}  // namespace

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
    return fail("cannot create the task_labels table", db);
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
  std::lock_guard lock(mu_);
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO task_labels (task, ts_ms, request_id, input, label) "
                         "VALUES (?, ?, ?, ?, ?)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return SqlError("cannot add a label");
  }
  BindText(st.s, 1, task);
  sqlite3_bind_int64(st.s, 2, clock_.UnixMillis());
  BindText(st.s, 3, request_id);
  BindText(st.s, 4, input);
  BindText(st.s, 5, label);
  if (sqlite3_step(st.s) != SQLITE_DONE) return SqlError("cannot add a label");
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

}  // namespace switchyard::learn
