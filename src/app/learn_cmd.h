// `switchyard tasks`, `switchyard train TASK`, `switchyard eval TASK`: the
// student commands. Each function returns the process exit code: 0 success;
// 1 runtime failure (registry, model file, training); 2 bad usage or bad input
// (unknown task, unreadable or malformed CSV). Results go to stdout, one-line
// errors ("switchyard: ...") to stderr. The caller (main.cc) fills the option
// structs from the config and the flags.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "learn/live.h"
#include "learn/student.h"
#include "learn/task_learner.h"
#include "learn/trainer.h"

namespace switchyard::app {

// A task as declared in the config, as far as these commands need it.
struct TaskSpec {
  std::string name;
  std::vector<std::string> labels;
  double target_agreement = 0.95;
};

struct TasksOptions {
  std::string registry_db;      // SQLite file holding the students table (the ledger's file)
  std::string model_dir;        // "" = the directory of registry_db
  std::vector<TaskSpec> tasks;  // configured tasks, listed even without a student
  // From the learning store (ReadTaskStats), as the server last wrote them:
  std::map<std::string, learn::TaskCounts> counts;                   // per task (absent = unknown)
  std::map<std::pair<std::string, int64_t>, learn::LiveStats> live;  // per (task, version)
  bool versions = false;  // --versions: every version of every task, not one line per task
  bool json = false;      // --json
};
// Fills `counts` (labels seen, unparseable replies, unmatched inputs,
// demotions) of options.tasks and `live` from the learning store in `db`; no
// file: nothing (none is created). Errors: the store's (learn/label_store.h).
core::Status ReadTaskStats(const std::string& db, TasksOptions& options);
// The table (or JSON) RunTasks prints. Errors: the registry's.
core::Result<std::string> RenderTasks(const TasksOptions& options);
int RunTasks(const TasksOptions& options);

struct TrainCommandOptions {
  TaskSpec task;
  std::string from_csv;              // --from FILE.csv; "" = use `examples`
  std::string text_column = "text";  // columns of --from
  std::string label_column = "label";
  std::vector<learn::Example> examples;  // the ledger's labels, oldest first (without --from)
  std::string registry_db;
  std::string model_dir;      // "" = the directory of registry_db
  learn::TrainOptions train;  // target_agreement is taken from `task`
  bool json = false;
};
int RunTrain(const TrainCommandOptions& options);

struct EvalCommandOptions {
  TaskSpec task;
  std::string data_csv;  // --data FILE.csv (id,text,label)
  std::string text_column = "text";
  std::string label_column = "label";
  std::optional<int64_t> version;  // --version; default: the promoted (else newest shadow)
  std::string registry_db;
  std::string model_dir;
  bool json = false;
};
int RunEval(const EvalCommandOptions& options);

}  // namespace switchyard::app
