// Subcommands of the switchyard binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or bad configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace switchyard::app {

struct ServeOptions {
  std::string config_path;  // "" = embedded defaults + environment
  // Called once when start-up is done, to hand the allocator's free pages back
  // to the kernel (Hyperscan's pattern compilation leaves several MB freed).
  // The binary sets it for the allocator it links; null = glibc's malloc_trim.
  void (*release_free_memory)() = nullptr;
};

int RunServe(const ServeOptions& options);

struct LedgerOptions {
  std::string config_path;  // "" = embedded defaults (for data_dir)
  std::string db_path;      // overrides the config's ledger path
  std::string since = "24h";
  std::string by = "model";
  bool json = false;
  size_t tail_count = 20;
};

int RunLedgerStats(const LedgerOptions& options);
int RunLedgerTail(const LedgerOptions& options);

// tasks / train TASK / eval TASK (app/task_commands.cc).
struct TaskCommandOptions {
  std::string config_path;
  std::string task;
  std::string from_csv;  // train --from
  std::string data_csv;  // eval --data
  std::optional<int64_t> version;
  bool versions = false;
  bool json = false;
};
int RunTasksCommand(const TaskCommandOptions& options);
int RunTrainCommand(const TaskCommandOptions& options);
int RunEvalCommand(const TaskCommandOptions& options);

}  // namespace switchyard::app
