// The SQLite connection each store opens: guard's keys and egress audit, the
// ledger, the student registry and label store (writable ledger and audit
// stores open a second one for their checkpoints: sqlite/checkpointer.h). Opening creates the
// parent directory (unless read-only) and sets the page size of a new file, WAL (checked),
// synchronous=NORMAL and the busy timeout; statements are RAII; every error has one format,
//   FailedPrecondition "<what>: <path>: <cause> (SQLite: <message>)"
// where <cause> names the common failures (not a database, corrupt, locked,
// read-only, permission, disk full, I/O) and is otherwise what was being done.
// The ledger's store keeps its own persistent prepared statements on the
// connection (handle()).
//
// Not thread-safe: one thread at a time per Db (callers serialise access).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace switchyard::sqlite {

struct OpenOptions {
  bool read_only = false;  // no directory, no file created, no PRAGMA written
  int busy_timeout_ms = 5000;
  // > 0: the page size of a new file (set before WAL; an existing file keeps
  // its own: changing it needs a VACUUM out of WAL mode).
  int page_size = 0;
};

class Db {
 public:
  // `what` names the store in errors ("keys", "audit", "label store", ...).
  // Errors: "<what>: <path>: cannot create directory <dir> (<reason>)";
  // "<what>: <path>: cannot enable WAL (journal mode stays \"<mode>\")" when
  // the file cannot be put in WAL mode; an open or PRAGMA failure in the
  // format above (a writable open reads the file, so a file that is not a
  // database fails here; a read-only one reads nothing: it fails at the
  // caller's first statement).
  static core::Result<std::unique_ptr<Db>> Open(std::string what, std::string path,
                                                const OpenOptions& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  core::Status Exec(const char* sql, std::string_view doing);
  // The error `rc` (a result code of a call on this connection) in the format above.
  core::Status Error(int rc, std::string_view doing) const;
  // The same for the connection's most recent call, which must be the one
  // that failed (call it straight after; any later call resets the code).
  core::Status LastError(std::string_view doing) const;
  sqlite3* handle() const { return db_; }
  const std::string& what() const { return what_; }
  const std::string& path() const { return path_; }
  // PRAGMA data_version: changes when another connection commits.
  core::Result<int64_t> DataVersion();

  // A prepared statement, finalized on destruction.
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
  Db(std::string what, std::string path, sqlite3* db)
      : what_(std::move(what)), path_(std::move(path)), db_(db) {}

  std::string what_;
  std::string path_;
  sqlite3* db_;
};

// The error format above (what Db::Error uses); `db` may be null, e.g. a
// connection that could not be allocated (then the message is SQLite's text
// for `rc`).
core::Status ErrorStatus(std::string_view what, std::string_view path, sqlite3* db, int rc,
                         std::string_view doing);

// Binds / reads helpers.
// Copies `v` (SQLITE_TRANSIENT): safe for temporaries.
void BindText(sqlite3_stmt* s, int idx, std::string_view v);
// No copy (SQLITE_STATIC): `v` must stay valid until the statement's last
// sqlite3_step() with this binding (rebind or sqlite3_clear_bindings() after).
void BindStaticText(sqlite3_stmt* s, int idx, std::string_view v);
// The column as a string ("" for NULL).
std::string ColumnText(sqlite3_stmt* s, int idx);

}  // namespace switchyard::sqlite
