#include "guard/keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "sqlite/db.h"

namespace switchyard::guard {
namespace {

constexpr std::string_view kKeyPrefix = "sy-";
constexpr size_t kBodyLength = 43;  // ceil(256 / log2(62))
constexpr size_t kIdLength = 8;
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS guard_tenants (
  name TEXT PRIMARY KEY,
  budget_usd_day REAL NOT NULL DEFAULT 0,
  rpm INTEGER NOT NULL DEFAULT 0,
  tpm INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS guard_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES guard_tenants(name),
  sha256 BLOB NOT NULL,
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS guard_keys_tenant ON guard_keys(tenant);
)sql";

// 32 bytes -> 43 base62 digits, most significant first (big-number division).
std::string Base62(const unsigned char* bytes, size_t n) {
  std::vector<unsigned> num(bytes, bytes + n);
  std::string out(kBodyLength, '0');
  for (size_t pos = kBodyLength; pos-- > 0;) {
    unsigned rem = 0;
    for (unsigned& d : num) {
      const unsigned cur = rem * 256 + d;
      d = cur / 62;
      rem = cur % 62;
    }
    out[pos] = kBase62[rem];
  }
  return out;
}

bool IsBase62(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

bool ValidTenantName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
           c == '_' || c == '-';
  });
}

void Sha256(std::string_view s, unsigned char out[32]) {
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out);
}

core::Status Unauthenticated(std::string msg, std::string code) {
  core::Status s(core::StatusCode::kUnauthenticated, std::move(msg));
  s.set_error_code(std::move(code));
  return s;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A key id from an id, a masked key or a full key.
std::string KeyIdOf(std::string_view s) {
  s = TrimSpaces(s);
  if (s.substr(0, kKeyPrefix.size()) == kKeyPrefix) s.remove_prefix(kKeyPrefix.size());
  return std::string(s.substr(0, std::min(s.size(), kIdLength)));
}

}  // namespace

std::string KeysDbPath(std::string_view data_dir) {
  return (std::filesystem::path(data_dir) / "keys.db").string();
}

std::string MaskKey(std::string_view key_or_id) {
  std::string_view s = key_or_id;
  if (s.substr(0, kKeyPrefix.size()) == kKeyPrefix) s.remove_prefix(kKeyPrefix.size());
  if (s.size() < kIdLength) return std::string(kKeyPrefix) + "…";
  return std::string(kKeyPrefix) + std::string(s.substr(0, kIdLength)) + "…";
}

KeyStore::KeyStore(std::unique_ptr<sqlite::Db> db, KeyStoreOptions options,
                   const core::Clock& clock)
    : db_(std::move(db)),
      options_(std::move(options)),
      clock_(clock),
      snapshot_(std::make_shared<const Snapshot>()) {
  if (!options_.random_bytes) {
    options_.random_bytes = [](unsigned char* buf, size_t n) {
      return RAND_bytes(buf, static_cast<int>(n)) == 1;
    };
  }
}

KeyStore::~KeyStore() = default;

const std::string& KeyStore::path() const {
  return db_->path();
}

core::Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path,
                                                       KeyStoreOptions options,
                                                       const core::Clock& clock) {
  if (options.read_only && !std::filesystem::exists(path)) {
    return core::NotFound("keys: no key database at " + path);
  }
  auto db = sqlite::Db::Open("keys", path, {options.read_only, options.busy_timeout_ms});
  if (!db.ok()) return db.take_status();
  const bool read_only = options.read_only;
  std::unique_ptr<KeyStore> store(new KeyStore(std::move(*db), std::move(options), clock));
  std::lock_guard lock(store->db_mu_);
  if (!read_only) {
    if (core::Status s = store->Migrate(); !s.ok()) return s;
  }
  if (core::Status s = store->ReloadLocked(); !s.ok()) return s;
  store->last_check_ns_.store(clock.Now().time_since_epoch().count());
  return store;
}

core::Status KeyStore::Migrate() {
  return db_->Exec(kSchema, "cannot create the key tables");
}

core::Status KeyStore::ReloadLocked() const {
  auto snap = std::make_shared<Snapshot>();
  {
    auto stmt = db_->Prepare("SELECT name, budget_usd_day, rpm, tpm FROM guard_tenants",
                             "cannot read tenants");
    if (!stmt.ok()) return stmt.take_status();
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      TenantLimits l;
      l.budget_usd_day = sqlite3_column_double(stmt->get(), 1);
      l.rpm = sqlite3_column_int64(stmt->get(), 2);
      l.tpm = sqlite3_column_int64(stmt->get(), 3);
      snap->tenants.emplace(sqlite::ColumnText(stmt->get(), 0), l);
    }
    if (rc != SQLITE_DONE) return db_->Error(rc, "cannot read tenants");
  }
  {
    auto stmt =
        db_->Prepare("SELECT id, tenant, sha256, revoked_ms FROM guard_keys", "cannot read keys");
    if (!stmt.ok()) return stmt.take_status();
    int rc;
    while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
      Entry e;
      const void* blob = sqlite3_column_blob(stmt->get(), 2);
      if (blob == nullptr || sqlite3_column_bytes(stmt->get(), 2) != 32) continue;
      std::memcpy(e.sha256, blob, 32);
      e.tenant = sqlite::ColumnText(stmt->get(), 1);
      e.revoked = sqlite3_column_int64(stmt->get(), 3) != 0;
      snap->keys.emplace(sqlite::ColumnText(stmt->get(), 0), std::move(e));
    }
    if (rc != SQLITE_DONE) return db_->Error(rc, "cannot read keys");
  }
  auto version = db_->DataVersion();
  if (!version.ok()) return version.take_status();
  data_version_ = *version;
  std::lock_guard lock(snapshot_mu_);
  snapshot_ = std::move(snap);
  return core::Status::Ok();
}

core::Status KeyStore::Reload() {
  std::lock_guard lock(db_mu_);
  return ReloadLocked();
}

std::shared_ptr<const KeyStore::Snapshot> KeyStore::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void KeyStore::MaybeRefresh() const {
  const int64_t now = clock_.Now().time_since_epoch().count();
  int64_t last = last_check_ns_.load(std::memory_order_relaxed);
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.refresh_interval).count();
  if (now - last < interval) return;
  if (!last_check_ns_.compare_exchange_strong(last, now)) return;  // another thread checks
  std::unique_lock lock(db_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  auto version = db_->DataVersion();
  if (!version.ok() || *version == data_version_) return;
  (void)ReloadLocked();  // on failure the previous snapshot stays in force
}

core::Result<CreatedKey> KeyStore::Create(const CreateKeyRequest& request) {
  if (!ValidTenantName(request.tenant)) {
    return core::InvalidArgument("tenant name must match [A-Za-z0-9._-]{1,64}");
  }
  if (request.budget_usd_day &&
      (!std::isfinite(*request.budget_usd_day) || *request.budget_usd_day < 0)) {
    return core::InvalidArgument("budget_usd_day must be a finite number >= 0");
  }
  if (request.rpm && *request.rpm < 0) return core::InvalidArgument("rpm must be >= 0");
  if (request.tpm && *request.tpm < 0) return core::InvalidArgument("tpm must be >= 0");

  std::lock_guard lock(db_mu_);
  const int64_t now_ms = clock_.UnixMillis();
  if (core::Status s = db_->Exec("BEGIN IMMEDIATE", "cannot begin a transaction"); !s.ok()) {
    return s;
  }
  auto fail = [this](core::Status s) {
    (void)db_->Exec("ROLLBACK", "cannot roll back");
    return s;
  };
  {
    auto stmt = db_->Prepare(
        "INSERT INTO guard_tenants (name, budget_usd_day, rpm, tpm, created_ms, updated_ms) "
        "VALUES (?1, COALESCE(?2, 0), COALESCE(?3, 0), COALESCE(?4, 0), ?5, ?5) "
        "ON CONFLICT(name) DO UPDATE SET "
        "budget_usd_day = COALESCE(?2, budget_usd_day), rpm = COALESCE(?3, rpm), "
        "tpm = COALESCE(?4, tpm), updated_ms = ?5",
        "cannot write the tenant");
    if (!stmt.ok()) return fail(stmt.take_status());
    sqlite3_stmt* s = stmt->get();
    sqlite::BindText(s, 1, request.tenant);
    if (request.budget_usd_day) sqlite3_bind_double(s, 2, *request.budget_usd_day);
    if (request.rpm) sqlite3_bind_int64(s, 3, *request.rpm);
    if (request.tpm) sqlite3_bind_int64(s, 4, *request.tpm);
    sqlite3_bind_int64(s, 5, now_ms);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
      return fail(db_->Error(rc, "cannot write the tenant"));
    }
  }
  CreatedKey created;
  for (int attempt = 0;; ++attempt) {
    unsigned char random[32];
    if (!options_.random_bytes(random, sizeof(random))) {
      return fail(core::Internal("keys: random source failed"));
    }
    const std::string body = Base62(random, sizeof(random));
    OPENSSL_cleanse(random, sizeof(random));
    std::string key = std::string(kKeyPrefix) + body;
    const std::string id = body.substr(0, kIdLength);
    unsigned char digest[32];
    Sha256(key, digest);
    auto stmt = db_->Prepare(
        "INSERT INTO guard_keys (id, tenant, sha256, created_ms) VALUES (?1, ?2, ?3, ?4)",
        "cannot write the key");
    if (!stmt.ok()) return fail(stmt.take_status());
    sqlite3_stmt* s = stmt->get();
    sqlite::BindText(s, 1, id);
    sqlite::BindText(s, 2, request.tenant);
    sqlite3_bind_blob(s, 3, digest, sizeof(digest), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, now_ms);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT && attempt < 3) continue;  // id collision: draw again
    if (rc != SQLITE_DONE) return fail(db_->Error(rc, "cannot write the key"));
    created.key = std::move(key);
    created.info.key_id = id;
    created.info.tenant = request.tenant;
    created.info.masked = MaskKey(id);
    created.info.created_ms = now_ms;
    break;
  }
  if (core::Status s = db_->Exec("COMMIT", "cannot commit"); !s.ok()) return fail(s);
  if (core::Status s = ReloadLocked(); !s.ok()) return s;
  created.limits = snapshot()->tenants.at(request.tenant);
  return created;
}

core::Result<std::vector<KeyInfo>> KeyStore::List(bool include_revoked) {
  std::lock_guard lock(db_mu_);
  auto stmt = db_->Prepare(
      "SELECT id, tenant, created_ms, revoked_ms FROM guard_keys ORDER BY created_ms, id",
      "cannot list keys");
  if (!stmt.ok()) return stmt.take_status();
  std::vector<KeyInfo> out;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    KeyInfo k;
    k.key_id = sqlite::ColumnText(stmt->get(), 0);
    k.tenant = sqlite::ColumnText(stmt->get(), 1);
    k.masked = MaskKey(k.key_id);
    k.created_ms = sqlite3_column_int64(stmt->get(), 2);
    k.revoked_ms = sqlite3_column_int64(stmt->get(), 3);
    if (k.revoked() && !include_revoked) continue;
    out.push_back(std::move(k));
  }
  if (rc != SQLITE_DONE) return db_->Error(rc, "cannot list keys");
  return out;
}

core::Result<std::vector<TenantRow>> KeyStore::Tenants() {
  std::lock_guard lock(db_mu_);
  auto stmt = db_->Prepare(
      "SELECT name, budget_usd_day, rpm, tpm, created_ms, updated_ms FROM guard_tenants "
      "ORDER BY name",
      "cannot list tenants");
  if (!stmt.ok()) return stmt.take_status();
  std::vector<TenantRow> out;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    TenantRow t;
    t.name = sqlite::ColumnText(stmt->get(), 0);
    t.limits.budget_usd_day = sqlite3_column_double(stmt->get(), 1);
    t.limits.rpm = sqlite3_column_int64(stmt->get(), 2);
    t.limits.tpm = sqlite3_column_int64(stmt->get(), 3);
    t.created_ms = sqlite3_column_int64(stmt->get(), 4);
    t.updated_ms = sqlite3_column_int64(stmt->get(), 5);
    out.push_back(std::move(t));
  }
  if (rc != SQLITE_DONE) return db_->Error(rc, "cannot list tenants");
  return out;
}

core::Result<bool> KeyStore::Revoke(std::string_view key_or_id) {
  const std::string id = KeyIdOf(key_or_id);
  std::lock_guard lock(db_mu_);
  auto stmt = db_->Prepare("SELECT revoked_ms FROM guard_keys WHERE id = ?1", "cannot read key");
  if (!stmt.ok()) return stmt.take_status();
  sqlite::BindText(stmt->get(), 1, id);
  const int rc = sqlite3_step(stmt->get());
  if (rc == SQLITE_DONE) return core::NotFound("no API key with id '" + id + "'");
  if (rc != SQLITE_ROW) return db_->Error(rc, "cannot read key");
  if (sqlite3_column_int64(stmt->get(), 0) != 0) return false;
  auto update =
      db_->Prepare("UPDATE guard_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0",
                   "cannot revoke key");
  if (!update.ok()) return update.take_status();
  sqlite::BindText(update->get(), 1, id);
  sqlite3_bind_int64(update->get(), 2, std::max<int64_t>(1, clock_.UnixMillis()));
  if (const int urc = sqlite3_step(update->get()); urc != SQLITE_DONE) {
    return db_->Error(urc, "cannot revoke key");
  }
  const bool changed = sqlite3_changes(db_->handle()) > 0;
  if (core::Status s = ReloadLocked(); !s.ok()) return s;
  return changed;
}

core::Result<TenantInfo> KeyStore::Authenticate(std::string_view authorization) const {
  std::string_view v = TrimSpaces(authorization);
  if (v.empty()) return Unauthenticated("missing API key", "missing_api_key");
  constexpr std::string_view kBearer = "bearer";
  if (v.size() < kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), v.begin(),
                                               [](char a, char b) { return a == (b | 0x20); })) {
    return Unauthenticated("invalid API key", "invalid_api_key");
  }
  v.remove_prefix(kBearer.size());
  if (!v.empty() && v.front() != ' ' && v.front() != '\t') {
    return Unauthenticated("invalid API key", "invalid_api_key");
  }
  v = TrimSpaces(v);
  if (v.empty()) return Unauthenticated("missing API key", "missing_api_key");
  return AuthenticateKey(v);
}

core::Result<TenantInfo> KeyStore::AuthenticateKey(std::string_view key) const {
  key = TrimSpaces(key);
  if (key.empty()) return Unauthenticated("missing API key", "missing_api_key");
  if (key.size() != kKeyPrefix.size() + kBodyLength ||
      key.substr(0, kKeyPrefix.size()) != kKeyPrefix || !IsBase62(key.substr(kKeyPrefix.size()))) {
    return Unauthenticated("invalid API key", "invalid_api_key");
  }
  MaybeRefresh();
  const auto snap = snapshot();
  const std::string id(key.substr(kKeyPrefix.size(), kIdLength));
  auto it = snap->keys.find(id);
  unsigned char digest[32];
  Sha256(key, digest);
  if (it == snap->keys.end() || CRYPTO_memcmp(digest, it->second.sha256, sizeof(digest)) != 0) {
    return Unauthenticated("invalid API key", "invalid_api_key");
  }
  if (it->second.revoked) return Unauthenticated("revoked API key", "invalid_api_key");
  TenantInfo info;
  info.tenant = it->second.tenant;
  info.key_id = id;
  if (auto t = snap->tenants.find(info.tenant); t != snap->tenants.end()) info.limits = t->second;
  return info;
}

}  // namespace switchyard::guard
