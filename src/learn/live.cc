#include "learn/live.h"

#include "learn/threshold.h"

namespace switchyard::learn {

void LiveAgreement::Record(bool student_accepted, bool agreed) {
  compared_.fetch_add(1, std::memory_order_relaxed);
  if (agreed) agreed_.fetch_add(1, std::memory_order_relaxed);
  if (student_accepted) {
    accepted_.fetch_add(1, std::memory_order_relaxed);
    if (agreed) accepted_agreed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LiveAgreement::Restore(const LiveStats& earlier) {
  // Totals first, so that a concurrent Stats() never sees more agreements
  // than comparisons (it clamps anyway).
  compared_.fetch_add(earlier.compared, std::memory_order_relaxed);
  accepted_.fetch_add(earlier.accepted, std::memory_order_relaxed);
  agreed_.fetch_add(earlier.agreed, std::memory_order_relaxed);
  accepted_agreed_.fetch_add(earlier.accepted_agreed, std::memory_order_relaxed);
}

LiveStats LiveAgreement::Stats() const {
  // Read the derived counters before their totals so that, with concurrent
  // writers, a snapshot never shows more agreements than comparisons.
  const uint64_t accepted_agreed = accepted_agreed_.load(std::memory_order_relaxed);
  const uint64_t agreed = agreed_.load(std::memory_order_relaxed);
  const uint64_t accepted = accepted_.load(std::memory_order_relaxed);
  const uint64_t compared = compared_.load(std::memory_order_relaxed);
  return MakeLiveStats(compared, agreed, accepted, accepted_agreed);
}

LiveStats MakeLiveStats(uint64_t compared, uint64_t agreed, uint64_t accepted,
                        uint64_t accepted_agreed) {
  LiveStats s;
  s.compared = compared;
  s.agreed = agreed;
  s.accepted = accepted;
  s.accepted_agreed = accepted_agreed;
  if (s.accepted < s.accepted_agreed) s.accepted = s.accepted_agreed;
  if (s.compared < s.agreed) s.compared = s.agreed;
  if (s.compared < s.accepted) s.compared = s.accepted;
  if (s.compared > 0) s.agreement = static_cast<double>(s.agreed) / static_cast<double>(s.compared);
  if (s.accepted > 0) {
    s.accepted_agreement = static_cast<double>(s.accepted_agreed) / static_cast<double>(s.accepted);
  }
  s.lower_bound = WilsonLowerBound(s.accepted_agreed, s.accepted);
  s.upper_bound = WilsonUpperBound(s.accepted_agreed, s.accepted);
  return s;
}

bool LiveAgreement::ShouldDemote(double target, const LiveOptions& options) const {
  const LiveStats s = Stats();
  if (s.accepted < options.min_samples || s.accepted == 0) return false;
  return options.rule == DemoteRule::kLowerBound ? s.lower_bound < target : s.upper_bound < target;
}

std::shared_ptr<LiveAgreement> LiveTracker::For(const std::string& task, int64_t version) {
  std::lock_guard lock(mu_);
  auto& slot = counters_[{task, version}];
  if (!slot) slot = std::make_shared<LiveAgreement>();
  return slot;
}

std::vector<std::pair<std::pair<std::string, int64_t>, LiveStats>> LiveTracker::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::pair<std::string, int64_t>, LiveStats>> out;
  out.reserve(counters_.size());
  for (const auto& [key, counter] : counters_) out.emplace_back(key, counter->Stats());
  return out;
}

}  // namespace switchyard::learn
