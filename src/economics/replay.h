// Counterfactual replay (`switchyard replay`): re-prices past traffic — the
// ledger or a trace — under another routing policy.
//
// Policy file (TOML):
//   [policy]
//   kind = "threshold"                    # all_frontier | as_recorded | threshold
//   frontier_model = "openai/gpt-4o-mini" # required for all_frontier and threshold
//   threshold = 0.95                      # threshold only, in [0, 1]; default 0.9
//   name = "stricter"                     # optional label; default = kind
//
// Trace file: JSON Lines, one ledger record per line in the spill-file format
// of ledger/record_json.h (`switchyard` writes it; missing keys keep their
// defaults). A line may carry an extra "label": the teacher's answer for that
// request, which turns expected agreement into measured agreement.
//
// Re-pricing, per record (frontier price = PriceBook::Cost of the record's
// tokens at frontier_model; local = answered_by "student/..." or a local
// provider; unanswered records keep their recorded cost and count nowhere):
//   as_recorded   cost_usd as recorded
//   all_frontier  every answered record costs the frontier price
//   threshold     a local answer with confidence < threshold becomes a frontier
//                 call: cost_usd + frontier price (the student still ran);
//                 an escalated record with confidence >= threshold becomes a
//                 local answer at the mean recorded cost of the local answers;
//                 everything else as recorded
// Agreement with the teacher: frontier answers agree by definition; a local
// answer is expected to agree with its calibrated confidence (expected
// agreement = mean over answers whose expectation is known) and, where the
// trace has a label, agrees when its answer (ExtractLabel of response_body)
// equals the label (measured agreement).
//
// Thread-safety: pure functions. Errors: one line each, listed per function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "economics/cost_model.h"
#include "economics/price_book.h"
#include "ledger/record.h"

namespace switchyard::economics {

enum class PolicyKind { kAllFrontier, kAsRecorded, kThreshold };

// "all_frontier", "as_recorded", "threshold".
std::string_view PolicyKindName(PolicyKind k);

struct ReplayPolicy {
  std::string name;  // default: the kind's name
  PolicyKind kind = PolicyKind::kAsRecorded;
  std::string frontier_model;
  double threshold = 0.9;
};

// Errors (InvalidArgument), each prefixed "policy <source>: ":
//   "invalid TOML at line <l>: <description>"
//   "missing [policy] table"
//   "unknown key policy.<key>"
//   `policy.kind must be one of all_frontier, as_recorded, threshold, got "<v>"`
//   "policy.<key> must be a string" / "policy.threshold must be a number"
//   "policy.threshold must be in [0, 1], got <v>"
//   `policy.frontier_model is required for kind "<kind>"`
core::Result<ReplayPolicy> ParsePolicyToml(std::string_view toml, std::string_view source);
// Reads the file first. Errors: NotFound "policy <path>: cannot read the file",
// then ParsePolicyToml's.
core::Result<ReplayPolicy> LoadPolicyFile(const std::string& path);

struct TraceRecord {
  ledger::Record record;
  std::optional<std::string> label;  // the teacher's answer, lower-cased
};

// Errors (InvalidArgument): "trace <source>:<line>: <ParseRecordJson message>",
// "trace <source>: no records".
core::Result<std::vector<TraceRecord>> ParseTraceJsonl(std::string_view text,
                                                       std::string_view source);
// Errors: NotFound "trace <path>: cannot read the file", then ParseTraceJsonl's.
core::Result<std::vector<TraceRecord>> LoadTraceFile(const std::string& path);

struct ReplayOptions {
  // Providers inside the boundary besides "student".
  std::vector<std::string> local_providers;
};

struct ReplayResult {
  std::string name;
  PolicyKind kind = PolicyKind::kAsRecorded;
  bool is_policy = false;  // the policy the file asked for
  double threshold = 0;    // kind threshold
  int64_t answered = 0;
  int64_t frontier_calls = 0;
  int64_t local_answers = 0;
  int64_t changed = 0;  // records routed differently than recorded
  double spend_usd = 0;
  double spend_per_month_usd = 0;
  double frontier_share = 0;  // frontier_calls / answered
  double delta_vs_recorded_usd = 0;
  std::optional<double> expected_agreement;
  int64_t expected_samples = 0;
  std::optional<double> measured_agreement;
  int64_t measured_samples = 0;
};

struct ReplayReport {
  std::string source;  // "ledger <path>" or "trace <path>"
  int64_t records = 0;
  int64_t first_ts_ms = 0;
  int64_t last_ts_ms = 0;
  double days = 0;             // (last - first) in days, at least 1
  std::string frontier_model;  // matched "provider/model", "" when none
  // as_recorded, then all_frontier (when a frontier model is known), then the
  // threshold policy (when asked for).
  std::vector<ReplayResult> results;
  // The traffic as one workload priced at the frontier (for the chart).
  RequestShape shape;
  double frontier_cost_per_request = 0;
  double requests_per_day = 0;
};

// Errors: NotFound `policy.frontier_model: unknown model "<m>": not in the price
// book (...)`; InvalidArgument "nothing to replay: no records".
core::Result<ReplayReport> Replay(const std::vector<TraceRecord>& records,
                                  const ReplayPolicy& policy, const PriceBook& book,
                                  const ReplayOptions& options, std::string source);

std::string RenderReplayText(const ReplayReport& report);
std::string RenderReplayJson(const ReplayReport& report);

}  // namespace switchyard::economics
