// CircuitBreaker: one per upstream provider, shared by every event loop.
//
// Closed: calls flow; `failure_threshold` consecutive failures open it.
// Open: calls are refused until `cooldown` has passed, then one probe is let
// through (half-open). The probe's success closes the circuit; its failure
// opens it again for another cooldown. Thread-safe: a mutex guards the state;
// the common case (closed, no failure since the last success, no probe) is
// also published in an atomic flag, so that Allow() and RecordSuccess() on a
// healthy provider, i.e. every successful call, take no lock.
#pragma once

#include <atomic>
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
  // With mu_ held, after any change of the state below.
  void PublishLocked() {
    healthy_.store(state_ == State::kClosed && consecutive_failures_ == 0 && !probe_in_flight_,
                   std::memory_order_release);
  }

  const int threshold_;
  const std::chrono::milliseconds cooldown_;
  const core::Clock& clock_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
  std::atomic<bool> healthy_{true};  // PublishLocked()'s view, read without mu_
};

}  // namespace switchyard::providers
