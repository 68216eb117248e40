#include "guard/limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace switchyard::guard {
namespace {

constexpr int64_t kDayMs = 86'400'000;

core::Status Exhausted(std::string msg, std::string code) {
  core::Status s(core::StatusCode::kResourceExhausted, std::move(msg));
  s.set_error_code(std::move(code));
  return s;
}

std::chrono::milliseconds CeilMs(double seconds) {
  return std::chrono::milliseconds(
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds * 1000.0))));
}

}  // namespace

std::string FormatUsd(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", usd);
  std::string s(buf);
  const size_t dot = s.find('.');
  if (dot == std::string::npos) return s + ".00";
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  return s;
}

InProcessLimitStore::TenantState& InProcessLimitStore::State(std::string_view tenant) {
  std::lock_guard lock(map_mu_);
  auto it = tenants_.find(std::string(tenant));
  if (it == tenants_.end()) {
    it = tenants_.emplace(std::string(tenant), std::make_unique<TenantState>()).first;
  }
  return *it->second;
}

void InProcessLimitStore::Refill(Bucket& b, int64_t per_minute,
                                 std::chrono::steady_clock::time_point now) {
  if (per_minute <= 0) return;
  const double capacity = static_cast<double>(per_minute);
  if (!b.initialised) {
    b.level = capacity;
    b.updated = now;
    b.initialised = true;
    return;
  }
  if (now > b.updated) {
    const double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.level += seconds * capacity / 60.0;
    b.updated = now;
  }
  b.level = std::min(b.level, capacity);
}

int64_t InProcessLimitStore::Day() const {
  const int64_t ms = clock_.UnixMillis();
  return ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
}

void InProcessLimitStore::RollDay(TenantState& s, int64_t day) const {
  if (s.day == day) return;
  s.day = day;
  s.spent_usd = 0;
  s.reserved_usd = 0;
}

core::Result<Reservation> InProcessLimitStore::Reserve(std::string_view tenant,
                                                       const TenantLimits& limits,
                                                       int64_t est_tokens, double est_usd) {
  if (est_tokens < 0 || !(est_usd >= 0) || !std::isfinite(est_usd)) {
    return core::InvalidArgument("negative estimate");
  }
  const std::string t(tenant);
  if (limits.tpm > 0 && est_tokens > limits.tpm) {
    return Exhausted("request of " + std::to_string(est_tokens) + " tokens exceeds the limit of " +
                         std::to_string(limits.tpm) + " tokens per minute for tenant '" + t + "'",
                     "rate_limit_exceeded");
  }
  if (limits.budget_usd_day > 0 && est_usd > limits.budget_usd_day) {
    return Exhausted("request estimated at $" + FormatUsd(est_usd) +
                         " exceeds the daily budget of $" + FormatUsd(limits.budget_usd_day) +
                         " for tenant '" + t + "'",
                     "budget_exceeded");
  }
  TenantState& s = State(tenant);
  const auto now = clock_.Now();
  const int64_t day = Day();
  std::lock_guard lock(s.mu);
  Refill(s.requests, limits.rpm, now);
  Refill(s.tokens, limits.tpm, now);
  RollDay(s, day);
  if (limits.rpm > 0 && s.requests.level < 1.0) {
    const double seconds = (1.0 - s.requests.level) * 60.0 / static_cast<double>(limits.rpm);
    core::Status st = Exhausted("rate limit exceeded for tenant '" + t +
                                    "': " + std::to_string(limits.rpm) + " requests per minute",
                                "rate_limit_exceeded");
    st.set_retry_after(CeilMs(seconds));
    return st;
  }
  const double need = static_cast<double>(est_tokens);
  if (limits.tpm > 0 && s.tokens.level < need) {
    const double seconds = (need - s.tokens.level) * 60.0 / static_cast<double>(limits.tpm);
    core::Status st = Exhausted("rate limit exceeded for tenant '" + t +
                                    "': " + std::to_string(limits.tpm) + " tokens per minute",
                                "rate_limit_exceeded");
    st.set_retry_after(CeilMs(seconds));
    return st;
  }
  if (limits.budget_usd_day > 0 &&
      s.spent_usd + s.reserved_usd + est_usd > limits.budget_usd_day + 1e-12) {
    const int64_t until_midnight = (day + 1) * kDayMs - clock_.UnixMillis();
    core::Status st = Exhausted("daily budget exceeded for tenant '" + t + "': $" +
                                    FormatUsd(limits.budget_usd_day) + " per day",
                                "budget_exceeded");
    st.set_retry_after(std::chrono::milliseconds(std::max<int64_t>(1, until_midnight)));
    return st;
  }
  if (limits.rpm > 0) s.requests.level -= 1.0;
  if (limits.tpm > 0) s.tokens.level -= need;
  s.reserved_usd += est_usd;
  Reservation r;
  r.tenant = t;
  r.tokens = est_tokens;
  r.usd = est_usd;
  r.day = day;
  r.limits = limits;
  return r;
}

void InProcessLimitStore::Commit(const Reservation& r, int64_t actual_tokens, double actual_usd) {
  TenantState& s = State(r.tenant);
  const auto now = clock_.Now();
  const int64_t day = Day();
  std::lock_guard lock(s.mu);
  Refill(s.tokens, r.limits.tpm, now);
  if (r.limits.tpm > 0) {
    s.tokens.level -= static_cast<double>(std::max<int64_t>(0, actual_tokens) - r.tokens);
    s.tokens.level = std::min(s.tokens.level, static_cast<double>(r.limits.tpm));
  }
  RollDay(s, day);
  if (r.day == s.day) s.reserved_usd = std::max(0.0, s.reserved_usd - r.usd);
  if (std::isfinite(actual_usd) && actual_usd > 0) s.spent_usd += actual_usd;
}

void InProcessLimitStore::Refund(const Reservation& r) {
  TenantState& s = State(r.tenant);
  const auto now = clock_.Now();
  const int64_t day = Day();
  std::lock_guard lock(s.mu);
  Refill(s.tokens, r.limits.tpm, now);
  if (r.limits.tpm > 0) {
    s.tokens.level =
        std::min(s.tokens.level + static_cast<double>(r.tokens), static_cast<double>(r.limits.tpm));
  }
  RollDay(s, day);
  if (r.day == s.day) s.reserved_usd = std::max(0.0, s.reserved_usd - r.usd);
}

LimitUsage InProcessLimitStore::Usage(std::string_view tenant, const TenantLimits& limits) {
  TenantState& s = State(tenant);
  const auto now = clock_.Now();
  const int64_t day = Day();
  std::lock_guard lock(s.mu);
  Refill(s.requests, limits.rpm, now);
  Refill(s.tokens, limits.tpm, now);
  RollDay(s, day);
  LimitUsage u;
  u.requests_available = limits.rpm > 0 ? s.requests.level : 0;
  u.tokens_available = limits.tpm > 0 ? s.tokens.level : 0;
  u.spent_usd_today = s.spent_usd;
  u.reserved_usd_today = s.reserved_usd;
  return u;
}

}  // namespace switchyard::guard
