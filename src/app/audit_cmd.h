// `switchyard audit [--since 24h] [--json]`: the egress audit (guard/audit.h),
// every call that left the boundary. Returns the exit code: 0 success, 1
// runtime failure (database), 2 bad usage or bad configuration.
#pragma once

#include <cstddef>
#include <string>

namespace switchyard::app {

struct AuditOptions {
  std::string config_path;    // "" = embedded defaults + environment (for the ledger path)
  std::string db_path;        // overrides the ledger file, which holds the audit table
  std::string since = "24h";  // 90s, 30m, 24h, 7d or "all"
  bool json = false;
  size_t limit = 0;  // 0 = every record in the window
};

int RunAudit(const AuditOptions& options);

}  // namespace switchyard::app
