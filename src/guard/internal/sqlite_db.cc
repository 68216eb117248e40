#include "guard/internal/sqlite_db.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

namespace switchyard::guard::internal {
namespace {

std::string_view CauseFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return "file is not a database";
    case SQLITE_CORRUPT:
      return "database file is corrupt";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "database is locked by another process or connection";
    case SQLITE_CANTOPEN:
      return "cannot open the file";
    case SQLITE_READONLY:
      return "database is read-only";
    case SQLITE_PERM:
      return "permission denied";
    case SQLITE_FULL:
      return "disk is full";
    case SQLITE_IOERR:
      return "I/O error";
    default:
      return {};
  }
}

}  // namespace

core::Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(std::string what, std::string path,
                                                       bool read_only, int busy_timeout_ms) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return core::FailedPrecondition(what + ": " + path + ": cannot create directory " +
                                        parent.string() + " (" + ec.message() + ")");
      }
    }
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(std::move(what), std::move(path), raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open the file");
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  if (!read_only) {
    if (core::Status s = db->Exec("PRAGMA journal_mode=WAL", "cannot enable WAL"); !s.ok()) {
      return s;
    }
    if (core::Status s = db->Exec("PRAGMA synchronous=NORMAL", "cannot set synchronous"); !s.ok()) {
      return s;
    }
  }
  return db;
}

SqliteDb::~SqliteDb() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

core::Status SqliteDb::Error(int rc, std::string_view doing) const {
  std::string_view cause = CauseFor(rc);
  std::string msg = what_ + ": " + path_ + ": ";
  msg += cause.empty() ? doing : cause;
  msg += " (SQLite: ";
  msg += db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  msg += ")";
  return core::FailedPrecondition(std::move(msg));
}

core::Status SqliteDb::Exec(const char* sql, std::string_view doing) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, doing);
  return core::Status::Ok();
}

core::Result<int64_t> SqliteDb::DataVersion() {
  auto stmt = Prepare("PRAGMA data_version", "cannot read data_version");
  if (!stmt.ok()) return stmt.take_status();
  const int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_ROW) return Error(rc, "cannot read data_version");
  return static_cast<int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

SqliteDb::Stmt& SqliteDb::Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

SqliteDb::Stmt::~Stmt() {
  if (s_ != nullptr) sqlite3_finalize(s_);
}

core::Result<SqliteDb::Stmt> SqliteDb::Prepare(const char* sql, std::string_view doing) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
  if (rc != SQLITE_OK) {
    if (s != nullptr) sqlite3_finalize(s);
    return Error(rc, doing);
  }
  return Stmt(s);
}

void BindText(sqlite3_stmt* s, int idx, std::string_view v) {
  sqlite3_bind_text(s, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void BindStaticText(sqlite3_stmt* s, int idx, std::string_view v) {
  sqlite3_bind_text(s, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* s, int idx) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, idx));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, idx)));
}

}  // namespace switchyard::guard::internal
