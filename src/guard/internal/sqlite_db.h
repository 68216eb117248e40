// A thin RAII wrapper over one SQLite connection for the guard's own tables
// (keys, tenants, egress audit). Not thread-safe: callers serialise access.
// Errors are FailedPrecondition "<what>: <path>: <cause> (SQLite: <message>)".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace switchyard::guard::internal {

class SqliteDb {
 public:
  // Opens (creating the parent directory and the file unless read_only) and
  // sets WAL, synchronous=NORMAL and the busy timeout. `what` prefixes errors.
  static core::Result<std::unique_ptr<SqliteDb>> Open(std::string what, std::string path,
                                                      bool read_only, int busy_timeout_ms);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  core::Status Exec(const char* sql, std::string_view doing);
  core::Status Error(int rc, std::string_view doing) const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  // PRAGMA data_version: changes when another connection commits.
  core::Result<int64_t> DataVersion();

  // A prepared statement, reset and cleared on destruction.
  class Stmt {
   public:
    Stmt() = default;
    explicit Stmt(sqlite3_stmt* s) : s_(s) {}
    Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    Stmt& operator=(Stmt&& o) noexcept;
    ~Stmt();
    sqlite3_stmt* get() const { return s_; }
    // Hands the statement over; the caller finalizes it.
    sqlite3_stmt* Release() {
      sqlite3_stmt* s = s_;
      s_ = nullptr;
      return s;
    }

   private:
    sqlite3_stmt* s_ = nullptr;
  };
  core::Result<Stmt> Prepare(const char* sql, std::string_view doing);

 private:
  SqliteDb(std::string what, std::string path, sqlite3* db)
      : what_(std::move(what)), path_(std::move(path)), db_(db) {}

  std::string what_;
  std::string path_;
  sqlite3* db_;
};

// Binds / reads helpers.
// Copies `v` (SQLITE_TRANSIENT): safe for temporaries.
void BindText(sqlite3_stmt* s, int idx, std::string_view v);
// No copy (SQLITE_STATIC): `v` must stay valid until the statement's last
// sqlite3_step() with this binding (rebind or sqlite3_clear_bindings() after).
void BindStaticText(sqlite3_stmt* s, int idx, std::string_view v);
std::string ColumnText(sqlite3_stmt* s, int idx);

}  // namespace switchyard::guard::internal
