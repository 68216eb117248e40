// `switchyard audit`.
#include "app/audit_cmd.h"

#include <cstdio>

#include "config/config.h"
#include "core/clock.h"
#include "guard/audit.h"
#include "ledger/query.h"

namespace switchyard::app {

int RunAudit(const AuditOptions& options) {
  core::SystemClock clock;
  guard::AuditQuery query;
  query.limit = options.limit;
  auto since = ledger::SinceCutoff(options.since, clock.UnixMillis());
  if (!since.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", since.status().message().c_str());
    return 2;
  }
  query.since_ms = *since;
  std::string path = options.db_path;
  if (path.empty()) {
    const config::EnvLookup env = config::ProcessEnv();
    auto cfg = config::LoadConfigOrDefaults(options.config_path, env);
    if (!cfg.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", cfg.status().message().c_str());
      return 2;
    }
    path = cfg->AuditDbPath();
  }
  guard::AuditStoreOptions so;
  so.read_only = true;
  auto store = guard::AuditStore::Open(path, so);
  std::vector<guard::AuditRecord> records;
  if (store.ok()) {
    auto got = (*store)->Query(query);
    if (!got.ok()) {
      std::fprintf(stderr, "switchyard: %s\n", got.status().message().c_str());
      return 1;
    }
    records = std::move(*got);
  } else if (store.status().code() != core::StatusCode::kNotFound) {
    std::fprintf(stderr, "switchyard: %s\n", store.status().message().c_str());
    return 1;
  }
  // No database yet: no external call was made, which is a valid (empty) answer.
  const std::string out = options.json ? guard::RenderAuditJson(records, query.since_ms) + "\n"
                                       : guard::RenderAuditText(records);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace switchyard::app
