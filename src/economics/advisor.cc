#include "economics/advisor.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "core/json_writer.h"
#include "ledger/query.h"

namespace switchyard::economics {
namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kWeekMs = 7 * kDayMs;
constexpr size_t kMaxLabelBytes = 40;
constexpr size_t kTopLabels = 10;

enum RowFlag : uint8_t {
  kError = 1,
  kAnswered = 2,
  kLocal = 4,
  kStudent = 8,
  kEscalated = 16,
  kPii = 32,
};

// One record, reduced to what the evidence needs.
struct Row {
  int64_t ts = 0;
  int64_t in = 0;
  int64_t cached = 0;
  int64_t out = 0;
  double cost = 0;
  double total_ms = 0;
  double confidence = -1;  // < 0: none
  int32_t tmpl = -1;
  int32_t label = -1;
  int32_t answered_by = -1;
  uint8_t flags = 0;
  bool has(RowFlag f) const { return (flags & f) != 0; }
};

struct Group {
  std::string name;
  bool candidate = false;
  std::string template_hash;
  std::vector<Row> rows;
  double spend = 0;
};

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string SignedPercent(double share) {
  std::string s = FormatPercent(share);
  return share > 0 ? "+" + s : s;
}

bool HasPii(const std::string& findings) {
  size_t b = findings.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return false;
  size_t e = findings.find_last_not_of(" \t\r\n");
  std::string_view v(findings.data() + b, e - b + 1);
  return !(v == "[]" || v == "{}" || v == "null");
}

// Total-variation distance between two count histograms.
template <typename Key>
double TotalVariation(const std::unordered_map<Key, int64_t>& a, int64_t na,
                      const std::unordered_map<Key, int64_t>& b, int64_t nb) {
  if (na == 0 || nb == 0) return 0;
  double sum = 0;
  for (const auto& [k, ca] : a) {
    auto it = b.find(k);
    const double pb = it == b.end() ? 0 : static_cast<double>(it->second) / static_cast<double>(nb);
    sum += std::fabs(static_cast<double>(ca) / static_cast<double>(na) - pb);
  }
  for (const auto& [k, cb] : b) {
    if (a.find(k) == a.end()) sum += static_cast<double>(cb) / static_cast<double>(nb);
  }
  return sum / 2;
}

int LengthBucket(int64_t tokens) {
  return static_cast<int>(
      std::floor(2 * std::log2(static_cast<double>(std::max<int64_t>(0, tokens)) + 1)));
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return FormatCount(static_cast<double>(n)) + " " + (n == 1 ? one : many);
}

int64_t RoundTokens(double v) {
  return static_cast<int64_t>(std::llround(v));
}

std::string Ms(double ms) {
  if (ms >= 10) return FormatCount(ms) + " ms";
  return Fixed(ms, 2) + " ms";
}

}  // namespace

std::string_view RecommendationId(Recommendation r) {
  switch (r) {
    case Recommendation::kNotEnoughData:
      return "not_enough_data";
    case Recommendation::kKeepOnApi:
      return "keep_on_api";
    case Recommendation::kHybridStudent:
      return "hybrid_student";
    case Recommendation::kSelfHost:
      return "self_host";
  }
  return "not_enough_data";
}

std::string_view RecommendationLabel(Recommendation r) {
  switch (r) {
    case Recommendation::kNotEnoughData:
      return "not enough data";
    case Recommendation::kKeepOnApi:
      return "keep on API";
    case Recommendation::kHybridStudent:
      return "hybrid with a student";
    case Recommendation::kSelfHost:
      return "self-host";
  }
  return "not enough data";
}

core::Status ValidateAdvisorAssumptions(const AdvisorAssumptions& a) {
  if (auto s = ValidateSelfHosting(a.self_hosting); !s.ok()) return s;
  auto bad = [](const std::string& what, double v) {
    return core::InvalidArgument(what + ", got " + FormatNumber(v));
  };
  if (a.min_requests < 1)
    return bad("min_requests must be >= 1", static_cast<double>(a.min_requests));
  if (a.min_window_requests < 1) {
    return bad("min_window_requests must be >= 1", static_cast<double>(a.min_window_requests));
  }
  if (!(a.max_drift >= 0 && a.max_drift <= 1))
    return bad("max_drift must be in [0, 1]", a.max_drift);
  if (!(a.min_student_coverage >= 0 && a.min_student_coverage <= 1)) {
    return bad("min_student_coverage must be in [0, 1]", a.min_student_coverage);
  }
  if (!(a.target_agreement >= 0 && a.target_agreement <= 1)) {
    return bad("target_agreement must be in [0, 1]", a.target_agreement);
  }
  if (!(a.expected_student_coverage >= 0 && a.expected_student_coverage <= 1)) {
    return bad("expected_student_coverage must be in [0, 1]", a.expected_student_coverage);
  }
  if (a.max_narrow_labels < 1)
    return bad("max_narrow_labels must be >= 1", static_cast<double>(a.max_narrow_labels));
  if (!(a.min_monthly_saving_usd >= 0)) {
    return bad("min_monthly_saving_usd must be >= 0", a.min_monthly_saving_usd);
  }
  return core::Status::Ok();
}

namespace {

std::string LabelFrom(simdjson::dom::parser& parser, std::string_view response_body) {
  if (response_body.empty() || response_body.front() != '{') return "";
  simdjson::padded_string padded(response_body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return "";
  std::string_view content;
  if (root.at_pointer("/choices/0/message/content").get(content) != simdjson::SUCCESS) return "";
  size_t b = content.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = content.find_last_not_of(" \t\r\n");
  content = content.substr(b, e - b + 1);
  if (content.size() > kMaxLabelBytes || content.find('\n') != std::string_view::npos) return "";
  std::string label(content);
  std::transform(label.begin(), label.end(), label.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return label;
}

}  // namespace

std::string ExtractLabel(std::string_view response_body) {
  simdjson::dom::parser parser;
  return LabelFrom(parser, response_body);
}

struct AdvisorAccumulator::State {
  State(const PriceBook& b, AdvisorOptions o) : book(b), options(std::move(o)) {}

  int32_t Intern(std::unordered_map<std::string, int32_t>& ids, std::vector<std::string>& names,
                 const std::string& key) {
    auto [it, inserted] = ids.emplace(key, static_cast<int32_t>(names.size()));
    if (inserted) names.push_back(key);
    return it->second;
  }

  bool IsLocal(const std::string& answered_by) const {
    const std::string_view provider =
        std::string_view(answered_by).substr(0, answered_by.find('/'));
    if (provider == "student") return true;
    for (const auto& p : options.local_providers) {
      if (p == provider) return true;
    }
    return false;
  }

  TaskReport Evaluate(const Group& g, const AdvisorReport& report) const;
  void Decide(TaskReport& t, const AdvisorReport& report) const;

  const PriceBook& book;
  AdvisorOptions options;
  std::unordered_map<std::string, int32_t> template_ids, label_ids, answered_ids;
  std::vector<std::string> template_names, label_names, answered_names;
  std::unordered_map<std::string, Group> tasks;      // declared tasks
  std::unordered_map<std::string, Group> templates;  // untagged, by template hash
  int64_t first_ts = std::numeric_limits<int64_t>::max();
  int64_t count = 0;
  simdjson::dom::parser parser;  // reused for response bodies
};

AdvisorAccumulator::AdvisorAccumulator(const PriceBook& book, AdvisorOptions options)
    : state_(std::make_unique<State>(book, std::move(options))) {}
AdvisorAccumulator::~AdvisorAccumulator() = default;

void AdvisorAccumulator::Add(const ledger::Record& r) {
  State& s = *state_;
  if (s.options.since_ms > 0 && r.ts_ms < s.options.since_ms) return;
  Row row;
  row.ts = r.ts_ms;
  row.in = r.input_tokens;
  row.cached = r.cached_input_tokens;
  row.out = r.output_tokens;
  row.cost = r.cost_usd;
  row.total_ms = r.total_ms;
  if (r.confidence) row.confidence = *r.confidence;
  row.tmpl = s.Intern(s.template_ids, s.template_names, r.template_hash);
  if (r.status >= 400 || !r.error_code.empty()) row.flags |= kError;
  if (!r.answered_by.empty()) {
    row.flags |= kAnswered;
    row.answered_by = s.Intern(s.answered_ids, s.answered_names, r.answered_by);
    if (s.IsLocal(r.answered_by)) row.flags |= kLocal;
    if (r.answered_by.rfind("student/", 0) == 0) row.flags |= kStudent;
  }
  if (r.escalated) row.flags |= kEscalated;
  if (HasPii(r.pii_findings)) row.flags |= kPii;
  if (!r.response_body.empty()) {
    const std::string label = LabelFrom(s.parser, r.response_body);
    if (!label.empty()) row.label = s.Intern(s.label_ids, s.label_names, label);
  }
  Group* g;
  if (!r.task.empty()) {
    g = &s.tasks[r.task];
    g->name = r.task;
  } else {
    g = &s.templates[r.template_hash];
    g->candidate = true;
    g->template_hash = r.template_hash;
    g->name = r.template_hash.empty() ? "(untagged)" : "template:" + r.template_hash;
  }
  g->rows.push_back(row);
  g->spend += r.cost_usd;
  s.first_ts = std::min(s.first_ts, r.ts_ms);
  ++s.count;
}

TaskReport AdvisorAccumulator::State::Evaluate(const Group& g, const AdvisorReport& report) const {
  const AdvisorAssumptions& a = options.assumptions;
  TaskReport t;
  t.name = g.name;
  t.candidate = g.candidate;
  t.template_hash = g.template_hash;
  if (auto it = options.task_kinds.find(g.name); it != options.task_kinds.end()) {
    t.kind = it->second;
  }
  t.first_ts_ms = std::numeric_limits<int64_t>::max();
  t.last_ts_ms = std::numeric_limits<int64_t>::min();
  std::vector<double> api_ms, local_ms;
  std::unordered_map<int32_t, int64_t> teacher_counts, label_counts;
  double api_cost = 0, confidence_sum = 0;
  double shape_in = 0, shape_cached = 0, shape_out = 0;
  for (const Row& r : g.rows) {
    ++t.requests;
    t.first_ts_ms = std::min(t.first_ts_ms, r.ts);
    t.last_ts_ms = std::max(t.last_ts_ms, r.ts);
    t.input_tokens += r.in;
    t.cached_input_tokens += r.cached;
    t.output_tokens += r.out;
    t.spend_usd += r.cost;
    if (r.has(kError)) ++t.errors;
    if (r.has(kEscalated)) ++t.escalations;
    if (r.has(kPii)) ++t.pii_requests;
    if (r.label >= 0) {
      ++t.labelled;
      ++label_counts[r.label];
    }
    if (!r.has(kAnswered)) continue;
    ++t.answered;
    shape_in += static_cast<double>(r.in);
    shape_cached += static_cast<double>(r.cached);
    shape_out += static_cast<double>(r.out);
    if (r.has(kLocal)) {
      ++t.local_answers;
      if (r.has(kStudent)) ++t.student_answers;
      t.local_cost_usd += r.cost;
      local_ms.push_back(r.total_ms);
      if (r.has(kStudent) && r.confidence >= 0) {
        ++t.confidence_samples;
        confidence_sum += r.confidence;
      }
    } else {
      api_ms.push_back(r.total_ms);
      if (!r.has(kError)) {
        ++t.api_answers;
        api_cost += r.cost;
        ++teacher_counts[r.answered_by];
      }
    }
  }
  const double days = report.days;
  t.requests_per_day = static_cast<double>(t.requests) / days;
  t.tokens_per_day = static_cast<double>(t.input_tokens + t.output_tokens) / days;
  t.spend_per_month_usd = t.spend_usd / days * kDaysPerMonth;

  // Trend: the last 7 days against the 7 before, when the window spans both.
  if (report.window_start_ms <= report.now_ms - 2 * kWeekMs) {
    t.trend_known = true;
    double this_week = 0, last_week = 0;
    for (const Row& r : g.rows) {
      const double tokens = static_cast<double>(r.in + r.out);
      if (r.ts > report.now_ms - kWeekMs) {
        this_week += tokens;
      } else if (r.ts > report.now_ms - 2 * kWeekMs) {
        last_week += tokens;
      }
    }
    t.this_week_tokens_per_day = this_week / 7;
    t.last_week_tokens_per_day = last_week / 7;
    if (last_week > 0) t.week_over_week = this_week / last_week - 1;
  }

  // Drift between the halves of the group's own time span.
  {
    const int64_t mid = t.first_ts_ms + (t.last_ts_ms - t.first_ts_ms) / 2;
    std::unordered_map<int32_t, int64_t> tmpl[2], len[2], lab[2];
    int64_t n[2] = {0, 0}, nl[2] = {0, 0};
    for (const Row& r : g.rows) {
      const int h = r.ts <= mid ? 0 : 1;
      ++n[h];
      ++tmpl[h][r.tmpl];
      ++len[h][LengthBucket(r.in)];
      if (r.label >= 0) {
        ++nl[h];
        ++lab[h][r.label];
      }
    }
    if (n[0] >= a.min_window_requests && n[1] >= a.min_window_requests) {
      t.drift_known = true;
      t.template_drift = TotalVariation(tmpl[0], n[0], tmpl[1], n[1]);
      t.length_drift = TotalVariation(len[0], n[0], len[1], n[1]);
      t.drift = std::max(t.template_drift, t.length_drift);
      if (nl[0] >= a.min_window_requests && nl[1] >= a.min_window_requests) {
        t.label_drift = TotalVariation(lab[0], nl[0], lab[1], nl[1]);
        t.drift = std::max(t.drift, *t.label_drift);
      }
    }
  }

  // Labels: entropy and the most frequent ones.
  t.distinct_labels = static_cast<int64_t>(label_counts.size());
  if (t.labelled > 0) {
    std::vector<LabelCount> all;
    for (const auto& [id, c] : label_counts) {
      const double p = static_cast<double>(c) / static_cast<double>(t.labelled);
      t.label_entropy_bits -= p * std::log2(p);
      all.push_back({label_names[static_cast<size_t>(id)], c});
    }
    std::sort(all.begin(), all.end(), [](const LabelCount& x, const LabelCount& y) {
      return x.count != y.count ? x.count > y.count : x.label < y.label;
    });
    if (all.size() > kTopLabels) all.resize(kTopLabels);
    t.top_labels = std::move(all);
    if (t.label_entropy_bits < 0) t.label_entropy_bits = 0;  // -0.0
  }
  const std::string labels_clause =
      t.labelled > 0 ? Plural(t.distinct_labels, "label", "labels") + " (entropy " +
                           Fixed(t.label_entropy_bits, 2) + " bits)"
                     : "no labels (response bodies not retained or not short answers)";
  if (t.kind == "classify") {
    t.narrow = true;
    t.narrow_because = "narrow: a classify task, " + labels_clause;
  } else if (!t.kind.empty()) {
    t.narrow = false;
    t.narrow_because = "not narrow: a " + t.kind + " task";
  } else if (t.answered > 0 && t.labelled >= a.min_window_requests &&
             static_cast<double>(t.labelled) >= 0.8 * static_cast<double>(t.answered) &&
             t.distinct_labels <= a.max_narrow_labels) {
    t.narrow = true;
    t.narrow_because =
        "narrow: " +
        FormatPercent(static_cast<double>(t.labelled) / static_cast<double>(t.answered)) +
        " of answers are short labels, " + labels_clause;
  } else {
    t.narrow = false;
    t.narrow_because = t.labelled == 0
                           ? "narrowness unknown: " + labels_clause
                           : "not narrow: " + labels_clause + " on " +
                                 FormatPercent(t.answered > 0 ? static_cast<double>(t.labelled) /
                                                                    static_cast<double>(t.answered)
                                                              : 0) +
                                 " of answers (narrow needs >= 80% short labels and <= " +
                                 std::to_string(a.max_narrow_labels) + " labels)";
  }

  t.coverage =
      t.answered > 0 ? static_cast<double>(t.local_answers) / static_cast<double>(t.answered) : 0;
  if (t.confidence_samples > 0)
    t.expected_agreement = confidence_sum / static_cast<double>(t.confidence_samples);
  t.pii_share =
      t.requests > 0 ? static_cast<double>(t.pii_requests) / static_cast<double>(t.requests) : 0;
  t.api_p95_ms = ledger::NearestRankPercentile(api_ms, 95);
  t.local_p95_ms = ledger::NearestRankPercentile(local_ms, 95);

  // Mean request shape of the answered requests.
  if (t.answered > 0) {
    const double n = static_cast<double>(t.answered);
    t.shape.input_tokens = RoundTokens(shape_in / n);
    t.shape.cached_input_tokens = std::min(t.shape.input_tokens, RoundTokens(shape_cached / n));
    t.shape.output_tokens = std::max<int64_t>(1, RoundTokens(shape_out / n));
  } else {
    t.shape = {0, 0, 1};
  }

  // The teacher's price per call: measured on the API answers, else the price book.
  if (t.api_answers > 0 && api_cost > 0) {
    t.teacher_priced = true;
    t.teacher_cost_per_request = api_cost / static_cast<double>(t.api_answers);
    int32_t best = -1;
    int64_t best_count = -1;
    for (const auto& [id, c] : teacher_counts) {
      if (c > best_count || (c == best_count && answered_names[static_cast<size_t>(id)] <
                                                    answered_names[static_cast<size_t>(best)])) {
        best = id;
        best_count = c;
      }
    }
    t.teacher = answered_names[static_cast<size_t>(best)];
  } else if (!a.frontier_model.empty()) {
    auto cost = ApiCostPerRequest(book, a.frontier_model, t.shape);
    if (cost.ok() && cost->total_usd > 0) {
      t.teacher_priced = true;
      t.teacher_cost_per_request = cost->total_usd;
      t.teacher = cost->matched_model;
    }
  }
  if (t.teacher_priced) {
    t.realized_saving_usd =
        static_cast<double>(t.local_answers) * t.teacher_cost_per_request - t.local_cost_usd;
    t.realized_saving_per_month_usd = t.realized_saving_usd / days * kDaysPerMonth;
    t.crossover = ComputeCrossover(t.teacher_cost_per_request, t.shape, a.self_hosting);
    t.self_hosting =
        CompareAtVolume(t.teacher_cost_per_request, t.shape, a.self_hosting, t.requests_per_day);
  }
  Decide(t, report);
  return t;
}

void AdvisorAccumulator::State::Decide(TaskReport& t, const AdvisorReport& report) const {
  const AdvisorAssumptions& a = options.assumptions;
  std::vector<std::string> decision;
  if (t.requests < a.min_requests) {
    t.recommendation = Recommendation::kNotEnoughData;
    decision.push_back("only " + Plural(t.requests, "request", "requests") +
                       " in the window (needs " + FormatCount(static_cast<double>(a.min_requests)) +
                       ")");
  } else {
    const bool drifting = t.drift_known && t.drift > a.max_drift;
    const double api_spend_month =
        t.teacher_priced ? t.requests_per_day * t.teacher_cost_per_request * kDaysPerMonth : 0;
    // Self-hosting everything, against sending everything to the API.
    const bool volume_ok = t.teacher_priced && !t.crossover.never &&
                           t.requests_per_day >= t.crossover.requests_per_day &&
                           t.self_hosting.monthly_saving_usd > 0;
    const bool self_host_ok =
        volume_ok && !drifting && t.self_hosting.monthly_saving_usd >= a.min_monthly_saving_usd;
    // A student (or other local model) already answering.
    const bool agreement_ok = !t.expected_agreement || *t.expected_agreement >= a.target_agreement;
    const bool hybrid_running = t.local_answers > 0 && t.coverage >= a.min_student_coverage &&
                                agreement_ok && (!t.teacher_priced || t.realized_saving_usd > 0);
    // A student to train.
    const double new_student_saving = api_spend_month * a.expected_student_coverage;
    const bool hybrid_new = t.local_answers == 0 && t.narrow && !drifting && t.teacher_priced &&
                            new_student_saving >= a.min_monthly_saving_usd;

    const std::string agreement_text =
        t.expected_agreement ? "expected agreement " + Fixed(*t.expected_agreement, 3) +
                                   " (mean calibrated confidence of " +
                                   Plural(t.confidence_samples, "answer", "answers") + ")"
                             : "agreement unknown (no confidence recorded)";
    const std::string self_host_text =
        "self-hosting all " + FormatTokens(t.tokens_per_day) + " tokens/day costs " +
        FormatUsd(t.self_hosting.self_hosted_monthly_usd) + "/month on " +
        Plural(t.self_hosting.self_hosted.replicas, "replica", "replicas") + " (" +
        Plural(t.self_hosting.self_hosted.gpus, "GPU", "GPUs") + ") against " +
        FormatUsd(t.self_hosting.api_monthly_usd) + "/month on the API at " +
        FormatUsd(t.teacher_cost_per_request) + " per request";

    if (self_host_ok &&
        (!hybrid_running || t.self_hosting.monthly_saving_usd > t.realized_saving_per_month_usd)) {
      t.recommendation = Recommendation::kSelfHost;
      t.projected_monthly_saving_usd = t.self_hosting.monthly_saving_usd;
      decision.push_back("volume " + FormatTokens(t.tokens_per_day) +
                         " tokens/day is above the self-hosting " + DescribeCrossover(t.crossover));
      decision.push_back(self_host_text + ": saves " +
                         FormatUsd(t.self_hosting.monthly_saving_usd) + "/month");
      if (hybrid_running) {
        decision.push_back("more than the running student's " +
                           FormatUsd(t.realized_saving_per_month_usd) + "/month");
      }
    } else if (hybrid_running) {
      t.recommendation = Recommendation::kHybridStudent;
      t.projected_monthly_saving_usd = t.teacher_priced ? t.realized_saving_per_month_usd : 0;
      decision.push_back("a local model already answers " + FormatPercent(t.coverage) + " (" +
                         FormatCount(static_cast<double>(t.local_answers)) + " of " +
                         FormatCount(static_cast<double>(t.answered)) + ") of answered requests, " +
                         agreement_text);
      if (t.teacher_priced) {
        decision.push_back(
            "realized saving " + FormatUsd(t.realized_saving_usd) + " over " +
            Fixed(report.days, 1) + " days: " + FormatCount(static_cast<double>(t.local_answers)) +
            " teacher calls avoided x " + FormatUsd(t.teacher_cost_per_request) + " (" + t.teacher +
            ") - " + FormatUsd(t.local_cost_usd) + " local compute");
        decision.push_back("projected saving " + FormatUsd(t.realized_saving_per_month_usd) +
                           "/month at this volume");
      } else {
        decision.push_back(
            "saving unknown: no API answers to price the avoided teacher calls (set the "
            "advisor's frontier_model)");
      }
    } else if (hybrid_new) {
      t.recommendation = Recommendation::kHybridStudent;
      t.projected_monthly_saving_usd = new_student_saving;
      decision.push_back("no student yet; " + t.narrow_because);
      decision.push_back("a student answering " + FormatPercent(a.expected_student_coverage) +
                         " of requests would save about " + FormatUsd(new_student_saving) +
                         "/month of " + FormatUsd(api_spend_month) + "/month API spend");
    } else {
      t.recommendation = Recommendation::kKeepOnApi;
      if (!t.teacher_priced) {
        decision.push_back(
            "no priced API answers: nothing to save (set the advisor's "
            "frontier_model to price the traffic)");
      } else if (t.crossover.never) {
        decision.push_back("self-hosting never pays off at this request shape: " +
                           DescribeCrossover(t.crossover));
      } else if (!volume_ok) {
        decision.push_back(
            "volume " + FormatTokens(t.tokens_per_day) + " tokens/day is below the self-hosting " +
            DescribeCrossover(t.crossover) + " (" +
            FormatPercent(t.tokens_per_day / t.crossover.tokens_per_day) + " of it)");
      } else if (drifting) {
        decision.push_back("volume is above the self-hosting crossover but the input drifted " +
                           Fixed(t.drift, 2) + " between the window's halves (> " +
                           Fixed(a.max_drift, 2) + ")");
      } else {
        decision.push_back(self_host_text + ": saves only " +
                           FormatUsd(t.self_hosting.monthly_saving_usd) + "/month (< " +
                           FormatUsd(a.min_monthly_saving_usd) + ")");
      }
      if (t.local_answers > 0) {
        if (t.coverage < a.min_student_coverage) {
          decision.push_back("the local model answers only " + FormatPercent(t.coverage) +
                             " of requests (needs " + FormatPercent(a.min_student_coverage) + ")");
        } else if (!agreement_ok) {
          decision.push_back("the student's " + agreement_text + " is below the target " +
                             Fixed(a.target_agreement, 2));
        } else {
          decision.push_back("the local answers save nothing: " + FormatUsd(t.realized_saving_usd) +
                             " realized");
        }
      } else if (!t.narrow) {
        decision.push_back("no student: " + t.narrow_because);
      } else if (drifting) {
        decision.push_back("no student: the input drifted " + Fixed(t.drift, 2) + " (> " +
                           Fixed(a.max_drift, 2) + ")");
      } else if (t.teacher_priced) {
        decision.push_back("a student answering " + FormatPercent(a.expected_student_coverage) +
                           " would save only " + FormatUsd(new_student_saving) + "/month (< " +
                           FormatUsd(a.min_monthly_saving_usd) + ")");
      }
    }
  }

  // Evidence, always.
  std::vector<std::string> evidence;
  evidence.push_back("volume: " + FormatCount(t.requests_per_day) + " requests/day, " +
                     FormatTokens(t.tokens_per_day) + " tokens/day, spend " +
                     FormatUsd(t.spend_per_month_usd) + "/month");
  if (t.trend_known) {
    std::string s = "trend: " + FormatTokens(t.this_week_tokens_per_day) +
                    " tokens/day this week vs " + FormatTokens(t.last_week_tokens_per_day) +
                    " last week";
    s += t.week_over_week ? " (" + SignedPercent(*t.week_over_week) + ")" : " (new this week)";
    evidence.push_back(s);
  } else {
    evidence.push_back("trend: unknown (needs 14 days of data in the window)");
  }
  if (t.drift_known) {
    std::string parts =
        "templates " + Fixed(t.template_drift, 2) + ", input lengths " + Fixed(t.length_drift, 2);
    if (t.label_drift) parts += ", labels " + Fixed(*t.label_drift, 2);
    evidence.push_back(std::string(t.drift > a.max_drift ? "drifting" : "stable") + ": drift " +
                       Fixed(t.drift, 2) + " between the window's halves (" + parts + "; " +
                       (t.drift > a.max_drift ? "> " : "<= ") + Fixed(a.max_drift, 2) + ")");
  } else {
    evidence.push_back("stability: unknown (needs " + std::to_string(a.min_window_requests) +
                       " requests in each half of the window)");
  }
  evidence.push_back(t.narrow_because);
  if (t.pii_requests > 0) {
    evidence.push_back("sensitive: " + FormatPercent(t.pii_share) + " of requests (" +
                       FormatCount(static_cast<double>(t.pii_requests)) +
                       ") carry PII findings; a local model keeps them inside the boundary");
  } else {
    evidence.push_back("sensitive: no PII findings");
  }
  const int64_t api_latency_n = t.answered - t.local_answers;
  if (api_latency_n > 0 && t.local_answers > 0) {
    evidence.push_back("p95 latency: API " + Ms(t.api_p95_ms) + " vs local " + Ms(t.local_p95_ms));
  } else if (api_latency_n > 0) {
    evidence.push_back("p95 latency: API " + Ms(t.api_p95_ms) + " (no local answers)");
  } else if (t.local_answers > 0) {
    evidence.push_back("p95 latency: local " + Ms(t.local_p95_ms) + " (no API answers)");
  }
  t.reasons = std::move(decision);
  t.reasons.insert(t.reasons.end(), evidence.begin(), evidence.end());
}

core::Result<AdvisorReport> AdvisorAccumulator::Finish() {
  State& s = *state_;
  if (s.count == 0) {
    return core::NotFound(s.options.since_ms > 0
                              ? "the ledger has no records since " +
                                    ledger::FormatUtcMillis(s.options.since_ms) +
                                    ": nothing to advise on"
                              : std::string("the ledger has no records: nothing to advise on"));
  }
  const AdvisorAssumptions& a = s.options.assumptions;
  AdvisorReport report;
  report.now_ms = s.options.now_ms;
  report.since_ms = s.options.since_ms;
  report.window_start_ms = std::max(s.options.since_ms, s.first_ts);
  report.days = std::max(1.0, static_cast<double>(report.now_ms - report.window_start_ms) /
                                  static_cast<double>(kDayMs));
  report.assumptions = a;

  std::vector<TaskReport> declared, candidates;
  for (const auto& [name, g] : s.tasks) declared.push_back(s.Evaluate(g, report));
  std::vector<const Group*> untagged;
  for (const auto& [hash, g] : s.templates) untagged.push_back(&g);
  std::sort(untagged.begin(), untagged.end(), [](const Group* x, const Group* y) {
    if (x->spend != y->spend) return x->spend > y->spend;
    if (x->rows.size() != y->rows.size()) return x->rows.size() > y->rows.size();
    return x->name < y->name;
  });
  if (untagged.size() > a.max_candidates) untagged.resize(a.max_candidates);
  for (const Group* g : untagged) candidates.push_back(s.Evaluate(*g, report));
  auto by_spend = [](const TaskReport& x, const TaskReport& y) {
    if (x.spend_usd != y.spend_usd) return x.spend_usd > y.spend_usd;
    if (x.requests != y.requests) return x.requests > y.requests;
    return x.name < y.name;
  };
  std::sort(declared.begin(), declared.end(), by_spend);
  std::sort(candidates.begin(), candidates.end(), by_spend);
  report.tasks = std::move(declared);
  report.tasks.insert(report.tasks.end(), candidates.begin(), candidates.end());

  // Totals over every record (candidates beyond max_candidates included).
  double shape_in = 0, shape_cached = 0, shape_out = 0, api_cost = 0;
  int64_t answered = 0, api_answers = 0, tokens = 0;
  auto fold = [&](const Group& g) {
    for (const Row& r : g.rows) {
      ++report.requests;
      report.spend_usd += r.cost;
      tokens += r.in + r.out;
      if (!r.has(kAnswered)) continue;
      ++answered;
      shape_in += static_cast<double>(r.in);
      shape_cached += static_cast<double>(r.cached);
      shape_out += static_cast<double>(r.out);
      if (!r.has(kLocal) && !r.has(kError)) {
        ++api_answers;
        api_cost += r.cost;
      }
    }
  };
  for (const auto& [name, g] : s.tasks) fold(g);
  for (const auto& [hash, g] : s.templates) fold(g);
  report.tokens_per_day = static_cast<double>(tokens) / report.days;
  for (const TaskReport& t : report.tasks) report.realized_saving_usd += t.realized_saving_usd;

  if (answered > 0) {
    const double n = static_cast<double>(answered);
    report.overall_shape.input_tokens = RoundTokens(shape_in / n);
    report.overall_shape.cached_input_tokens =
        std::min(report.overall_shape.input_tokens, RoundTokens(shape_cached / n));
    report.overall_shape.output_tokens = std::max<int64_t>(1, RoundTokens(shape_out / n));
  }
  if (api_answers > 0 && api_cost > 0) {
    report.overall_priced = true;
    report.overall_api_cost_per_request = api_cost / static_cast<double>(api_answers);
  } else if (!a.frontier_model.empty()) {
    auto cost = ApiCostPerRequest(s.book, a.frontier_model, report.overall_shape);
    if (cost.ok() && cost->total_usd > 0) {
      report.overall_priced = true;
      report.overall_api_cost_per_request = cost->total_usd;
    }
  }
  if (report.overall_priced) {
    report.overall_crossover =
        ComputeCrossover(report.overall_api_cost_per_request, report.overall_shape, a.self_hosting);
    report.overall_self_hosting =
        CompareAtVolume(report.overall_api_cost_per_request, report.overall_shape, a.self_hosting,
                        static_cast<double>(report.requests) / report.days);
  }

  // Overall: the strongest recommendation any task earned, with the tasks behind it.
  bool any_data = false, any_self_host = false, any_hybrid = false;
  for (const TaskReport& t : report.tasks) {
    if (t.recommendation != Recommendation::kNotEnoughData) any_data = true;
    if (t.recommendation == Recommendation::kSelfHost) any_self_host = true;
    if (t.recommendation == Recommendation::kHybridStudent) any_hybrid = true;
    if (t.recommendation == Recommendation::kSelfHost ||
        t.recommendation == Recommendation::kHybridStudent) {
      report.projected_monthly_saving_usd += t.projected_monthly_saving_usd;
      report.overall_reasons.push_back(
          t.name + ": " + std::string(RecommendationLabel(t.recommendation)) + ", saving " +
          FormatUsd(t.projected_monthly_saving_usd) + "/month");
    }
  }
  report.overall = any_self_host ? Recommendation::kSelfHost
                   : any_hybrid  ? Recommendation::kHybridStudent
                   : any_data    ? Recommendation::kKeepOnApi
                                 : Recommendation::kNotEnoughData;
  if (report.overall == Recommendation::kKeepOnApi) {
    report.overall_reasons.push_back(
        "no task is narrow, stable and large enough to own a model yet");
  } else if (report.overall == Recommendation::kNotEnoughData) {
    report.overall_reasons.push_back("no task has " +
                                     FormatCount(static_cast<double>(a.min_requests)) +
                                     " requests in the window yet");
  }
  report.overall_reasons.push_back(
      "spend " + FormatUsd(report.spend_usd) + " over " + Fixed(report.days, 1) + " days (" +
      FormatUsd(report.spend_usd / report.days * kDaysPerMonth) + "/month); realized savings " +
      FormatUsd(report.realized_saving_usd) + "; projected saving " +
      FormatUsd(report.projected_monthly_saving_usd) + "/month");
  if (report.overall_priced) {
    report.overall_reasons.push_back(
        "all traffic: " + FormatTokens(report.tokens_per_day) +
        " tokens/day; self-hosting it: " + DescribeCrossover(report.overall_crossover));
  }
  return report;
}

core::Result<AdvisorReport> Advise(ledger::Store& store, const PriceBook& book,
                                   const AdvisorOptions& options) {
  if (auto s = ValidateAdvisorAssumptions(options.assumptions); !s.ok()) return s;
  AdvisorAccumulator acc(book, options);
  ledger::ScanOptions scan;
  scan.since_ms = options.since_ms;
  scan.include_bodies = true;
  if (auto s = store.Scan(scan,
                          [&](ledger::Record& r) {
                            acc.Add(r);
                            return true;
                          });
      !s.ok()) {
    return s;
  }
  return acc.Finish();
}

// ---- rendering ----------------------------------------------------------------

namespace {

std::string Pad(std::string s, size_t width, bool right) {
  if (s.size() >= width) return s;
  const std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

std::string ShortName(const std::string& name) {
  return name.size() <= 26 ? name : name.substr(0, 25) + "~";
}

}  // namespace

std::string RenderAdvisorText(const AdvisorReport& r) {
  std::string out;
  out += "Build-vs-buy advice: " + FormatCount(static_cast<double>(r.requests)) +
         " requests over " + Fixed(r.days, 1) + " days since " +
         ledger::FormatUtcMillis(r.window_start_ms) + ", spend " + FormatUsd(r.spend_usd) + "\n";
  out += "Self-hosting assumptions: " + DescribeAssumptions(r.assumptions.self_hosting) + "\n\n";
  out += Pad("TASK", 27, false) + Pad("REQ/DAY", 10, true) + Pad("TOKENS/DAY", 16, true) +
         Pad("SPEND/MO", 11, true) + Pad("LOCAL", 8, true) + Pad("DRIFT", 7, true) +
         Pad("PII", 7, true) + "  " + Pad("RECOMMENDATION", 23, false) +
         Pad("SAVING/MO", 10, true) + "\n";
  for (const TaskReport& t : r.tasks) {
    out += Pad(ShortName(t.name), 27, false) + Pad(FormatCount(t.requests_per_day), 10, true) +
           Pad(FormatTokens(t.tokens_per_day), 16, true) +
           Pad(FormatUsd(t.spend_per_month_usd), 11, true) +
           Pad(FormatPercent(t.coverage), 8, true) +
           Pad(t.drift_known ? Fixed(t.drift, 2) : "n/a", 7, true) +
           Pad(FormatPercent(t.pii_share), 7, true) + "  " +
           Pad(std::string(RecommendationLabel(t.recommendation)), 23, false) +
           Pad(FormatUsd(t.projected_monthly_saving_usd), 10, true) + "\n";
  }
  for (const TaskReport& t : r.tasks) {
    out += "\n" + t.name + (t.candidate ? " (candidate task: untagged traffic)" : "") + ": " +
           std::string(RecommendationLabel(t.recommendation));
    if (t.projected_monthly_saving_usd > 0) {
      out += ", projected saving " + FormatUsd(t.projected_monthly_saving_usd) + "/month";
    }
    out += "\n";
    for (const std::string& reason : t.reasons) out += "  - " + reason + "\n";
  }
  out += "\nOVERALL: " + std::string(RecommendationLabel(r.overall));
  if (r.projected_monthly_saving_usd > 0) {
    out += ", projected saving " + FormatUsd(r.projected_monthly_saving_usd) + "/month";
  }
  out += "\n";
  for (const std::string& reason : r.overall_reasons) out += "  - " + reason + "\n";
  return out;
}

std::string RenderAdvisorJson(const AdvisorReport& r) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("now_ms", r.now_ms).Field("since_ms", r.since_ms);
  w.Field("window_start_ms", r.window_start_ms).Field("days", RoundSignificant(r.days));
  const AdvisorAssumptions& a = r.assumptions;
  w.Key("assumptions").BeginObject();
  w.Key("self_hosting");
  WriteAssumptionsJson(w, a.self_hosting);
  w.Field("min_requests", a.min_requests)
      .Field("min_window_requests", a.min_window_requests)
      .Field("max_drift", RoundSignificant(a.max_drift))
      .Field("min_student_coverage", RoundSignificant(a.min_student_coverage))
      .Field("target_agreement", RoundSignificant(a.target_agreement))
      .Field("expected_student_coverage", RoundSignificant(a.expected_student_coverage))
      .Field("max_narrow_labels", a.max_narrow_labels)
      .Field("min_monthly_saving_usd", RoundSignificant(a.min_monthly_saving_usd))
      .Field("frontier_model", a.frontier_model)
      .Field("max_candidates", static_cast<int64_t>(a.max_candidates));
  w.EndObject();
  w.Field("requests", r.requests).Field("spend_usd", RoundSignificant(r.spend_usd));
  w.Field("tokens_per_day", RoundSignificant(r.tokens_per_day));
  w.Field("realized_saving_usd", RoundSignificant(r.realized_saving_usd));
  w.Key("tasks").BeginArray();
  for (const TaskReport& t : r.tasks) {
    w.BeginObject();
    w.Field("name", t.name).Field("candidate", t.candidate);
    w.Field("template_hash", t.template_hash).Field("kind", t.kind);
    w.Key("volume").BeginObject();
    w.Field("requests", t.requests)
        .Field("errors", t.errors)
        .Field("answered", t.answered)
        .Field("input_tokens", t.input_tokens)
        .Field("cached_input_tokens", t.cached_input_tokens)
        .Field("output_tokens", t.output_tokens)
        .Field("spend_usd", RoundSignificant(t.spend_usd))
        .Field("first_ts_ms", t.first_ts_ms)
        .Field("last_ts_ms", t.last_ts_ms)
        .Field("requests_per_day", RoundSignificant(t.requests_per_day))
        .Field("tokens_per_day", RoundSignificant(t.tokens_per_day))
        .Field("spend_per_month_usd", RoundSignificant(t.spend_per_month_usd));
    w.EndObject();
    w.Key("trend").BeginObject();
    w.Field("known", t.trend_known)
        .Field("this_week_tokens_per_day", RoundSignificant(t.this_week_tokens_per_day))
        .Field("last_week_tokens_per_day", RoundSignificant(t.last_week_tokens_per_day));
    w.Key("week_over_week");
    if (t.week_over_week) {
      w.Double(RoundSignificant(*t.week_over_week));
    } else {
      w.Null();
    }
    w.EndObject();
    w.Key("stability").BeginObject();
    w.Field("known", t.drift_known)
        .Field("drift", RoundSignificant(t.drift))
        .Field("template_drift", RoundSignificant(t.template_drift))
        .Field("length_drift", RoundSignificant(t.length_drift));
    w.Key("label_drift");
    if (t.label_drift) {
      w.Double(RoundSignificant(*t.label_drift));
    } else {
      w.Null();
    }
    w.Field("stable", RoundSignificant(t.drift_known && t.drift <= a.max_drift));
    w.EndObject();
    w.Key("narrowness").BeginObject();
    w.Field("narrow", t.narrow)
        .Field("because", t.narrow_because)
        .Field("labelled", t.labelled)
        .Field("distinct_labels", t.distinct_labels)
        .Field("label_entropy_bits", RoundSignificant(t.label_entropy_bits));
    w.Key("top_labels").BeginArray();
    for (const LabelCount& l : t.top_labels) {
      w.BeginObject().Field("label", l.label).Field("count", l.count).EndObject();
    }
    w.EndArray();
    w.Field("local_answers", t.local_answers)
        .Field("student_answers", t.student_answers)
        .Field("escalations", t.escalations)
        .Field("coverage", RoundSignificant(t.coverage));
    w.Key("expected_agreement");
    if (t.expected_agreement) {
      w.Double(RoundSignificant(*t.expected_agreement));
    } else {
      w.Null();
    }
    w.Field("confidence_samples", t.confidence_samples);
    w.EndObject();
    w.Key("sensitivity").BeginObject();
    w.Field("pii_requests", t.pii_requests).Field("pii_share", RoundSignificant(t.pii_share));
    w.EndObject();
    w.Key("latency").BeginObject();
    w.Field("api_answers", t.api_answers)
        .Field("api_p95_ms", RoundSignificant(t.api_p95_ms))
        .Field("local_p95_ms", RoundSignificant(t.local_p95_ms));
    w.EndObject();
    w.Key("money").BeginObject();
    w.Field("teacher", t.teacher)
        .Field("teacher_priced", t.teacher_priced)
        .Field("teacher_cost_per_request_usd", RoundSignificant(t.teacher_cost_per_request))
        .Field("local_cost_usd", RoundSignificant(t.local_cost_usd))
        .Field("realized_saving_usd", RoundSignificant(t.realized_saving_usd))
        .Field("realized_saving_per_month_usd", RoundSignificant(t.realized_saving_per_month_usd));
    w.Key("shape");
    WriteShapeJson(w, t.shape);
    w.Key("crossover");
    if (t.teacher_priced) {
      WriteCrossoverJson(w, t.crossover);
    } else {
      w.Null();
    }
    w.Key("self_hosting");
    if (t.teacher_priced) {
      WriteVolumeJson(w, t.self_hosting);
    } else {
      w.Null();
    }
    w.EndObject();
    w.Field("recommendation", RecommendationId(t.recommendation));
    w.Field("recommendation_label", RecommendationLabel(t.recommendation));
    w.Field("projected_monthly_saving_usd", RoundSignificant(t.projected_monthly_saving_usd));
    w.Key("reasons").BeginArray();
    for (const std::string& reason : t.reasons) w.String(reason);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("overall").BeginObject();
  w.Field("recommendation", RecommendationId(r.overall));
  w.Field("recommendation_label", RecommendationLabel(r.overall));
  w.Field("projected_monthly_saving_usd", RoundSignificant(r.projected_monthly_saving_usd));
  w.Key("reasons").BeginArray();
  for (const std::string& reason : r.overall_reasons) w.String(reason);
  w.EndArray();
  w.Field("priced", r.overall_priced);
  w.Field("api_cost_per_request_usd", RoundSignificant(r.overall_api_cost_per_request));
  w.Key("shape");
  WriteShapeJson(w, r.overall_shape);
  w.Key("crossover");
  if (r.overall_priced) {
    WriteCrossoverJson(w, r.overall_crossover);
  } else {
    w.Null();
  }
  w.Key("self_hosting");
  if (r.overall_priced) {
    WriteVolumeJson(w, r.overall_self_hosting);
  } else {
    w.Null();
  }
  w.EndObject();
  w.EndObject();
  return out;
}

}  // namespace switchyard::economics
