// Subcommands of the switchyard binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or bad configuration.
#pragma once

#include <string>

namespace switchyard::app {

struct ServeOptions {
  std::string config_path;  // "" = embedded defaults + environment
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

}  // namespace switchyard::app
