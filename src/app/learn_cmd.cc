// `switchyard tasks|train|eval`: the student commands.
#include "app/learn_cmd.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <string_view>

#include "core/clock.h"
#include "core/json_writer.h"
#include "learn/eval.h"
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

int RunTasks(const TasksOptions& options) {
  core::SystemClock clock;
  std::vector<learn::StudentRecord> records;
  if (auto reg = OpenRegistry(options.registry_db, options.model_dir, true, clock); reg.ok()) {
    auto list = (*reg)->List();
    if (!list.ok()) return Fail(list.status(), 1);
    records = std::move(*list);
  } else if (std::string_view(reg.status().message()).find(": no such file") ==
             std::string_view::npos) {
    return Fail(reg.status(), 1);
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

  if (options.json) {
    // [{"task":..., "labels_seen":n|null, "live":{...}|null, "student":{...}|null,
    //   "versions":[{...}, ...] (with --versions)}]
    const auto write_record = [](core::JsonWriter& w, const learn::StudentRecord& r) {
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
          .EndObject();
    };
    std::string out;
    core::JsonWriter w(out);
    w.BeginArray();
    for (const auto& name : names) {
      w.BeginObject().Field("task", name).Key("labels_seen");
      if (auto it = options.labels_seen.find(name); it != options.labels_seen.end()) {
        w.Int(it->second);
      } else {
        w.Null();
      }
      w.Key("live");
      if (auto it = options.live.find(name); it != options.live.end()) {
        w.BeginObject()
            .Field("compared", static_cast<int64_t>(it->second.compared))
            .Field("agreement", it->second.agreement)
            .Field("accepted", static_cast<int64_t>(it->second.accepted))
            .Field("accepted_agreement", it->second.accepted_agreement)
            .Field("lower_bound", it->second.lower_bound)
            .EndObject();
      } else {
        w.Null();
      }
      w.Key("student");
      if (const auto* r = current(name)) {
        write_record(w, *r);
      } else {
        w.Null();
      }
      if (options.versions) {
        w.Key("versions").BeginArray();
        for (const auto& r : records) {
          if (r.task == name) write_record(w, r);
        }
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
    out.push_back('\n');
    Print(out);
    return 0;
  }

  std::vector<std::vector<std::string>> rows = {{"TASK", "STATUS", "VERSION", "LABELS SEEN",
                                                 "THRESHOLD", "COVERAGE", "HOLDOUT AGREEMENT",
                                                 "LIVE AGREEMENT", "REASON"}};
  for (const auto& name : names) {
    std::vector<const learn::StudentRecord*> shown;
    if (options.versions) {
      for (const auto& r : records) {
        if (r.task == name) shown.push_back(&r);
      }
    } else if (const auto* r = current(name)) {
      shown.push_back(r);
    }
    std::string seen = "-";
    if (auto it = options.labels_seen.find(name); it != options.labels_seen.end()) {
      seen = std::to_string(it->second);
    }
    std::string live = "-";
    if (auto it = options.live.find(name); it != options.live.end() && it->second.accepted > 0) {
      live = Cat({Fixed(it->second.accepted_agreement, 3),
                  " (n=", std::to_string(it->second.accepted), ")"});
    }
    if (shown.empty()) {
      rows.push_back({name, "none", "-", seen, "-", "-", "-", live, "no student trained yet"});
      continue;
    }
    for (const auto* r : shown) {
      const auto coverage = MetricField(r->metrics_json, "coverage");
      const auto agreement = MetricField(r->metrics_json, "accepted_agreement");
      rows.push_back({name, std::string(learn::StudentStatusName(r->status)),
                      Cat({"v", std::to_string(r->version)}), seen,
                      r->threshold ? Fixed(*r->threshold, 4) : "-",
                      coverage && r->threshold ? Fixed(*coverage, 3) : "-",
                      agreement && r->threshold ? Fixed(*agreement, 3) : "-", live, r->reason});
    }
  }
  Print(Table(rows));
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
