// `switchyard ledger stats|tail`: read the ledger the gateway writes.
#include <cstdio>
#include <filesystem>

#include "app/commands.h"
#include "config/config.h"
#include "core/clock.h"
#include "ledger/query.h"
#include "ledger/sqlite_store.h"

namespace switchyard::app {
namespace {

// Loads the config (file or embedded defaults) and opens its ledger read-only.
// Prints one line and returns the exit code on failure.
core::Result<std::unique_ptr<ledger::SqliteStore>> OpenLedger(const LedgerOptions& options,
                                                              int* exit_code) {
  const config::EnvLookup env = config::ProcessEnv();
  auto cfg = config::LoadConfigOrDefaults(options.config_path, env);
  if (!cfg.ok()) {
    *exit_code = 2;
    return cfg.take_status();
  }
  const std::string path = options.db_path.empty() ? cfg->LedgerPath() : options.db_path;
  if (!std::filesystem::exists(path)) {
    *exit_code = 1;
    return core::NotFound("no ledger at " + path +
                          " yet: run `switchyard serve` and send a request first");
  }
  ledger::SqliteOptions so;
  so.read_only = true;
  auto store = ledger::SqliteStore::Open(path, so);
  if (!store.ok()) *exit_code = 1;
  return store;
}

}  // namespace

int RunLedgerStats(const LedgerOptions& options) {
  core::SystemClock clock;
  ledger::StatsQuery query;
  query.by = options.by;
  if (auto s = ledger::ValidateGroupBy(options.by); !s.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", s.message().c_str());
    return 2;
  }
  auto since = ledger::SinceCutoff(options.since, clock.UnixMillis());
  if (!since.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", since.status().message().c_str());
    return 2;
  }
  query.since_ms = *since;
  int code = 0;
  auto store = OpenLedger(options, &code);
  if (!store.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", store.status().message().c_str());
    return code;
  }
  auto report = ledger::ComputeStats(**store, query);
  if (!report.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", report.status().message().c_str());
    return 1;
  }
  const std::string out =
      options.json ? ledger::RenderStatsJson(*report) : ledger::RenderStatsText(*report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (options.json) std::fputc('\n', stdout);
  return 0;
}

int RunLedgerTail(const LedgerOptions& options) {
  int code = 0;
  auto store = OpenLedger(options, &code);
  if (!store.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", store.status().message().c_str());
    return code;
  }
  auto records = ledger::Tail(**store, options.tail_count);
  if (!records.ok()) {
    std::fprintf(stderr, "switchyard: %s\n", records.status().message().c_str());
    return 1;
  }
  const std::string out = ledger::RenderTail(*records);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace switchyard::app
