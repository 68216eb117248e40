// `switchyard tasks|train|eval`: the student commands.
#include "app/learn_cmd.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string_view>

#include "core/clock.h"
#include "core/json_writer.h"
#include "learn/eval.h"
#include "learn/label_store.h"
#include "learn/registry.h"

namespace switchyard::app {
namespace {

int Fail(const core::Status& s, int code) {
  std::fprintf(stderr, "switchyard: %s\n", s.message().c_str());
  return code;
}

void Print(const std::string& out) {
  std::fwrite(out.data(), 1, out.size(), stdout);
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

core::Result<std::unique_ptr<learn::Registry>> OpenRegistry(const std::string& db,
                                                            const std::string& model_dir,
                                                            bool read_only,
                                                            const core::Clock& clock) {
  learn::RegistryOptions o;
  o.db_path = db;
  o.model_dir = model_dir;
  o.read_only = read_only;
  return learn::Registry::Open(o, clock);
}

// A field of a record's holdout metrics JSON, or nullopt.
std::optional<double> MetricField(const std::string& json, const char* field) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  double v = 0;
  if (parser.parse(simdjson::padded_string(json)).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (doc[field].get_double().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

// Joins pieces (GCC 12 warns falsely, -Wrestrict, on `"literal" + std::string`).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

std::string PadRight(const std::string& s, size_t w) {
  std::string out = s;
  if (out.size() < w) out.append(w - out.size(), ' ');
  return out;
}

// Renders rows as aligned columns (two spaces apart).
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += i + 1 < r.size() ? PadRight(r[i], widths[i] + 2) : r[i];
    }
    out.append(line).append("\n");
  }
  return out;
}

}  // namespace

core::Status ReadTaskStats(const std::string& db, TasksOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) return core::Status::Ok();  // never create one
  core::SystemClock clock;
  auto store = learn::LabelStore::Open(db, clock);
  if (!store.ok()) return store.take_status();
  auto counters = (*store)->LoadCounters();
  if (!counters.ok()) return counters.take_status();
  for (const auto& t : options.tasks) {
    learn::TaskCounts c;
    auto labels = (*store)->Count(t.name);
    if (!labels.ok()) return labels.take_status();
    c.labels = *labels;
    auto unparsed = (*store)->CountUnparsed(t.name);
    if (!unparsed.ok()) return unparsed.take_status();
    c.unparseable = *unparsed;
    if (auto it = counters->find(t.name); it != counters->end()) {
      c.input_unmatched = it->second.input_unmatched;
      c.demotions = it->second.demotions;
    }
    options.counts[t.name] = c;
  }
  auto live = (*store)->LoadLive();
  if (!live.ok()) return live.take_status();
  for (const auto& row : *live) options.live[{row.task, row.version}] = row.stats;
  return core::Status::Ok();
}

core::Result<std::string> RenderTasks(const TasksOptions& options) {
  core::SystemClock clock;
  std::vector<learn::StudentRecord> records;
  if (auto reg = OpenRegistry(options.registry_db, options.model_dir, true, clock); reg.ok()) {
    auto list = (*reg)->List();
    if (!list.ok()) return list.take_status();
    records = std::move(*list);
  } else if (std::string_view(reg.status().message()).find(": no such file") ==
             std::string_view::npos) {
    return reg.take_status();
  }  // no database yet: no students

  // The tasks to show: configured ones first, then any other with a student.
  std::vector<std::string> names;
  for (const auto& t : options.tasks) names.push_back(t.name);
  for (const auto& r : records) {
    if (std::find(names.begin(), names.end(), r.task) == names.end()) names.push_back(r.task);
  }
  // The record that represents a task: the promoted one, else the newest.
  const auto current = [&records](const std::string& task) -> const learn::StudentRecord* {
    const learn::StudentRecord* best = nullptr;
    for (const auto& r : records) {
      if (r.task != task) continue;
      if (r.status == learn::StudentStatus::kPromoted) return &r;
      if (best == nullptr || r.version > best->version) best = &r;
    }
    return best;
  };
  const auto live_of = [&options](const learn::StudentRecord& r) -> const learn::LiveStats* {
    auto it = options.live.find({r.task, r.version});
    return it == options.live.end() ? nullptr : &it->second;
  };

  if (options.json) {
    // [{"task":..., "labels_seen":n|null, "unparseable":n|null, "input_unmatched":n|null,
    //   "demotions":n|null, "live":{...}|null (the student's), "student":{...}|null,
    //   "versions":[{...}, ...] (with --versions)}]; each student/version has its "live".
    const auto write_live = [](core::JsonWriter& w, const learn::LiveStats* l) {
      if (l == nullptr) {
        w.Null();
        return;
      }
      w.BeginObject()
          .Field("compared", static_cast<int64_t>(l->compared))
          .Field("agreed", static_cast<int64_t>(l->agreed))
          .Field("agreement", l->agreement)
          .Field("accepted", static_cast<int64_t>(l->accepted))
          .Field("accepted_agreed", static_cast<int64_t>(l->accepted_agreed))
          .Field("accepted_agreement", l->accepted_agreement)
          .Field("lower_bound", l->lower_bound)
          .EndObject();
    };
    const auto write_record = [&](core::JsonWriter& w, const learn::StudentRecord& r) {
      w.BeginObject()
          .Field("version", r.version)
          .Field("status", learn::StudentStatusName(r.status))
          .Key("threshold");
      if (r.threshold) {
        w.Double(*r.threshold);
      } else {
        w.Null();
      }
      w.Field("created_ms", r.created_ms)
          .Field("updated_ms", r.updated_ms)
          .Field("reason", r.reason)
          .Key("holdout")
          .Raw(r.metrics_json.empty() ? "null" : r.metrics_json)
          .Key("live");
      write_live(w, live_of(r));
      w.EndObject();
    };
    std::string out;
    core::JsonWriter w(out);
    w.BeginArray();
    for (const auto& name : names) {
      w.BeginObject().Field("task", name);
      const auto counts = options.counts.find(name);
      const auto count = [&](const char* key, int64_t learn::TaskCounts::*field) {
        w.Key(key);
        if (counts != options.counts.end()) {
          w.Int(counts->second.*field);
        } else {
          w.Null();
        }
      };
      count("labels_seen", &learn::TaskCounts::labels);
      count("unparseable", &learn::TaskCounts::unparseable);
      count("input_unmatched", &learn::TaskCounts::input_unmatched);
      count("demotions", &learn::TaskCounts::demotions);
      const learn::StudentRecord* r = current(name);
      w.Key("live");
      write_live(w, r != nullptr ? live_of(*r) : nullptr);
      w.Key("student");
      if (r != nullptr) {
        write_record(w, *r);
      } else {
        w.Null();
      }
      if (options.versions) {
        w.Key("versions").BeginArray();
        for (const auto& v : records) {
          if (v.task == name) write_record(w, v);
        }
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
    out.push_back('\n');
    return out;
  }

  std::vector<std::vector<std::string>> rows = {
      {"TASK", "STATUS", "VERSION", "LABELS SEEN", "THRESHOLD", "COVERAGE", "HOLDOUT AGREEMENT",
       "LIVE AGREEMENT", "UNPARSEABLE", "UNMATCHED INPUT", "DEMOTIONS", "REASON"}};
  for (const auto& name : names) {
    std::vector<const learn::StudentRecord*> shown;
    if (options.versions) {
      for (const auto& r : records) {
        if (r.task == name) shown.push_back(&r);
      }
    } else if (const auto* r = current(name)) {
      shown.push_back(r);
    }
    std::string seen = "-", unparseable = "-", unmatched = "-", demotions = "-";
    if (auto it = options.counts.find(name); it != options.counts.end()) {
      seen = std::to_string(it->second.labels);
      unparseable = std::to_string(it->second.unparseable);
      unmatched = std::to_string(it->second.input_unmatched);
      demotions = std::to_string(it->second.demotions);
    }
    if (shown.empty()) {
      rows.push_back({name, "none", "-", seen, "-", "-", "-", "-", unparseable, unmatched,
                      demotions, "no student trained yet"});
      continue;
    }
    for (const auto* r : shown) {
      const auto coverage = MetricField(r->metrics_json, "coverage");
      const auto agreement = MetricField(r->metrics_json, "accepted_agreement");
      // Live: agreement among the accepted comparisons (what demotion judges).
      std::string live = "-";
      if (const learn::LiveStats* l = live_of(*r); l != nullptr && l->accepted > 0) {
        live = Cat({Fixed(l->accepted_agreement, 3), " (n=", std::to_string(l->accepted),
                    ", lower ", Fixed(l->lower_bound, 3), ")"});
      }
      rows.push_back({name, std::string(learn::StudentStatusName(r->status)),
                      Cat({"v", std::to_string(r->version)}), seen,
                      r->threshold ? Fixed(*r->threshold, 4) : "-",
                      coverage && r->threshold ? Fixed(*coverage, 3) : "-",
                      agreement && r->threshold ? Fixed(*agreement, 3) : "-", live, unparseable,
                      unmatched, demotions, r->reason});
    }
  }
  return Table(rows);
}

int RunTasks(const TasksOptions& options) {
  auto out = RenderTasks(options);
  if (!out.ok()) return Fail(out.status(), 1);
  Print(*out);
  return 0;
}

int RunTrain(const TrainCommandOptions& options) {
  if (auto s = learn::ValidateTaskName(options.task.name); !s.ok()) return Fail(s, 2);
  std::vector<learn::Example> examples;
  if (!options.from_csv.empty()) {
    auto loaded =
        learn::LoadExamplesCsv(options.from_csv, options.text_column, options.label_column);
    if (!loaded.ok()) return Fail(loaded.status(), 2);
    examples = std::move(*loaded);
  } else {
    examples = options.examples;
  }
  learn::TrainOptions train = options.train;
  train.target_agreement = options.task.target_agreement;
  auto trained = learn::TrainStudent(options.task.name, options.task.labels, examples, train);
  if (!trained.ok()) {
    const bool usage = trained.status().code() == core::StatusCode::kInvalidArgument ||
                       trained.status().code() == core::StatusCode::kFailedPrecondition;
    return Fail(trained.status(), usage ? 2 : 1);
  }
  core::SystemClock clock;
  auto reg = OpenRegistry(options.registry_db, options.model_dir, false, clock);
  if (!reg.ok()) return Fail(reg.status(), 1);
  learn::StudentSet scratch;  // this process serves nothing
  auto published = learn::PublishTrained(**reg, scratch, *trained);
  if (!published.ok()) return Fail(published.status(), 1);

  const learn::HoldoutMetrics& m = trained->metrics;
  if (options.json) {
    std::string out;
    core::JsonWriter w(out);
    w.BeginObject()
        .Field("task", published->record.task)
        .Field("version", published->record.version)
        .Field("status", learn::StudentStatusName(published->record.status))
        .Field("promoted", published->promoted)
        .Field("reason", published->reason)
        .Field("model_path", (*reg)->ModelPath(published->record))
        .Key("holdout")
        .Raw(m.ToJson())
        .EndObject();
    Print(out + "\n");
    return 0;
  }
  std::string out =
      Cat({"task '", options.task.name, "': trained v", std::to_string(published->record.version),
           " on ", std::to_string(m.distinct), " distinct labelled inputs (",
           std::to_string(m.examples), " given, ", std::to_string(m.duplicates), " duplicates, ",
           std::to_string(m.unknown_labels), " with unknown labels) in ", Fixed(m.train_seconds, 2),
           " s\n"});
  out += Cat({"held-out agreement ", Fixed(m.agreement, 4), ", calibration error ", Fixed(m.ece, 4),
              " (raw ", Fixed(m.ece_raw, 4), ")\n"});
  out += Cat({published->promoted ? "promoted: " : "shadow: ", published->reason, "\n"});
  out += Cat({"model ", (*reg)->ModelPath(published->record), "\n\n"});
  out += m.confusion.RenderText();
  Print(out);
  return 0;
}

int RunEval(const EvalCommandOptions& options) {
  if (auto s = learn::ValidateTaskName(options.task.name); !s.ok()) return Fail(s, 2);
  auto examples =
      learn::LoadExamplesCsv(options.data_csv, options.text_column, options.label_column);
  if (!examples.ok()) return Fail(examples.status(), 2);
  core::SystemClock clock;
  auto reg = OpenRegistry(options.registry_db, options.model_dir, true, clock);
  if (!reg.ok()) return Fail(reg.status(), 1);
  core::Result<learn::Student> student = core::NotFound("");
  if (options.version) {
    auto record = (*reg)->Get(options.task.name, *options.version);
    if (!record.ok()) return Fail(record.status(), 2);
    student = (*reg)->LoadStudent(*record);
  } else {
    student = (*reg)->LoadCurrent(options.task.name);
  }
  if (!student.ok()) {
    return Fail(student.status(), student.status().code() == core::StatusCode::kNotFound ? 2 : 1);
  }
  const learn::EvalReport report = learn::Evaluate(*student, *examples, options.task.labels);
  std::string out = options.json ? learn::RenderEvalJson(report) : learn::RenderEvalText(report);
  if (options.json) out.push_back('\n');
  Print(out);
  return 0;
}

}  // namespace switchyard::app
