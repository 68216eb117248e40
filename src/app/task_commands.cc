// Config glue for `switchyard tasks|train|eval`: loads the config, finds the
// task, and fills the option structs of app/learn_cmd.h.
#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "app/learn_cmd.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/tasks.h"
#include "learn/label_store.h"

namespace switchyard::app {
namespace {

core::Result<config::Config> LoadConfig(const std::string& path) {
  const config::EnvLookup env = config::ProcessEnv();
  return config::LoadConfigOrDefaults(path, env);
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
  // Labels seen, unparseable replies, live agreement...: what the server
  // stored in the learning store (the ledger's file, if it exists).
  if (auto s = ReadTaskStats(o.registry_db, o); !s.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", s.message().c_str());
    return 1;
  }
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
  TrainCommandOptions o;
  if (options.from_csv.empty()) {
    // The teacher's labels recorded by the server.
    const std::string db = cfg->LedgerPath();
    if (!std::filesystem::exists(db)) {
      std::fprintf(stderr,
                   "switchyard: train %s: no ledger at %s yet; send requests to task:%s through "
                   "`switchyard serve` first, or give --from FILE.csv (columns text,label)\n",
                   task->name.c_str(), db.c_str(), task->name.c_str());
      return 2;
    }
    core::SystemClock clock;
    auto labels = learn::LabelStore::Open(db, clock);
    if (!labels.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", labels.status().message().c_str());
      return 1;
    }
    auto examples = (*labels)->Load(task->name);
    if (!examples.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", examples.status().message().c_str());
      return 1;
    }
    o.examples = std::move(*examples);
  }
  o.task = SpecOf(*task);
  o.from_csv = options.from_csv;
  o.registry_db = cfg->LedgerPath();
  o.train.holdout_fraction = task->holdout_fraction;
  o.train.model = gateway::ModelOptionsFor(*task);
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
