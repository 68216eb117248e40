// The learning store: labels in batches, unparsed replies (cut to 4 KB),
// live statistics and task counters, all surviving a reopen.
#include "learn/label_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using testing::TempDir;

std::unique_ptr<LabelStore> OpenStore(const std::string& path, const core::Clock& clock) {
  auto s = LabelStore::Open(path, clock);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(LabelStoreTest, BatchAppendsLabelsAndUnparsedRepliesInOrder) {
  TempDir dir;
  core::FakeClock clock;
  const std::string db = dir.File("learn.db");
  {
    auto store = OpenStore(db, clock);
    ASSERT_NE(store, nullptr);
    std::vector<LabelRow> labels = {{"a", "first text", "x", "r1"},
                                    {"b", "other task", "y", "r2"},
                                    {"a", "second text", "y", "r3"}};
    std::vector<UnparsedRow> unparsed(1);
    unparsed[0].task = "a";
    unparsed[0].request_id = "r4";
    unparsed[0].reply = "I am not sure";
    unparsed[0].error = "teacher reply \"I am not sure\" is not one of the labels: x, y";
    ASSERT_TRUE(store->AddBatch(labels, unparsed).ok());
    ASSERT_TRUE(store->Add("a", "third text", "x", "r5").ok());
  }
  auto store = OpenStore(db, clock);  // reopened: everything is on disk
  ASSERT_NE(store, nullptr);
  auto a = store->Load("a");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].text, "first text");
  EXPECT_EQ((*a)[1].text, "second text");
  EXPECT_EQ((*a)[1].label, "y");
  EXPECT_EQ((*a)[2].text, "third text");
  EXPECT_EQ(*store->Count("b"), 1);
  EXPECT_EQ(*store->CountUnparsed("a"), 1);
  EXPECT_EQ(*store->CountUnparsed("b"), 0);
  auto rows = store->LoadUnparsed("a");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].request_id, "r4");
  EXPECT_EQ((*rows)[0].reply, "I am not sure");
  EXPECT_EQ((*rows)[0].reply_bytes, 13);
  EXPECT_EQ((*rows)[0].error, "teacher reply \"I am not sure\" is not one of the labels: x, y");
  EXPECT_EQ((*rows)[0].ts_ms, clock.UnixMillis());
}

TEST(LabelStoreTest, LongUnparsedReplyIsCutAtACharacterBoundary) {
  TempDir dir;
  core::FakeClock clock;
  auto store = OpenStore(dir.File("learn.db"), clock);
  ASSERT_NE(store, nullptr);
  // 4095 ASCII bytes then "é" (2 bytes): the cut at 4096 would split it.
  std::string reply(4095, 'a');
  reply += "\xC3\xA9 and more";
  UnparsedRow row;
  row.task = "a";
  row.request_id = "r1";
  row.reply = reply;
  ASSERT_TRUE(store->AddBatch({}, {row}).ok());
  auto rows = store->LoadUnparsed("a");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].reply, std::string(4095, 'a'));
  EXPECT_EQ((*rows)[0].reply_bytes, static_cast<int64_t>(reply.size()));
}

TEST(LabelStoreTest, StatisticsAreReplacedAndReadBack) {
  TempDir dir;
  core::FakeClock clock;
  const std::string db = dir.File("learn.db");
  {
    auto store = OpenStore(db, clock);
    ASSERT_NE(store, nullptr);
    std::vector<LiveRow> live = {{"a", 1, MakeLiveStats(10, 8, 6, 6), 0},
                                 {"a", 2, MakeLiveStats(4, 1, 2, 0), 0}};
    ASSERT_TRUE(store->SaveStats(live, {{"a", TaskCounters{3, 1}}}).ok());
    // A later write replaces (task, version) and the task's counters.
    ASSERT_TRUE(
        store->SaveStats({{"a", 1, MakeLiveStats(20, 17, 12, 12), 0}}, {{"a", TaskCounters{5, 2}}})
            .ok());
  }
  auto store = OpenStore(db, clock);
  ASSERT_NE(store, nullptr);
  auto live = store->LoadLive("a");
  ASSERT_TRUE(live.ok()) << live.status().message();
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[0].version, 1);
  EXPECT_EQ((*live)[0].stats.compared, 20u);
  EXPECT_EQ((*live)[0].stats.agreed, 17u);
  EXPECT_EQ((*live)[0].stats.accepted, 12u);
  EXPECT_EQ((*live)[0].stats.accepted_agreed, 12u);
  EXPECT_DOUBLE_EQ((*live)[0].stats.accepted_agreement, 1.0);
  EXPECT_DOUBLE_EQ((*live)[0].stats.lower_bound, MakeLiveStats(20, 17, 12, 12).lower_bound);
  EXPECT_EQ((*live)[0].updated_ms, clock.UnixMillis());
  EXPECT_EQ((*live)[1].version, 2);
  EXPECT_EQ((*live)[1].stats.compared, 4u);
  EXPECT_EQ(store->LoadLive("b")->size(), 0u);
  EXPECT_EQ(store->LoadLive()->size(), 2u);
  auto counters = store->LoadCounters();
  ASSERT_TRUE(counters.ok());
  ASSERT_EQ(counters->size(), 1u);
  EXPECT_EQ(counters->at("a").input_unmatched, 5);
  EXPECT_EQ(counters->at("a").demotions, 2);
}

TEST(LabelStoreTest, ErrorsNameTheFile) {
  core::FakeClock clock;
  auto bad = LabelStore::Open("/proc/no/such/dir/learn.db", clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bad.status().message(),
            "label store: /proc/no/such/dir/learn.db: cannot create directory /proc/no/such/dir "
            "(No such file or directory)");

  // Later calls say what they were doing; a batch that fails half-way is
  // rolled back whole.
  TempDir dir;
  const std::string db = dir.File("learn.db");
  auto store = OpenStore(db, clock);
  ASSERT_NE(store, nullptr);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "DROP TABLE task_unparsed", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  const std::string named = "label store: " + db + ": ";
  EXPECT_EQ(store->LoadUnparsed("a").status().message(),
            named + "cannot read unparsed replies (SQLite: no such table: task_unparsed)");
  std::vector<UnparsedRow> unparsed(1);
  unparsed[0].task = "a";
  unparsed[0].reply = "?";
  EXPECT_EQ(store->AddBatch({{"a", "text", "x", "r1"}}, unparsed).message(),
            named + "cannot add an unparsed reply (SQLite: no such table: task_unparsed)");
  auto count = store->Count("a");  // the label before it went too
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(*count, 0);
}

}  // namespace
}  // namespace switchyard::learn
