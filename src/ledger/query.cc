#include "ledger/query.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <limits>

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
      unit_ms = 60 * 1000;
      break;
    case 'h':
      unit_ms = 3600 * 1000;
      break;
    case 'd':
      unit_ms = 24 * 3600 * 1000;
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
