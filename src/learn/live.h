// Live agreement: how often a serving student agrees with the teacher on real
// traffic (shadow comparisons), and when to demote it.
//
// The gateway records one comparison each time it knows both answers for a
// request (the teacher answered and the student's decision was computed):
// whether the student agreed, and whether it would have answered on its own
// (Decision::accept). Demotion looks at the accepted comparisons only: those
// are the answers users get from the student, and the promotion guarantee is
// about them. The demotion rule is the issue's: the one-sided 95% Wilson lower
// bound of agreement among accepted comparisons falls below the target, once
// at least `min_samples` accepted comparisons were recorded. Note that the
// lower bound of a student whose true agreement sits just above the target
// stays below it until many samples accrue (true 0.96 at target 0.95 needs
// about 400): the rule is conservative by design, like promotion. Use
// DemoteRule::kUpperBound to demote only on evidence that agreement is below
// the target (the Wilson upper bound falls below it).
//
// Thread-safety: LiveAgreement and LiveTracker are safe to use from any
// thread. Record is a few relaxed atomic increments; LiveTracker::For takes a
// mutex, so look the counter up once per model version and keep it.
// Errors: none.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::learn {

enum class DemoteRule { kLowerBound, kUpperBound };

struct LiveOptions {
  uint64_t min_samples = 200;  // accepted comparisons before demotion is considered
  DemoteRule rule = DemoteRule::kLowerBound;
};

struct LiveStats {
  uint64_t compared = 0;  // all comparisons
  uint64_t agreed = 0;
  uint64_t accepted = 0;  // comparisons where the student would have answered
  uint64_t accepted_agreed = 0;
  double agreement = 0;           // agreed / compared
  double accepted_agreement = 0;  // accepted_agreed / accepted
  double lower_bound = 0;         // Wilson 95% lower bound of accepted agreement
  double upper_bound = 1;         // Wilson 95% upper bound of accepted agreement
};

// The derived fields (agreements, Wilson bounds) of the four counts.
LiveStats MakeLiveStats(uint64_t compared, uint64_t agreed, uint64_t accepted,
                        uint64_t accepted_agreed);

// Counters for one (task, version).
class LiveAgreement {
 public:
  void Record(bool student_accepted, bool agreed);
  // Adds counts recorded earlier (restored from the learning store after a
  // restart): compared, agreed, accepted and accepted_agreed of `earlier`.
  void Restore(const LiveStats& earlier);
  LiveStats Stats() const;
  bool ShouldDemote(double target, const LiveOptions& options = {}) const;

 private:
  std::atomic<uint64_t> compared_{0};
  std::atomic<uint64_t> agreed_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> accepted_agreed_{0};
};

// The counters of every (task, version) seen since start.
class LiveTracker {
 public:
  // The counter for (task, version), created on first use; never null.
  std::shared_ptr<LiveAgreement> For(const std::string& task, int64_t version);
  // All counters, ordered by task then version.
  std::vector<std::pair<std::pair<std::string, int64_t>, LiveStats>> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int64_t>, std::shared_ptr<LiveAgreement>> counters_;
};

}  // namespace switchyard::learn
