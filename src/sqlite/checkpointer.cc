#include "sqlite/checkpointer.h"

#include <sqlite3.h>

#include <cstring>
#include <utility>

#include "core/thread_name.h"

namespace switchyard::sqlite {

core::Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(Db& writer,
                                                                const CheckpointOptions& options) {
  if (sqlite3_db_readonly(writer.handle(), "main") != 0) {
    return core::InvalidArgument(writer.what() + ": " + writer.path() +
                                 ": cannot checkpoint a read-only connection");
  }
  if (options.wake_pages < 1 || options.inline_pages < options.wake_pages) {
    return core::InvalidArgument("checkpoint pages: need 1 <= wake_pages (" +
                                 std::to_string(options.wake_pages) + ") <= inline_pages (" +
                                 std::to_string(options.inline_pages) + ")");
  }
  auto own = Db::Open(writer.what(), writer.path(), {});
  if (!own.ok()) return own.take_status();
  std::unique_ptr<Checkpointer> c(new Checkpointer(writer, std::move(*own), options));
  // Replaces the writer's autocheckpoint (itself a WAL hook).
  sqlite3_wal_hook(writer.handle(), &Checkpointer::OnCommit, c.get());
  c->thread_ = std::thread([p = c.get()] {
    core::NameThisThread("sy-ckpt-" + p->writer_.what());
    p->Run();
  });
  return c;
}

Checkpointer::Checkpointer(Db& writer, std::unique_ptr<Db> own, const CheckpointOptions& options)
    : writer_(writer), own_(std::move(own)), options_(options) {}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.handle(), nullptr, nullptr);
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int Checkpointer::OnCommit(void* self, sqlite3* /*db*/, const char* schema, int frames) {
  auto* c = static_cast<Checkpointer*>(self);
  // A database attached for a while (the audit's adoption of an older file)
  // is left to its own connections, or to its last one's close.
  if (std::strcmp(schema, "main") != 0) return SQLITE_OK;
  if (frames >= c->options_.inline_pages) {
    // The thread is behind (or failing): copy the log here, as SQLite's own
    // autocheckpoint would, once a copy the thread is running is done.
    int rc = SQLITE_OK;
    {
      std::lock_guard ck(c->checkpoint_mu_);
      rc = sqlite3_wal_checkpoint_v2(c->writer_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                     nullptr, nullptr);
    }
    const bool ran = c->Checked(c->writer_, rc);
    std::lock_guard lk(c->mu_);
    c->last_frames_ = frames;
    if (ran) ++c->inline_;
    // Whatever the checkpoint did, the commit stands: an error here would
    // make the caller see its committed transaction as failed.
    return SQLITE_OK;
  }
  bool wake = false;
  {
    std::lock_guard lk(c->mu_);
    c->last_frames_ = frames;
    // Also while a checkpoint runs: what was committed since is copied next.
    if (frames >= c->options_.wake_pages && !c->requested_) {
      c->requested_ = true;
      wake = true;
    }
  }
  if (wake) c->cv_.notify_one();
  return SQLITE_OK;
}

bool Checkpointer::Checked(Db& db, int rc) {
  if (rc == SQLITE_OK) return true;
  if ((rc & 0xff) == SQLITE_BUSY) return false;
  std::string message = db.Error(rc, "checkpoint failed").message();
  std::lock_guard lk(mu_);
  last_error_ = std::move(message);
  return false;
}

void Checkpointer::Run() {
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return requested_ || stopping_; });
    if (stopping_) break;
    requested_ = false;
    running_ = true;
    lk.unlock();
    int rc = SQLITE_OK;
    {
      std::lock_guard ck(checkpoint_mu_);
      rc = sqlite3_wal_checkpoint_v2(own_->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                     nullptr);
    }
    const bool ran = Checked(*own_, rc);
    lk.lock();
    running_ = false;
    if (ran) ++background_;
    idle_cv_.notify_all();
  }
  idle_cv_.notify_all();  // WaitIdle() returns once stopping
}

uint64_t Checkpointer::background_checkpoints() const {
  std::lock_guard lk(mu_);
  return background_;
}

uint64_t Checkpointer::inline_checkpoints() const {
  std::lock_guard lk(mu_);
  return inline_;
}

int Checkpointer::last_wal_frames() const {
  std::lock_guard lk(mu_);
  return last_frames_;
}

std::string Checkpointer::last_error() const {
  std::lock_guard lk(mu_);
  return last_error_;
}

void Checkpointer::WaitIdle() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [this] { return (!requested_ && !running_) || stopping_; });
}

}  // namespace switchyard::sqlite
