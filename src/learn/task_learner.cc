#include "learn/task_learner.h"

#include <algorithm>

namespace switchyard::learn {

TaskLearner::TaskLearner(LabelStore& store, Registry& registry, StudentSet& set,
                         LearnerOptions options)
    : store_(store), registry_(registry), set_(set), options_(std::move(options)) {
  for (const LearnerTask& t : options_.tasks) {
    TaskState st;
    st.cfg = t;
    auto count = store_.Count(t.name);
    if (!count.ok()) {
      Log("warn", "task '" + t.name + "': " + count.status().message());
    } else {
      st.labels = *count;
    }
    st.next_train_at = set_.Get(t.name) != nullptr ? st.labels + t.retrain_every
                                                   : std::max(t.min_train_labels, st.labels);
    tasks_.emplace(t.name, std::move(st));
  }
  trainer_ = std::make_unique<Trainer>(
      [this](const std::string& task, core::Result<TrainedStudent> result) {
        if (!result.ok()) {
          Log("warn", "task '" + task + "': training failed: " + result.status().message());
          return;
        }
        auto published = PublishTrained(registry_, set_, *result);
        if (!published.ok()) {
          Log("warn",
              "task '" + task + "': cannot publish the student: " + published.status().message());
          return;
        }
        Log("info", "task '" + task + "': student v" + std::to_string(published->record.version) +
                        (published->promoted ? " promoted: " : " in shadow: ") + published->reason);
      });
  thread_ = std::thread([this] { Run(); });
}

TaskLearner::~TaskLearner() {
  Shutdown();
}

void TaskLearner::Log(std::string_view level, const std::string& message) const {
  if (options_.log) options_.log(level, message);
}

void TaskLearner::AddLabel(std::string task, std::string input, std::string label,
                           std::string request_id) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !tasks_.contains(task)) return;
    Item item;
    item.task = std::move(task);
    item.input = std::move(input);
    item.label = std::move(label);
    item.request_id = std::move(request_id);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void TaskLearner::RequestDemote(std::string task, int64_t version, std::string reason) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    Item item;
    item.demote = true;
    item.task = std::move(task);
    item.input = std::move(reason);
    item.version = version;
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

int64_t TaskLearner::labels_seen(const std::string& task) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(task);
  return it == tasks_.end() ? 0 : it->second.labels;
}

bool TaskLearner::WaitIdle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  {
    std::unique_lock lock(mu_);
    if (!idle_.wait_until(lock, deadline, [this] { return queue_.empty() && !busy_; })) {
      return false;
    }
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return trainer_->WaitIdle(std::max(left, std::chrono::milliseconds(0)));
}

void TaskLearner::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (trainer_) trainer_->Shutdown();
}

void TaskLearner::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Item item = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    Process(item);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  busy_ = false;
  idle_.notify_all();
}

void TaskLearner::Process(Item& item) {
  if (item.demote) {
    auto s = DemoteServing(registry_, set_, item.task, item.version, item.input);
    if (s.ok()) {
      Log("warn", "task '" + item.task + "': student v" + std::to_string(item.version) +
                      " demoted: " + item.input);
    } else if (s.code() != core::StatusCode::kNotFound) {
      Log("warn", "task '" + item.task + "': cannot demote v" + std::to_string(item.version) +
                      ": " + s.message());
    }
    return;
  }
  if (auto s = store_.Add(item.task, item.input, item.label, item.request_id); !s.ok()) {
    Log("warn", "task '" + item.task + "': label not stored: " + s.message());
    return;
  }
  LearnerTask cfg;
  {
    std::lock_guard lock(mu_);
    TaskState& st = tasks_.find(item.task)->second;
    ++st.labels;
    if (st.labels < st.next_train_at) return;
    st.next_train_at = st.labels + st.cfg.retrain_every;
    cfg = st.cfg;
  }
  TrainJob job;
  job.task = cfg.name;
  job.labels = cfg.labels;
  job.options.model = options_.model;
  job.options.target_agreement = cfg.target_agreement;
  job.options.holdout_fraction = cfg.holdout_fraction;
  job.options.min_examples = static_cast<size_t>(std::min<int64_t>(cfg.min_train_labels, 20));
  job.load_examples = [this, task = cfg.name] { return store_.Load(task); };
  trainer_->Submit(std::move(job));
}

}  // namespace switchyard::learn
