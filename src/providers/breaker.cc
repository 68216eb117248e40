#include "providers/breaker.h"

namespace switchyard::providers {

// A call racing with a state change is ordered before it when it takes the
// lock-free path, as it could have been with the lock.
bool CircuitBreaker::Allow() {
  if (healthy_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (clock_.Now() - opened_at_ < cooldown_) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      PublishLocked();
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      PublishLocked();
      return true;
  }
  return true;
}

void CircuitBreaker::RecordSuccess() {
  if (healthy_.load(std::memory_order_acquire)) return;  // nothing to reset
  std::lock_guard lock(mu_);
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
  state_ = State::kClosed;
  PublishLocked();
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  // A failed probe reopens at once; a closed circuit opens at the threshold
  // (failures are counted only outside half-open).
  if (state_ == State::kHalfOpen ||
      (++consecutive_failures_ >= threshold_ && state_ == State::kClosed)) {
    state_ = State::kOpen;
    opened_at_ = clock_.Now();
  }
  PublishLocked();
}

void CircuitBreaker::RecordAbandoned() {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  PublishLocked();
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  if (state_ == State::kOpen && clock_.Now() - opened_at_ >= cooldown_) return State::kHalfOpen;
  return state_;
}

std::string_view CircuitBreaker::StateName(State s) {
  switch (s) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

}  // namespace switchyard::providers
