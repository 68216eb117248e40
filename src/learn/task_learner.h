// TaskLearner: turns the teacher's labels into students, off the request path.
//
// The gateway hands it (task, input, label) triples with AddLabel and demotion
// requests with RequestDemote; both only queue and return. Its own thread
// appends the labels to the LabelStore and, once a task has
// `min_train_labels` labels, submits a learn::Trainer job (which reads every
// label of the task from the store on the trainer thread); after that, one
// job every `retrain_every` new labels. A finished job is published with
// PublishTrained (registry.h): promoted and hot-swapped into the StudentSet
// when a threshold was found, else kept in shadow. Demotions go through
// DemoteServing.
//
// Ownership: borrows the LabelStore, Registry and StudentSet (they must
// outlive it); owns its thread and its Trainer. Thread-safety: every public
// method may be called from any thread. Shutdown (also the destructor) drops
// queued work, cancels a running training and joins the threads.
// Errors: storage and training failures are reported through the log
// callback (warn), never thrown; the request path never sees them.
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
};

struct LearnerOptions {
  std::vector<LearnerTask> tasks;
  // level is "info" or "warn".
  std::function<void(std::string_view level, const std::string& message)> log;
  ModelOptions model;  // fastText options for every task
};

class TaskLearner {
 public:
  // Counts the labels already stored per task: a task with a student in the
  // StudentSet waits for `retrain_every` new labels, one without trains as
  // soon as it has `min_train_labels`.
  TaskLearner(LabelStore& store, Registry& registry, StudentSet& set, LearnerOptions options);
  ~TaskLearner();
  TaskLearner(const TaskLearner&) = delete;
  TaskLearner& operator=(const TaskLearner&) = delete;

  // Queues one label (ignored for an unknown task or after Shutdown).
  void AddLabel(std::string task, std::string input, std::string label, std::string request_id);
  // Queues the demotion of `version` (if it is still the promoted one).
  void RequestDemote(std::string task, int64_t version, std::string reason);

  // Labels stored for `task` (those already in the store at start included).
  int64_t labels_seen(const std::string& task) const;
  // Waits until the queue is empty and no training runs; false on timeout.
  bool WaitIdle(std::chrono::milliseconds timeout);
  void Shutdown();

 private:
  struct Item {
    bool demote = false;
    std::string task;
    std::string input;  // label: the input; demote: the reason
    std::string label;
    std::string request_id;
    int64_t version = 0;
  };
  struct TaskState {
    LearnerTask cfg;
    int64_t labels = 0;
    int64_t next_train_at = 0;
  };

  void Run();
  void Process(Item& item);
  void Log(std::string_view level, const std::string& message) const;

  LabelStore& store_;
  Registry& registry_;
  StudentSet& set_;
  LearnerOptions options_;
  std::map<std::string, TaskState, std::less<>> tasks_;  // guarded by mu_ (counts)

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Item> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::unique_ptr<Trainer> trainer_;
  std::thread thread_;
};

}  // namespace switchyard::learn
