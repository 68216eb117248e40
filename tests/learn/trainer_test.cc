#include "learn/trainer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <vector>

#include "learn_test_util.h"

namespace switchyard::learn {
namespace {

using testing::NoiseExamples;
using testing::SeparableExamples;

const std::vector<std::string> kLabels = {"up", "down", "flat"};

TEST(DeduplicateTest, MajorityWinsTiesGoToTheMostRecent) {
  const std::vector<Example> in = {
      {"Gold soars", "up"},  {"gold  SOARS", "up"}, {"gold soars", "down"},  // majority up
      {"flat day", "flat"},  {"Flat day", "down"},                           // tie: latest
      {"weird", "sideways"},                                                 // unknown label
      {"   ", "up"},                                                         // empty input
  };
  const DedupResult r = Deduplicate(in, kLabels);
  ASSERT_EQ(r.examples.size(), 2u);
  EXPECT_EQ(r.examples[0].label, "up");
  EXPECT_EQ(r.examples[0].text, "gold soars");  // the most recent original text
  EXPECT_EQ(r.examples[1].label, "down");
  EXPECT_EQ(r.duplicates, 3u);
  EXPECT_EQ(r.unknown_labels, 1u);
  EXPECT_EQ(r.empty_inputs, 1u);
  // Without a label list every label is accepted.
  EXPECT_EQ(Deduplicate(in, {}).examples.size(), 3u);
}

TEST(TrainStudentTest, SeparableTaskGetsAThresholdAndHighCoverage) {
  auto t = TrainStudent("toy", kLabels, SeparableExamples(600), TrainOptions{});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->task, "toy");
  ASSERT_TRUE(t->threshold.threshold.has_value());
  EXPECT_EQ(t->student.threshold(), t->threshold.threshold);
  EXPECT_EQ(t->student.calibration().method(), CalibrationMethod::kTemperature);
  EXPECT_FALSE(t->student.serving());
  const HoldoutMetrics& m = t->metrics;
  EXPECT_EQ(m.examples, 600u);
  EXPECT_EQ(m.distinct, 600u);
  EXPECT_EQ(m.holdout_examples, 600u);  // cross-fit: every example scored out of fold
  EXPECT_EQ(m.train_examples, 480u);    // each fold model saw 4/5
  EXPECT_EQ(m.final_model, FinalModel::kCrossFit);
  EXPECT_GE(m.agreement, 0.99);
  EXPECT_GE(m.coverage, 0.9);
  EXPECT_GE(m.lower_bound, 0.95);
  EXPECT_EQ(m.confusion.Total(), 600u);
  EXPECT_EQ(m.confusion.labels(), kLabels);
  EXPECT_NE(m.ToJson().find("\"final_model\":\"cross_fit\""), std::string::npos);
  // The serving model answers.
  EXPECT_EQ(t->student.Predict("the market soars").label, "up");
}

TEST(TrainStudentTest, NoisyTeacherKeepsTheStudentInShadow) {
  auto t = TrainStudent("coin", {"yes", "no"}, NoiseExamples(600), TrainOptions{});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_FALSE(t->threshold.threshold.has_value());
  EXPECT_FALSE(t->student.threshold().has_value());
  EXPECT_LT(t->metrics.agreement, 0.65);
  EXPECT_LT(t->metrics.best_lower_bound, 0.95);
  EXPECT_DOUBLE_EQ(t->metrics.coverage, 0.0);
}

TEST(TrainStudentTest, HoldoutModesUseOneHoldout) {
  TrainOptions o;
  o.final_model = FinalModel::kHoldoutModel;
  auto t = TrainStudent("toy", kLabels, SeparableExamples(500), o);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->metrics.holdout_examples, 100u);
  EXPECT_EQ(t->metrics.train_examples, 400u);
  EXPECT_TRUE(t->threshold.threshold.has_value());
  o.final_model = FinalModel::kRetrainOnAll;
  auto all = TrainStudent("toy", kLabels, SeparableExamples(500), o);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->metrics.holdout_examples, 100u);
  EXPECT_EQ(all->student.threshold(), t->student.threshold());  // same hold-out, same choice
}

TEST(TrainStudentTest, IsDeterministic) {
  const auto examples = SeparableExamples(300);
  auto a = TrainStudent("toy", kLabels, examples, TrainOptions{});
  auto b = TrainStudent("toy", kLabels, examples, TrainOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->threshold.threshold, b->threshold.threshold);
  EXPECT_EQ(a->metrics.agreement, b->metrics.agreement);
  EXPECT_EQ(a->student.calibration().temperature(), b->student.calibration().temperature());
}

TEST(TrainStudentTest, ErrorsAreClear) {
  auto few = TrainStudent("toy", kLabels, SeparableExamples(19), TrainOptions{});
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(few.status().message(), "task 'toy': 19 usable labelled examples, need at least 20");

  std::vector<Example> unknown = SeparableExamples(30);
  for (auto& e : unknown) e.label = "other";
  auto none = TrainStudent("toy", kLabels, unknown, TrainOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "task 'toy': 0 usable labelled examples, need at least 20");

  TrainOptions o;
  o.holdout_fraction = 1.0;
  EXPECT_EQ(TrainStudent("toy", kLabels, SeparableExamples(30), o).status().message(),
            "train options: holdout_fraction must be in (0, 0.9]");
  o = {};
  o.target_agreement = 1.0;
  EXPECT_EQ(ValidateTrainOptions(o).message(), "train options: target_agreement must be in (0, 1)");
  o = {};
  o.folds = 1;
  EXPECT_EQ(ValidateTrainOptions(o).message(), "train options: folds must be in [2, 20]");
  o = {};
  o.model.dim = -1;
  EXPECT_EQ(ValidateTrainOptions(o).message(), "student options: dim must be in [1, 1000]");
}

TEST(EffectiveEpochsTest, ScalesWithTheData) {
  ModelOptions o;
  EXPECT_EQ(EffectiveEpochs(o, 100), 25);
  EXPECT_EQ(EffectiveEpochs(o, 2500), 10);
  EXPECT_EQ(EffectiveEpochs(o, 5000), 5);
  EXPECT_EQ(EffectiveEpochs(o, 100000), 5);
  o.epoch = 7;
  EXPECT_EQ(EffectiveEpochs(o, 100000), 7);
}

// A gate the test opens to let a blocked job continue.
class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct Done {
  std::string task;
  bool ok;
  uint64_t seed;
  std::string error;
};

TEST(TrainerTest, CoalescesWaitingJobsPerTask) {
  std::mutex mu;
  std::vector<Done> done;
  Trainer trainer([&](const std::string& task, core::Result<TrainedStudent> r) {
    std::lock_guard lock(mu);
    done.push_back(
        {task, r.ok(), r.ok() ? r->options.seed : 0, r.ok() ? "" : r.status().message()});
  });
  Gate started;
  Gate release;
  TrainJob first{"a", kLabels, {}, {}, {}};
  first.options.seed = 1;
  first.load_examples = [&]() -> core::Result<std::vector<Example>> {
    started.Open();
    release.Wait();
    return SeparableExamples(60);
  };
  ASSERT_TRUE(trainer.Submit(std::move(first)));
  started.Wait();  // "a" is running now
  for (uint64_t seed : {2, 3, 4}) {
    TrainJob j{"a", kLabels, {}, SeparableExamples(60), {}};
    j.options.seed = seed;
    ASSERT_TRUE(trainer.Submit(std::move(j)));
  }
  TrainJob other{"b", kLabels, {}, SeparableExamples(60), {}};
  other.options.seed = 9;
  ASSERT_TRUE(trainer.Submit(std::move(other)));
  release.Open();
  ASSERT_TRUE(trainer.WaitIdle(std::chrono::seconds(60)));

  std::lock_guard lock(mu);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].task, "a");
  EXPECT_EQ(done[0].seed, 1u);
  EXPECT_EQ(done[1].task, "a");
  EXPECT_EQ(done[1].seed, 4u);  // the newest of the waiting jobs
  EXPECT_EQ(done[2].task, "b");
  for (const auto& d : done) EXPECT_TRUE(d.ok) << d.error;
  const Trainer::Stats s = trainer.stats();
  EXPECT_EQ(s.submitted, 5u);
  EXPECT_EQ(s.coalesced, 2u);
  EXPECT_EQ(s.completed, 3u);
  EXPECT_EQ(s.failed, 0u);
}

TEST(TrainerTest, LoadErrorsReachTheCallback) {
  std::mutex mu;
  std::vector<Done> done;
  Trainer trainer([&](const std::string& task, core::Result<TrainedStudent> r) {
    std::lock_guard lock(mu);
    done.push_back({task, r.ok(), 0, r.ok() ? "" : r.status().message()});
  });
  TrainJob j{"a", kLabels, {}, {}, {}};
  j.load_examples = []() -> core::Result<std::vector<Example>> {
    return core::Unavailable("ledger is locked");
  };
  trainer.Submit(std::move(j));
  ASSERT_TRUE(trainer.WaitIdle(std::chrono::seconds(30)));
  std::lock_guard lock(mu);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
  EXPECT_EQ(done[0].error, "ledger is locked");
  EXPECT_EQ(trainer.stats().failed, 1u);
}

TEST(TrainerTest, ShutdownCancelsTheRunningJobAndDropsTheWaitingOnes) {
  std::mutex mu;
  std::vector<Done> done;
  Gate started;
  auto trainer =
      std::make_unique<Trainer>([&](const std::string& task, core::Result<TrainedStudent> r) {
        std::lock_guard lock(mu);
        done.push_back({task, r.ok(), 0, r.ok() ? "" : r.status().message()});
      });
  TrainJob big{"big", kLabels, {}, {}, {}};
  big.options.model.epoch = 1000;  // far longer than the test
  big.load_examples = [&]() -> core::Result<std::vector<Example>> {
    started.Open();
    return SeparableExamples(3000);
  };
  trainer->Submit(std::move(big));
  trainer->Submit(TrainJob{"later", kLabels, {}, SeparableExamples(60), {}});
  started.Wait();
  trainer->Shutdown();
  EXPECT_FALSE(trainer->Submit(TrainJob{"after", kLabels, {}, SeparableExamples(60), {}}));
  trainer->Shutdown();  // idempotent
  trainer.reset();
  std::lock_guard lock(mu);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].task, "big");
  EXPECT_FALSE(done[0].ok);
  EXPECT_EQ(done[0].error, "training cancelled");
}

TEST(TrainerTest, DestructorWithNothingToDoReturns) {
  Trainer trainer(nullptr);
  EXPECT_TRUE(trainer.WaitIdle(std::chrono::milliseconds(1)));
}

}  // namespace
}  // namespace switchyard::learn
