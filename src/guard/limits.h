// Per-tenant rate limits and daily budgets.
//
//   auto r = limits.Reserve(tenant, tenant_limits, est_tokens, est_usd);  // before the call
//   if (!r.ok()) -> 429 with r.status().retry_after()
//   ... call the upstream ...
//   limits.Commit(*r, actual_tokens, actual_usd);   // or Refund(*r) if nothing was spent
//
// Requests/minute and tokens/minute are token buckets: capacity = the per-
// minute limit (a full minute's burst), refilled continuously at limit/60 per
// second. Reserve() takes 1 request and `est_tokens` tokens and reserves
// `est_usd` of today's budget, all or nothing: if any of the three would be
// exceeded nothing is taken. Commit() settles with the actuals: the token
// bucket is charged the difference (it may go below zero, delaying the next
// requests: a tenant cannot overrun tpm by under-estimating), the budget moves
// the reservation into spent. Refund() gives back the tokens and the budget
// reservation (the request still counts towards rpm).
//
// The budget day is the UTC day of the clock's UnixMillis(); spending resets
// at 00:00 UTC. A reservation made yesterday and settled today is charged to
// today's spend (without touching today's reservations).
//
// Limits come with each call (from the authenticated TenantInfo) so a changed
// limit applies at once; a limit of 0 means unlimited.
//
// Errors from Reserve(), all ResourceExhausted with retry_after set (the
// gateway maps them to 429 + Retry-After, rounded up to whole seconds) and
// error_code "rate_limit_exceeded" or "budget_exceeded":
//   "rate limit exceeded for tenant '<t>': <N> requests per minute"
//   "rate limit exceeded for tenant '<t>': <N> tokens per minute"
//   "daily budget exceeded for tenant '<t>': $<X> per day"
// and, when a single request can never fit (no retry_after):
//   "request of <n> tokens exceeds the limit of <N> tokens per minute for tenant '<t>'"
//   "request estimated at $<x> exceeds the daily budget of $<X> for tenant '<t>'"
// InvalidArgument "negative estimate" for negative est_tokens/est_usd.
//
// Threading: implementations are safe from any thread; every Reserve() is
// atomic with respect to other calls for the same tenant (never more admitted
// than the limits allow, whatever the concurrency).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/status.h"
#include "guard/keys.h"

namespace switchyard::guard {

// What Reserve() took; hand it back to Commit() or Refund() exactly once.
struct Reservation {
  std::string tenant;
  int64_t tokens = 0;   // estimated tokens taken from the tokens bucket
  double usd = 0;       // estimated cost reserved from the day's budget
  int64_t day = 0;      // UTC day number the budget reservation belongs to
  TenantLimits limits;  // the limits in force when reserved
};

// A tenant's state, for the admin API and tests.
struct LimitUsage {
  double requests_available = 0;  // tokens in the requests bucket
  double tokens_available = 0;    // tokens in the tokens bucket (may be negative)
  double spent_usd_today = 0;
  double reserved_usd_today = 0;
};

class LimitStore {
 public:
  virtual ~LimitStore() = default;
  virtual core::Result<Reservation> Reserve(std::string_view tenant, const TenantLimits& limits,
                                            int64_t est_tokens, double est_usd) = 0;
  virtual void Commit(const Reservation& reservation, int64_t actual_tokens, double actual_usd) = 0;
  virtual void Refund(const Reservation& reservation) = 0;
  virtual LimitUsage Usage(std::string_view tenant, const TenantLimits& limits) = 0;
};

// "5.00", "0.0012", "12.50": at least two decimals, at most six, no trailing zeros beyond two.
std::string FormatUsd(double usd);

// In-process state: one entry per tenant, each behind its own mutex (the map
// behind another, held only for the lookup); time from the injected clock.
// State is per process: several replicas need a shared store (Redis, later).
class InProcessLimitStore final : public LimitStore {
 public:
  explicit InProcessLimitStore(const core::Clock& clock) : clock_(clock) {}

  core::Result<Reservation> Reserve(std::string_view tenant, const TenantLimits& limits,
                                    int64_t est_tokens, double est_usd) override;
  void Commit(const Reservation& reservation, int64_t actual_tokens, double actual_usd) override;
  void Refund(const Reservation& reservation) override;
  LimitUsage Usage(std::string_view tenant, const TenantLimits& limits) override;

 private:
  struct Bucket {
    double level = 0;
    bool initialised = false;
    std::chrono::steady_clock::time_point updated;
  };
  struct TenantState {
    std::mutex mu;
    Bucket requests;
    Bucket tokens;
    int64_t day = -1;
    double spent_usd = 0;
    double reserved_usd = 0;
  };

  TenantState& State(std::string_view tenant);
  // Refills `b` to now for a per-minute limit; no-op for unlimited.
  static void Refill(Bucket& b, int64_t per_minute, std::chrono::steady_clock::time_point now);
  void RollDay(TenantState& s, int64_t day) const;
  int64_t Day() const;

  const core::Clock& clock_;
  std::mutex map_mu_;
  std::unordered_map<std::string, std::unique_ptr<TenantState>> tenants_;
};

}  // namespace switchyard::guard
