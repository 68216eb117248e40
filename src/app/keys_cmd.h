// `switchyard keys create|list|revoke`: tenants and API keys (guard/keys.h).
// Each function returns the process exit code: 0 success, 1 runtime failure
// (database, unknown key), 2 bad usage or bad configuration. Errors are one
// line on stderr, "switchyard: <message>"; keys are never printed except the
// new one by `create`, which writes it alone on stdout (notes go to stderr) so
// `KEY=$(switchyard keys create --tenant acme)` works.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace switchyard::app {

struct KeysOptions {
  std::string config_path;  // "" = embedded defaults + environment (for data_dir)
  std::string db_path;      // overrides <data_dir>/keys.db
  bool json = false;        // machine-readable output

  // create
  std::string tenant;
  std::optional<double> budget_usd_day;  // unset: keep the tenant's current value
  std::optional<int64_t> rpm;
  std::optional<int64_t> tpm;

  // list
  bool include_revoked = true;

  // revoke: a key id, a masked key ("sy-Ab3dE5gH…") or the full key
  std::string key;
};

int RunKeysCreate(const KeysOptions& options);
int RunKeysList(const KeysOptions& options);
int RunKeysRevoke(const KeysOptions& options);

}  // namespace switchyard::app
