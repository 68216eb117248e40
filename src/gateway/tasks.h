// TaskRuntime: students on the request path.
//
// A chat request reaches a task with model "task:NAME" or the header
// x-switchyard-task: NAME. The gateway asks the runtime for the task, the
// student's input (TaskConfig.input) and a decision:
//  - the task's current student (learn::StudentSet) is serving and accepts:
//    the gateway answers locally with the label (BuildStudentReply);
//  - otherwise the teacher (TaskConfig.teacher, through the normal targets)
//    answers and OnTeacherAnswer maps its reply to a label (learn/labels.h),
//    records the live comparison with the student, and hands the label to the
//    TaskLearner (its own thread: training never blocks an event loop).
// Shadow sampling: with probability shadow_sample a request the student would
// accept goes to the teacher anyway, so live agreement measures the accepted
// region; a serving student whose live lower bound falls below the target
// after min_live_samples accepted comparisons is demoted (on the learner
// thread) and the demotion is logged.
//
// Student input (TaskConfig.input): the last user message; a string field of
// it parsed as JSON (json_field:NAME: not JSON or no such field is a 400); or
// a variable of the task's prompt template (template_var:NAME): a message
// that does not have the template's shape, or whose variable is empty, is
// not read by the student: it abstains, the teacher answers, the teacher's
// label is not trained on (there is no student input to pair it with), and
// the request is counted (switchyard_task_input_unmatched_total and the
// task's input_unmatched in the learning store).
//
// Unparseable teacher replies: the client gets them unchanged; they are
// counted (switchyard_task_unparseable_total), never trained on, and kept in
// the learning store (the reply's first 4 KB with the request id, whatever
// the ledger's payload retention; learn/label_store.h).
//
// Local cost: a student answer is charged the task's `student_cost_usd`
// (default kStudentCostUsd = 1e-7 USD per request: about 7 ms of one core at
// $0.05 per core-hour, a generous bound for parsing, deciding and answering;
// the decision itself takes microseconds).
//
// Ownership: owns the registry and label-store connections (SQLite, in the
// ledger's file unless TaskRuntimeOptions says otherwise), the StudentSet, the
// live tracker and the learner thread (which persists the live statistics;
// learn/task_learner.h). The metrics registry must outlive it.
// Thread-safety: every const method and OnTeacherAnswer may be called from
// any event loop concurrently.
// Errors: Create returns InvalidArgument for a task whose labels, label
// parser or input template cannot be built, FailedPrecondition for a registry or label store
// that cannot be opened; a student that cannot be loaded at start is logged
// and the task starts without one. Find: NotFound (code task_not_found)
// "unknown task 'X' (configured tasks: a, b)". StudentInput: InvalidArgument
// (code invalid_request), messages in tasks.cc next to StudentInput.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "config/config.h"
#include "core/chat.h"
#include "core/clock.h"
#include "core/status.h"
#include "learn/label_store.h"
#include "learn/labels.h"
#include "learn/live.h"
#include "learn/registry.h"
#include "learn/task_learner.h"
#include "observe/metrics.h"

namespace switchyard::gateway {

// The default of TaskConfig::student_cost_usd.
inline constexpr double kStudentCostUsd = 1e-7;

struct TaskRuntimeOptions {
  std::string db_path;    // registry and labels; "" = config.LedgerPath()
  std::string model_dir;  // student model files; "" = beside db_path
  // How often the learner writes the live statistics (also at shutdown).
  std::chrono::milliseconds stats_interval{10'000};
};

// The fastText options of a task's students: its word_ngrams,
// char_ngram_min/max, epochs and dim over learn::ModelOptions's defaults.
learn::ModelOptions ModelOptionsFor(const config::TaskConfig& task);

// What the student says about one request.
struct TaskDecision {
  std::shared_ptr<const learn::Student> student;  // null: the task has none yet
  std::string label;                              // the student's top label
  double confidence = 0;
  bool accept = false;  // the student would answer on its own
  bool shadow = false;  // accepted, but sampled for the teacher anyway
  bool local() const { return accept && !shadow; }
};

// The student's answer in OpenAI form.
struct StudentReply {
  std::string model;  // "student/NAME@vN"
  std::string body;   // chat.completion JSON, or SSE frames ending in [DONE]
};

// The task a request names: model "task:NAME" wins over the header; nullopt
// when neither names one.
std::optional<std::string_view> RequestedTask(std::string_view model, std::string_view header);
// NotFound (code task_not_found) naming the configured tasks.
core::Status TaskNotFound(const config::Config& config, std::string_view name);

// The label text of a teacher's answer: a chat.completion body's
// choices[0].message.content, or the concatenated delta.content of SSE
// frames. "" when none can be read.
std::string CompletionContent(std::string_view body);
std::string StreamedContent(std::string_view sse);

StudentReply BuildStudentReply(const TaskDecision& decision, std::string_view id, int64_t created,
                               bool stream);

class TaskRuntime {
 public:
  enum class InputMode { kLastUser, kJsonField, kTemplateVar };
  struct Task {
    config::TaskConfig cfg;
    learn::LabelParser parser;
    InputMode input_mode = InputMode::kLastUser;
    std::string input_name;  // the JSON field or the template variable
  };

  static core::Result<std::unique_ptr<TaskRuntime>> Create(const config::Config& config,
                                                           const core::Clock& clock,
                                                           observe::Registry& metrics,
                                                           std::shared_ptr<spdlog::logger> log,
                                                           TaskRuntimeOptions options = {});
  ~TaskRuntime();

  core::Result<const Task*> Find(std::string_view name) const;
  // What the student reads; "" when it cannot read this request (template
  // mismatch, counted here): Decide then abstains.
  core::Result<std::string> StudentInput(const Task& task, const core::ChatRequest& request) const;
  // `u` in [0, 1): the shadow-sampling draw (the caller's seeded generator).
  // An empty input gets no decision (student null: the teacher answers).
  TaskDecision Decide(const Task& task, std::string_view input, double u) const;
  // After the teacher answered: label (or the unparsed reply kept), live
  // comparison, learning (not for an empty input).
  void OnTeacherAnswer(const Task& task, const TaskDecision& decision, std::string input,
                       std::string_view teacher_text, std::string_view request_id);
  // Counts an answered request (metrics: requests by answerer, coverage).
  void CountAnswer(const Task& task, bool by_student);

  double student_cost_usd(const Task& task) const { return task.cfg.student_cost_usd; }
  learn::StudentSet& students() { return students_; }
  learn::Registry& registry() { return *registry_; }
  learn::TaskLearner& learner() { return *learner_; }
  learn::LiveTracker& live() { return live_; }

 private:
  struct TaskMetrics {
    observe::Counter* by_student = nullptr;
    observe::Counter* by_teacher = nullptr;
    observe::Counter* unparseable = nullptr;
    observe::Counter* labels = nullptr;
    observe::Counter* input_unmatched = nullptr;
  };
  TaskRuntime(std::shared_ptr<spdlog::logger> log, TaskRuntimeOptions options)
      : log_(std::move(log)), options_(std::move(options)) {}

  std::shared_ptr<spdlog::logger> log_;
  TaskRuntimeOptions options_;
  std::string configured_;  // "a, b" for error messages
  std::map<std::string, std::unique_ptr<Task>, std::less<>> tasks_;
  std::map<std::string, TaskMetrics, std::less<>> metrics_;
  learn::StudentSet students_;
  learn::LiveTracker live_;
  std::unique_ptr<learn::Registry> registry_;
  std::unique_ptr<learn::LabelStore> labels_;
  std::unique_ptr<learn::TaskLearner> learner_;
  std::mutex demote_mu_;
  std::set<std::pair<std::string, int64_t>> demote_requested_;
};

}  // namespace switchyard::gateway
