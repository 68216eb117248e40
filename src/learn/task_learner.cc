#include "learn/task_learner.h"

#include <algorithm>

#include "core/thread_name.h"
#include "core/utf8.h"

namespace switchyard::learn {
namespace {

bool SameCounts(const LiveStats& a, const LiveStats& b) {
  return a.compared == b.compared && a.agreed == b.agreed && a.accepted == b.accepted &&
         a.accepted_agreed == b.accepted_agreed;
}

}  // namespace

TaskLearner::TaskLearner(LabelStore& store, Registry& registry, StudentSet& set,
                         LearnerOptions options)
    : store_(store), registry_(registry), set_(set), options_(std::move(options)) {
  auto counters = store_.LoadCounters();
  if (!counters.ok()) Log("warn", "task statistics: " + counters.status().message());
  for (const LearnerTask& t : options_.tasks) {
    TaskState st;
    st.cfg = t;
    auto count = store_.Count(t.name);
    if (!count.ok()) {
      Log("warn", "task '" + t.name + "': " + count.status().message());
    } else {
      st.labels = *count;
    }
    if (auto unparsed = store_.CountUnparsed(t.name); unparsed.ok()) {
      st.unparseable = *unparsed;
    } else {
      Log("warn", "task '" + t.name + "': " + unparsed.status().message());
    }
    if (counters.ok()) {
      if (auto it = counters->find(t.name); it != counters->end()) {
        st.counters = it->second;
        last_counters_[t.name] = it->second;
      }
    }
    st.next_train_at = set_.Get(t.name) != nullptr ? st.labels + t.retrain_every
                                                   : std::max(t.min_train_labels, st.labels);
    tasks_.emplace(t.name, std::move(st));
  }
  // Live agreement continues where the last run left it.
  if (options_.live != nullptr) {
    auto live = store_.LoadLive();
    if (!live.ok()) {
      Log("warn", "task statistics: " + live.status().message());
    } else {
      for (LiveRow& row : *live) {
        if (!tasks_.contains(row.task)) continue;
        options_.live->For(row.task, row.version)->Restore(row.stats);
        last_live_.push_back(std::move(row));
      }
    }
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
  thread_ = std::thread([this] {
    core::NameThisThread("sy-labels");
    Run();
  });
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

void TaskLearner::AddUnparsed(std::string task, std::string request_id, std::string_view reply,
                              std::string error) {
  Item item;
  item.kind = Kind::kUnparsed;
  item.input = std::string(core::CutUtf8(reply, kMaxUnparsedReplyBytes));
  item.reply_bytes = static_cast<int64_t>(reply.size());
  item.label = std::move(error);
  item.request_id = std::move(request_id);
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !tasks_.contains(task)) return;
    item.task = std::move(task);
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void TaskLearner::CountInputUnmatched(const std::string& task) {
  std::lock_guard lock(mu_);
  if (auto it = tasks_.find(task); it != tasks_.end()) ++it->second.counters.input_unmatched;
}

void TaskLearner::RequestDemote(std::string task, int64_t version, std::string reason) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !tasks_.contains(task)) return;
    Item item;
    item.kind = Kind::kDemote;
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

TaskCounts TaskLearner::counts(const std::string& task) const {
  std::lock_guard lock(mu_);
  TaskCounts c;
  auto it = tasks_.find(task);
  if (it == tasks_.end()) return c;
  c.labels = it->second.labels;
  c.unparseable = it->second.unparseable;
  c.input_unmatched = it->second.counters.input_unmatched;
  c.demotions = it->second.counters.demotions;
  return c;
}

LearnerStats TaskLearner::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

core::Status TaskLearner::FlushStats() {
  std::lock_guard flush(flush_mu_);
  auto snapshot = options_.live != nullptr
                      ? options_.live->Snapshot()
                      : std::vector<std::pair<std::pair<std::string, int64_t>, LiveStats>>();
  std::vector<LiveRow> live;
  std::map<std::string, TaskCounters> counters;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, stats] : snapshot) {
      if (tasks_.contains(key.first)) live.push_back(LiveRow{key.first, key.second, stats, 0});
    }
    for (const auto& [name, st] : tasks_) counters[name] = st.counters;
  }
  // Only what changed since the last write.
  std::vector<LiveRow> live_changed;
  for (const LiveRow& row : live) {
    const auto same = std::find_if(last_live_.begin(), last_live_.end(), [&row](const LiveRow& r) {
      return r.task == row.task && r.version == row.version && SameCounts(r.stats, row.stats);
    });
    if (same == last_live_.end()) live_changed.push_back(row);
  }
  std::map<std::string, TaskCounters> counters_changed;
  for (const auto& [name, c] : counters) {
    auto it = last_counters_.find(name);
    const TaskCounters before = it == last_counters_.end() ? TaskCounters{} : it->second;
    if (c.input_unmatched != before.input_unmatched || c.demotions != before.demotions) {
      counters_changed[name] = c;
    }
  }
  if (live_changed.empty() && counters_changed.empty()) return core::Status::Ok();
  if (auto s = store_.SaveStats(live_changed, counters_changed); !s.ok()) return s;
  last_live_ = std::move(live);
  last_counters_ = std::move(counters);
  std::lock_guard lock(mu_);
  ++stats_.stats_writes;
  return core::Status::Ok();
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
  std::lock_guard once(shutdown_mu_);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (trainer_) trainer_->Shutdown();      // cancels a running training; no new ones start
  if (thread_.joinable()) thread_.join();  // drains the queue, then writes the statistics
}

void TaskLearner::Run() {
  const auto interval = options_.stats_interval;
  auto next_flush = std::chrono::steady_clock::now() + interval;
  const size_t max_batch = std::max<size_t>(options_.max_batch, 1);
  std::unique_lock lock(mu_);
  for (;;) {
    const auto ready = [this] { return stopping_ || !queue_.empty(); };
    if (interval.count() > 0) {
      wake_.wait_until(lock, next_flush, ready);
    } else {
      wake_.wait(lock, ready);
    }
    if (!queue_.empty()) {
      std::vector<Item> batch;
      const size_t n = std::min(queue_.size(), max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
      const bool stopping = stopping_;
      lock.unlock();
      ProcessBatch(batch, stopping);
      lock.lock();
      busy_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
    if (stopping_ && queue_.empty()) break;
    if (interval.count() > 0 && std::chrono::steady_clock::now() >= next_flush) {
      lock.unlock();
      if (auto s = FlushStats(); !s.ok()) Log("warn", "task statistics: " + s.message());
      lock.lock();
      next_flush = std::chrono::steady_clock::now() + interval;
    }
  }
  idle_.notify_all();
  lock.unlock();
  if (auto s = FlushStats(); !s.ok()) Log("warn", "task statistics: " + s.message());
}

void TaskLearner::ProcessBatch(std::vector<Item>& batch, bool stopping) {
  std::vector<LabelRow> labels;
  std::vector<UnparsedRow> unparsed;
  for (Item& item : batch) {
    if (item.kind == Kind::kLabel) {
      labels.push_back(LabelRow{item.task, std::move(item.input), std::move(item.label),
                                std::move(item.request_id)});
    } else if (item.kind == Kind::kUnparsed) {
      UnparsedRow r;
      r.task = item.task;
      r.request_id = std::move(item.request_id);
      r.reply = std::move(item.input);
      r.reply_bytes = item.reply_bytes;
      r.error = std::move(item.label);
      unparsed.push_back(std::move(r));
    }
  }
  std::vector<LearnerTask> to_train;
  if (!labels.empty() || !unparsed.empty()) {
    const core::Status s = store_.AddBatch(labels, unparsed);
    {
      std::lock_guard lock(mu_);
      if (!s.ok()) {
        stats_.lost += labels.size() + unparsed.size();
      } else {
        ++stats_.batches;
        stats_.labels_stored += labels.size();
        stats_.unparsed_stored += unparsed.size();
        for (const UnparsedRow& r : unparsed) ++tasks_.find(r.task)->second.unparseable;
        for (const LabelRow& r : labels) ++tasks_.find(r.task)->second.labels;
        for (auto& [name, st] : tasks_) {
          if (stopping || st.labels < st.next_train_at) continue;
          const bool fed =
              std::any_of(labels.begin(), labels.end(),
                          [&name = name](const LabelRow& r) { return r.task == name; });
          if (!fed) continue;
          st.next_train_at = st.labels + st.cfg.retrain_every;
          to_train.push_back(st.cfg);
        }
      }
    }
    if (!s.ok()) {
      Log("warn", std::to_string(labels.size()) + " labels and " + std::to_string(unparsed.size()) +
                      " unparsed replies not stored: " + s.message());
    }
  }
  for (const LearnerTask& cfg : to_train) SubmitTraining(cfg);

  for (const Item& item : batch) {
    if (item.kind != Kind::kDemote) continue;
    auto s = DemoteServing(registry_, set_, item.task, item.version, item.input);
    if (s.ok()) {
      {
        std::lock_guard lock(mu_);
        ++tasks_.find(item.task)->second.counters.demotions;
      }
      Log("warn", "task '" + item.task + "': student v" + std::to_string(item.version) +
                      " demoted: " + item.input);
    } else if (s.code() != core::StatusCode::kNotFound) {
      Log("warn", "task '" + item.task + "': cannot demote v" + std::to_string(item.version) +
                      ": " + s.message());
    }
  }
}

void TaskLearner::SubmitTraining(const LearnerTask& cfg) {
  TrainJob job;
  job.task = cfg.name;
  job.labels = cfg.labels;
  job.options.model = cfg.model;
  job.options.target_agreement = cfg.target_agreement;
  job.options.holdout_fraction = cfg.holdout_fraction;
  job.options.min_examples = static_cast<size_t>(std::min<int64_t>(cfg.min_train_labels, 20));
  job.load_examples = [this, task = cfg.name] { return store_.Load(task); };
  trainer_->Submit(std::move(job));
}

}  // namespace switchyard::learn
