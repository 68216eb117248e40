#include "app/admin_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "api/errors.h"
#include "core/json_writer.h"
#include "core/thread_name.h"
#include "economics/chart.h"
#include "economics/crossover.h"
#include "http/offload.h"
#include "learn/label_store.h"
#include "learn/registry.h"
#include "ledger/query.h"
#include "ledger/record_json.h"
#include "ledger/sqlite_store.h"

namespace switchyard::app {
namespace {

using Answer = AdminApi::Answer;

constexpr std::string_view kPaths[] = {
    "/admin/summary", "/admin/timeseries", "/admin/tasks",        "/admin/crossover",
    "/admin/latency", "/admin/providers",  "/admin/ledger/stats", "/admin/ledger/tail",
};

// The value of `key` in the query string of `target` (nullopt when absent).
std::optional<std::string> QueryParam(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

Answer Error(const core::Status& s) {
  return {api::HttpStatusFor(s.code()), api::OpenAiErrorBody(s)};
}

core::Result<std::unique_ptr<ledger::SqliteStore>> OpenReadOnly(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return core::NotFound("no ledger at " + path + " yet: no request has been recorded");
  }
  ledger::SqliteOptions so;
  so.read_only = true;
  return ledger::SqliteStore::Open(path, so);
}

// `since` (30m, 24h, 7d or "all"; absent: `fallback`) -> the first unix ms of
// the window (0 for all).
core::Result<int64_t> SinceParam(std::string_view target, std::string_view fallback,
                                 int64_t now_ms) {
  std::string since = QueryParam(target, "since").value_or(std::string(fallback));
  if (since == "all") return int64_t{0};
  auto window = ledger::ParseSince(since);
  if (!window.ok()) {
    return core::InvalidArgument("since: expected a duration like 30m, 24h or 7d, or all, got \"" +
                                 since + "\"");
  }
  return std::max<int64_t>(0, now_ms - *window);
}

// Integral values as integers; others shortest round-trip.
void Number(core::JsonWriter& w, std::string_view key, double v) {
  w.Key(key);
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    w.Int(static_cast<int64_t>(v));
  } else {
    w.Double(economics::RoundSignificant(v));
  }
}

double Ratio(int64_t a, int64_t b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0;
}

// The advisor over [since, now]; an empty window is an empty report.
core::Result<economics::AdvisorReport> RunAdvisor(ledger::Store& store, const AdminApiOptions& o,
                                                  int64_t now_ms, int64_t since_ms, bool bodies) {
  economics::AdvisorOptions ao;
  ao.now_ms = now_ms;
  ao.since_ms = since_ms;
  ao.assumptions = o.assumptions;
  ao.local_providers = o.local_providers;
  ao.task_kinds = o.task_kinds;
  economics::AdvisorAccumulator acc(o.book, ao);
  core::Status st = store.Scan(ledger::ScanOptions{.since_ms = since_ms, .include_bodies = bodies},
                               [&acc](ledger::Record& r) {
                                 acc.Add(r);
                                 return true;
                               });
  if (!st.ok()) return st;
  auto report = acc.Finish();
  if (!report.ok() && report.status().code() == core::StatusCode::kNotFound) {
    economics::AdvisorReport empty;
    empty.now_ms = now_ms;
    empty.since_ms = since_ms;
    empty.assumptions = o.assumptions;
    return empty;
  }
  return report;
}

// ---- /admin/summary --------------------------------------------------------

struct Window {
  const char* name;
  int64_t since_ms;
  int64_t requests = 0, errors = 0, local = 0, frontier = 0;
  double spend = 0;
  std::unique_ptr<economics::AdvisorAccumulator> advisor;
};

int64_t StartOfUtcDay(int64_t ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  return duration_cast<milliseconds>(day.time_since_epoch()).count();
}

int64_t StartOfUtcMonth(int64_t ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
  const sys_days first = ymd.year() / ymd.month() / day{1};
  return duration_cast<milliseconds>(first.time_since_epoch()).count();
}

Answer Summary(const AdminApiOptions& o, int64_t now_ms) {
  std::vector<Window> windows;
  windows.push_back({"today", StartOfUtcDay(now_ms)});
  windows.push_back({"month", StartOfUtcMonth(now_ms)});
  windows.push_back({"all", 0});
  for (Window& win : windows) {
    economics::AdvisorOptions ao;
    ao.now_ms = now_ms;
    ao.since_ms = win.since_ms;
    ao.assumptions = o.assumptions;
    ao.local_providers = o.local_providers;
    ao.task_kinds = o.task_kinds;
    win.advisor = std::make_unique<economics::AdvisorAccumulator>(o.book, ao);
  }
  const bool exists = std::filesystem::exists(o.ledger_path);
  if (exists) {
    auto store = OpenReadOnly(o.ledger_path);
    if (!store.ok()) return Error(store.status());
    core::Status st = (*store)->Scan(ledger::ScanOptions{}, [&](ledger::Record& r) {
      for (Window& win : windows) {
        if (r.ts_ms < win.since_ms) continue;
        ++win.requests;
        if (r.status >= 400 || !r.error_code.empty()) ++win.errors;
        if (!r.answered_by.empty()) {
          ++(ledger::IsLocalAnswer(r.answered_by, o.local_providers) ? win.local : win.frontier);
        }
        win.spend += r.cost_usd;
        win.advisor->Add(r);
      }
      return true;
    });
    if (!st.ok()) return Error(st);
  }
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("now_ms", now_ms);
  w.Field("ledger_exists", exists);
  w.Key("windows").BeginObject();
  for (Window& win : windows) {
    double saving = 0;
    auto report = win.advisor->Finish();
    if (report.ok()) {
      saving = report->realized_saving_usd;
    } else if (report.status().code() != core::StatusCode::kNotFound) {
      return Error(report.status());
    }
    w.Key(win.name).BeginObject();
    w.Field("since_ms", win.since_ms);
    w.Field("requests", win.requests);
    w.Field("errors", win.errors);
    w.Field("answered", win.local + win.frontier);
    w.Field("local", win.local);
    w.Field("frontier", win.frontier);
    Number(w, "frontier_share", Ratio(win.frontier, win.local + win.frontier));
    Number(w, "spend_usd", win.spend);
    Number(w, "all_frontier_usd", win.spend + saving);
    Number(w, "saving_usd", saving);
    Number(w, "saving_share", win.spend + saving > 0 ? saving / (win.spend + saving) : 0.0);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {200, std::move(out)};
}

// ---- /admin/timeseries -----------------------------------------------------

Answer Timeseries(const AdminApiOptions& o, std::string_view target, int64_t now_ms) {
  const std::string bucket = QueryParam(target, "bucket").value_or("minute");
  int64_t bucket_ms = 0;
  std::string_view default_since;
  if (bucket == "minute") {
    bucket_ms = 60'000;
    default_since = "60m";
  } else if (bucket == "hour") {
    bucket_ms = 3'600'000;
    default_since = "48h";
  } else if (bucket == "day") {
    bucket_ms = 86'400'000;
    default_since = "30d";
  } else {
    return Error(
        core::InvalidArgument("bucket: expected one of minute, hour, day, got \"" + bucket + "\""));
  }
  auto since = SinceParam(target, default_since, now_ms);
  if (!since.ok()) return Error(since.status());
  auto store = OpenReadOnly(o.ledger_path);
  if (!store.ok()) return Error(store.status());
  int64_t since_ms = *since;
  if (since_ms == 0) {  // "all": from the first record
    int64_t earliest = now_ms;
    core::Status st = (*store)->Scan(ledger::ScanOptions{}, [&](ledger::Record& r) {
      earliest = r.ts_ms;
      return false;
    });
    if (!st.ok()) return Error(st);
    since_ms = earliest;
  }
  constexpr int64_t kMaxBuckets = 2000;
  const int64_t buckets = (now_ms - since_ms) / bucket_ms + 1;
  if (buckets > kMaxBuckets) {
    return Error(core::InvalidArgument("since: " + std::to_string(buckets) + " buckets of a " +
                                       bucket + "; at most " + std::to_string(kMaxBuckets) +
                                       " (use a larger bucket or a shorter since)"));
  }
  ledger::SeriesQuery q;
  q.since_ms = since_ms;
  q.until_ms = now_ms + 1;
  q.bucket_ms = bucket_ms;
  q.local_providers = o.local_providers;
  auto report = ledger::ComputeSeries(**store, q);
  if (!report.ok()) return Error(report.status());
  std::string json = ledger::RenderSeriesJson(*report);
  // Add the bucket's name in front: {"bucket":"minute", ...}.
  json.insert(1, "\"bucket\":\"" + bucket + "\",");
  return {200, std::move(json)};
}

// ---- /admin/tasks ----------------------------------------------------------

struct StudentInfo {
  int64_t version = 0;
  std::string status;
  std::optional<double> threshold;
  int64_t versions = 0;
};

// The promoted version of each task, else its newest; empty without a registry.
std::map<std::string, StudentInfo> ReadStudents(const AdminApiOptions& o,
                                                const core::Clock& clock) {
  std::map<std::string, StudentInfo> out;
  learn::RegistryOptions ro;
  ro.db_path = o.ledger_path;
  ro.read_only = true;
  auto registry = learn::Registry::Open(ro, clock);
  if (!registry.ok()) return out;
  auto list = (*registry)->List();
  if (!list.ok()) return out;
  for (const learn::StudentRecord& r : *list) {
    StudentInfo& info = out[r.task];
    ++info.versions;
    const bool promoted = r.status == learn::StudentStatus::kPromoted;
    if (info.status != "promoted" && (promoted || r.version > info.version)) {
      info.version = r.version;
      info.status = std::string(learn::StudentStatusName(r.status));
      info.threshold = r.threshold;
    }
  }
  return out;
}

// The teacher's label mix of a configured task (the label store).
std::vector<economics::LabelCount> TeacherLabels(const std::string& ledger_path,
                                                 const std::string& task,
                                                 const core::Clock& clock) {
  std::vector<economics::LabelCount> out;
  auto store = learn::LabelStore::Open(ledger_path, clock);
  if (!store.ok()) return out;
  auto examples = (*store)->Load(task);
  if (!examples.ok()) return out;
  std::map<std::string, int64_t> counts;
  for (const auto& e : *examples) ++counts[e.label];
  for (auto& [label, count] : counts) out.push_back({label, count});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.label < b.label;
  });
  if (out.size() > 10) out.resize(10);
  return out;
}

void WriteLabels(core::JsonWriter& w, const std::vector<economics::LabelCount>& labels) {
  w.BeginArray();
  for (const auto& l : labels) {
    w.BeginObject();
    w.Field("label", l.label);
    w.Field("count", l.count);
    w.EndObject();
  }
  w.EndArray();
}

void WriteReasons(core::JsonWriter& w, const std::vector<std::string>& reasons) {
  w.BeginArray();
  for (const auto& r : reasons) w.String(r);
  w.EndArray();
}

Answer Tasks(const AdminApiOptions& o, std::string_view target, int64_t now_ms,
             const core::Clock& clock) {
  auto since = SinceParam(target, "30d", now_ms);
  if (!since.ok()) return Error(since.status());
  economics::AdvisorReport report;
  report.assumptions = o.assumptions;
  const bool exists = std::filesystem::exists(o.ledger_path);
  if (exists) {
    auto store = OpenReadOnly(o.ledger_path);
    if (!store.ok()) return Error(store.status());
    auto advised = RunAdvisor(**store, o, now_ms, *since, /*bodies=*/true);
    if (!advised.ok()) return Error(advised.status());
    report = std::move(*advised);
  }
  std::map<std::string, StudentInfo> students;
  if (exists) students = ReadStudents(o, clock);
  std::map<std::string, TaskLive> live;
  if (o.live_tasks) {
    for (TaskLive& t : o.live_tasks()) live[t.task] = std::move(t);
  }
  // Declared tasks from the ledger, then configured tasks without traffic,
  // then candidates.
  std::vector<const economics::TaskReport*> rows;
  std::vector<std::string> idle;
  for (const auto& t : report.tasks) {
    if (!t.candidate) rows.push_back(&t);
  }
  for (const auto& [name, kind] : o.task_kinds) {
    const bool seen =
        std::any_of(rows.begin(), rows.end(),
                    [&name = name](const economics::TaskReport* t) { return t->name == name; });
    if (!seen) idle.push_back(name);
  }
  std::vector<economics::TaskReport> idle_reports;
  for (const auto& name : idle) {
    economics::TaskReport t;
    t.name = name;
    t.kind = o.task_kinds.at(name);
    t.reasons = {"no requests for this task in the window yet"};
    idle_reports.push_back(std::move(t));
  }
  for (const auto& t : idle_reports) rows.push_back(&t);
  for (const auto& t : report.tasks) {
    if (t.candidate) rows.push_back(&t);
  }

  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("now_ms", now_ms);
  w.Field("since_ms", *since);
  w.Key("tasks").BeginArray();
  for (const economics::TaskReport* t : rows) {
    w.BeginObject();
    w.Field("name", t->name);
    w.Field("candidate", t->candidate);
    w.Field("configured", o.task_kinds.count(t->name) > 0);
    w.Field("kind", t->kind);
    w.Field("requests", t->requests);
    w.Field("answered", t->answered);
    w.Field("local_answers", t->local_answers);
    w.Field("student_answers", t->student_answers);
    w.Field("escalations", t->escalations);
    Number(w, "escalation_rate", Ratio(t->escalations, t->requests));
    Number(w, "coverage", t->coverage);
    w.Key("expected_agreement");
    if (t->expected_agreement) {
      w.Double(economics::RoundSignificant(*t->expected_agreement));
    } else {
      w.Null();
    }
    Number(w, "spend_usd", t->spend_usd);
    Number(w, "realized_saving_usd", t->realized_saving_usd);
    Number(w, "projected_monthly_saving_usd", t->projected_monthly_saving_usd);
    w.Key("student");
    auto s = students.find(t->name);
    auto l = live.find(t->name);
    if (s != students.end()) {
      w.BeginObject();
      w.Field("version", s->second.version);
      w.Field("status", s->second.status);
      w.Field("versions", s->second.versions);
      w.Key("threshold");
      if (s->second.threshold) {
        w.Double(*s->second.threshold);
      } else {
        w.Null();
      }
      w.Field("serving", l != live.end() && l->second.has_student && l->second.serving);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("live");
    if (l != live.end() && l->second.live) {
      const learn::LiveStats& ls = *l->second.live;
      w.BeginObject();
      w.Field("version", l->second.version);
      w.Field("compared", static_cast<int64_t>(ls.compared));
      w.Field("agreed", static_cast<int64_t>(ls.agreed));
      Number(w, "agreement", ls.agreement);
      w.Field("accepted", static_cast<int64_t>(ls.accepted));
      Number(w, "accepted_agreement", ls.accepted_agreement);
      Number(w, "lower_bound", ls.lower_bound);
      w.EndObject();
    } else {
      w.Null();
    }
    // Label mix: the answers' labels when payloads were kept, else the
    // teacher's labels of a configured task.
    std::vector<economics::LabelCount> labels = t->top_labels;
    std::string source = "ledger";
    if (labels.empty() && exists && t->requests > 0 && o.task_kinds.count(t->name) > 0) {
      labels = TeacherLabels(o.ledger_path, t->name, clock);
      source = "teacher_labels";
    }
    w.Field("labels_source", labels.empty() ? std::string("none") : source);
    w.Key("labels");
    WriteLabels(w, labels);
    w.Field("recommendation", economics::RecommendationId(t->recommendation));
    w.Field("recommendation_label", economics::RecommendationLabel(t->recommendation));
    w.Key("reasons");
    WriteReasons(w, t->reasons);
    w.EndObject();
  }
  w.EndArray();
  w.Key("overall").BeginObject();
  w.Field("recommendation", economics::RecommendationId(report.overall));
  w.Field("recommendation_label", economics::RecommendationLabel(report.overall));
  w.Key("reasons");
  WriteReasons(w, report.overall_reasons);
  Number(w, "projected_monthly_saving_usd", report.projected_monthly_saving_usd);
  w.EndObject();
  w.EndObject();
  return {200, std::move(out)};
}

// ---- /admin/crossover ------------------------------------------------------

Answer CrossoverAnswer(const AdminApiOptions& o, std::string_view target, int64_t now_ms) {
  auto since = SinceParam(target, "30d", now_ms);
  if (!since.ok()) return Error(since.status());
  auto store = OpenReadOnly(o.ledger_path);
  if (!store.ok()) return Error(store.status());
  auto report = RunAdvisor(**store, o, now_ms, *since, /*bodies=*/false);
  if (!report.ok()) return Error(report.status());
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("since_ms", *since);
  w.Field("priced", report->overall_priced);
  if (!report->overall_priced) {
    w.Field("reason", report->requests == 0
                          ? "no requests in the window yet"
                          : "the traffic has no priced API answers to compare with");
    w.EndObject();
    return {200, std::move(out)};
  }
  const auto& hw = o.assumptions.self_hosting;
  Number(w, "api_cost_per_request_usd", report->overall_api_cost_per_request);
  w.Key("shape");
  economics::WriteShapeJson(w, report->overall_shape);
  w.Key("assumptions");
  economics::WriteAssumptionsJson(w, hw);
  w.Key("crossover");
  economics::WriteCrossoverJson(w, report->overall_crossover);
  w.Key("current");
  economics::WriteVolumeJson(w, report->overall_self_hosting);
  economics::CrossoverChart chart;
  chart.title = "All traffic: API vs self-hosted";
  chart.api_cost_per_request = report->overall_api_cost_per_request;
  chart.shape = report->overall_shape;
  chart.assumptions = hw;
  chart.current_requests_per_day = report->overall_self_hosting.requests_per_day;
  w.Field("svg", economics::RenderCrossoverSvg(chart));
  w.EndObject();
  return {200, std::move(out)};
}

// ---- /admin/latency, /admin/providers, /admin/ledger/* ---------------------

Answer Latency(const AdminApiOptions& o, std::string_view target, int64_t now_ms) {
  auto since = SinceParam(target, "24h", now_ms);
  if (!since.ok()) return Error(since.status());
  auto store = OpenReadOnly(o.ledger_path);
  if (!store.ok()) return Error(store.status());
  auto groups = ledger::ComputeLatency(**store, *since, o.local_providers);
  if (!groups.ok()) return Error(groups.status());
  return {200, ledger::RenderLatencyJson(*since, *groups)};
}

Answer Providers(const AdminApiOptions& o, std::string_view target, int64_t now_ms) {
  auto since = SinceParam(target, "1h", now_ms);
  if (!since.ok()) return Error(since.status());
  struct Counts {
    int64_t requests = 0, errors = 0;
  };
  std::map<std::string, Counts> counts;
  if (std::filesystem::exists(o.ledger_path)) {
    auto store = OpenReadOnly(o.ledger_path);
    if (!store.ok()) return Error(store.status());
    core::Status st =
        (*store)->Scan(ledger::ScanOptions{.since_ms = *since}, [&](ledger::Record& r) {
          if (r.provider.empty()) return true;
          Counts& c = counts[r.provider];
          ++c.requests;
          if (r.status >= 400 || !r.error_code.empty()) ++c.errors;
          return true;
        });
    if (!st.ok()) return Error(st);
  }
  std::vector<ProviderHealth> providers;
  if (o.providers) providers = o.providers();
  for (const auto& [name, c] : counts) {
    const bool known =
        std::any_of(providers.begin(), providers.end(),
                    [&name = name](const ProviderHealth& p) { return p.name == name; });
    if (!known) {
      providers.push_back({name, name == "student" ? "student" : "", name == "student",
                           name == "student" ? "n/a" : "unknown"});
    }
  }
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject();
  w.Field("since_ms", *since);
  w.Key("providers").BeginArray();
  for (const ProviderHealth& p : providers) {
    const Counts c = counts.count(p.name) ? counts[p.name] : Counts{};
    w.BeginObject();
    w.Field("name", p.name);
    w.Field("kind", p.kind);
    w.Field("owned", p.owned);
    w.Field("circuit", p.circuit);
    w.Field("requests", c.requests);
    w.Field("errors", c.errors);
    Number(w, "error_rate", Ratio(c.errors, c.requests));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {200, std::move(out)};
}

Answer Stats(const std::string& path, std::string_view target, int64_t now_ms) {
  ledger::StatsQuery query;
  std::string by = QueryParam(target, "by").value_or("");
  if (!by.empty()) query.by = by;
  if (auto s = ledger::ValidateGroupBy(query.by); !s.ok()) return Error(s);
  std::string since = QueryParam(target, "since").value_or("");
  if (since.empty()) since = "24h";
  if (since != "all") {
    auto window = ledger::ParseSince(since);
    if (!window.ok()) return Error(window.status());
    query.since_ms = now_ms - *window;
  }
  auto store = OpenReadOnly(path);
  if (!store.ok()) return Error(store.status());
  auto report = ledger::ComputeStats(**store, query);
  if (!report.ok()) return Error(report.status());
  return {200, ledger::RenderStatsJson(*report)};
}

Answer Tail(const std::string& path, std::string_view target) {
  size_t n = 20;
  const std::string text = QueryParam(target, "n").value_or("");
  if (!text.empty()) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n == 0 || n > 10000) {
      return Error(
          core::InvalidArgument("n: expected an integer from 1 to 10000, got \"" + text + "\""));
    }
  }
  auto store = OpenReadOnly(path);
  if (!store.ok()) return Error(store.status());
  auto records = ledger::TailWithBodies(**store, n);
  if (!records.ok()) return Error(records.status());
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < records->size(); ++i) {
    if (i > 0) out.push_back(',');
    ledger::AppendRecordJson(out, (*records)[i]);
  }
  out += "]}";
  return {200, std::move(out)};
}

}  // namespace

AdminApi::AdminApi(AdminApiOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : system_clock_) {
  // The pool's one thread names itself before any request reaches it.
  http::asio::post(pool_, [] { core::NameThisThread("sy-admin"); });
}

AdminApi::AdminApi(std::string ledger_path)
    : AdminApi(AdminApiOptions{.ledger_path = std::move(ledger_path)}) {}

AdminApi::~AdminApi() {
  pool_.stop();
  pool_.join();
}

AdminApi::Answer AdminApi::Get(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  const int64_t now_ms = clock_.UnixMillis();
  if (path == "/admin/summary") return Summary(options_, now_ms);
  if (path == "/admin/timeseries") return Timeseries(options_, target, now_ms);
  if (path == "/admin/tasks") return Tasks(options_, target, now_ms, clock_);
  if (path == "/admin/crossover") return CrossoverAnswer(options_, target, now_ms);
  if (path == "/admin/latency") return Latency(options_, target, now_ms);
  if (path == "/admin/providers") return Providers(options_, target, now_ms);
  if (path == "/admin/ledger/stats") return Stats(options_.ledger_path, target, now_ms);
  if (path == "/admin/ledger/tail") return Tail(options_.ledger_path, target);
  std::string known;
  for (std::string_view p : kPaths) {
    if (!known.empty()) known += ", ";
    known += "GET " + std::string(p);
  }
  core::Status nf = core::NotFound("unknown admin path " + std::string(path) +
                                   " (admin endpoints: " + known + ")");
  nf.set_error_code("unknown_url");
  return Error(nf);
}

http::awaitable<void> AdminApi::Handle(http::ServerRequest& req, http::ResponseWriter& w) {
  const std::string_view target = req.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = req.method == http::bhttp::verb::get;
  const bool known = std::find(std::begin(kPaths), std::end(kPaths), path) != std::end(kPaths);
  Answer answer;
  if (known && !get) {
    answer = Error(core::Status(core::StatusCode::kMethodNotAllowed,
                                "method " + std::string(req.method_text) + " is not allowed on " +
                                    std::string(path) + " (allowed: GET)"));
  } else {
    // The database read runs on the pool, not on (and blocking) the event loop.
    answer = co_await http::RunOnPool(pool_, [this, target] { return Get(target); });
  }
  http::ResponseHeaders headers;
  headers.emplace_back("Cache-Control", "no-store");
  co_await w.Send(answer.status, "application/json", answer.body, headers);
}

}  // namespace switchyard::app
