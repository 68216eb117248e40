// KeyStore: tenants and their API keys, stored in SQLite; the request path
// authenticates against an in-memory snapshot.
//
// A key is "sy-" + 43 base62 characters (32 bytes from OpenSSL RAND_bytes),
// shown once by Create() and stored only as its SHA-256. Its first 8 base62
// characters are the key id, used for listing and revoking ("sy-Ab3dE5gH…").
// Tables (own names, so the file can be shared with the ledger):
//   guard_tenants(name, budget_usd_day, rpm, tpm, created_ms, updated_ms)
//   guard_keys(id, tenant, sha256, created_ms, revoked_ms)
//
// Authenticate() never touches SQLite on the fast path: it looks the key id up
// in an immutable snapshot (shared_ptr<const>, swapped under a mutex) and
// compares SHA-256 digests in constant time (CRYPTO_memcmp). The snapshot is
// rebuilt after every Create()/Revoke() of this store, so a revocation is
// visible in-process immediately. Other processes (e.g. `switchyard keys
// revoke` while the gateway runs) write to the same file; their changes are
// picked up by Reload(), which Authenticate() also runs at most once per
// `refresh_interval` when PRAGMA data_version says the file changed. With
// the default of 1 s a key revoked from the CLI stops working in the gateway
// within about a second; several gateway replicas on one file behave the same.
//
// Ownership: owns its SQLite connection. Threading: every method is safe from
// any thread (one mutex around the connection; Authenticate() takes it only to
// refresh, with try_lock, never waiting behind a writer).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace switchyard::sqlite {
class Db;
}

namespace switchyard::guard {

struct TenantLimits {
  double budget_usd_day = 0;  // USD per UTC day; 0 = unlimited
  int64_t rpm = 0;            // requests per minute; 0 = unlimited
  int64_t tpm = 0;            // tokens per minute; 0 = unlimited
  bool operator==(const TenantLimits&) const = default;
};

// What a request authenticated as.
struct TenantInfo {
  std::string tenant;
  std::string key_id;
  TenantLimits limits;
};

struct TenantRow {
  std::string name;
  TenantLimits limits;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct KeyInfo {
  std::string key_id;
  std::string tenant;
  std::string masked;      // "sy-Ab3dE5gH…"
  int64_t created_ms = 0;  // unix ms
  int64_t revoked_ms = 0;  // 0 while active
  bool revoked() const { return revoked_ms != 0; }
};

struct CreateKeyRequest {
  // [A-Za-z0-9._-]{1,64}. Created on first use; unset limits keep their
  // current values (0 = unlimited for a new tenant).
  std::string tenant;
  std::optional<double> budget_usd_day;
  std::optional<int64_t> rpm;
  std::optional<int64_t> tpm;
};

struct CreatedKey {
  std::string key;  // the only time the plaintext exists outside the caller
  KeyInfo info;
  TenantLimits limits;
};

struct KeyStoreOptions {
  int busy_timeout_ms = 5000;
  // Open an existing file for reading only (listing); no creation, no writes.
  bool read_only = false;
  // How often Authenticate() checks the file for other processes' changes.
  std::chrono::milliseconds refresh_interval{1000};
  // Fills a buffer with cryptographically secure random bytes; returns false
  // on failure. Defaults to OpenSSL RAND_bytes. Tests may inject their own.
  std::function<bool(unsigned char*, size_t)> random_bytes;
};

// "<data_dir>/keys.db".
std::string KeysDbPath(std::string_view data_dir);

// "sy-Ab3dE5gH…" for a key or key id; "sy-…" when too short to show anything.
std::string MaskKey(std::string_view key_or_id);

class KeyStore {
 public:
  // Errors: FailedPrecondition "keys: <path>: <cause> (SQLite: ...)" (see
  // sqlite/db.h); read_only on a missing file: NotFound
  // "keys: no key database at <path>".
  static core::Result<std::unique_ptr<KeyStore>> Open(const std::string& path,
                                                      KeyStoreOptions options,
                                                      const core::Clock& clock);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Creates (or updates) the tenant and a new key. Errors: InvalidArgument
  // "tenant name must match [A-Za-z0-9._-]{1,64}", "budget_usd_day must be a
  // finite number >= 0", "rpm must be >= 0", "tpm must be >= 0";
  // Internal "keys: random source failed"; FailedPrecondition from SQLite.
  core::Result<CreatedKey> Create(const CreateKeyRequest& request);

  // Keys, oldest first (revoked ones included unless include_revoked=false).
  core::Result<std::vector<KeyInfo>> List(bool include_revoked = true);
  core::Result<std::vector<TenantRow>> Tenants();

  // Revokes by key id, masked key ("sy-Ab3dE5gH…") or the full key. Returns
  // true when the key was active, false when it was already revoked.
  // Errors: NotFound "no API key with id '<id>'"; FailedPrecondition.
  core::Result<bool> Revoke(std::string_view key_or_id);

  // `authorization` is the Authorization header value ("Bearer sy-...").
  // Errors (Unauthenticated, error_code "invalid_api_key"; the key is never
  // echoed): "missing API key" (absent or empty header, or an empty bearer),
  // "invalid API key" (another scheme, wrong format, unknown id or digest
  // mismatch), "revoked API key".
  core::Result<TenantInfo> Authenticate(std::string_view authorization) const;
  // The same for a bare key (e.g. from an x-api-key header).
  core::Result<TenantInfo> AuthenticateKey(std::string_view key) const;

  // Re-reads keys and tenants from the file (other processes' changes).
  core::Status Reload();

  const std::string& path() const;

 private:
  struct Entry {
    unsigned char sha256[32];
    std::string tenant;
    bool revoked = false;
  };
  struct Snapshot {
    std::unordered_map<std::string, Entry> keys;  // by key id
    std::unordered_map<std::string, TenantLimits> tenants;
  };

  KeyStore(std::unique_ptr<sqlite::Db> db, KeyStoreOptions options, const core::Clock& clock);
  core::Status Migrate();
  core::Status ReloadLocked() const;  // requires db_mu_
  void MaybeRefresh() const;
  std::shared_ptr<const Snapshot> snapshot() const;

  std::unique_ptr<sqlite::Db> db_;
  KeyStoreOptions options_;
  const core::Clock& clock_;
  mutable std::mutex db_mu_;
  mutable std::mutex snapshot_mu_;
  mutable std::shared_ptr<const Snapshot> snapshot_;  // guarded by snapshot_mu_
  mutable int64_t data_version_ = 0;                  // guarded by db_mu_
  mutable std::atomic<int64_t> last_check_ns_{0};
};

}  // namespace switchyard::guard
