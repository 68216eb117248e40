#include "economics/replay.h"

#include <simdjson.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/json_writer.h"
#include "economics/advisor.h"
#include "ledger/query.h"
#include "ledger/record_json.h"

namespace switchyard::economics {
namespace {

constexpr double kDayMs = 86'400'000;

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

core::Result<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return core::NotFound(std::string(what) + " " + path + ": cannot read the file (" +
                          std::error_code(errno, std::generic_category()).message() + ")");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsLocal(const std::string& answered_by, const std::vector<std::string>& local_providers) {
  const std::string_view provider = std::string_view(answered_by).substr(0, answered_by.find('/'));
  if (provider == "student") return true;
  return std::find(local_providers.begin(), local_providers.end(), provider) !=
         local_providers.end();
}

}  // namespace

std::string_view PolicyKindName(PolicyKind k) {
  switch (k) {
    case PolicyKind::kAllFrontier:
      return "all_frontier";
    case PolicyKind::kAsRecorded:
      return "as_recorded";
    case PolicyKind::kThreshold:
      return "threshold";
  }
  return "as_recorded";
}

core::Result<ReplayPolicy> ParsePolicyToml(std::string_view toml_text, std::string_view source) {
  const std::string prefix = "policy " + std::string(source) + ": ";
  auto bad = [&](const std::string& what) { return core::InvalidArgument(prefix + what); };
  try {
    toml::table root;
    try {
      root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
      std::string description(e.description());
      std::replace(description.begin(), description.end(), '\n', ' ');
      return bad("invalid TOML at line " + std::to_string(e.source().begin.line) + ": " +
                 description);
    }
    const toml::table* table = root["policy"].as_table();
    if (table == nullptr) return bad("missing [policy] table");
    ReplayPolicy p;
    std::string kind;
    bool have_kind = false;
    for (const auto& [key, node] : *table) {
      const std::string k(key.str());
      if (k == "kind" || k == "frontier_model" || k == "name") {
        const auto* s = node.as_string();
        if (s == nullptr) return bad("policy." + k + " must be a string");
        if (k == "kind") {
          kind = s->get();
          have_kind = true;
        } else if (k == "frontier_model") {
          p.frontier_model = s->get();
        } else {
          p.name = s->get();
        }
      } else if (k == "threshold") {
        if (!node.is_number()) return bad("policy.threshold must be a number");
        p.threshold = node.value<double>().value_or(0);
      } else {
        return bad("unknown key policy." + k);
      }
    }
    if (!have_kind || kind == "as_recorded") {
      p.kind = PolicyKind::kAsRecorded;
      kind = "as_recorded";
    } else if (kind == "all_frontier") {
      p.kind = PolicyKind::kAllFrontier;
    } else if (kind == "threshold") {
      p.kind = PolicyKind::kThreshold;
    } else {
      return bad("policy.kind must be one of all_frontier, as_recorded, threshold, got \"" + kind +
                 "\"");
    }
    if (!(p.threshold >= 0 && p.threshold <= 1)) {
      return bad("policy.threshold must be in [0, 1], got " + FormatNumber(p.threshold));
    }
    if (p.kind != PolicyKind::kAsRecorded && p.frontier_model.empty()) {
      return bad("policy.frontier_model is required for kind \"" + kind + "\"");
    }
    if (p.name.empty()) p.name = kind;
    return p;
  } catch (const std::exception& e) {
    return bad(std::string("unexpected error: ") + e.what());
  }
}

core::Result<ReplayPolicy> LoadPolicyFile(const std::string& path) {
  auto text = ReadWholeFile(path, "policy");
  if (!text.ok()) return text.take_status();
  return ParsePolicyToml(*text, path);
}

core::Result<std::vector<TraceRecord>> ParseTraceJsonl(std::string_view text,
                                                       std::string_view source) {
  std::vector<TraceRecord> out;
  simdjson::dom::parser parser;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) {
      if (end == text.size()) break;
      continue;
    }
    auto rec = ledger::ParseRecordJson(line);
    if (!rec.ok()) {
      return core::InvalidArgument("trace " + std::string(source) + ":" + std::to_string(line_no) +
                                   ": " + rec.status().message());
    }
    TraceRecord tr;
    tr.record = std::move(*rec);
    simdjson::padded_string padded(line);
    simdjson::dom::element root;
    std::string_view label;
    if (parser.parse(padded).get(root) == simdjson::SUCCESS &&
        root["label"].get(label) == simdjson::SUCCESS) {
      std::string l(label);
      std::transform(l.begin(), l.end(), l.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const size_t lb = l.find_first_not_of(" \t\r\n");
      const size_t le = l.find_last_not_of(" \t\r\n");
      if (lb != std::string::npos) tr.label = l.substr(lb, le - lb + 1);
    }
    out.push_back(std::move(tr));
    if (end == text.size()) break;
  }
  if (out.empty()) return core::InvalidArgument("trace " + std::string(source) + ": no records");
  return out;
}

core::Result<std::vector<TraceRecord>> LoadTraceFile(const std::string& path) {
  auto text = ReadWholeFile(path, "trace");
  if (!text.ok()) return text.take_status();
  return ParseTraceJsonl(*text, path);
}

namespace {

// Accumulates one policy's figures.
struct Tally {
  ReplayResult r;
  double expected_sum = 0;
  int64_t measured_agree = 0;

  void Answer(bool frontier, double cost, std::optional<double> expectation,
              std::optional<bool> agrees) {
    ++r.answered;
    if (frontier) {
      ++r.frontier_calls;
    } else {
      ++r.local_answers;
    }
    r.spend_usd += cost;
    if (expectation) {
      expected_sum += *expectation;
      ++r.expected_samples;
    }
    if (agrees) {
      ++r.measured_samples;
      if (*agrees) ++measured_agree;
    }
  }

  ReplayResult Finish(double days, double recorded_spend) {
    r.frontier_share = r.answered > 0
                           ? static_cast<double>(r.frontier_calls) / static_cast<double>(r.answered)
                           : 0;
    r.spend_per_month_usd = r.spend_usd / days * kDaysPerMonth;
    r.delta_vs_recorded_usd = r.spend_usd - recorded_spend;
    if (r.expected_samples > 0)
      r.expected_agreement = expected_sum / static_cast<double>(r.expected_samples);
    if (r.measured_samples > 0) {
      r.measured_agreement =
          static_cast<double>(measured_agree) / static_cast<double>(r.measured_samples);
    }
    return r;
  }
};

}  // namespace

core::Result<ReplayReport> Replay(const std::vector<TraceRecord>& records,
                                  const ReplayPolicy& policy, const PriceBook& book,
                                  const ReplayOptions& options, std::string source) {
  if (records.empty()) return core::InvalidArgument("nothing to replay: no records");
  ReplayReport report;
  report.source = std::move(source);
  std::string frontier;
  if (!policy.frontier_model.empty()) {
    if (book.Find("", policy.frontier_model) == nullptr) {
      return core::NotFound("policy.frontier_model: unknown model \"" + policy.frontier_model +
                            "\": not in the price book (add it under [[prices]] in the config)");
    }
    frontier = policy.frontier_model;
  }
  auto frontier_cost = [&](const ledger::Record& r) {
    core::Usage u;
    u.prompt_tokens = r.input_tokens;
    u.cached_prompt_tokens = r.cached_input_tokens;
    u.cache_write_tokens = r.cache_write_tokens;
    u.completion_tokens = r.output_tokens;
    u.present = true;
    return book.Cost("", frontier, u);
  };

  report.records = static_cast<int64_t>(records.size());
  report.first_ts_ms = records.front().record.ts_ms;
  report.last_ts_ms = records.front().record.ts_ms;
  double local_cost_sum = 0;
  int64_t local_count = 0;
  double in_sum = 0, cached_sum = 0, out_sum = 0;
  int64_t answered = 0;
  for (const TraceRecord& tr : records) {
    const ledger::Record& r = tr.record;
    report.first_ts_ms = std::min(report.first_ts_ms, r.ts_ms);
    report.last_ts_ms = std::max(report.last_ts_ms, r.ts_ms);
    if (r.answered_by.empty()) continue;
    ++answered;
    in_sum += static_cast<double>(r.input_tokens);
    cached_sum += static_cast<double>(r.cached_input_tokens);
    out_sum += static_cast<double>(r.output_tokens);
    if (IsLocal(r.answered_by, options.local_providers)) {
      local_cost_sum += r.cost_usd;
      ++local_count;
    }
  }
  report.days = std::max(1.0, static_cast<double>(report.last_ts_ms - report.first_ts_ms) / kDayMs);
  const double mean_local_cost =
      local_count > 0 ? local_cost_sum / static_cast<double>(local_count) : 0;

  Tally recorded, all_frontier, threshold;
  recorded.r.name = "as_recorded";
  recorded.r.kind = PolicyKind::kAsRecorded;
  all_frontier.r.name = "all_frontier";
  all_frontier.r.kind = PolicyKind::kAllFrontier;
  threshold.r.name = policy.name;
  threshold.r.kind = PolicyKind::kThreshold;
  threshold.r.threshold = policy.threshold;
  double frontier_total = 0;
  for (const TraceRecord& tr : records) {
    const ledger::Record& r = tr.record;
    if (r.answered_by.empty()) {
      // Unanswered: the recorded cost stays, under every policy.
      recorded.r.spend_usd += r.cost_usd;
      all_frontier.r.spend_usd += r.cost_usd;
      threshold.r.spend_usd += r.cost_usd;
      continue;
    }
    const bool local = IsLocal(r.answered_by, options.local_providers);
    std::optional<bool> local_agrees;
    if (tr.label && local) {
      const std::string answer = ExtractLabel(r.response_body);
      if (!answer.empty()) local_agrees = answer == *tr.label;
    }
    const std::optional<bool> frontier_agrees = tr.label ? std::optional<bool>(true) : std::nullopt;
    // As recorded.
    if (local) {
      recorded.Answer(false, r.cost_usd, r.confidence, local_agrees);
    } else {
      recorded.Answer(true, r.cost_usd, 1.0, frontier_agrees);
    }
    if (frontier.empty()) continue;
    const double fc = frontier_cost(r).total_usd;
    frontier_total += fc;
    // All frontier.
    all_frontier.Answer(true, fc, 1.0, frontier_agrees);
    if (local) ++all_frontier.r.changed;
    // Threshold.
    if (policy.kind != PolicyKind::kThreshold) continue;
    if (local && r.confidence && *r.confidence < policy.threshold) {
      threshold.Answer(true, r.cost_usd + fc, 1.0, frontier_agrees);
      ++threshold.r.changed;
    } else if (!local && r.escalated && r.confidence && *r.confidence >= policy.threshold) {
      threshold.Answer(false, mean_local_cost, r.confidence, std::nullopt);
      ++threshold.r.changed;
    } else if (local) {
      threshold.Answer(false, r.cost_usd, r.confidence, local_agrees);
    } else {
      threshold.Answer(true, r.cost_usd, 1.0, frontier_agrees);
    }
  }
  const double recorded_spend = recorded.r.spend_usd;
  ReplayResult as_recorded = recorded.Finish(report.days, recorded_spend);
  as_recorded.is_policy = policy.kind == PolicyKind::kAsRecorded;
  if (as_recorded.is_policy) as_recorded.name = policy.name;
  report.results.push_back(as_recorded);
  if (!frontier.empty()) {
    report.frontier_model = book.Cost("", frontier, {}).matched_model;
    ReplayResult af = all_frontier.Finish(report.days, recorded_spend);
    af.is_policy = policy.kind == PolicyKind::kAllFrontier;
    if (af.is_policy) af.name = policy.name;
    report.results.push_back(af);
    if (policy.kind == PolicyKind::kThreshold) {
      ReplayResult th = threshold.Finish(report.days, recorded_spend);
      th.is_policy = true;
      report.results.push_back(th);
    }
    if (answered > 0) {
      const double n = static_cast<double>(answered);
      report.shape.input_tokens = static_cast<int64_t>(std::llround(in_sum / n));
      report.shape.cached_input_tokens =
          std::min(report.shape.input_tokens, static_cast<int64_t>(std::llround(cached_sum / n)));
      report.shape.output_tokens =
          std::max<int64_t>(1, static_cast<int64_t>(std::llround(out_sum / n)));
      report.frontier_cost_per_request = frontier_total / n;
    }
  }
  report.requests_per_day = static_cast<double>(report.records) / report.days;
  return report;
}

std::string RenderReplayText(const ReplayReport& report) {
  std::string out;
  out += "Replay of " + FormatCount(static_cast<double>(report.records)) + " records from " +
         report.source + " (" + ledger::FormatUtcMillis(report.first_ts_ms) + " to " +
         ledger::FormatUtcMillis(report.last_ts_ms) + ", " + Fixed(report.days, 1) + " days)";
  if (!report.frontier_model.empty()) out += ", frontier " + report.frontier_model;
  out += "\n\n";
  char line[256];
  std::snprintf(line, sizeof(line), "%-22s %12s %12s %10s %10s %9s %9s %9s\n", "POLICY", "SPEND",
                "SPEND/MO", "VS NOW", "FRONTIER", "CHANGED", "EXPECTED", "MEASURED");
  out += line;
  for (const ReplayResult& r : report.results) {
    std::string name = r.name + (r.is_policy ? " *" : "");
    if (r.kind == PolicyKind::kThreshold)
      name.append(" (").append(Fixed(r.threshold, 2)).append(")");
    const std::string expected = r.expected_agreement ? Fixed(*r.expected_agreement, 3) : "n/a";
    const std::string measured = r.measured_agreement ? Fixed(*r.measured_agreement, 3) : "n/a";
    std::string delta = FormatUsd(r.delta_vs_recorded_usd);
    if (r.delta_vs_recorded_usd > 0) delta.insert(0, "+");
    std::snprintf(line, sizeof(line), "%-22s %12s %12s %10s %10s %9s %9s %9s\n", name.c_str(),
                  FormatUsd(r.spend_usd).c_str(), FormatUsd(r.spend_per_month_usd).c_str(),
                  delta.c_str(), FormatPercent(r.frontier_share).c_str(),
                  FormatCount(static_cast<double>(r.changed)).c_str(), expected.c_str(),
                  measured.c_str());
    out += line;
  }
  out +=
      "\n* = the policy file's policy. FRONTIER = share of answered requests sent to the "
      "frontier;\nEXPECTED = agreement with the teacher expected from calibrated confidence; "
      "MEASURED = against trace labels.\n";
  return out;
}

std::string RenderReplayJson(const ReplayReport& report) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("source", report.source)
      .Field("records", report.records)
      .Field("first_ts_ms", report.first_ts_ms)
      .Field("last_ts_ms", report.last_ts_ms)
      .Field("days", RoundSignificant(report.days))
      .Field("frontier_model", report.frontier_model)
      .Field("frontier_cost_per_request_usd", RoundSignificant(report.frontier_cost_per_request))
      .Field("requests_per_day", RoundSignificant(report.requests_per_day));
  w.Key("shape");
  WriteShapeJson(w, report.shape);
  w.Key("results").BeginArray();
  for (const ReplayResult& r : report.results) {
    w.BeginObject()
        .Field("name", r.name)
        .Field("kind", PolicyKindName(r.kind))
        .Field("is_policy", r.is_policy);
    if (r.kind == PolicyKind::kThreshold) w.Field("threshold", RoundSignificant(r.threshold));
    w.Field("answered", r.answered)
        .Field("frontier_calls", r.frontier_calls)
        .Field("local_answers", r.local_answers)
        .Field("changed", r.changed)
        .Field("spend_usd", RoundSignificant(r.spend_usd))
        .Field("spend_per_month_usd", RoundSignificant(r.spend_per_month_usd))
        .Field("delta_vs_recorded_usd", RoundSignificant(r.delta_vs_recorded_usd))
        .Field("frontier_share", RoundSignificant(r.frontier_share));
    w.Key("expected_agreement");
    if (r.expected_agreement) {
      w.Double(RoundSignificant(*r.expected_agreement));
    } else {
      w.Null();
    }
    w.Field("expected_samples", r.expected_samples);
    w.Key("measured_agreement");
    if (r.measured_agreement) {
      w.Double(RoundSignificant(*r.measured_agreement));
    } else {
      w.Null();
    }
    w.Field("measured_samples", r.measured_samples);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace switchyard::economics
