// Shadow outcomes of router and cascade routes: the training data a router
// needs, taken from the operator's own traffic.
//
// A route with `shadow_sample = p` (docs/CONFIG.md) samples a share p of its
// answered requests. For a sampled request the gateway has one answer (the
// one the client got) and, after the client's answer is complete, calls the
// other target itself (non-streamed, no retries; for a cascade route, an
// owned OpenAI-kind weak target is asked for token logprobs), off the
// client's path. A cascade that escalated already holds both answers and
// makes no extra call. Both answers go to the outcome store
// (routing/outcome_store.h, in the ledger's file); `switchyard router export`
// turns them into training rows.
//
// Client traffic comes first: a shadow call leaves the circuit breakers and
// the latency tracker alone, and is not made to a target that failed on the
// request's path, whose circuit is not closed, or that latency_slo_ms steers
// requests away from ("unavailable").
//
// Not sampled: requests with PII findings, requests that were redacted or
// kept local by the guard, task requests. Not kept: answers that are not text
// (tool calls, empty), answers longer than the store keeps or streamed past
// the gateway's capture, rows whose
// answers the guard's PII scanner flags. Shadow calls are the operator's
// cost, not the tenant's: not counted against a key's limits, summed in
// switchyard_router_shadow_cost_usd_total and kept per row; a call to a
// provider that is not owned gets an egress audit record.
//
// ShadowRecorder bounds the work: at most `max_inflight` shadow calls run at
// once (more are skipped: outcome "busy"), rows wait in a queue of
// `queue_capacity` for the writer thread (a full queue drops the row:
// "dropped"). At shutdown, Drain stops new calls and waits for the running
// ones up to a deadline, then cancels the rest; Shutdown writes the queue.
// A shadow outcome is best effort: it never delays or fails the client's
// answer, and a lost one costs a training row, nothing else.
//
// Metric switchyard_router_shadow_total{route, outcome}: recorded | busy |
// failed | unavailable | cancelled | not_text | too_long | pii | dropped
// ("recorded" means queued for the writer; rows of a batch the database
// refuses are counted again as write_failed).
//
// Thread-safety: every method may be called from any thread. A flight's
// CancelToken is only touched on its loop (Drain posts the cancel there).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include <spdlog/logger.h>

#include "core/clock.h"
#include "core/status.h"
#include "http/asio.h"
#include "http/cancel.h"
#include "observe/metrics.h"
#include "routing/outcome_store.h"

namespace switchyard::gateway {

struct ShadowOptions {
  size_t max_inflight = 16;      // shadow calls running at once, all loops together
  size_t queue_capacity = 4096;  // rows waiting for the writer
  size_t max_batch = 64;         // rows per transaction
  std::chrono::milliseconds flush_interval{200};  // longest a row waits before its batch
};

// One running shadow call: its loop and the token that cancels it.
struct ShadowFlight {
  explicit ShadowFlight(http::Executor l) : loop(std::move(l)) {}
  http::Executor loop;
  http::CancelToken cancel;  // touched only on `loop`
};

class ShadowRecorder {
 public:
  // Opens the outcome store at `db_path` (the ledger's file in serve) and
  // starts the writer thread. Errors: the store's (FailedPrecondition).
  static core::Result<std::unique_ptr<ShadowRecorder>> Create(const std::string& db_path,
                                                              const core::Clock& clock,
                                                              observe::Registry& metrics,
                                                              std::shared_ptr<spdlog::logger> log,
                                                              ShadowOptions options = {});
  ~ShadowRecorder();  // Shutdown()
  ShadowRecorder(const ShadowRecorder&) = delete;
  ShadowRecorder& operator=(const ShadowRecorder&) = delete;

  // A shadow call may start (registers `flight`); false, counted as "busy",
  // when max_inflight calls run or the recorder is draining.
  bool TryBegin(std::string_view route, const std::shared_ptr<ShadowFlight>& flight);
  void End(const std::shared_ptr<ShadowFlight>& flight);
  // Queues a row for the writer ("recorded"); false when the queue is full
  // or the writer has stopped ("dropped").
  bool Add(routing::PairedOutcome row);
  // Counts a sampled request that produced no row (failed, unavailable, ...).
  void Count(std::string_view route, std::string_view outcome);
  void AddCost(std::string_view route, double usd);

  // Stops new shadow calls and waits until the running ones end or
  // `deadline`; then cancels those left (on their loops, which must still be
  // running) and waits up to `cancel_wait` for them. Returns how many did
  // not end.
  size_t Drain(std::chrono::steady_clock::time_point deadline,
               std::chrono::milliseconds cancel_wait = std::chrono::milliseconds(2000));
  // Writes every queued row and stops the writer thread. Idempotent.
  core::Status Shutdown();

  struct Stats {
    int64_t written = 0;  // rows committed
    int64_t dropped = 0;  // rows lost: queue full, writer stopped, or a failed batch
    size_t queued = 0;
    size_t inflight = 0;
  };
  Stats stats() const;
  routing::OutcomeStore& store() { return *store_; }

 private:
  ShadowRecorder(std::unique_ptr<routing::OutcomeStore> store, observe::Registry& metrics,
                 std::shared_ptr<spdlog::logger> log, ShadowOptions options);
  void WriterLoop();

  std::unique_ptr<routing::OutcomeStore> store_;
  std::shared_ptr<spdlog::logger> log_;
  ShadowOptions options_;
  observe::Family<observe::Counter>& outcomes_;
  observe::Family<observe::Counter>& cost_;

  mutable std::mutex mu_;
  std::condition_variable wake_;     // writer: rows queued or stopping
  std::condition_variable flights_;  // Drain: a flight ended
  std::deque<routing::PairedOutcome> queue_;
  std::set<std::shared_ptr<ShadowFlight>> inflight_;
  bool draining_ = false;
  bool stopping_ = false;
  int64_t written_ = 0;
  int64_t dropped_ = 0;
  std::thread writer_;
};

}  // namespace switchyard::gateway
