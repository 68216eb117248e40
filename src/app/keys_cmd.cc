// `switchyard keys create|list|revoke`.
#include "app/keys_cmd.h"

#include <cstdio>
#include <ctime>
#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "guard/keys.h"
#include "guard/limits.h"

namespace switchyard::app {
namespace {

int Fail(const core::Status& s, int code) {
  std::fprintf(stderr, "switchyard: %s\n", s.message().c_str());
  return code;
}

// The key database path from --db or the config's data_dir.
core::Result<std::string> KeysPath(const KeysOptions& options) {
  if (!options.db_path.empty()) return options.db_path;
  const config::EnvLookup env = config::ProcessEnv();
  auto cfg = config::LoadConfigOrDefaults(options.config_path, env);
  if (!cfg.ok()) return cfg.take_status();
  return guard::KeysDbPath(cfg->data_dir);
}

std::string Utc(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string LimitsText(const guard::TenantLimits& l) {
  auto n = [](int64_t v) { return v == 0 ? std::string("unlimited") : std::to_string(v); };
  return "budget_usd_day=" +
         (l.budget_usd_day == 0 ? std::string("unlimited") : guard::FormatUsd(l.budget_usd_day)) +
         " rpm=" + n(l.rpm) + " tpm=" + n(l.tpm);
}

void WriteLimits(core::JsonWriter& w, const guard::TenantLimits& l) {
  w.BeginObject()
      .Field("budget_usd_day", l.budget_usd_day)
      .Field("rpm", l.rpm)
      .Field("tpm", l.tpm)
      .EndObject();
}

}  // namespace

int RunKeysCreate(const KeysOptions& options) {
  auto path = KeysPath(options);
  if (!path.ok()) return Fail(path.status(), 2);
  core::SystemClock clock;
  auto store = guard::KeyStore::Open(*path, {}, clock);
  if (!store.ok()) return Fail(store.status(), 1);
  guard::CreateKeyRequest req;
  req.tenant = options.tenant;
  req.budget_usd_day = options.budget_usd_day;
  req.rpm = options.rpm;
  req.tpm = options.tpm;
  auto created = (*store)->Create(req);
  if (!created.ok()) {
    return Fail(created.status(),
                created.status().code() == core::StatusCode::kInvalidArgument ? 2 : 1);
  }
  if (options.json) {
    std::string out;
    core::JsonWriter w(out);
    w.BeginObject()
        .Field("key", created->key)
        .Field("key_id", created->info.key_id)
        .Field("tenant", created->info.tenant)
        .Field("created_ms", created->info.created_ms);
    w.Key("limits");
    WriteLimits(w, created->limits);
    w.EndObject();
    std::printf("%s\n", out.c_str());
  } else {
    std::printf("%s\n", created->key.c_str());
  }
  std::fprintf(stderr,
               "Created API key %s for tenant '%s' (%s).\n"
               "It is shown only this once and stored as a hash: keep it now.\n",
               created->info.masked.c_str(), created->info.tenant.c_str(),
               LimitsText(created->limits).c_str());
  return 0;
}

int RunKeysList(const KeysOptions& options) {
  auto path = KeysPath(options);
  if (!path.ok()) return Fail(path.status(), 2);
  core::SystemClock clock;
  guard::KeyStoreOptions so;
  so.read_only = true;
  auto store = guard::KeyStore::Open(*path, so, clock);
  if (!store.ok()) {
    if (store.status().code() == core::StatusCode::kNotFound) {
      std::fprintf(stderr,
                   "switchyard: no keys yet (%s): create one with `switchyard keys create "
                   "--tenant NAME`\n",
                   path->c_str());
      return 1;
    }
    return Fail(store.status(), 1);
  }
  auto keys = (*store)->List(options.include_revoked);
  if (!keys.ok()) return Fail(keys.status(), 1);
  auto tenants = (*store)->Tenants();
  if (!tenants.ok()) return Fail(tenants.status(), 1);
  if (options.json) {
    std::string out;
    core::JsonWriter w(out);
    w.BeginObject().Key("keys").BeginArray();
    for (const guard::KeyInfo& k : *keys) {
      w.BeginObject()
          .Field("key_id", k.key_id)
          .Field("masked", k.masked)
          .Field("tenant", k.tenant)
          .Field("created_ms", k.created_ms)
          .Field("revoked_ms", k.revoked_ms)
          .Field("revoked", k.revoked())
          .EndObject();
    }
    w.EndArray().Key("tenants").BeginArray();
    for (const guard::TenantRow& t : *tenants) {
      w.BeginObject().Field("name", t.name).Key("limits");
      WriteLimits(w, t.limits);
      w.EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", out.c_str());
    return 0;
  }
  std::printf("%-10s %-16s %-24s %-20s %s\n", "ID", "KEY", "TENANT", "CREATED", "STATUS");
  for (const guard::KeyInfo& k : *keys) {
    const std::string status = k.revoked() ? "revoked " + Utc(k.revoked_ms) : "active";
    std::printf("%-10s %-16s %-24s %-20s %s\n", k.key_id.c_str(), k.masked.c_str(),
                k.tenant.c_str(), Utc(k.created_ms).c_str(), status.c_str());
  }
  std::printf("\n%-24s %s\n", "TENANT", "LIMITS");
  for (const guard::TenantRow& t : *tenants) {
    std::printf("%-24s %s\n", t.name.c_str(), LimitsText(t.limits).c_str());
  }
  return 0;
}

int RunKeysRevoke(const KeysOptions& options) {
  if (options.key.empty()) return Fail(core::InvalidArgument("keys revoke: give a key id"), 2);
  auto path = KeysPath(options);
  if (!path.ok()) return Fail(path.status(), 2);
  core::SystemClock clock;
  auto store = guard::KeyStore::Open(*path, {}, clock);
  if (!store.ok()) return Fail(store.status(), 1);
  auto revoked = (*store)->Revoke(options.key);
  if (!revoked.ok()) return Fail(revoked.status(), 1);
  const std::string masked = guard::MaskKey(options.key);
  if (*revoked) {
    std::printf(
        "revoked %s (effective at once in this process; a running gateway picks it up "
        "within its refresh interval)\n",
        masked.c_str());
  } else {
    std::printf("%s was already revoked\n", masked.c_str());
  }
  return 0;
}

}  // namespace switchyard::app
