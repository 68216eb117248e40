// sqlite::Checkpointer against a real WAL file: the thread copies the log so
// the writer restarts it, the writer copies it itself from inline_pages, and
// the bad-input errors.
#include "sqlite/checkpointer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace switchyard::sqlite {
namespace {

namespace fs = std::filesystem;

// A 4 KiB page is 4096 bytes of data plus a 24-byte frame header in the log.
constexpr uintmax_t kFrameBytes = 4096 + 24;

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open("t", path_, {.page_size = 4096});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE x (v BLOB)", "creating").ok());
  }

  // One transaction of ~3000 bytes: about 3 frames of log (the new leaf, the
  // table's root, page 1).
  void CommitRow() {
    ASSERT_TRUE(db_->Exec("INSERT INTO x VALUES (randomblob(3000))", "inserting").ok());
  }

  int64_t Rows() {
    auto stmt = db_->Prepare("SELECT count(*) FROM x", "counting");
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    if (!stmt.ok() || sqlite3_step(stmt->get()) != SQLITE_ROW) return -1;
    return sqlite3_column_int64(stmt->get(), 0);
  }

  uintmax_t WalBytes() const { return fs::file_size(path_ + "-wal"); }
  // The file of a log that restarted each time it reached `frames`: at most
  // frames - 1 before the last transaction, that transaction's (up to 5 here:
  // leaf, new sibling, parent, root, page 1) and the 32-byte header.
  static uintmax_t LogBytesWithin(int frames) {
    return static_cast<uintmax_t>(frames + 4) * kFrameBytes + 32;
  }

  switchyard::testing::ScopedTempDir tmp_{"checkpointer"};
  std::string path_ = tmp_.path() + "/t.db";
  std::unique_ptr<Db> db_;
};

TEST_F(CheckpointerTest, TheThreadCopiesTheLogAndTheWriterRestartsIt) {
  auto c = Checkpointer::Start(*db_, {.wake_pages = 16, .inline_pages = 1000});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  int most = 0;
  for (int i = 0; i < 200; ++i) {
    CommitRow();
    most = std::max(most, (*c)->last_wal_frames());
    (*c)->WaitIdle();  // the checkpoint a commit asked for, if any, is done
  }
  // ~600 frames were committed; each time the log reached 16 the thread
  // copied it and the next transaction wrote from its start again (the
  // WaitIdle() gives it the gap between transactions that takes).
  EXPECT_GE((*c)->background_checkpoints(), 8U);
  EXPECT_EQ((*c)->inline_checkpoints(), 0U);
  EXPECT_GE(most, 16);
  EXPECT_LE(most, 16 + 4);
  EXPECT_LE(WalBytes(), LogBytesWithin(16));
  EXPECT_EQ((*c)->last_error(), "");
  EXPECT_EQ(Rows(), 200);
}

TEST_F(CheckpointerTest, FromInlinePagesTheWriterCopiesTheLogItself) {
  auto c = Checkpointer::Start(*db_, {.wake_pages = 16, .inline_pages = 16});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (int i = 0; i < 200; ++i) CommitRow();
  (*c)->WaitIdle();
  EXPECT_GE((*c)->inline_checkpoints(), 8U);
  EXPECT_EQ((*c)->background_checkpoints(), 0U);
  EXPECT_LE(WalBytes(), LogBytesWithin(16));
  EXPECT_EQ((*c)->last_error(), "");
  EXPECT_EQ(Rows(), 200);
}

TEST_F(CheckpointerTest, AWriterThatNeverPausesStaysWithinInlinePages) {
  auto c = Checkpointer::Start(*db_, {.wake_pages = 16, .inline_pages = 64});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (int i = 0; i < 1000; ++i) CommitRow();  // no gap is left on purpose
  (*c)->WaitIdle();
  EXPECT_GE((*c)->background_checkpoints() + (*c)->inline_checkpoints(), 1U);
  EXPECT_LE(WalBytes(), LogBytesWithin(64));
  EXPECT_EQ((*c)->last_error(), "");
  EXPECT_EQ(Rows(), 1000);
}

TEST_F(CheckpointerTest, WithoutItTheWriterHasNoAutocheckpoint) {
  {
    auto c = Checkpointer::Start(*db_, {.wake_pages = 16, .inline_pages = 1000});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    CommitRow();
  }  // removes the hook: SQLite's autocheckpoint (from 1000 frames) is not back
  for (int i = 0; i < 400; ++i) CommitRow();  // ~1200 frames
  int log_frames = -1;
  int copied = -1;
  ASSERT_EQ(sqlite3_wal_checkpoint_v2(db_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                      &copied),
            SQLITE_OK);
  EXPECT_GT(log_frames, 1000);  // an autocheckpoint would have restarted the log
  EXPECT_EQ(Rows(), 401);
}

TEST_F(CheckpointerTest, StoppingWhileACheckpointIsAskedForLosesNothing) {
  for (int round = 0; round < 20; ++round) {
    auto c = Checkpointer::Start(*db_, {.wake_pages = 1, .inline_pages = 1000});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    CommitRow();  // asks the thread for a checkpoint; the destructor may meet it
  }
  // (What this guards is the destructor: no hang, no use after free under
  // the sanitizers, whatever the thread was doing.)
  db_.reset();
  auto again = Db::Open("t", path_, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  db_ = std::move(*again);
  EXPECT_EQ(Rows(), 20);
}

TEST_F(CheckpointerTest, AReadOnlyConnectionIsAnError) {
  auto ro = Db::Open("t", path_, {.read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto c = Checkpointer::Start(**ro, {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "t: " + path_ + ": cannot checkpoint a read-only connection");
}

TEST_F(CheckpointerTest, PageLimitsOutOfOrderAreAnError) {
  auto zero = Checkpointer::Start(*db_, {.wake_pages = 0, .inline_pages = 10});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(),
            "checkpoint pages: need 1 <= wake_pages (0) <= inline_pages (10)");
  auto inverted = Checkpointer::Start(*db_, {.wake_pages = 10, .inline_pages = 5});
  ASSERT_FALSE(inverted.ok());
  EXPECT_EQ(inverted.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(inverted.status().message(),
            "checkpoint pages: need 1 <= wake_pages (10) <= inline_pages (5)");
}

}  // namespace
}  // namespace switchyard::sqlite
