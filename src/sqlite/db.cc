#include "sqlite/db.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

namespace switchyard::sqlite {
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

// Creates the parent directory of `path` if it has one.
core::Status CreateParentDirectory(std::string_view what, const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return core::Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (!ec) return core::Status::Ok();
  return core::FailedPrecondition(std::string(what) + ": " + path + ": cannot create directory " +
                                  parent.string() + " (" + ec.message() + ")");
}

}  // namespace

core::Status ErrorStatus(std::string_view what, std::string_view path, sqlite3* db, int rc,
                         std::string_view doing) {
  const std::string_view cause = CauseFor(rc);
  std::string msg(what);
  msg += ": ";
  msg += path;
  msg += ": ";
  msg += cause.empty() ? doing : cause;
  msg += " (SQLite: ";
  msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += ")";
  return core::FailedPrecondition(std::move(msg));
}

core::Result<std::unique_ptr<Db>> Db::Open(std::string what, std::string path,
                                           const OpenOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (core::Status s = CreateParentDirectory(what, path); !s.ok()) return s;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // The Db owns `raw` from here on, even when opening failed.
  std::unique_ptr<Db> db(new Db(std::move(what), std::move(path), raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open the file");
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (options.read_only) return db;
  if (options.page_size > 0) {
    const std::string sql = "PRAGMA page_size=" + std::to_string(options.page_size);
    if (core::Status s = db->Exec(sql.c_str(), "cannot set page_size"); !s.ok()) return s;
  }
  // The mode SQLite answers is the one in force: a file system without the
  // shared memory WAL needs keeps the old journal.
  auto wal = db->Prepare("PRAGMA journal_mode=WAL", "cannot enable WAL");
  if (!wal.ok()) return wal.take_status();
  const int step = sqlite3_step(wal->get());
  if (step != SQLITE_ROW) return db->Error(step, "cannot enable WAL");
  if (const std::string mode = ColumnText(wal->get(), 0); mode != "wal") {
    return core::FailedPrecondition(db->what_ + ": " + db->path_ +
                                    ": cannot enable WAL (journal mode stays \"" + mode + "\")");
  }
  *wal = Stmt();  // (a statement left on a row keeps a read transaction open)
  if (core::Status s = db->Exec("PRAGMA synchronous=NORMAL", "cannot set synchronous"); !s.ok()) {
    return s;
  }
  return db;
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

core::Status Db::Error(int rc, std::string_view doing) const {
  return ErrorStatus(what_, path_, db_, rc, doing);
}

core::Status Db::LastError(std::string_view doing) const {
  return Error(db_ != nullptr ? sqlite3_extended_errcode(db_) : SQLITE_ERROR, doing);
}

core::Status Db::Exec(const char* sql, std::string_view doing) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, doing);
  return core::Status::Ok();
}

core::Result<int64_t> Db::DataVersion() {
  auto stmt = Prepare("PRAGMA data_version", "cannot read data_version");
  if (!stmt.ok()) return stmt.take_status();
  const int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_ROW) return Error(rc, "cannot read data_version");
  return static_cast<int64_t>(sqlite3_column_int64(stmt->get(), 0));
}

Db::Stmt& Db::Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_ != nullptr) sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Db::Stmt::~Stmt() {
  if (s_ != nullptr) sqlite3_finalize(s_);
}

core::Result<Db::Stmt> Db::Prepare(const char* sql, std::string_view doing) {
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

}  // namespace switchyard::sqlite
