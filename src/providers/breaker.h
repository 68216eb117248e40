// CircuitBreaker: one per upstream provider, shared by every event loop.
//
// Closed: calls flow; `failure_threshold` consecutive failures open it.
// Open: calls are refused until `cooldown` has passed, then one probe is let
// through (half-open). The probe's success closes the circuit; its failure
// opens it again for another cooldown. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string_view>

#include "core/clock.h"

namespace switchyard::providers {

class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  CircuitBreaker(int failure_threshold, std::chrono::milliseconds cooldown,
                 const core::Clock& clock)
      : threshold_(failure_threshold < 1 ? 1 : failure_threshold),
        cooldown_(cooldown),
        clock_(clock) {}

  // May a call go out now? In half-open state only one probe at a time.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();
  // A call that was allowed but ended without telling anything about the
  // upstream's health (e.g. the client went away): frees a half-open probe slot.
  void RecordAbandoned();

  State state() const;
  static std::string_view StateName(State s);

 private:
  const int threshold_;
  const std::chrono::milliseconds cooldown_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

}  // namespace switchyard::providers
