#include "providers/breaker.h"

namespace switchyard::providers {

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (clock_.Now() - opened_at_ < cooldown_) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return true;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mu_);
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
  state_ = State::kClosed;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen) {
    state_ = State::kOpen;
    opened_at_ = clock_.Now();
    return;
  }
  if (++consecutive_failures_ >= threshold_ && state_ == State::kClosed) {
    state_ = State::kOpen;
    opened_at_ = clock_.Now();
  }
}

void CircuitBreaker::RecordAbandoned() {
  std::lock_guard lock(mu_);
  probe_in_flight_ = false;
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
