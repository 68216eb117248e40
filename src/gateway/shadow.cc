#include "gateway/shadow.h"

#include <vector>

#include "core/thread_name.h"

namespace switchyard::gateway {

core::Result<std::unique_ptr<ShadowRecorder>> ShadowRecorder::Create(
    const std::string& db_path, const core::Clock& clock, observe::Registry& metrics,
    std::shared_ptr<spdlog::logger> log, ShadowOptions options) {
  auto store = routing::OutcomeStore::Open(db_path, clock);
  if (!store.ok()) return store.take_status();
  return std::unique_ptr<ShadowRecorder>(
      new ShadowRecorder(std::move(*store), metrics, std::move(log), options));
}

ShadowRecorder::ShadowRecorder(std::unique_ptr<routing::OutcomeStore> store,
                               observe::Registry& metrics, std::shared_ptr<spdlog::logger> log,
                               ShadowOptions options)
    : store_(std::move(store)),
      log_(std::move(log)),
      options_(options),
      outcomes_(metrics.AddCounter(
          "switchyard_router_shadow_total",
          "Shadow-sampled requests of router and cascade routes, by what became of them",
          {"route", "outcome"})),
      cost_(metrics.AddCounter("switchyard_router_shadow_cost_usd_total",
                               "What the shadow calls of router and cascade routes cost, USD",
                               {"route"})) {
  writer_ = std::thread([this] {
    core::NameThisThread("sy-shadow");
    WriterLoop();
  });
}

ShadowRecorder::~ShadowRecorder() {
  (void)Shutdown();
}

bool ShadowRecorder::TryBegin(std::string_view route, const std::shared_ptr<ShadowFlight>& flight) {
  {
    std::lock_guard lock(mu_);
    if (!draining_ && inflight_.size() < options_.max_inflight) {
      inflight_.insert(flight);
      return true;
    }
  }
  Count(route, "busy");
  return false;
}

void ShadowRecorder::End(const std::shared_ptr<ShadowFlight>& flight) {
  {
    std::lock_guard lock(mu_);
    inflight_.erase(flight);
  }
  flights_.notify_all();
}

bool ShadowRecorder::Add(routing::PairedOutcome row) {
  const std::string route = row.route;
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && queue_.size() < options_.queue_capacity) {
      queue_.push_back(std::move(row));
      queued = true;
    } else {
      ++dropped_;
    }
  }
  if (queued) wake_.notify_one();
  Count(route, queued ? "recorded" : "dropped");
  return queued;
}

void ShadowRecorder::Count(std::string_view route, std::string_view outcome) {
  outcomes_.WithLabels({route, outcome}).Inc();
}

void ShadowRecorder::AddCost(std::string_view route, double usd) {
  if (usd > 0) cost_.WithLabels({route}).Inc(usd);
}

size_t ShadowRecorder::Drain(std::chrono::steady_clock::time_point deadline,
                             std::chrono::milliseconds cancel_wait) {
  std::unique_lock lock(mu_);
  draining_ = true;
  flights_.wait_until(lock, deadline, [this] { return inflight_.empty(); });
  if (inflight_.empty()) return 0;
  log_->warn("router shadow: {} shadow calls still running at the shutdown deadline; cancelling",
             inflight_.size());
  for (const auto& flight : inflight_) {
    http::asio::post(flight->loop, [flight] { flight->cancel.Cancel(); });
  }
  flights_.wait_for(lock, cancel_wait, [this] { return inflight_.empty(); });
  return inflight_.size();
}

core::Status ShadowRecorder::Shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  if (dropped_ > 0) {
    return core::Unavailable(
        "router shadow: " + std::to_string(dropped_) +
        " outcome rows were not kept (queue full, recorder stopped, or a failed write)");
  }
  return core::Status::Ok();
}

ShadowRecorder::Stats ShadowRecorder::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.written = written_;
  s.dropped = dropped_;
  s.queued = queue_.size();
  s.inflight = inflight_.size();
  return s;
}

void ShadowRecorder::WriterLoop() {
  std::vector<routing::PairedOutcome> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    if (queue_.empty() && stopping_) return;
    if (queue_.size() < options_.max_batch && !stopping_) {
      // Wait for a full batch, for the flush interval once a row is queued,
      // or for Shutdown.
      if (queue_.empty()) {
        wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        continue;
      }
      wake_.wait_for(lock, options_.flush_interval,
                     [this] { return queue_.size() >= options_.max_batch || stopping_; });
    }
    const size_t n = std::min(queue_.size(), options_.max_batch);
    batch.clear();
    for (size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    const core::Status s = store_->AddBatch(batch);
    if (!s.ok()) {
      log_->warn("router shadow: {} outcome rows lost: {}", batch.size(), s.message());
      for (const routing::PairedOutcome& row : batch) Count(row.route, "write_failed");
    }
    lock.lock();
    (s.ok() ? written_ : dropped_) += static_cast<int64_t>(batch.size());
  }
}

}  // namespace switchyard::gateway
