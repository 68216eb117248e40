// Ledger analytics: what `switchyard ledger stats` and `ledger tail` print,
// and what the admin endpoint serves as JSON.
//
//   StatsQuery q{.since_ms = now_ms - *ParseSince("24h"), .by = "model"};
//   auto report = ComputeStats(store, q);       // one scan, ts-ordered
//   std::cout << RenderStatsText(*report);      // or RenderStatsJson(*report)
//
// Definitions: a request is an error when status >= 400 or error_code is set;
// error_rate = errors / requests; p50_ms / p95_ms are the exact nearest-rank
// percentiles of total_ms over every request of the group (errors included);
// group keys: model -> "provider/model" of the last attempt, task, tenant,
// template -> template_hash; an empty key is shown as "(none)". Groups are
// ordered by cost (desc), then requests (desc), then key. Top templates: the 10
// template hashes with the highest spend (ties: more requests, then hash),
// each with the route and task of its most recent request.
//
// Threading: the functions are stateless; the Store rule of store.h applies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "ledger/record.h"
#include "ledger/store.h"

namespace switchyard::ledger {

struct StatsQuery {
  int64_t since_ms = 0;      // records with ts_ms >= since_ms (unix ms); 0 = all
  std::string by = "model";  // model | task | tenant | template
};

struct GroupStats {
  std::string key;
  int64_t requests = 0;
  int64_t errors = 0;
  double error_rate = 0;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;
  double p50_ms = 0;
  double p95_ms = 0;
};

struct TemplateStats {
  std::string hash;
  int64_t requests = 0;
  double cost_usd = 0;
  std::string example_route;  // of the template's most recent request
  std::string example_task;
};

struct StatsReport {
  StatsQuery query;
  GroupStats total;  // key "total"
  std::vector<GroupStats> groups;
  std::vector<TemplateStats> top_templates;  // at most kTopTemplates
};

inline constexpr size_t kTopTemplates = 10;

// Folds records into a report; ComputeStats() feeds it from a Store.
class StatsAccumulator {
 public:
  explicit StatsAccumulator(StatsQuery query);
  void Add(const Record& r);
  StatsReport Finish();

 private:
  struct Group {
    GroupStats stats;
    std::vector<double> latencies;
  };
  struct Template {
    TemplateStats stats;
    int64_t example_ts = 0;
    std::string example_id;
  };
  std::string KeyFor(const Record& r) const;

  StatsQuery query_;
  Group total_;
  std::unordered_map<std::string, Group> groups_;
  std::unordered_map<std::string, Template> templates_;
};

// Errors: InvalidArgument
//   `--by: expected one of model, task, tenant, template, got "<by>"`;
// store errors as returned by Store::Scan().
core::Result<StatsReport> ComputeStats(Store& store, const StatsQuery& query);
core::Status ValidateGroupBy(std::string_view by);

// Nearest-rank percentile (p in 1..100) of `values`, which it sorts; 0 if empty.
double NearestRankPercentile(std::vector<double>& values, int p);

// A fixed-width table: header line, one line per group, a TOTAL line, then the
// top templates. Ends with '\n'.
std::string RenderStatsText(const StatsReport& report);
// {"since_ms":..,"by":..,"total":{..},"groups":[..],"top_templates":[..]}
std::string RenderStatsJson(const StatsReport& report);

// The latest n records, oldest first.
core::Result<std::vector<Record>> Tail(Store& store, size_t n);
// One line, no trailing newline, e.g.
// 2024-05-01T12:00:00.123Z req-1 acme/triage default -> openai/gpt-4o-mini 200
//   in=1200 cached=0 out=35 $0.000201 first_byte=210ms total=480ms
std::string RenderTailLine(const Record& r);
// One line per record, each ending with '\n'.
std::string RenderTail(const std::vector<Record>& records);

// "90s", "30m", "24h", "7d" -> milliseconds.
// Errors: InvalidArgument `--since: expected a duration like 30m, 24h or 7d, got "<text>"`.
core::Result<int64_t> ParseSince(std::string_view text);

// 1714564800123 -> "2024-05-01T12:00:00.123Z".
std::string FormatUtcMillis(int64_t unix_ms);

}  // namespace switchyard::ledger
