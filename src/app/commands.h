// Subcommands of the switchyard binary. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or bad configuration.
#pragma once

#include <string>

namespace switchyard::app {

struct ServeOptions {
  std::string config_path;  // "" = embedded defaults + environment
};

int RunServe(const ServeOptions& options);

}  // namespace switchyard::app
