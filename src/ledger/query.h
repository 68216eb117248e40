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

// ---------------------------------------------------------------------------
// Dashboard queries (the admin endpoints /admin/timeseries, /admin/latency,
// /admin/ledger/tail). "Local" answers: answered_by "student/..." or whose
// provider (the part before '/') is in `local_providers` (owned providers);
// "frontier" answers: answered by anything else. Unanswered requests are
// neither.

// True when `answered_by` ("provider/model") is a local answer (see above).
bool IsLocalAnswer(std::string_view answered_by, const std::vector<std::string>& local_providers);

struct SeriesQuery {
  int64_t since_ms = 0;   // first bucket starts at since_ms rounded down to bucket_ms
  int64_t until_ms = 0;   // exclusive; records at or after it are ignored
  int64_t bucket_ms = 0;  // > 0
  size_t max_keys = 8;    // per breakdown; the rest is folded into "(other)"
  std::vector<std::string> local_providers;
};

struct SeriesBucket {
  int64_t start_ms = 0;
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t local = 0;     // answered locally
  int64_t frontier = 0;  // answered by an API provider
  double cost_usd = 0;
};

// One key's values, aligned with SeriesReport::buckets.
struct KeyedSeries {
  std::string key;
  int64_t requests_total = 0;
  double cost_total_usd = 0;
  std::vector<int64_t> requests;
  std::vector<int64_t> frontier;
  std::vector<double> cost_usd;
};

struct SeriesReport {
  SeriesQuery query;
  int64_t first_bucket_ms = 0;
  std::vector<SeriesBucket> buckets;  // dense, empty buckets included
  // By Record::route and by Record::task (empty key: "(none)"), ordered by
  // requests (desc) then key; at most max_keys plus "(other)".
  std::vector<KeyedSeries> by_route;
  std::vector<KeyedSeries> by_task;
};

// Errors: InvalidArgument "bucket_ms must be > 0" / "until_ms must be after
// since_ms"; store errors.
core::Result<SeriesReport> ComputeSeries(Store& store, const SeriesQuery& query);
// {"bucket_ms":..,"since_ms":..,"until_ms":..,"buckets":[{"start_ms":..,"requests":..,
//  "errors":..,"local":..,"frontier":..,"frontier_share":..,"cost_usd":..}],
//  "by_route":[{"key":..,"requests_total":..,"cost_total_usd":..,"requests":[..],
//  "frontier":[..],"cost_usd":[..]}],"by_task":[..]}
std::string RenderSeriesJson(const SeriesReport& report);

struct LatencyGroup {
  std::string route;  // Record::route ("(none)" when empty)
  std::string where;  // "local" | "api" | "unanswered"
  int64_t requests = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // total_ms, nearest rank
  double first_byte_p50_ms = 0, first_byte_p95_ms = 0;
};

// Records with ts_ms >= since_ms grouped by (route, where), ordered by route
// then where; a group per `where` over all routes comes first with route "*".
core::Result<std::vector<LatencyGroup>> ComputeLatency(
    Store& store, int64_t since_ms, const std::vector<std::string>& local_providers);
// {"since_ms":..,"groups":[{"route":..,"where":..,"requests":..,"p50_ms":..,...}]}
std::string RenderLatencyJson(int64_t since_ms, const std::vector<LatencyGroup>& groups);

// The latest n records, oldest first, with their payloads and PII findings
// (whatever the retention policy kept: bodies are "" otherwise).
core::Result<std::vector<Record>> TailWithBodies(Store& store, size_t n);

// "90s", "30m", "24h", "7d" -> milliseconds.
// Errors: InvalidArgument `--since: expected a duration like 30m, 24h or 7d, got "<text>"`.
core::Result<int64_t> ParseSince(std::string_view text);
// The first unix ms of the window `since` ending at `now_ms`; 0 for "" or
// "all". Errors: those of ParseSince.
core::Result<int64_t> SinceCutoff(std::string_view since, int64_t now_ms);

// 1714564800123 -> "2024-05-01T12:00:00.123Z".
std::string FormatUtcMillis(int64_t unix_ms);

}  // namespace switchyard::ledger
