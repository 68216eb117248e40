// sqlite::Db against real files: what Open sets up, and every error in its one
// format "<what>: <path>: <cause> (SQLite: <message>)".
#include "sqlite/db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace switchyard::sqlite {
namespace {

namespace fs = std::filesystem;

class DbTest : public ::testing::Test {
 protected:
  static std::string One(Db& db, const char* sql) {
    auto stmt = db.Prepare(sql, "reading");
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    if (!stmt.ok() || sqlite3_step(stmt->get()) != SQLITE_ROW) return "<no row>";
    return ColumnText(stmt->get(), 0);
  }

  switchyard::testing::ScopedTempDir tmp_{"sqlite"};
  fs::path dir_ = fs::path(tmp_.path()) / "d";  // (created by the tests that need it)
  std::string path_ = (dir_ / "sub" / "t.db").string();
};

TEST_F(DbTest, OpenCreatesTheDirectoryAndTheFileInWalMode) {
  auto db = Db::Open("t", path_, {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ((*db)->path(), path_);
  EXPECT_EQ(One(**db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(One(**db, "PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(One(**db, "PRAGMA busy_timeout"), "5000");
}

TEST_F(DbTest, PageSizeAppliesToANewFileOnly) {
  {
    auto db = Db::Open("t", path_, {.page_size = 16384});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE x (v TEXT)", "creating").ok());
    EXPECT_EQ(One(**db, "PRAGMA page_size"), "16384");
  }
  auto again = Db::Open("t", path_, {.page_size = 4096});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(One(**again, "PRAGMA page_size"), "16384");  // (in WAL mode it stays)
}

TEST_F(DbTest, AJournalThatCannotBecomeWalIsAnError) {
  // An in-memory database answers "memory" to journal_mode=WAL: the mode
  // SQLite reports is checked, not assumed.
  auto db = Db::Open("t", ":memory:", {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.status().message(),
            "t: :memory:: cannot enable WAL (journal mode stays \"memory\")");
}

TEST_F(DbTest, ReadOnlyOpenCreatesNothingAndCannotWrite) {
  const std::string missing = (dir_ / "none.db").string();
  auto none = Db::Open("t", missing, {.read_only = true});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(),
            "t: " + missing + ": cannot open the file (SQLite: unable to open database file)");
  EXPECT_FALSE(fs::exists(dir_));

  {
    auto db = Db::Open("t", path_, {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE x (v TEXT)", "creating").ok());
  }
  auto ro = Db::Open("t", path_, {.read_only = true, .busy_timeout_ms = 250});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_EQ(One(**ro, "PRAGMA busy_timeout"), "250");
  EXPECT_EQ(
      (*ro)->Exec("INSERT INTO x VALUES ('a')", "adding").message(),
      "t: " + path_ + ": database is read-only (SQLite: attempt to write a readonly database)");
}

TEST_F(DbTest, DirectoryThatCannotBeCreatedIsNamed) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "plain") << "x";
  const std::string path = (dir_ / "plain" / "t.db").string();
  auto db = Db::Open("t", path, {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db.status().message(), "t: " + path + ": cannot create directory " +
                                       (dir_ / "plain").string() + " (Not a directory)");
}

TEST_F(DbTest, FileThatIsNotADatabaseIsNamedAsSuch) {
  fs::create_directories(dir_ / "sub");
  std::ofstream(path_) << std::string(4096, 'x');
  auto db = Db::Open("t", path_, {});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().message(),
            "t: " + path_ + ": file is not a database (SQLite: file is not a database)");
}

TEST_F(DbTest, StatementErrorsSayWhatWasBeingDone) {
  auto db = Db::Open("label store", path_, {});
  ASSERT_TRUE(db.ok());
  auto bad = (*db)->Prepare("SELEC 1", "cannot read labels");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "label store: " + path_ +
                                        ": cannot read labels (SQLite: near \"SELEC\": syntax "
                                        "error)");

  ASSERT_TRUE((*db)->Exec("CREATE TABLE x (id TEXT PRIMARY KEY, v TEXT)", "creating").ok());
  auto add = (*db)->Prepare("INSERT INTO x VALUES (?1, ?2)", "cannot add");
  ASSERT_TRUE(add.ok());
  for (int i = 0; i < 2; ++i) {
    BindText(add->get(), 1, std::string("same-") + "id");  // a temporary: copied
    sqlite3_bind_null(add->get(), 2);
    const int rc = sqlite3_step(add->get());
    sqlite3_reset(add->get());
    if (i == 0) {
      EXPECT_EQ(rc, SQLITE_DONE);
    } else {
      EXPECT_EQ(rc, SQLITE_CONSTRAINT);
      EXPECT_EQ((*db)->LastError("cannot add").message(),
                "label store: " + path_ + ": cannot add (SQLite: UNIQUE constraint failed: x.id)");
    }
  }
  EXPECT_EQ(One(**db, "SELECT id FROM x"), "same-id");
  EXPECT_EQ(One(**db, "SELECT v FROM x"), "");  // NULL reads as ""
}

TEST_F(DbTest, ErrorStatusWithoutAConnectionUsesSqlitesTextForTheCode) {
  EXPECT_EQ(ErrorStatus("ledger", "/x/l.db", nullptr, SQLITE_BUSY, "cannot begin").message(),
            "ledger: /x/l.db: database is locked by another process or connection (SQLite: "
            "database is locked)");
  // A code with no named cause: what was being done.
  EXPECT_EQ(ErrorStatus("ledger", "/x/l.db", nullptr, SQLITE_MISMATCH, "cannot insert").message(),
            "ledger: /x/l.db: cannot insert (SQLite: datatype mismatch)");
}

TEST_F(DbTest, DataVersionMovesWhenAnotherConnectionCommits) {
  auto a = Db::Open("t", path_, {});
  auto b = Db::Open("t", path_, {});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Exec("CREATE TABLE x (v TEXT)", "creating").ok());
  auto before = (*a)->DataVersion();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE((*a)->Exec("INSERT INTO x VALUES ('own')", "adding").ok());
  EXPECT_EQ(*(*a)->DataVersion(), *before);  // its own commits do not count
  ASSERT_TRUE((*b)->Exec("INSERT INTO x VALUES ('other')", "adding").ok());
  EXPECT_NE(*(*a)->DataVersion(), *before);
}

}  // namespace
}  // namespace switchyard::sqlite
