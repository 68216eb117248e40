// TaskLearner: labels stored in batches off the caller's thread, nothing lost
// at shutdown, live statistics and counters persisted and restored, per-task
// fastText options, and a promoted student that survives a crash (no
// shutdown) of the process that trained it.
#include "learn/task_learner.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using std::chrono::seconds;
using testing::SeparableExamples;
using testing::TempDir;

const std::vector<std::string> kLabels = {"up", "down", "flat"};

// One learning store + registry + student set on a file; a learner on top.
struct Fixture {
  explicit Fixture(const TempDir& dir) : db(dir.File("data/learn.db")) {
    auto s = LabelStore::Open(db, clock);
    EXPECT_TRUE(s.ok()) << s.status().message();
    store = std::move(*s);
    RegistryOptions ro;
    ro.db_path = db;
    auto r = Registry::Open(ro, clock);
    EXPECT_TRUE(r.ok()) << r.status().message();
    registry = std::move(*r);
  }

  std::unique_ptr<TaskLearner> Learner(LearnerTask task, LiveTracker* tracker = nullptr,
                                       size_t max_batch = 512) {
    LearnerOptions o;
    o.tasks.push_back(std::move(task));
    o.live = tracker;
    o.stats_interval = std::chrono::milliseconds(0);  // only FlushStats and Shutdown write
    o.max_batch = max_batch;
    return std::make_unique<TaskLearner>(*store, *registry, set, std::move(o));
  }

  std::string db;
  core::FakeClock clock;
  std::unique_ptr<LabelStore> store;
  std::unique_ptr<Registry> registry;
  StudentSet set;
};

LearnerTask Task(int64_t min_train_labels = 1000) {
  LearnerTask t;
  t.name = "headlines";
  t.labels = kLabels;
  t.min_train_labels = min_train_labels;
  t.retrain_every = 1000;
  return t;
}

TEST(TaskLearnerTest, ShutdownStoresEverythingQueued) {
  TempDir dir;
  Fixture f(dir);
  auto learner = f.Learner(Task());
  const auto examples = SeparableExamples(500);
  for (size_t i = 0; i < examples.size(); ++i) {
    learner->AddLabel("headlines", examples[i].text, examples[i].label, "r" + std::to_string(i));
  }
  learner->AddUnparsed("headlines", "u1", "no idea", "teacher reply \"no idea\" is not a label");
  learner->AddLabel("unknown-task", "text", "up", "r-x");  // ignored: not configured
  learner->Shutdown();
  learner->AddLabel("headlines", "after shutdown", "up", "r-late");  // ignored

  EXPECT_EQ(*f.store->Count("headlines"), 500);
  EXPECT_EQ(*f.store->Count("unknown-task"), 0);
  EXPECT_EQ(*f.store->CountUnparsed("headlines"), 1);
  auto stored = f.store->Load("headlines");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)[0].text, examples[0].text);
  EXPECT_EQ((*stored)[499].text, examples[499].text);
  const LearnerStats st = learner->stats();
  EXPECT_EQ(st.labels_stored, 500u);
  EXPECT_EQ(st.unparsed_stored, 1u);
  EXPECT_EQ(st.lost, 0u);
  EXPECT_EQ(learner->labels_seen("headlines"), 500);
  EXPECT_EQ(learner->counts("headlines").unparseable, 1);
}

// While the store is locked by another connection, labels pile up in the
// queue; once it is free they go in as one batch (one transaction).
TEST(TaskLearnerTest, QueuedLabelsAreWrittenInOneTransactionPerBatch) {
  TempDir dir;
  Fixture f(dir);
  auto learner = f.Learner(Task(), nullptr, /*max_batch=*/512);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(f.db.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 30'000);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto examples = SeparableExamples(300);
  for (size_t i = 0; i < examples.size(); ++i) {
    learner->AddLabel("headlines", examples[i].text, examples[i].label, "r" + std::to_string(i));
  }
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(learner->WaitIdle(seconds(30)));
  const LearnerStats st = learner->stats();
  EXPECT_EQ(st.labels_stored, 300u);
  // At most the batch the thread took before the lock, then the rest at once.
  EXPECT_LE(st.batches, 2u);
  EXPECT_GE(st.batches, 1u);
  EXPECT_EQ(*f.store->Count("headlines"), 300);
  // The first learner may still be training on its 300 labels: stopped here,
  // so only the second one's batches count below.
  learner->Shutdown();

  // A batch is capped at max_batch items.
  auto small = f.Learner(Task(), nullptr, /*max_batch=*/100);
  ASSERT_EQ(sqlite3_open(f.db.c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 30'000);  // BEGIN waits while a learner's batch holds the lock
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (size_t i = 0; i < examples.size(); ++i) {
    small->AddLabel("headlines", examples[i].text, examples[i].label, "s" + std::to_string(i));
  }
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  small->Shutdown();
  EXPECT_EQ(small->stats().labels_stored, 300u);
  EXPECT_GE(small->stats().batches, 3u);
  EXPECT_LE(small->stats().batches, 4u);
  EXPECT_EQ(*f.store->Count("headlines"), 600);
}

TEST(TaskLearnerTest, LiveStatisticsAndCountersSurviveARestart) {
  TempDir dir;
  Fixture f(dir);
  {
    LiveTracker tracker;
    auto learner = f.Learner(Task(), &tracker);
    auto v1 = tracker.For("headlines", 1);
    for (int i = 0; i < 12; ++i) v1->Record(/*accepted=*/i < 10, /*agreed=*/i % 4 != 0);
    tracker.For("headlines", 2)->Record(false, true);
    tracker.For("other", 1)->Record(true, true);  // not a configured task: not stored
    learner->CountInputUnmatched("headlines");
    learner->CountInputUnmatched("headlines");
    learner->CountInputUnmatched("nope");
    ASSERT_TRUE(learner->FlushStats().ok());
    EXPECT_EQ(learner->stats().stats_writes, 1u);
    ASSERT_TRUE(learner->FlushStats().ok());  // nothing changed: nothing written
    EXPECT_EQ(learner->stats().stats_writes, 1u);
    v1->Record(true, true);  // after the flush: written at shutdown
    learner->Shutdown();
    EXPECT_EQ(learner->stats().stats_writes, 2u);
  }
  auto rows = f.store->LoadLive();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].task, "headlines");
  EXPECT_EQ((*rows)[0].version, 1);
  // 12 comparisons + 1; 9 of the first 12 agreed (i = 0, 4, 8 did not) + 1;
  // accepted: i < 10 (7 of them agreed: not 0, 4, 8) + 1.
  EXPECT_EQ((*rows)[0].stats.compared, 13u);
  EXPECT_EQ((*rows)[0].stats.agreed, 10u);
  EXPECT_EQ((*rows)[0].stats.accepted, 11u);
  EXPECT_EQ((*rows)[0].stats.accepted_agreed, 8u);
  EXPECT_EQ((*rows)[1].version, 2);
  EXPECT_EQ((*rows)[1].stats.compared, 1u);

  // A new process: the tracker continues from the stored counts.
  LiveTracker tracker;
  auto learner = f.Learner(Task(), &tracker);
  const LiveStats s = tracker.For("headlines", 1)->Stats();
  EXPECT_EQ(s.compared, 13u);
  EXPECT_EQ(s.agreed, 10u);
  EXPECT_EQ(s.accepted, 11u);
  EXPECT_EQ(s.accepted_agreed, 8u);
  EXPECT_DOUBLE_EQ(s.lower_bound, MakeLiveStats(13, 10, 11, 8).lower_bound);
  EXPECT_EQ(learner->counts("headlines").input_unmatched, 2);
  tracker.For("headlines", 1)->Record(true, false);
  learner->CountInputUnmatched("headlines");
  learner->Shutdown();
  EXPECT_EQ(f.store->LoadLive("headlines")->at(0).stats.compared, 14u);
  EXPECT_EQ(f.store->LoadCounters()->at("headlines").input_unmatched, 3);
}

// Training through the learner, then a "crash": nothing is shut down, a new
// registry and student set open the same file, as a restarted server would.
TEST(TaskLearnerTest, PromotedStudentSurvivesACrashAndDemotionsAreCounted) {
  TempDir dir;
  Fixture f(dir);
  LearnerTask task = Task(/*min_train_labels=*/300);
  task.model.word_ngrams = 1;
  task.model.minn = 2;
  task.model.maxn = 4;
  task.model.dim = 12;
  task.model.epoch = 7;
  LiveTracker tracker;
  auto learner = f.Learner(task, &tracker);
  const auto examples = SeparableExamples(300);
  for (size_t i = 0; i < examples.size(); ++i) {
    learner->AddLabel("headlines", examples[i].text, examples[i].label, "r" + std::to_string(i));
  }
  ASSERT_TRUE(learner->WaitIdle(seconds(60)));
  auto serving = f.set.Get("headlines");
  ASSERT_NE(serving, nullptr);
  ASSERT_TRUE(serving->serving());
  EXPECT_EQ(serving->version(), 1);
  // The task's fastText options reached the model.
  const ModelOptions used = serving->trained_options();
  EXPECT_EQ(used.word_ngrams, 1);
  EXPECT_EQ(used.minn, 2);
  EXPECT_EQ(used.maxn, 4);
  EXPECT_EQ(used.dim, 12);
  EXPECT_EQ(used.epoch, 7);

  {  // The crash: another process opens the file while this one still runs.
    RegistryOptions ro;
    ro.db_path = f.db;
    auto registry = Registry::Open(ro, f.clock);
    ASSERT_TRUE(registry.ok()) << registry.status().message();
    StudentSet set;
    ASSERT_TRUE(LoadAll(**registry, set).ok());
    auto restored = set.Get("headlines");
    ASSERT_NE(restored, nullptr);
    EXPECT_EQ(restored->version(), 1);
    EXPECT_TRUE(restored->serving());
    EXPECT_EQ(restored->threshold(), serving->threshold());
    EXPECT_EQ(restored->trained_options().minn, 2);
    auto store = LabelStore::Open(f.db, f.clock);
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(*(*store)->Count("headlines"), 300);
  }

  learner->RequestDemote("headlines", 1, "live agreement lower bound 0.5000 < target 0.9500");
  learner->RequestDemote("headlines", 1, "again");  // no longer promoted: not counted
  ASSERT_TRUE(learner->WaitIdle(seconds(10)));
  EXPECT_FALSE(f.set.Get("headlines")->serving());
  EXPECT_EQ(learner->counts("headlines").demotions, 1);
  auto record = f.registry->Get("headlines", 1);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->status, StudentStatus::kDemoted);
  EXPECT_EQ(record->reason, "live agreement lower bound 0.5000 < target 0.9500");
  learner->Shutdown();
  EXPECT_EQ(f.store->LoadCounters()->at("headlines").demotions, 1);
  auto again = f.Learner(Task());
  EXPECT_EQ(again->counts("headlines").demotions, 1);
  EXPECT_EQ(again->labels_seen("headlines"), 300);
}

}  // namespace
}  // namespace switchyard::learn
