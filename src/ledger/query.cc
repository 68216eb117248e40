#include "ledger/query.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <utility>

#include "core/json_writer.h"

namespace switchyard::ledger {
namespace {

constexpr std::string_view kNone = "(none)";

bool IsError(const Record& r) {
  return r.status >= 400 || !r.error_code.empty();
}

void AddTo(GroupStats& g, std::vector<double>& latencies, const Record& r) {
  ++g.requests;
  if (IsError(r)) ++g.errors;
  g.input_tokens += r.input_tokens;
  g.cached_input_tokens += r.cached_input_tokens;
  g.output_tokens += r.output_tokens;
  g.cost_usd += r.cost_usd;
  latencies.push_back(r.total_ms);
}

void Finalize(GroupStats& g, std::vector<double>& latencies) {
  g.error_rate =
      g.requests > 0 ? static_cast<double>(g.errors) / static_cast<double>(g.requests) : 0.0;
  g.p50_ms = NearestRankPercentile(latencies, 50);
  g.p95_ms = NearestRankPercentile(latencies, 95);
}

// Integral values as integers ("200", not "2e+02"); others shortest round-trip.
void Number(core::JsonWriter& w, std::string_view key, double v) {
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53
  w.Key(key);
  if (v == std::floor(v) && std::fabs(v) < kMaxExact) {
    w.Int(static_cast<int64_t>(v));
  } else {
    w.Double(v);
  }
}

void WriteGroup(core::JsonWriter& w, const GroupStats& g) {
  w.BeginObject();
  w.Field("key", g.key);
  w.Field("requests", g.requests);
  w.Field("errors", g.errors);
  Number(w, "error_rate", g.error_rate);
  w.Field("input_tokens", g.input_tokens);
  w.Field("cached_input_tokens", g.cached_input_tokens);
  w.Field("output_tokens", g.output_tokens);
  Number(w, "cost_usd", g.cost_usd);
  Number(w, "p50_ms", g.p50_ms);
  Number(w, "p95_ms", g.p95_ms);
  w.EndObject();
}

// A text table whose columns are as wide as their widest cell; the first
// column is left-aligned, the others right-aligned.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) line += "  ";
      if (c == 0) {
        line += fmt::format("{:<{}}", row[c], width[c]);
      } else {
        line += fmt::format("{:>{}}", row[c], width[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::vector<std::string> GroupRow(const GroupStats& g) {
  return {g.key,
          std::to_string(g.requests),
          std::to_string(g.errors),
          fmt::format("{:.1f}%", g.error_rate * 100.0),
          std::to_string(g.input_tokens),
          std::to_string(g.cached_input_tokens),
          std::to_string(g.output_tokens),
          fmt::format("{:.6f}", g.cost_usd),
          fmt::format("{:.1f}", g.p50_ms),
          fmt::format("{:.1f}", g.p95_ms)};
}

std::string FormatMs(double ms) {
  return fmt::format("{:.0f}ms", ms);
}

}  // namespace

double NearestRankPercentile(std::vector<double>& values, int p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  size_t rank = (static_cast<size_t>(p) * n + 99) / 100;  // ceil(p/100 * n)
  rank = std::clamp<size_t>(rank, 1, n);
  return values[rank - 1];
}

core::Status ValidateGroupBy(std::string_view by) {
  if (by == "model" || by == "task" || by == "tenant" || by == "template") {
    return core::Status::Ok();
  }
  return core::InvalidArgument("--by: expected one of model, task, tenant, template, got \"" +
                               std::string(by) + "\"");
}

StatsAccumulator::StatsAccumulator(StatsQuery query) : query_(std::move(query)) {
  total_.stats.key = "total";
}

std::string StatsAccumulator::KeyFor(const Record& r) const {
  std::string key;
  if (query_.by == "task") {
    key = r.task;
  } else if (query_.by == "tenant") {
    key = r.tenant;
  } else if (query_.by == "template") {
    key = r.template_hash;
  } else if (!r.provider.empty() && !r.model.empty()) {
    key = r.provider + "/" + r.model;
  } else {
    key = r.model;
  }
  if (key.empty()) key = kNone;
  return key;
}

void StatsAccumulator::Add(const Record& r) {
  AddTo(total_.stats, total_.latencies, r);
  std::string key = KeyFor(r);
  auto [it, inserted] = groups_.try_emplace(key);
  if (inserted) it->second.stats.key = std::move(key);
  AddTo(it->second.stats, it->second.latencies, r);

  if (r.template_hash.empty()) return;
  auto [tit, tinserted] = templates_.try_emplace(r.template_hash);
  Template& t = tit->second;
  if (tinserted) t.stats.hash = r.template_hash;
  ++t.stats.requests;
  t.stats.cost_usd += r.cost_usd;
  if (tinserted || r.ts_ms > t.example_ts || (r.ts_ms == t.example_ts && r.id > t.example_id)) {
    t.example_ts = r.ts_ms;
    t.example_id = r.id;
    t.stats.example_route = r.route;
    t.stats.example_task = r.task;
  }
}

StatsReport StatsAccumulator::Finish() {
  StatsReport report;
  report.query = query_;
  Finalize(total_.stats, total_.latencies);
  report.total = total_.stats;
  for (auto& [key, g] : groups_) {
    Finalize(g.stats, g.latencies);
    report.groups.push_back(std::move(g.stats));
  }
  std::sort(report.groups.begin(), report.groups.end(),
            [](const GroupStats& a, const GroupStats& b) {
              if (a.cost_usd != b.cost_usd) return a.cost_usd > b.cost_usd;
              if (a.requests != b.requests) return a.requests > b.requests;
              return a.key < b.key;
            });
  for (auto& [hash, t] : templates_) report.top_templates.push_back(std::move(t.stats));
  std::sort(report.top_templates.begin(), report.top_templates.end(),
            [](const TemplateStats& a, const TemplateStats& b) {
              if (a.cost_usd != b.cost_usd) return a.cost_usd > b.cost_usd;
              if (a.requests != b.requests) return a.requests > b.requests;
              return a.hash < b.hash;
            });
  if (report.top_templates.size() > kTopTemplates) report.top_templates.resize(kTopTemplates);
  groups_.clear();
  templates_.clear();
  return report;
}

core::Result<StatsReport> ComputeStats(Store& store, const StatsQuery& query) {
  if (core::Status st = ValidateGroupBy(query.by); !st.ok()) return st;
  StatsAccumulator acc(query);
  core::Status st = store.Scan(ScanOptions{.since_ms = query.since_ms}, [&acc](Record& r) {
    acc.Add(r);
    return true;
  });
  if (!st.ok()) return st;
  return acc.Finish();
}

std::string RenderStatsText(const StatsReport& report) {
  std::string out;
  const std::string since =
      report.query.since_ms > 0 ? "since " + FormatUtcMillis(report.query.since_ms) : "all time";
  out += fmt::format("Ledger stats, {}, by {}\n\n", since, report.query.by);
  std::string first = report.query.by;
  std::transform(first.begin(), first.end(), first.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({first, "REQUESTS", "ERRORS", "ERROR%", "INPUT", "CACHED", "OUTPUT", "COST_USD",
                  "P50_MS", "P95_MS"});
  for (const GroupStats& g : report.groups) rows.push_back(GroupRow(g));
  GroupStats total = report.total;
  total.key = "TOTAL";
  rows.push_back(GroupRow(total));
  out += RenderTable(rows);

  out += "\nTop prompt templates by spend\n";
  if (report.top_templates.empty()) {
    out += "(no templated requests)\n";
    return out;
  }
  std::vector<std::vector<std::string>> trows;
  trows.push_back({"TEMPLATE", "REQUESTS", "COST_USD", "ROUTE", "TASK"});
  for (const TemplateStats& t : report.top_templates) {
    trows.push_back({t.hash, std::to_string(t.requests), fmt::format("{:.6f}", t.cost_usd),
                     t.example_route.empty() ? std::string(kNone) : t.example_route,
                     t.example_task.empty() ? std::string(kNone) : t.example_task});
  }
  out += RenderTable(trows);
  return out;
}

std::string RenderStatsJson(const StatsReport& report) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("since_ms", report.query.since_ms);
  w.Field("by", report.query.by);
  w.Key("total");
  WriteGroup(w, report.total);
  w.Key("groups").BeginArray();
  for (const GroupStats& g : report.groups) WriteGroup(w, g);
  w.EndArray();
  w.Key("top_templates").BeginArray();
  for (const TemplateStats& t : report.top_templates) {
    w.BeginObject();
    w.Field("hash", t.hash);
    w.Field("requests", t.requests);
    Number(w, "cost_usd", t.cost_usd);
    w.Field("example_route", t.example_route);
    w.Field("example_task", t.example_task);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

core::Result<std::vector<Record>> Tail(Store& store, size_t n) {
  return store.Latest(n);
}

std::string RenderTailLine(const Record& r) {
  std::string line = FormatUtcMillis(r.ts_ms);
  line += ' ';
  line += r.id;
  line += ' ';
  line += r.tenant.empty() ? "-" : r.tenant;
  line += '/';
  line += r.task.empty() ? "-" : r.task;
  line += ' ';
  line += r.route.empty() ? "-" : r.route;
  line += " -> ";
  line += r.answered_by.empty() ? "-" : r.answered_by;
  line += fmt::format(" {} in={} cached={} out={} ${:.6f} first_byte={} total={}", r.status,
                      r.input_tokens, r.cached_input_tokens, r.output_tokens, r.cost_usd,
                      FormatMs(r.first_byte_ms), FormatMs(r.total_ms));
  if (r.attempts > 1) line += fmt::format(" attempts={}", r.attempts);
  if (r.stream) line += " stream";
  if (r.usage_estimated) line += " estimated";
  if (r.escalated) line += " escalated";
  if (r.confidence) line += fmt::format(" confidence={:.2f}", *r.confidence);
  if (!r.error_code.empty()) line += " error=" + r.error_code;
  return line;
}

std::string RenderTail(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    out += RenderTailLine(r);
    out += '\n';
  }
  return out;
}

bool IsLocalAnswer(std::string_view answered_by, const std::vector<std::string>& local_providers) {
  if (answered_by.empty()) return false;
  const std::string_view provider = answered_by.substr(0, answered_by.find('/'));
  if (provider == "student") return true;
  return std::find(local_providers.begin(), local_providers.end(), provider) !=
         local_providers.end();
}

namespace {

constexpr std::string_view kOther = "(other)";

// Top `max_keys` by requests (then key), the rest summed into "(other)".
std::vector<KeyedSeries> TopKeys(std::unordered_map<std::string, KeyedSeries>& keys,
                                 size_t max_keys, size_t buckets) {
  std::vector<KeyedSeries> all;
  all.reserve(keys.size());
  for (auto& [k, v] : keys) all.push_back(std::move(v));
  std::sort(all.begin(), all.end(), [](const KeyedSeries& a, const KeyedSeries& b) {
    if (a.requests_total != b.requests_total) return a.requests_total > b.requests_total;
    return a.key < b.key;
  });
  if (all.size() <= max_keys) return all;
  KeyedSeries other;
  other.key = kOther;
  other.requests.assign(buckets, 0);
  other.frontier.assign(buckets, 0);
  other.cost_usd.assign(buckets, 0);
  for (size_t i = max_keys; i < all.size(); ++i) {
    other.requests_total += all[i].requests_total;
    other.cost_total_usd += all[i].cost_total_usd;
    for (size_t b = 0; b < buckets; ++b) {
      other.requests[b] += all[i].requests[b];
      other.frontier[b] += all[i].frontier[b];
      other.cost_usd[b] += all[i].cost_usd[b];
    }
  }
  all.resize(max_keys);
  all.push_back(std::move(other));
  return all;
}

void WriteKeyed(core::JsonWriter& w, const std::vector<KeyedSeries>& list) {
  w.BeginArray();
  for (const KeyedSeries& k : list) {
    w.BeginObject();
    w.Field("key", k.key);
    w.Field("requests_total", k.requests_total);
    Number(w, "cost_total_usd", k.cost_total_usd);
    w.Key("requests").BeginArray();
    for (int64_t v : k.requests) w.Int(v);
    w.EndArray();
    w.Key("frontier").BeginArray();
    for (int64_t v : k.frontier) w.Int(v);
    w.EndArray();
    w.Key("cost_usd").BeginArray();
    for (double v : k.cost_usd) {
      if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
        w.Int(static_cast<int64_t>(v));
      } else {
        w.Double(v);
      }
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

core::Result<SeriesReport> ComputeSeries(Store& store, const SeriesQuery& query) {
  if (query.bucket_ms <= 0) return core::InvalidArgument("bucket_ms must be > 0");
  if (query.until_ms <= query.since_ms) {
    return core::InvalidArgument("until_ms must be after since_ms");
  }
  SeriesReport report;
  report.query = query;
  const int64_t first =
      query.since_ms - (((query.since_ms % query.bucket_ms) + query.bucket_ms) % query.bucket_ms);
  report.first_bucket_ms = first;
  const size_t n =
      static_cast<size_t>((query.until_ms - first + query.bucket_ms - 1) / query.bucket_ms);
  report.buckets.resize(n);
  for (size_t i = 0; i < n; ++i) {
    report.buckets[i].start_ms = first + static_cast<int64_t>(i) * query.bucket_ms;
  }
  std::unordered_map<std::string, KeyedSeries> routes, tasks;
  auto add_key = [n](std::unordered_map<std::string, KeyedSeries>& m, const std::string& raw,
                     size_t b, bool frontier, double cost) {
    const std::string key = raw.empty() ? std::string(kNone) : raw;
    auto [it, inserted] = m.try_emplace(key);
    KeyedSeries& k = it->second;
    if (inserted) {
      k.key = key;
      k.requests.assign(n, 0);
      k.frontier.assign(n, 0);
      k.cost_usd.assign(n, 0);
    }
    ++k.requests_total;
    k.cost_total_usd += cost;
    ++k.requests[b];
    if (frontier) ++k.frontier[b];
    k.cost_usd[b] += cost;
  };
  core::Status st = store.Scan(ScanOptions{.since_ms = first}, [&](Record& r) {
    if (r.ts_ms >= query.until_ms) return false;
    const size_t b = static_cast<size_t>((r.ts_ms - first) / query.bucket_ms);
    if (b >= n) return true;
    SeriesBucket& bucket = report.buckets[b];
    ++bucket.requests;
    if (IsError(r)) ++bucket.errors;
    bool frontier = false;
    if (!r.answered_by.empty()) {
      if (IsLocalAnswer(r.answered_by, query.local_providers)) {
        ++bucket.local;
      } else {
        ++bucket.frontier;
        frontier = true;
      }
    }
    bucket.cost_usd += r.cost_usd;
    add_key(routes, r.route, b, frontier, r.cost_usd);
    add_key(tasks, r.task, b, frontier, r.cost_usd);
    return true;
  });
  if (!st.ok()) return st;
  report.by_route = TopKeys(routes, query.max_keys, n);
  report.by_task = TopKeys(tasks, query.max_keys, n);
  return report;
}

std::string RenderSeriesJson(const SeriesReport& report) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("bucket_ms", report.query.bucket_ms);
  w.Field("since_ms", report.query.since_ms);
  w.Field("until_ms", report.query.until_ms);
  w.Key("buckets").BeginArray();
  for (const SeriesBucket& b : report.buckets) {
    w.BeginObject();
    w.Field("start_ms", b.start_ms);
    w.Field("requests", b.requests);
    w.Field("errors", b.errors);
    w.Field("local", b.local);
    w.Field("frontier", b.frontier);
    const int64_t answered = b.local + b.frontier;
    Number(w, "frontier_share",
           answered > 0 ? static_cast<double>(b.frontier) / static_cast<double>(answered) : 0.0);
    Number(w, "cost_usd", b.cost_usd);
    w.EndObject();
  }
  w.EndArray();
  w.Key("by_route");
  WriteKeyed(w, report.by_route);
  w.Key("by_task");
  WriteKeyed(w, report.by_task);
  w.EndObject();
  return out;
}

core::Result<std::vector<LatencyGroup>> ComputeLatency(
    Store& store, int64_t since_ms, const std::vector<std::string>& local_providers) {
  struct Acc {
    LatencyGroup group;
    std::vector<double> total, first_byte;
  };
  std::map<std::pair<std::string, std::string>, Acc> groups;
  auto add = [&](const std::string& route, const std::string& where, const Record& r) {
    Acc& a = groups[{route, where}];
    a.group.route = route;
    a.group.where = where;
    ++a.group.requests;
    a.total.push_back(r.total_ms);
    if (r.first_byte_ms > 0) a.first_byte.push_back(r.first_byte_ms);
  };
  core::Status st = store.Scan(ScanOptions{.since_ms = since_ms}, [&](Record& r) {
    const std::string where = r.answered_by.empty()                           ? "unanswered"
                              : IsLocalAnswer(r.answered_by, local_providers) ? "local"
                                                                              : "api";
    add("*", where, r);
    add(r.route.empty() ? std::string(kNone) : r.route, where, r);
    return true;
  });
  if (!st.ok()) return st;
  std::vector<LatencyGroup> out;
  for (auto& [key, a] : groups) {
    a.group.p50_ms = NearestRankPercentile(a.total, 50);
    a.group.p95_ms = NearestRankPercentile(a.total, 95);
    a.group.p99_ms = NearestRankPercentile(a.total, 99);
    a.group.first_byte_p50_ms = NearestRankPercentile(a.first_byte, 50);
    a.group.first_byte_p95_ms = NearestRankPercentile(a.first_byte, 95);
    out.push_back(std::move(a.group));
  }
  // "*" sorts before letters; keep the map order (route, then where).
  return out;
}

std::string RenderLatencyJson(int64_t since_ms, const std::vector<LatencyGroup>& groups) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("since_ms", since_ms);
  w.Key("groups").BeginArray();
  for (const LatencyGroup& g : groups) {
    w.BeginObject();
    w.Field("route", g.route);
    w.Field("where", g.where);
    w.Field("requests", g.requests);
    Number(w, "p50_ms", g.p50_ms);
    Number(w, "p95_ms", g.p95_ms);
    Number(w, "p99_ms", g.p99_ms);
    Number(w, "first_byte_p50_ms", g.first_byte_p50_ms);
    Number(w, "first_byte_p95_ms", g.first_byte_p95_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

core::Result<std::vector<Record>> TailWithBodies(Store& store, size_t n) {
  auto latest = store.Latest(n);
  if (!latest.ok() || latest->empty()) return latest;
  std::unordered_map<std::string, size_t> index;
  int64_t since = latest->front().ts_ms;
  for (size_t i = 0; i < latest->size(); ++i) {
    index.emplace((*latest)[i].id, i);
    since = std::min(since, (*latest)[i].ts_ms);
  }
  core::Status st =
      store.Scan(ScanOptions{.since_ms = since, .include_bodies = true}, [&](Record& r) {
        auto it = index.find(r.id);
        if (it != index.end()) (*latest)[it->second] = std::move(r);
        return true;
      });
  if (!st.ok()) return st;
  return latest;
}

core::Result<int64_t> SinceCutoff(std::string_view since, int64_t now_ms) {
  if (since.empty() || since == "all") return int64_t{0};
  auto window = ParseSince(since);
  if (!window.ok()) return window.take_status();
  return now_ms - *window;
}

core::Result<int64_t> ParseSince(std::string_view text) {
  auto bad = [&] {
    return core::InvalidArgument("--since: expected a duration like 30m, 24h or 7d, got \"" +
                                 std::string(text) + "\"");
  };
  if (text.size() < 2) return bad();
  int64_t unit_ms = 0;
  switch (text.back()) {
    case 's':
      unit_ms = 1000;
      break;
    case 'm':
      unit_ms = int64_t{60} * 1000;
      break;
    case 'h':
      unit_ms = int64_t{3600} * 1000;
      break;
    case 'd':
      unit_ms = int64_t{24} * 3600 * 1000;
      break;
    default:
      return bad();
  }
  const std::string_view digits = text.substr(0, text.size() - 1);
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad();
    const int64_t d = c - '0';
    if (n > (std::numeric_limits<int64_t>::max() / unit_ms - d) / 10) return bad();
    n = n * 10 + d;
  }
  if (n == 0) return bad();
  return n * unit_ms;
}

std::string FormatUtcMillis(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000;
  int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace switchyard::ledger
