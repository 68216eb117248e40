// Config glue for `switchyard tasks|train|eval`: loads the config, finds the
// task, and fills the option structs of app/learn_cmd.h.
#include <cstdio>

#include "app/commands.h"
#include "app/learn_cmd.h"
#include "config/config.h"

namespace switchyard::app {
namespace {

core::Result<config::Config> LoadConfig(const std::string& path) {
  const config::EnvLookup env = config::ProcessEnv();
  return path.empty() ? config::DefaultConfig(env) : config::LoadConfigFile(path, env);
}

TaskSpec SpecOf(const config::TaskConfig& t) {
  return TaskSpec{t.name, t.labels, t.target_agreement};
}

// The configured task called `name`, or an exit code after a one-line error.
const config::TaskConfig* FindTaskOrComplain(const config::Config& cfg, const std::string& name) {
  const config::TaskConfig* task = cfg.FindTask(name);
  if (task == nullptr) {
    std::string known;
    for (const auto& t : cfg.tasks) known += (known.empty() ? "" : ", ") + t.name;
    std::fprintf(stderr, "switchyard: unknown task \"%s\" (configured tasks: %s)\n", name.c_str(),
                 known.empty() ? "none; declare one with [[tasks]] in the config" : known.c_str());
  }
  return task;
}

}  // namespace

int RunTasksCommand(const TaskCommandOptions& options) {
  auto cfg = LoadConfig(options.config_path);
  if (!cfg.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s\n", cfg.status().message().c_str());
    return 2;
  }
  TasksOptions o;
  o.registry_db = cfg->LedgerPath();
  for (const auto& t : cfg->tasks) o.tasks.push_back(SpecOf(t));
  o.versions = options.versions;
  o.json = options.json;
  return RunTasks(o);
}

int RunTrainCommand(const TaskCommandOptions& options) {
  auto cfg = LoadConfig(options.config_path);
  if (!cfg.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s\n", cfg.status().message().c_str());
    return 2;
  }
  const config::TaskConfig* task = FindTaskOrComplain(*cfg, options.task);
  if (task == nullptr) return 2;
  if (options.from_csv.empty()) {
    std::fprintf(stderr,
                 "switchyard: train %s: give --from FILE.csv (columns text,label); training from "
                 "the ledger's labels runs inside `switchyard serve`\n",
                 task->name.c_str());
    return 2;
  }
  TrainCommandOptions o;
  o.task = SpecOf(*task);
  o.from_csv = options.from_csv;
  o.registry_db = cfg->LedgerPath();
  o.train.holdout_fraction = task->holdout_fraction;
  o.json = options.json;
  return RunTrain(o);
}

int RunEvalCommand(const TaskCommandOptions& options) {
  auto cfg = LoadConfig(options.config_path);
  if (!cfg.ok()) {
    std::fprintf(stderr, "switchyard: config error: %s\n", cfg.status().message().c_str());
    return 2;
  }
  const config::TaskConfig* task = FindTaskOrComplain(*cfg, options.task);
  if (task == nullptr) return 2;
  EvalCommandOptions o;
  o.task = SpecOf(*task);
  o.data_csv = options.data_csv;
  o.version = options.version;
  o.registry_db = cfg->LedgerPath();
  o.json = options.json;
  return RunEval(o);
}

}  // namespace switchyard::app
