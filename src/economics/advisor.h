// Advisor: per-task evidence from the ledger and a build-vs-buy recommendation
// per task and overall (`switchyard advise`). docs/ECONOMICS.md ("Evidence from
// the ledger", "Recommendation rules") defines every figure; in short:
//
//   groups        declared tasks (Record::task); untagged traffic grouped by
//                 template_hash as candidate tasks "template:<hash>" (the top
//                 max_candidates by spend)
//   window        from max(since, first record) to now, at least one day;
//                 "per day" = over that window, "per month" = per day x 30
//   trend         tokens/day of the last 7 days vs the 7 before (needs 14 days)
//   drift         the group's records split at the midpoint of its first and
//                 last timestamp; total-variation distance between the halves
//                 of the template mix, of the input-length mix (half-octave
//                 buckets of input_tokens) and of the label mix; drift = the max
//   labels        the content of a retained chat.completion response_body when
//                 it is a short single line (<= 40 bytes), lower-cased
//   local answers answered_by "student/..." or a provider in local_providers;
//                 coverage = local answers / answered requests
//   agreement     expected agreement = mean calibrated confidence of the
//                 student's answers
//   PII share     requests with non-empty pii_findings ("", "[]", "{}", "null"
//                 count as none)
//   latency       nearest-rank p95 of total_ms, API answers vs local answers
//   teacher price mean cost_usd of the group's API answers (else the
//                 frontier_model's price book price at the group's mean shape)
//   realized      local answers x teacher price - cost_usd of local answers
//
// Thread-safety: Advise() and the accumulator are single-threaded; the Store
// rule of ledger/store.h applies. Errors: see Advise().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "economics/cost_model.h"
#include "economics/crossover.h"
#include "economics/price_book.h"
#include "ledger/record.h"
#include "ledger/store.h"

namespace switchyard::economics {

enum class Recommendation { kNotEnoughData, kKeepOnApi, kHybridStudent, kSelfHost };

// "not_enough_data", "keep_on_api", "hybrid_student", "self_host".
std::string_view RecommendationId(Recommendation r);
// "not enough data", "keep on API", "hybrid with a student", "self-host".
std::string_view RecommendationLabel(Recommendation r);

// Everything the advisor assumes; the lead fills it from config ([advisor]),
// flags override single fields. Defaults and their sources: docs/ECONOMICS.md.
struct AdvisorAssumptions {
  SelfHostingAssumptions self_hosting;
  // Fewer requests than this in the window: "not enough data".
  int64_t min_requests = 100;
  // Requests needed in each half of the window to measure drift.
  int64_t min_window_requests = 20;
  // Largest drift (total-variation distance, 0..1) still called stable.
  double max_drift = 0.2;
  // A running student counts when it answers at least this share...
  double min_student_coverage = 0.2;
  // ...with at least this expected agreement with the teacher.
  double target_agreement = 0.9;
  // Projection for a student not trained yet: share of requests it would answer.
  double expected_student_coverage = 0.6;
  // A label set up to this size is narrow.
  int64_t max_narrow_labels = 20;
  // A new investment (a student to train, self-hosting) must save at least
  // this much per month to be recommended.
  double min_monthly_saving_usd = 10;
  // "provider/model" whose price stands for an avoided teacher call when a
  // group has no API answers to measure it ("" = none).
  std::string frontier_model;
  // Candidate tasks (untagged template groups) reported, by spend.
  size_t max_candidates = 10;
};

// Ok or InvalidArgument naming the field (self-hosting messages from
// ValidateSelfHosting; e.g. "max_drift must be in [0, 1], got 2").
core::Status ValidateAdvisorAssumptions(const AdvisorAssumptions& a);

struct AdvisorOptions {
  int64_t now_ms = 0;    // unix ms, from an injected clock
  int64_t since_ms = 0;  // records with ts_ms >= since_ms; 0 = all
  AdvisorAssumptions assumptions;
  // Providers inside the boundary besides "student" (owned providers in config).
  std::vector<std::string> local_providers;
  // Task kinds from config ([[tasks]] name -> classify | extract | generate).
  std::map<std::string, std::string> task_kinds;
};

struct LabelCount {
  std::string label;
  int64_t count = 0;
};

struct TaskReport {
  std::string name;           // task, or "template:<hash>" for a candidate
  bool candidate = false;     // untagged traffic grouped by template
  std::string template_hash;  // candidates only
  std::string kind;           // from config; "" when unknown
  // Volume.
  int64_t requests = 0;
  int64_t errors = 0;    // status >= 400 or error_code set
  int64_t answered = 0;  // answered_by set
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  double spend_usd = 0;
  int64_t first_ts_ms = 0;
  int64_t last_ts_ms = 0;
  double requests_per_day = 0;
  double tokens_per_day = 0;  // input + output
  double spend_per_month_usd = 0;
  // Trend (known when the window spans 14 days).
  bool trend_known = false;
  double this_week_tokens_per_day = 0;
  double last_week_tokens_per_day = 0;
  std::optional<double> week_over_week;  // this / last - 1; unset when last week was empty
  // Stability.
  bool drift_known = false;
  double template_drift = 0;
  double length_drift = 0;
  std::optional<double> label_drift;
  double drift = 0;  // max of the known ones
  // Narrowness.
  int64_t labelled = 0;
  int64_t distinct_labels = 0;
  double label_entropy_bits = 0;
  std::vector<LabelCount> top_labels;  // up to 10, by count
  bool narrow = false;
  std::string narrow_because;  // one clause with the numbers
  // Students and other local answers.
  int64_t local_answers = 0;
  int64_t student_answers = 0;
  int64_t escalations = 0;
  double coverage = 0;  // local_answers / answered
  std::optional<double> expected_agreement;
  int64_t confidence_samples = 0;
  // Sensitivity.
  int64_t pii_requests = 0;
  double pii_share = 0;
  // Latency.
  int64_t api_answers = 0;
  double api_p95_ms = 0;
  double local_p95_ms = 0;
  // Money.
  std::string teacher;  // "provider/model" the API answers came from
  bool teacher_priced = false;
  double teacher_cost_per_request = 0;
  double local_cost_usd = 0;
  double realized_saving_usd = 0;
  double realized_saving_per_month_usd = 0;
  RequestShape shape;             // mean tokens per answered request
  Crossover crossover;            // valid when teacher_priced
  VolumeComparison self_hosting;  // at requests_per_day, when teacher_priced
  // Decision.
  Recommendation recommendation = Recommendation::kNotEnoughData;
  std::vector<std::string> reasons;  // decision first, then evidence
  double projected_monthly_saving_usd = 0;
};

struct AdvisorReport {
  int64_t now_ms = 0;
  int64_t since_ms = 0;
  int64_t window_start_ms = 0;  // max(since, first record)
  double days = 0;              // (now - window_start) in days, at least 1
  AdvisorAssumptions assumptions;
  int64_t requests = 0;
  double spend_usd = 0;
  double realized_saving_usd = 0;
  double tokens_per_day = 0;
  std::vector<TaskReport> tasks;  // declared tasks by spend, then candidates by spend
  Recommendation overall = Recommendation::kNotEnoughData;
  std::vector<std::string> overall_reasons;
  double projected_monthly_saving_usd = 0;
  // All traffic as one workload (when its API answers price it).
  bool overall_priced = false;
  RequestShape overall_shape;
  double overall_api_cost_per_request = 0;
  Crossover overall_crossover;
  VolumeComparison overall_self_hosting;
};

// Folds records (in any order) into a report. Keeps a compact row per record.
class AdvisorAccumulator {
 public:
  AdvisorAccumulator(const PriceBook& book, AdvisorOptions options);
  ~AdvisorAccumulator();
  AdvisorAccumulator(const AdvisorAccumulator&) = delete;
  AdvisorAccumulator& operator=(const AdvisorAccumulator&) = delete;

  void Add(const ledger::Record& r);
  // Errors: NotFound "the ledger has no records since <UTC time>: nothing to
  // advise on" (or "the ledger has no records: ..." when since is 0).
  core::Result<AdvisorReport> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Validates the assumptions, scans `store` (bodies included, for labels and
// PII findings) and folds it. Errors: ValidateAdvisorAssumptions messages;
// the store's errors; Finish()'s empty-ledger error.
core::Result<AdvisorReport> Advise(ledger::Store& store, const PriceBook& book,
                                   const AdvisorOptions& options);

// The label of a response body ("" when none), as described above.
std::string ExtractLabel(std::string_view response_body);

// A table (one line per task), then each task's recommendation with its
// reasons, then OVERALL. Ends with '\n'.
std::string RenderAdvisorText(const AdvisorReport& report);
// Every figure of the report as one JSON object.
std::string RenderAdvisorJson(const AdvisorReport& report);

}  // namespace switchyard::economics
