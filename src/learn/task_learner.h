// TaskLearner: turns the teacher's labels into students, off the request path.
//
// The gateway hands it (task, input, label) triples with AddLabel, unparseable
// teacher replies with AddUnparsed, inputs the student could not read with
// CountInputUnmatched and demotion requests with RequestDemote; all only
// queue or count and return. Its own thread takes what is queued in batches
// (up to `max_batch` items) and writes each batch's labels and unparsed
// replies to the LabelStore in one transaction; once a task has
// `min_train_labels` labels it submits a learn::Trainer job (which reads
// every label of the task from the store on the trainer thread); after that,
// one job every `retrain_every` new labels. A finished job is published with
// PublishTrained (registry.h): promoted and hot-swapped into the StudentSet
// when a threshold was found, else kept in shadow. Demotions go through
// DemoteServing.
//
// Statistics: the live comparison counts of `live` (a LiveTracker the caller
// records into) and the per-task counters (input_unmatched, demotions) are
// written to the store every `stats_interval`, by FlushStats, and at
// Shutdown; the constructor restores them from the store into `live`, so
// live agreement and the counters survive a restart. The unparseable count is
// the number of stored unparsed replies.
//
// Ownership: borrows the LabelStore, Registry, StudentSet and LiveTracker
// (they must outlive it); owns its thread and its Trainer. Thread-safety:
// every public method may be called from any thread. Shutdown (also the
// destructor) stops accepting work, cancels a running training, then drains
// the queue — every label and unparsed reply queued before it is stored,
// queued demotions run, no new training starts — writes the statistics and
// joins the threads. Errors: storage and training failures are reported
// through the log callback (warn) and counted in stats(), never thrown; the
// request path never sees them. FlushStats returns the store's error.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "learn/label_store.h"
#include "learn/live.h"
#include "learn/registry.h"
#include "learn/trainer.h"

namespace switchyard::learn {

struct LearnerTask {
  std::string name;
  std::vector<std::string> labels;
  double target_agreement = 0.95;
  double holdout_fraction = 0.2;
  int64_t retrain_every = 200;
  int64_t min_train_labels = 100;
  ModelOptions model;  // fastText options of this task's students
};

struct LearnerOptions {
  std::vector<LearnerTask> tasks;
  // level is "info" or "warn".
  std::function<void(std::string_view level, const std::string& message)> log;
  LiveTracker* live = nullptr;  // restored at start, persisted; null = no live statistics
  std::chrono::milliseconds stats_interval{10'000};  // 0 = only FlushStats and Shutdown write
  size_t max_batch = 512;                            // queued items per store transaction
};

// A task's counts, those stored before the start included.
struct TaskCounts {
  int64_t labels = 0;
  int64_t unparseable = 0;
  int64_t input_unmatched = 0;
  int64_t demotions = 0;
};

struct LearnerStats {
  uint64_t batches = 0;          // store transactions with labels or unparsed replies
  uint64_t labels_stored = 0;    // labels written since start
  uint64_t unparsed_stored = 0;  // unparsed replies written since start
  uint64_t lost = 0;             // labels and replies in batches the store refused
  uint64_t stats_writes = 0;     // statistics written to the store
};

class TaskLearner {
 public:
  // Counts the labels already stored per task: a task with a student in the
  // StudentSet waits for `retrain_every` new labels, one without trains as
  // soon as it has `min_train_labels`. Restores the stored statistics.
  TaskLearner(LabelStore& store, Registry& registry, StudentSet& set, LearnerOptions options);
  ~TaskLearner();
  TaskLearner(const TaskLearner&) = delete;
  TaskLearner& operator=(const TaskLearner&) = delete;

  // Queues one label (ignored for an unknown task or after Shutdown).
  void AddLabel(std::string task, std::string input, std::string label, std::string request_id);
  // Queues a teacher reply that maps to no label (cut to
  // kMaxUnparsedReplyBytes here; ignored for an unknown task or after
  // Shutdown). `error` says why (learn/labels.h).
  void AddUnparsed(std::string task, std::string request_id, std::string_view reply,
                   std::string error);
  // Counts a request whose input the student could not read.
  void CountInputUnmatched(const std::string& task);
  // Queues the demotion of `version` (if it is still the promoted one).
  void RequestDemote(std::string task, int64_t version, std::string reason);

  // Labels stored for `task` (those already in the store at start included).
  int64_t labels_seen(const std::string& task) const;
  TaskCounts counts(const std::string& task) const;
  LearnerStats stats() const;
  // Writes the live statistics and counters now (also done periodically).
  core::Status FlushStats();
  // Waits until the queue is empty and no training runs; false on timeout.
  bool WaitIdle(std::chrono::milliseconds timeout);
  void Shutdown();

 private:
  enum class Kind { kLabel, kUnparsed, kDemote };
  struct Item {
    Kind kind = Kind::kLabel;
    std::string task;
    std::string input;  // label: the input; unparsed: the reply; demote: the reason
    std::string label;  // label: the label; unparsed: the error
    std::string request_id;
    int64_t reply_bytes = 0;  // unparsed
    int64_t version = 0;      // demote
  };
  struct TaskState {
    LearnerTask cfg;
    int64_t labels = 0;
    int64_t next_train_at = 0;
    int64_t unparseable = 0;
    TaskCounters counters;
  };

  void Run();
  void ProcessBatch(std::vector<Item>& batch, bool stopping);
  void SubmitTraining(const LearnerTask& cfg);
  void Log(std::string_view level, const std::string& message) const;

  LabelStore& store_;
  Registry& registry_;
  StudentSet& set_;
  LearnerOptions options_;

  mutable std::mutex mu_;
  std::map<std::string, TaskState, std::less<>> tasks_;  // guarded by mu_ (counts)
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Item> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  LearnerStats stats_;

  std::mutex flush_mu_;  // serialises FlushStats
  std::vector<LiveRow> last_live_;
  std::map<std::string, TaskCounters> last_counters_;

  std::mutex shutdown_mu_;
  std::unique_ptr<Trainer> trainer_;
  std::thread thread_;
};

}  // namespace switchyard::learn
