#include "gateway/tasks.h"

#include <algorithm>
#include <cstdio>

#include <simdjson.h>

#include "api/openai_write.h"
#include "api/sse.h"

namespace switchyard::gateway {
namespace {

constexpr std::string_view kTaskPrefix = "task:";

std::string Fixed4(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

core::Status BadInput(std::string message) {
  core::Status s = core::InvalidArgument(std::move(message));
  s.set_error_code("invalid_request");
  return s;
}

std::string ContentAt(std::string_view json, const char* pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return {};
  std::string_view content;
  if (doc.at_pointer(pointer).get(content)) return {};
  return std::string(content);
}

}  // namespace

std::optional<std::string_view> RequestedTask(std::string_view model, std::string_view header) {
  if (model.starts_with(kTaskPrefix)) return model.substr(kTaskPrefix.size());
  if (!header.empty()) return header;
  return std::nullopt;
}

core::Status TaskNotFound(const config::Config& config, std::string_view name) {
  std::string names;
  for (const auto& t : config.tasks) {
    if (!names.empty()) names += ", ";
    names += t.name;
  }
  core::Status s = core::NotFound("unknown task '" + std::string(name) + "' (configured tasks: " +
                                  (names.empty() ? std::string("none") : names) + ")");
  s.set_error_code("task_not_found");
  return s;
}

std::string CompletionContent(std::string_view body) {
  return ContentAt(body, "/choices/0/message/content");
}

std::string StreamedContent(std::string_view sse) {
  api::SseParser parser;
  std::vector<api::SseEvent> events;
  (void)parser.Feed(sse, events);
  std::string text;
  for (const auto& e : events) {
    if (e.data == "[DONE]") continue;
    text += ContentAt(e.data, "/choices/0/delta/content");
  }
  return text;
}

learn::ModelOptions ModelOptionsFor(const config::TaskConfig& task) {
  learn::ModelOptions o;
  o.word_ngrams = task.word_ngrams;
  o.minn = task.char_ngram_min;
  o.maxn = task.char_ngram_max;
  o.epoch = task.epochs;
  o.dim = task.dim;
  return o;
}

StudentReply BuildStudentReply(const TaskDecision& d, std::string_view id, int64_t created,
                               bool stream) {
  StudentReply r;
  r.model = d.student->ModelName();
  if (stream) {
    api::AppendChunkRole(r.body, id, r.model, created);
    api::AppendChunkContent(r.body, id, r.model, created, d.label);
    api::AppendChunkFinish(r.body, id, r.model, created, "stop");
    api::AppendDone(r.body);
  } else {
    core::ChatResponse resp;
    resp.id = std::string(id);
    resp.model = r.model;
    resp.created = created;
    resp.content = d.label;
    resp.finish_reason = "stop";
    r.body = api::WriteChatCompletion(resp);
  }
  return r;
}

core::Result<std::unique_ptr<TaskRuntime>> TaskRuntime::Create(const config::Config& config,
                                                               const core::Clock& clock,
                                                               observe::Registry& metrics,
                                                               std::shared_ptr<spdlog::logger> log,
                                                               TaskRuntimeOptions options) {
  if (options.db_path.empty()) options.db_path = config.LedgerPath();
  std::unique_ptr<TaskRuntime> rt(new TaskRuntime(std::move(log), options));
  for (const auto& t : config.tasks) {
    if (!rt->configured_.empty()) rt->configured_ += ", ";
    rt->configured_ += t.name;
    if (t.kind != "classify") continue;  // generate tasks have no student
    if (auto s = learn::ValidateTaskName(t.name); !s.ok()) return s;  // config checks it too
    learn::LabelParserOptions po;
    if (t.label_parse == "exact") {
      po.mode = learn::LabelMode::kExact;
    } else if (t.label_parse == "json_field") {
      po.mode = learn::LabelMode::kJsonField;
      po.json_field = t.label_field;
    } else if (t.label_parse == "regex") {
      po.mode = learn::LabelMode::kRegex;
      po.pattern = t.label_regex;
    }
    auto parser = learn::LabelParser::Create(t.labels, po);
    if (!parser.ok()) {
      return core::InvalidArgument("task '" + t.name + "': " + parser.status().message());
    }
    if (auto s = learn::ValidateModelOptions(ModelOptionsFor(t)); !s.ok()) {
      return core::InvalidArgument("task '" + t.name + "': " + s.message());
    }
    auto task = std::unique_ptr<Task>(new Task{t, std::move(*parser), InputMode::kLastUser, ""});
    constexpr std::string_view kJson = "json_field:";
    constexpr std::string_view kVar = "template_var:";
    if (t.input.starts_with(kJson)) {
      task->input_mode = InputMode::kJsonField;
      task->input_name = t.input.substr(kJson.size());
    } else if (t.input.starts_with(kVar)) {
      task->input_mode = InputMode::kTemplateVar;
      task->input_name = t.input.substr(kVar.size());
      // Parsed by config validation; parse here for a config built in code.
      if (task->cfg.parsed_template.vars.empty()) {
        auto parsed = config::PromptTemplate::Parse(t.input_template);
        if (!parsed.ok()) {
          return core::InvalidArgument("task '" + t.name +
                                       "': input_template: " + parsed.status().message());
        }
        task->cfg.parsed_template = std::move(*parsed);
      }
      const auto& vars = task->cfg.parsed_template.vars;
      if (std::find(vars.begin(), vars.end(), task->input_name) == vars.end()) {
        return core::InvalidArgument("task '" + t.name + "': input_template has no variable {{" +
                                     task->input_name + "}}");
      }
    }
    rt->tasks_.emplace(t.name, std::move(task));
  }

  learn::RegistryOptions ro;
  ro.db_path = options.db_path;
  ro.model_dir = options.model_dir;
  auto registry = learn::Registry::Open(ro, clock);
  if (!registry.ok()) return registry.take_status();
  rt->registry_ = std::move(*registry);
  auto labels = learn::LabelStore::Open(options.db_path, clock);
  if (!labels.ok()) return labels.take_status();
  rt->labels_ = std::move(*labels);

  auto& requests = metrics.AddCounter("switchyard_task_requests_total",
                                      "Task requests answered, by task and answerer (student or "
                                      "teacher)",
                                      {"task", "answered_by"});
  auto& unparseable = metrics.AddCounter(
      "switchyard_task_unparseable_total",
      "Teacher replies that map to no label (label_unparseable; not trained on)", {"task"});
  auto& labels_seen =
      metrics.AddCounter("switchyard_task_labels_total",
                         "Teacher labels seen since start (sent to training)", {"task"});
  auto& unmatched = metrics.AddCounter(
      "switchyard_task_input_unmatched_total",
      "Requests whose input the student could not read (input_template mismatch; the teacher "
      "answered)",
      {"task"});
  learn::LearnerOptions lo;
  lo.live = &rt->live_;
  lo.stats_interval = options.stats_interval;
  lo.log = [log = rt->log_](std::string_view level, const std::string& message) {
    if (level == "warn") {
      log->warn("{}", message);
    } else {
      log->info("{}", message);
    }
  };
  for (auto& [name, task] : rt->tasks_) {
    TaskMetrics m;
    m.by_student = &requests.WithLabels({name, "student"});
    m.by_teacher = &requests.WithLabels({name, "teacher"});
    m.unparseable = &unparseable.WithLabels({name});
    m.labels = &labels_seen.WithLabels({name});
    m.input_unmatched = &unmatched.WithLabels({name});
    rt->metrics_.emplace(name, m);

    // A restart keeps the promoted version (else the newest shadow one).
    auto student = rt->registry_->LoadCurrent(name);
    if (student.ok()) {
      rt->log_->info("task '{}': loaded {} ({})", name, student->ModelName(),
                     student->serving() ? "serving" : "shadow");
      rt->students_.Set(name, std::make_shared<const learn::Student>(std::move(*student)));
    } else if (student.status().code() != core::StatusCode::kNotFound) {
      rt->log_->warn("task '{}': no student loaded: {}", name, student.status().message());
    }
    learn::LearnerTask lt;
    lt.name = name;
    lt.labels = task->cfg.labels;
    lt.target_agreement = task->cfg.target_agreement;
    lt.holdout_fraction = task->cfg.holdout_fraction;
    lt.retrain_every = task->cfg.retrain_every;
    lt.min_train_labels = task->cfg.min_train_labels;
    lt.model = ModelOptionsFor(task->cfg);
    lo.tasks.push_back(std::move(lt));
  }
  rt->learner_ = std::make_unique<learn::TaskLearner>(*rt->labels_, *rt->registry_, rt->students_,
                                                      std::move(lo));
  TaskRuntime* raw = rt.get();
  metrics.AddCallbackGaugeFamily(
      "switchyard_student_coverage",
      "Share of a task's answered requests that its student answered (since start)", {"task"},
      [raw] {
        observe::Registry::LabelledValues out;
        for (const auto& [name, m] : raw->metrics_) {
          const double s = m.by_student->Value();
          const double total = s + m.by_teacher->Value();
          out.push_back({{name}, total > 0 ? s / total : 0.0});
        }
        return out;
      });
  return rt;
}

TaskRuntime::~TaskRuntime() {
  if (learner_) learner_->Shutdown();
}

core::Result<const TaskRuntime::Task*> TaskRuntime::Find(std::string_view name) const {
  auto it = tasks_.find(name);
  if (it == tasks_.end()) {
    core::Status s =
        core::NotFound("unknown task '" + std::string(name) + "' (configured tasks: " +
                       (configured_.empty() ? std::string("none") : configured_) + ")");
    s.set_error_code("task_not_found");
    return s;
  }
  return it->second.get();
}

// Errors (InvalidArgument, code invalid_request):
//   "task 'T': the request has no user message"
//   "task 'T': the last user message is not a JSON object (input = \"json_field:F\")"
//   "task 'T': the last user message has no string field \"F\""
// A template mismatch is no error: "" (the student abstains), counted.
core::Result<std::string> TaskRuntime::StudentInput(const Task& task,
                                                    const core::ChatRequest& request) const {
  bool has_user = false;
  for (const auto& m : request.messages) has_user = has_user || m.role == "user";
  const std::string& name = task.cfg.name;
  if (!has_user) return BadInput("task '" + name + "': the request has no user message");
  const std::string_view text = request.LastUserText();
  if (task.input_mode == InputMode::kLastUser) return std::string(text);
  if (task.input_mode == InputMode::kTemplateVar) {
    auto value = task.cfg.parsed_template.Extract(text, task.input_name);
    if (value && !value->empty()) return std::string(*value);
    metrics_.find(name)->second.input_unmatched->Inc();
    learner_->CountInputUnmatched(name);
    return std::string();
  }
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size()).get(obj)) {
    return BadInput("task '" + name + "': the last user message is not a JSON object (input = \"" +
                    task.cfg.input + "\")");
  }
  std::string_view value;
  if (obj[task.input_name].get(value)) {
    return BadInput("task '" + name + "': the last user message has no string field \"" +
                    task.input_name + "\"");
  }
  return std::string(value);
}

TaskDecision TaskRuntime::Decide(const Task& task, std::string_view input, double u) const {
  TaskDecision d;
  if (input.empty()) return d;  // the student cannot read this request
  d.student = students_.Get(task.cfg.name);
  if (d.student == nullptr) return d;
  const learn::Decision sd = d.student->Decide(input);
  d.label = std::string(sd.label);
  d.confidence = sd.confidence;
  d.accept = sd.accept;
  d.shadow = d.accept && u < task.cfg.shadow_sample;
  return d;
}

void TaskRuntime::CountAnswer(const Task& task, bool by_student) {
  const TaskMetrics& m = metrics_.find(task.cfg.name)->second;
  (by_student ? m.by_student : m.by_teacher)->Inc();
}

void TaskRuntime::OnTeacherAnswer(const Task& task, const TaskDecision& decision, std::string input,
                                  std::string_view teacher_text, std::string_view request_id) {
  const std::string& name = task.cfg.name;
  const TaskMetrics& m = metrics_.find(name)->second;
  auto label = task.parser.Parse(teacher_text);
  if (!label.ok()) {
    m.unparseable->Inc();
    log_->warn("request {}: task '{}': label_unparseable: {} (kept, not used for training)",
               request_id, name, label.status().message());
    learner_->AddUnparsed(name, std::string(request_id), teacher_text, label.status().message());
    return;
  }
  if (input.empty()) return;  // nothing the student could have read: no label to learn
  m.labels->Inc();
  if (decision.student != nullptr) {
    const learn::Student& s = *decision.student;
    auto live = live_.For(name, s.version());
    live->Record(decision.accept, decision.label == *label);
    learn::LiveOptions lo;
    lo.min_samples = static_cast<uint64_t>(task.cfg.min_live_samples);
    if (decision.accept && s.serving() && live->ShouldDemote(task.cfg.target_agreement, lo)) {
      bool first = false;
      {
        std::lock_guard lock(demote_mu_);
        first = demote_requested_.insert({name, s.version()}).second;
      }
      if (first) {
        const auto st = live->Stats();
        learner_->RequestDemote(name, s.version(),
                                "live agreement lower bound " + Fixed4(st.lower_bound) +
                                    " < target " + Fixed4(task.cfg.target_agreement) + " after " +
                                    std::to_string(st.accepted) + " accepted comparisons");
      }
    }
  }
  learner_->AddLabel(name, std::move(input), std::move(*label), std::string(request_id));
}

}  // namespace switchyard::gateway
