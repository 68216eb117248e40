#include "learn/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using testing::NoiseExamples;
using testing::SeparableExamples;
using testing::TempDir;

const std::vector<std::string> kLabels = {"up", "down", "flat"};

// Trained once: training is the slow part of these tests.
const TrainedStudent& Trained() {
  static const TrainedStudent* t = [] {
    auto r = TrainStudent("headlines", kLabels, SeparableExamples(300), TrainOptions{});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return new TrainedStudent(std::move(*r));
  }();
  return *t;
}

const TrainedStudent& Shadow() {
  static const TrainedStudent* t = [] {
    auto r = TrainStudent("headlines", {"yes", "no"}, NoiseExamples(200), TrainOptions{});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return new TrainedStudent(std::move(*r));
  }();
  return *t;
}

std::unique_ptr<Registry> OpenRegistry(const TempDir& dir, const core::Clock& clock,
                                       size_t keep = 5) {
  RegistryOptions o;
  o.db_path = dir.File("data/switchyard.db");
  o.keep_model_files = keep;
  auto r = Registry::Open(o, clock);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(*r) : nullptr;
}

TEST(RegistryTest, RegisterSavesTheModelAndMetadata) {
  TempDir dir;
  core::FakeClock clock;
  auto reg = OpenRegistry(dir, clock);
  ASSERT_TRUE(Trained().threshold.threshold.has_value());
  auto rec = reg->Register(Trained(), "first");
  ASSERT_TRUE(rec.ok()) << rec.status().message();
  EXPECT_EQ(rec->version, 1);
  EXPECT_EQ(rec->status, StudentStatus::kShadow);
  EXPECT_EQ(rec->model_path, "students/headlines/v1.bin");
  EXPECT_EQ(reg->ModelPath(*rec), dir.File("data/students/headlines/v1.bin"));
  EXPECT_TRUE(std::filesystem::exists(reg->ModelPath(*rec)));
  EXPECT_EQ(rec->created_ms, clock.UnixMillis());

  auto got = reg->Get("headlines", 1);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->threshold, Trained().threshold.threshold);
  EXPECT_DOUBLE_EQ(got->calibration.temperature(), Trained().student.calibration().temperature());
  EXPECT_EQ(got->labels, kLabels);
  EXPECT_EQ(got->metrics_json, Trained().metrics.ToJson());
  EXPECT_EQ(got->reason, "first");

  auto student = reg->LoadStudent(*got);
  ASSERT_TRUE(student.ok()) << student.status().message();
  EXPECT_EQ(student->ModelName(), "student/headlines@v1");
  EXPECT_FALSE(student->serving());
  const Prediction a = student->Predict("market slumps today");
  const Prediction b = Trained().student.Predict("market slumps today");
  EXPECT_EQ(a.label, b.label);
  EXPECT_DOUBLE_EQ(a.confidence, b.confidence);

  auto second = reg->Register(Trained(), "second");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->version, 2);
}

TEST(RegistryTest, PromoteRetiresThePreviousAndDemoteStopsServing) {
  TempDir dir;
  core::FakeClock clock;
  auto reg = OpenRegistry(dir, clock);
  ASSERT_TRUE(reg->Register(Trained(), "v1").ok());
  ASSERT_TRUE(reg->Register(Trained(), "v2").ok());
  ASSERT_TRUE(reg->Promote("headlines", 1, "good enough").ok());
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(reg->Promote("headlines", 2, "better").ok());
  auto v1 = reg->Get("headlines", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->status, StudentStatus::kRetired);
  EXPECT_EQ(v1->reason, "superseded by v2");
  EXPECT_EQ(v1->updated_ms, clock.UnixMillis());
  auto promoted = reg->Promoted("headlines");
  ASSERT_TRUE(promoted.ok());
  ASSERT_TRUE(promoted->has_value());
  EXPECT_EQ((*promoted)->version, 2);
  EXPECT_EQ((*promoted)->reason, "better");

  ASSERT_TRUE(reg->Demote("headlines", 2, "live agreement lower bound 0.91 < 0.95").ok());
  auto v2 = reg->Get("headlines", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->status, StudentStatus::kDemoted);
  EXPECT_EQ(v2->reason, "live agreement lower bound 0.91 < 0.95");
  promoted = reg->Promoted("headlines");
  ASSERT_TRUE(promoted.ok());
  EXPECT_FALSE(promoted->has_value());

  auto list = reg->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].version, 1);
  auto tasks = reg->Tasks();
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ(*tasks, std::vector<std::string>{"headlines"});
}

TEST(RegistryTest, RestartLoadsThePromotedVersion) {
  TempDir dir;
  core::FakeClock clock;
  {
    auto reg = OpenRegistry(dir, clock);
    ASSERT_TRUE(reg->Register(Trained(), "v1").ok());
    ASSERT_TRUE(reg->Register(Trained(), "v2").ok());
    ASSERT_TRUE(reg->Register(Trained(), "v3").ok());
    ASSERT_TRUE(reg->Promote("headlines", 2, "chosen").ok());
  }
  auto reg = OpenRegistry(dir, clock);  // a new process, as far as the file knows
  auto current = reg->LoadCurrent("headlines");
  ASSERT_TRUE(current.ok()) << current.status().message();
  EXPECT_EQ(current->version(), 2);
  EXPECT_TRUE(current->serving());
  EXPECT_EQ(current->threshold(), Trained().threshold.threshold);
  EXPECT_TRUE(current->Decide("prices soars early").accept);

  StudentSet set;
  ASSERT_TRUE(LoadAll(*reg, set).ok());
  auto live = set.Get("headlines");
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->version(), 2);
  EXPECT_EQ(set.Get("other"), nullptr);

  // Without a promoted version the newest shadow one is current (not serving).
  ASSERT_TRUE(reg->Demote("headlines", 2, "test").ok());
  auto shadow = reg->LoadCurrent("headlines");
  ASSERT_TRUE(shadow.ok());
  EXPECT_EQ(shadow->version(), 3);
  EXPECT_FALSE(shadow->serving());
  EXPECT_FALSE(shadow->Decide("prices soars early").accept);

  auto missing = reg->LoadCurrent("nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "task 'nothing' has no student");
}

TEST(RegistryTest, PrunesOldModelFilesButKeepsThePromotedOne) {
  TempDir dir;
  core::FakeClock clock;
  auto reg = OpenRegistry(dir, clock, /*keep=*/2);
  ASSERT_TRUE(reg->Register(Trained(), "v1").ok());
  ASSERT_TRUE(reg->Promote("headlines", 1, "first").ok());
  for (int i = 2; i <= 5; ++i) ASSERT_TRUE(reg->Register(Trained(), "more").ok());
  auto list = reg->List("headlines");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 5u);
  std::vector<std::string> paths;
  for (const auto& r : *list) paths.push_back(r.model_path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"students/headlines/v1.bin", "", "",
                                      "students/headlines/v4.bin", "students/headlines/v5.bin"}));
  EXPECT_FALSE(std::filesystem::exists(dir.File("data/students/headlines/v2.bin")));
  auto pruned = reg->LoadStudent((*list)[1]);
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().message(), "task 'headlines' version 2 has no model file any more");
  auto promote = reg->Promote("headlines", 2, "x");
  ASSERT_FALSE(promote.ok());
  EXPECT_EQ(promote.message(), "task 'headlines' version 2 has no model file any more");
}

TEST(RegistryTest, ErrorsAreClear) {
  TempDir dir;
  core::FakeClock clock;
  auto reg = OpenRegistry(dir, clock);
  auto missing = reg->Get("headlines", 7);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "task 'headlines' has no student version 7");
  EXPECT_EQ(reg->Promote("headlines", 7, "x").message(),
            "task 'headlines' has no student version 7");
  EXPECT_EQ(reg->Demote("headlines", 7, "x").message(),
            "task 'headlines' has no student version 7");

  TrainedStudent bad = Trained();
  bad.task = "../escape";
  auto r = reg->Register(bad, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "task name '../escape' must be 1-64 letters, digits, '.', '_' or '-' (not starting "
            "with '.')");
  EXPECT_TRUE(ValidateTaskName("support-tickets_v2.1").ok());
  EXPECT_FALSE(ValidateTaskName("").ok());
  EXPECT_FALSE(ValidateTaskName("a b").ok());

  // Not a database.
  {
    std::ofstream f(dir.File("junk.db"));
    f << std::string(4096, 'x');
  }
  RegistryOptions o;
  o.db_path = dir.File("junk.db");
  auto junk = Registry::Open(o, clock);
  ASSERT_FALSE(junk.ok());
  EXPECT_EQ(junk.status().code(), core::StatusCode::kFailedPrecondition);
  std::string expected = "student registry: ";
  expected += dir.File("junk.db");
  expected += ": file is not a database (SQLite: file is not a database)";
  EXPECT_EQ(junk.status().message(), expected);

  o.db_path = dir.File("absent.db");
  o.read_only = true;
  auto absent = Registry::Open(o, clock);
  ASSERT_FALSE(absent.ok());
  expected = "student registry: ";
  expected += dir.File("absent.db");
  expected += ": no such file";
  EXPECT_EQ(absent.status().message(), expected);
}

TEST(RegistryTest, ReadOnlyRegistryReadsAndRefusesWrites) {
  TempDir dir;
  core::FakeClock clock;
  {
    auto reg = OpenRegistry(dir, clock);
    ASSERT_TRUE(reg->Register(Trained(), "v1").ok());
  }
  RegistryOptions o;
  o.db_path = dir.File("data/switchyard.db");
  o.read_only = true;
  auto reg = Registry::Open(o, clock);
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  auto list = (*reg)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ((*reg)->Promote("headlines", 1, "x").message(), "student registry is read-only");
}

TEST(RegistryTest, ReadOnlyOnADatabaseWithoutTheTablesIsEmpty) {
  TempDir dir;
  core::FakeClock clock;
  RegistryOptions o;
  o.db_path = dir.File("empty.db");
  {
    std::ofstream f(o.db_path);  // an empty file is a valid empty SQLite database
  }
  o.read_only = true;
  auto reg = Registry::Open(o, clock);
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  auto list = (*reg)->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_EQ((*reg)->LoadCurrent("headlines").status().message(), "task 'headlines' has no student");

  // Not a database at all is still an error.
  {
    std::ofstream f(dir.File("junk.db"));
    f << std::string(4096, 'x');
  }
  o.db_path = dir.File("junk.db");
  auto junk = Registry::Open(o, clock);
  ASSERT_FALSE(junk.ok());
  std::string expected = "student registry: ";
  expected += o.db_path;
  expected += ": file is not a database (SQLite: file is not a database)";
  EXPECT_EQ(junk.status().message(), expected);
}

TEST(PublishTest, PromotesWithAThresholdAndKeepsServingWithout) {
  TempDir dir;
  core::FakeClock clock;
  auto reg = OpenRegistry(dir, clock);
  StudentSet set;

  // No promoted version yet: a shadow student becomes the (non-serving) current one.
  TrainedStudent shadow = Shadow();
  shadow.task = "headlines";
  auto s1 = PublishTrained(*reg, set, shadow);
  ASSERT_TRUE(s1.ok()) << s1.status().message();
  EXPECT_FALSE(s1->promoted);
  EXPECT_EQ(s1->record.status, StudentStatus::kShadow);
  EXPECT_EQ(s1->reason.rfind("no threshold reaches target 0.950 (best lower bound ", 0), 0u)
      << s1->reason;
  ASSERT_NE(set.Get("headlines"), nullptr);
  EXPECT_EQ(set.Get("headlines")->version(), 1);
  EXPECT_FALSE(set.Get("headlines")->serving());

  auto s2 = PublishTrained(*reg, set, Trained());
  ASSERT_TRUE(s2.ok()) << s2.status().message();
  EXPECT_TRUE(s2->promoted);
  EXPECT_EQ(s2->record.version, 2);
  EXPECT_EQ(s2->record.status, StudentStatus::kPromoted);
  EXPECT_EQ(s2->reason.rfind("held-out agreement lower bound ", 0), 0u) << s2->reason;
  auto live = set.Get("headlines");
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->version(), 2);
  EXPECT_TRUE(live->serving());
  EXPECT_TRUE(live->Decide("the market soars").accept);

  // A later shadow version does not displace the promoted one.
  auto s3 = PublishTrained(*reg, set, shadow);
  ASSERT_TRUE(s3.ok());
  EXPECT_FALSE(s3->promoted);
  EXPECT_EQ(set.Get("headlines")->version(), 2);

  // Demotion swaps in a non-serving copy of the same version.
  auto wrong = DemoteServing(*reg, set, "headlines", 1, "x");
  EXPECT_EQ(wrong.code(), core::StatusCode::kNotFound);
  EXPECT_EQ(wrong.message(), "task 'headlines' version 1 is not the promoted student");
  ASSERT_TRUE(DemoteServing(*reg, set, "headlines", 2, "live bound fell").ok());
  ASSERT_NE(set.Get("headlines"), nullptr);
  EXPECT_EQ(set.Get("headlines")->version(), 2);
  EXPECT_FALSE(set.Get("headlines")->serving());
  EXPECT_FALSE(set.Get("headlines")->Decide("the market soars").accept);
  EXPECT_EQ(live->version(), 2);  // a request in flight keeps its model...
  EXPECT_TRUE(live->serving());   // ...as it was when the request started
}

TEST(StudentSetTest, HotSwapUnderConcurrentReaders) {
  // Two versions with opposite meanings: v1 says "soars" is up, v2 says down.
  std::vector<Example> flipped = SeparableExamples(150);
  for (auto& e : flipped) {
    if (e.label == "up") {
      e.label = "down";
    } else if (e.label == "down") {
      e.label = "up";
    }
  }
  auto a = Student::Train(SeparableExamples(150), ModelOptions{});
  auto b = Student::Train(flipped, ModelOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  a->set_identity("t", 1);
  b->set_identity("t", 2);
  for (auto* s : {&*a, &*b}) {
    s->set_serving(true);
    s->set_threshold(0.0);
  }
  auto v1 = std::make_shared<const Student>(*a);
  auto v2 = std::make_shared<const Student>(*b);

  StudentSet set;
  set.Set("t", v1);
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::atomic<int64_t> calls{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        std::shared_ptr<const Student> s = set.Get("t");
        if (!s) {
          inconsistent.fetch_add(1);
          continue;
        }
        const std::string_view expected = s->version() == 1 ? "up" : "down";
        const Decision d = s->Decide("the market soars early");
        if (d.label != expected || !d.accept) inconsistent.fetch_add(1);
        calls.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) set.Set("t", i % 2 == 0 ? v2 : v1);
  while (calls.load() < 20000) std::this_thread::yield();
  stop.store(true);
  for (auto& th : readers) th.join();
  EXPECT_EQ(inconsistent.load(), 0);
  EXPECT_GE(calls.load(), 20000);
  set.Set("t", nullptr);
  EXPECT_EQ(set.Get("t"), nullptr);
  EXPECT_TRUE(set.Tasks().empty());
}

}  // namespace
}  // namespace switchyard::learn
