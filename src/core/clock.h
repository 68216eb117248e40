// Clock and randomness, injected so tests can use simulated time and fixed seeds.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace switchyard::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Wall-clock milliseconds since the Unix epoch (for records).
  virtual int64_t UnixMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
  int64_t UnixMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A manually advanced clock for tests.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  int64_t UnixMillis() const override {
    std::lock_guard lock(mu_);
    return unix_ms_;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
    unix_ms_ += d.count();
  }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
  int64_t unix_ms_ = 1'700'000'000'000;
};

// Thread-safe source of uniform doubles in [0, 1), seeded explicitly.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  double Uniform() {
    std::lock_guard lock(mu_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }
  uint64_t Next() {
    std::lock_guard lock(mu_);
    return engine_();
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace switchyard::core
