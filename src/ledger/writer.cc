#include "ledger/writer.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/thread_name.h"
#include "ledger/record_json.h"

namespace switchyard::ledger {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSpillName = "ledger.spill";
constexpr std::string_view kReplayPrefix = "ledger.spill.replay.";
constexpr std::string_view kRejectedName = "ledger.spill.rejected";
constexpr std::chrono::milliseconds kMaxBackoff{1000};
// Emptied queue chunks kept for reuse (each keeps its capacity).
constexpr size_t kSpareChunks = 4;
// A new chunk reserves room for at most this many records (a huge batch_size
// grows its chunks as they fill instead of reserving it all up front).
constexpr size_t kMaxChunkReserve = 4096;

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (!p.empty() && p.back() != '/') p.push_back('/');
  p.append(name);
  return p;
}

// Parses the <n> of "ledger.spill.replay.<n>", 0 if `name` is not one.
uint64_t ReplayNumber(std::string_view name) {
  if (name.substr(0, kReplayPrefix.size()) != kReplayPrefix) return 0;
  std::string_view digits = name.substr(kReplayPrefix.size());
  if (digits.empty() || digits.size() > 18) return 0;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

AsyncWriter::AsyncWriter(std::unique_ptr<Store> store, WriterOptions options)
    : options_(std::move(options)),
      spill_path_(JoinPath(options_.data_dir, kSpillName)),
      batch_trigger_(std::min(options_.max_batch, options_.queue_capacity)),
      store_(std::move(store)) {}

core::Result<std::unique_ptr<AsyncWriter>> AsyncWriter::Start(std::unique_ptr<Store> store,
                                                              WriterOptions options) {
  if (store == nullptr) return core::InvalidArgument("ledger writer: no store");
  if (options.data_dir.empty()) return core::InvalidArgument("ledger writer: data_dir is empty");
  if (options.queue_capacity == 0) {
    return core::InvalidArgument("ledger writer: queue_capacity must be at least 1");
  }
  if (options.max_batch == 0) {
    return core::InvalidArgument("ledger writer: max_batch must be at least 1");
  }
  if (options.write_attempts < 1) {
    return core::InvalidArgument("ledger writer: write_attempts must be at least 1");
  }
  std::unique_ptr<AsyncWriter> w(new AsyncWriter(std::move(store), std::move(options)));
  if (core::Status st = w->Prepare(); !st.ok()) return st;
  w->thread_ = std::thread([raw = w.get()] {
    core::NameThisThread("sy-ledger");
    raw->Run();
  });
  return w;
}

core::Status AsyncWriter::Prepare() {
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) {
    return core::FailedPrecondition("ledger: cannot create directory " + options_.data_dir + ": " +
                                    ec.message());
  }
  // Spill files of a previous run: replay.<n> in order, then the spill file.
  std::vector<std::pair<uint64_t, std::string>> found;
  for (fs::directory_iterator it(options_.data_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (const uint64_t n = ReplayNumber(name); n > 0) found.emplace_back(n, it->path().string());
  }
  if (ec) {
    return core::FailedPrecondition("ledger: cannot list " + options_.data_dir + ": " +
                                    ec.message());
  }
  std::sort(found.begin(), found.end());
  for (auto& [n, path] : found) {
    replay_files_.push_back(std::move(path));
    next_replay_n_ = n + 1;
  }
  const uintmax_t size = fs::file_size(spill_path_, ec);
  if (!ec && size > 0) {
    const std::string target =
        JoinPath(options_.data_dir, std::string(kReplayPrefix) + std::to_string(next_replay_n_));
    fs::rename(spill_path_, target, ec);
    if (ec) {
      return core::FailedPrecondition("ledger: cannot rename " + spill_path_ + " to " + target +
                                      ": " + ec.message());
    }
    ++next_replay_n_;
    replay_files_.push_back(target);
  }
  spill_file_ = std::fopen(spill_path_.c_str(), "ab");
  if (spill_file_ == nullptr) {
    return core::FailedPrecondition("ledger: cannot open spill file " + spill_path_ + ": " +
                                    std::strerror(errno));
  }
  spill_bytes_ = 0;
  return core::Status::Ok();
}

AsyncWriter::~AsyncWriter() {
  if (thread_.joinable()) (void)Shutdown(options_.destructor_deadline);
  std::lock_guard lk(spill_mu_);
  if (spill_file_ != nullptr) {
    std::fclose(spill_file_);
    spill_file_ = nullptr;
    if (spill_bytes_ == 0) {
      std::error_code ec;
      fs::remove(spill_path_, ec);
    }
  }
}

void AsyncWriter::Push(Record&& record) {
  std::unique_lock lk(mu_);
  if (!record.id.empty()) {
    if (std::vector<Record>* chunk = QueueSlotLocked()) {
      chunk->push_back(std::move(record));
      EnqueuedLocked(lk);
      return;
    }
  }
  lk.unlock();
  SpillOne(record);
}

std::vector<Record>* AsyncWriter::QueueSlotLocked() {
  if (stopping_ || queue_size_ >= options_.queue_capacity) return nullptr;
  if (queue_.empty() || queue_.back().size() >= options_.max_batch) {
    if (spare_chunks_.empty()) {
      queue_.emplace_back().reserve(
          std::min({options_.max_batch, options_.queue_capacity, kMaxChunkReserve}));
    } else {
      queue_.push_back(std::move(spare_chunks_.back()));
      spare_chunks_.pop_back();
    }
  }
  return &queue_.back();
}

void AsyncWriter::EnqueuedLocked(std::unique_lock<std::mutex>& lk) {
  ++enqueued_;
  const size_t depth = ++queue_size_;
  const bool wake =
      waiting_ == Waiting::kIdle || (waiting_ == Waiting::kFilling && depth >= batch_trigger_);
  if (wake) waiting_ = Waiting::kNone;
  lk.unlock();
  depth_.store(depth, std::memory_order_relaxed);
  queued_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

void AsyncWriter::SpillOne(const Record& record) {
  if (record.id.empty()) {
    assert(false && "ledger record without id");
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::string line;
  AppendRecordJson(line, record);
  line.push_back('\n');
  if (AppendSpill(line, 1)) WakeIfIdle();
}

void AsyncWriter::WakeIfIdle() {
  std::unique_lock lk(mu_);
  if (waiting_ != Waiting::kIdle) return;
  waiting_ = Waiting::kNone;
  lk.unlock();
  cv_.notify_one();
}

bool AsyncWriter::AppendSpill(const std::string& lines, size_t count) {
  std::lock_guard lk(spill_mu_);
  if (spill_file_ == nullptr) spill_file_ = std::fopen(spill_path_.c_str(), "ab");
  if (spill_file_ == nullptr) {
    lost_.fetch_add(count, std::memory_order_relaxed);
    SetLastError("ledger: cannot open spill file " + spill_path_ + ": " + std::strerror(errno));
    return false;
  }
  const size_t n = std::fwrite(lines.data(), 1, lines.size(), spill_file_);
  if (n != lines.size() || std::fflush(spill_file_) != 0) {
    lost_.fetch_add(count, std::memory_order_relaxed);
    SetLastError("ledger: cannot write spill file " + spill_path_ + ": " + std::strerror(errno));
    spill_bytes_ += n;
    if (n > 0) spill_pending_.store(true);
    return false;
  }
  spill_bytes_ += n;
  spill_pending_.store(true);
  spilled_.fetch_add(count, std::memory_order_relaxed);
  return true;
}

bool AsyncWriter::SpillRecords(std::span<const Record> records) {
  if (records.empty()) return true;
  std::string lines;
  for (const Record& r : records) {
    AppendRecordJson(lines, r);
    lines.push_back('\n');
  }
  return AppendSpill(lines, records.size());
}

void AsyncWriter::SetLastError(std::string message) {
  std::lock_guard lk(error_mu_);
  last_error_ = std::move(message);
}

std::string AsyncWriter::LastError() const {
  std::lock_guard lk(error_mu_);
  return last_error_;
}

WriterStats AsyncWriter::Stats() const {
  WriterStats s;
  s.queued = queued_.load(std::memory_order_relaxed);
  s.written = written_.load(std::memory_order_relaxed);
  s.spilled = spilled_.load(std::memory_order_relaxed);
  s.replayed = replayed_.load(std::memory_order_relaxed);
  s.write_errors = write_errors_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  s.queue_depth = depth_.load(std::memory_order_relaxed);
  s.last_batch_ms = last_batch_ms_.load(std::memory_order_relaxed);
  return s;
}

core::Status AsyncWriter::Flush(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  std::unique_lock lk(mu_);
  const uint64_t target = enqueued_;
  if (done_ >= target) return core::Status::Ok();
  flush_target_ = std::max(flush_target_, target);
  if (waiting_ != Waiting::kNone) {
    waiting_ = Waiting::kNone;
    cv_.notify_one();
  }
  if (!done_cv_.wait_until(lk, until, [&] { return done_ >= target; })) {
    return core::DeadlineExceeded("ledger: flush timed out with " + std::to_string(target - done_) +
                                  " records pending");
  }
  return core::Status::Ok();
}

core::Status AsyncWriter::Shutdown(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lk(mu_);
    if (shut_down_) return shutdown_status_;
    stopping_ = true;
    shutdown_deadline_ = Clock::now() + deadline;
    waiting_ = Waiting::kNone;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();

  bool files_left = spill_pending_.load() || !replay_files_.empty();
  std::lock_guard lk(mu_);
  shut_down_ = true;
  const std::string where = "records not yet in the store are saved in " + spill_path_ +
                            "* and replayed at the next start";
  if (deadline_spill_) {
    shutdown_status_ =
        core::DeadlineExceeded("ledger: shutdown deadline of " + std::to_string(deadline.count()) +
                               " ms passed; " + where);
  } else if (files_left) {
    // Either the store failed, or records were pushed after the drain ended.
    const std::string last = LastError();
    shutdown_status_ = core::Unavailable(
        last.empty() ? "ledger: records were pushed during shutdown; " + where
                     : "ledger: could not write every record (" + last + "); " + where);
  } else {
    shutdown_status_ = core::Status::Ok();
  }
  return shutdown_status_;
}

bool AsyncWriter::ShutdownDeadlinePassed() {
  std::lock_guard lk(mu_);
  return stopping_ && Clock::now() >= shutdown_deadline_;
}

void AsyncWriter::Run() {
  std::vector<Chunk> chunks;  // swapped with queue_
  std::optional<Clock::time_point> fill_until;
  bool shutdown_seen = false;
  std::unique_lock lk(mu_);
  while (true) {
    const auto now = Clock::now();
    if (stopping_ && !shutdown_seen) {
      // One more replay attempt at shutdown, even while backing off.
      shutdown_seen = true;
      replay_retry_at_.reset();
    }
    const bool past_deadline = stopping_ && now >= shutdown_deadline_;
    if (queue_size_ > 0) {
      const bool ready = stopping_ || flush_target_ > done_ || queue_size_ >= batch_trigger_;
      if (!ready) {
        if (!fill_until) fill_until = now + options_.max_delay;
        if (now < *fill_until) {
          waiting_ = Waiting::kFilling;
          cv_.wait_until(lk, *fill_until);
          waiting_ = Waiting::kNone;
          continue;
        }
      }
      fill_until.reset();
      // The writer takes every queued chunk at once (a swap), and commits each
      // in one transaction. Past the shutdown deadline, or once a commit has
      // outlasted it, the rest goes to the spill file.
      // A batch that filled up while the last chunk is still filling leaves
      // that chunk queued (its fill delay starts now): committing it at once
      // would cost a transaction for a handful of records.
      const bool full_chunks_only = !stopping_ && flush_target_ <= done_ && ready;
      chunks.swap(queue_);
      queue_size_ = 0;
      if (full_chunks_only && chunks.size() > 1 && chunks.back().size() < options_.max_batch) {
        queue_size_ = chunks.back().size();
        queue_.push_back(std::move(chunks.back()));
        chunks.pop_back();
      }
      depth_.store(queue_size_, std::memory_order_relaxed);
      if (past_deadline) deadline_spill_ = true;
      lk.unlock();
      bool spill = past_deadline;
      for (Chunk& chunk : chunks) {
        if (!spill && &chunk != &chunks.front() && ShutdownDeadlinePassed()) {
          spill = true;
          lk.lock();
          deadline_spill_ = true;
          lk.unlock();
        }
        if (spill) {
          SpillRecords(chunk);
        } else {
          CommitQueueBatch(chunk);
        }
        const size_t n = chunk.size();
        chunk.clear();
        lk.lock();
        done_ += n;
        if (flush_target_ > 0) done_cv_.notify_all();
        // A few emptied chunks are kept for Push(); a burst's others are freed.
        if (spare_chunks_.size() < kSpareChunks) spare_chunks_.push_back(std::move(chunk));
        lk.unlock();
      }
      chunks.clear();
      lk.lock();
      continue;
    }
    const bool replay_work =
        spill_pending_.load() || !replay_files_.empty() || replay_in_.is_open();
    const bool replay_ready = replay_work && (!replay_retry_at_ || now >= *replay_retry_at_);
    if (replay_ready && !past_deadline) {
      lk.unlock();
      ReplayStep();
      lk.lock();
      continue;
    }
    if (stopping_) break;
    waiting_ = Waiting::kIdle;
    if (replay_work && replay_retry_at_) {
      cv_.wait_until(lk, *replay_retry_at_);
    } else {
      cv_.wait(lk);
    }
    waiting_ = Waiting::kNone;
  }
  lk.unlock();
  if (replay_in_.is_open()) replay_in_.close();
}

void AsyncWriter::CommitQueueBatch(std::span<const Record> batch) {
  auto backoff = options_.retry_backoff;
  for (int attempt = 1;; ++attempt) {
    const auto t0 = Clock::now();
    // Queued records are new (ids made by the gateway): no id lookup.
    auto result = store_->WriteBatch(batch, IdCheck::kNew);
    if (result.ok()) {
      const std::chrono::duration<double, std::milli> took = Clock::now() - t0;
      last_batch_ms_.store(took.count(), std::memory_order_relaxed);
      written_.fetch_add(batch.size(), std::memory_order_relaxed);
      batches_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    SetLastError(result.status().message());
    if (attempt >= options_.write_attempts || ShutdownDeadlinePassed()) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
  }
  SpillRecords(batch);
}

bool AsyncWriter::RotateSpillFile() {
  std::lock_guard lk(spill_mu_);
  if (!spill_pending_.load()) return false;
  if (spill_file_ != nullptr) {
    std::fclose(spill_file_);
    spill_file_ = nullptr;
  }
  const std::string target =
      JoinPath(options_.data_dir, std::string(kReplayPrefix) + std::to_string(next_replay_n_));
  std::error_code ec;
  fs::rename(spill_path_, target, ec);
  // Reopen (a fresh file after a rename; the same one if the rename failed).
  spill_file_ = std::fopen(spill_path_.c_str(), "ab");
  if (ec) {
    SetLastError("ledger: cannot rename " + spill_path_ + " to " + target + ": " + ec.message());
    return false;
  }
  spill_bytes_ = 0;
  spill_pending_.store(false);
  ++next_replay_n_;
  replay_files_.push_back(target);
  return true;
}

void AsyncWriter::ReplayStep() {
  if (!replay_in_.is_open()) {
    if (replay_files_.empty() && !RotateSpillFile()) {
      replay_retry_at_ = Clock::now() + options_.replay_retry;
      return;
    }
    replay_in_.clear();
    replay_in_.open(replay_files_.front(), std::ios::binary);
    if (!replay_in_.is_open()) {
      // Gone (removed by hand?) or unreadable: leave it and move on.
      SetLastError("ledger: cannot open " + replay_files_.front() + ": " + std::strerror(errno));
      replay_files_.pop_front();
      return;
    }
  }
  const std::streampos chunk_start = replay_in_.tellg();
  std::vector<Record> records;
  std::string rejected;
  size_t rejected_count = 0;
  std::string line;
  while (records.size() < options_.max_batch && std::getline(replay_in_, line)) {
    if (line.empty()) continue;
    auto parsed = ParseRecordJson(line);
    if (parsed.ok()) {
      records.push_back(std::move(parsed).value());
    } else {
      rejected += line;
      rejected += '\n';
      ++rejected_count;
    }
  }
  const bool at_end = replay_in_.eof();
  if (!records.empty()) {
    const auto t0 = Clock::now();
    auto result = store_->WriteBatch(records);
    if (!result.ok()) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      SetLastError(result.status().message());
      // Retry this chunk later; the queue gets the writer meanwhile.
      replay_in_.clear();
      replay_in_.seekg(chunk_start);
      replay_retry_at_ = Clock::now() + options_.replay_retry;
      return;
    }
    const std::chrono::duration<double, std::milli> took = Clock::now() - t0;
    last_batch_ms_.store(took.count(), std::memory_order_relaxed);
    replayed_.fetch_add(records.size(), std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  }
  replay_retry_at_.reset();
  if (rejected_count > 0) {
    const std::string path = JoinPath(options_.data_dir, kRejectedName);
    std::FILE* f = std::fopen(path.c_str(), "ab");
    if (f != nullptr && std::fwrite(rejected.data(), 1, rejected.size(), f) == rejected.size() &&
        std::fflush(f) == 0) {
      rejected_.fetch_add(rejected_count, std::memory_order_relaxed);
    } else {
      lost_.fetch_add(rejected_count, std::memory_order_relaxed);
    }
    if (f != nullptr) std::fclose(f);
    SetLastError("ledger: " + std::to_string(rejected_count) + " unreadable lines in " +
                 replay_files_.front() + " moved to " + path);
  }
  if (at_end) {
    replay_in_.close();
    std::error_code ec;
    fs::remove(replay_files_.front(), ec);
    replay_files_.pop_front();
  }
}

}  // namespace switchyard::ledger
