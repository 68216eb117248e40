#include "guard/keys.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "support/temp_dir.h"

namespace switchyard::guard {
namespace {

namespace fs = std::filesystem;

class KeyStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<KeyStore> Open(KeyStoreOptions o = {}) {
    auto s = KeyStore::Open(path_, std::move(o), clock_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static void ExpectUnauthenticated(const core::Result<TenantInfo>& r, const std::string& msg) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), core::StatusCode::kUnauthenticated);
    EXPECT_EQ(r.status().message(), msg);
  }

  switchyard::testing::ScopedTempDir tmp_{"guard_keys"};
  fs::path dir_ = fs::path(tmp_.path()) / "d";  // (created by the store)
  std::string path_ = (dir_ / "sub" / "keys.db").string();
  core::FakeClock clock_;
};

TEST_F(KeyStoreTest, CreateAuthenticateRevokeLifecycle) {
  auto store = Open();
  CreateKeyRequest req;
  req.tenant = "acme";
  req.budget_usd_day = 5;
  req.rpm = 60;
  req.tpm = 100000;
  auto created = store->Create(req);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string key = created->key;
  ASSERT_EQ(key.size(), 46u);
  EXPECT_EQ(key.substr(0, 3), "sy-");
  EXPECT_EQ(created->info.key_id, key.substr(3, 8));
  EXPECT_EQ(created->info.masked, "sy-" + key.substr(3, 8) + "…");
  EXPECT_EQ(created->limits, (TenantLimits{5, 60, 100000}));

  auto auth = store->Authenticate("Bearer " + key);
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->tenant, "acme");
  EXPECT_EQ(auth->key_id, created->info.key_id);
  EXPECT_EQ(auth->limits, (TenantLimits{5, 60, 100000}));
  EXPECT_TRUE(store->Authenticate("bearer   " + key + "  ").ok());
  EXPECT_TRUE(store->AuthenticateKey(key).ok());

  auto revoked = store->Revoke(created->info.key_id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(*revoked);
  // Immediately, without any clock advance or reload.
  ExpectUnauthenticated(store->Authenticate("Bearer " + key), "revoked API key");
  auto again = store->Revoke(created->info.masked);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

TEST_F(KeyStoreTest, ErrorsNeverEchoTheKey) {
  auto store = Open();
  CreateKeyRequest req;
  req.tenant = "acme";
  auto created = store->Create(req);
  ASSERT_TRUE(created.ok());
  std::string wrong = created->key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';  // same id, different digest
  ExpectUnauthenticated(store->Authenticate(""), "missing API key");
  ExpectUnauthenticated(store->Authenticate("   "), "missing API key");
  ExpectUnauthenticated(store->Authenticate("Bearer "), "missing API key");
  ExpectUnauthenticated(store->Authenticate("Bearer " + wrong), "invalid API key");
  ExpectUnauthenticated(store->Authenticate("Basic " + created->key), "invalid API key");
  ExpectUnauthenticated(store->Authenticate(created->key), "invalid API key");
  ExpectUnauthenticated(store->Authenticate("Bearer sk-not-ours"), "invalid API key");
  ExpectUnauthenticated(store->Authenticate("Bearer sy-" + std::string(43, '!')),
                        "invalid API key");
  ExpectUnauthenticated(store->Authenticate("Bearerx " + created->key), "invalid API key");
  ExpectUnauthenticated(store->Authenticate("Bearer sy-" + std::string(43, 'Z')),
                        "invalid API key");
  auto r = store->Authenticate("Bearer " + wrong);
  EXPECT_EQ(r.status().error_code(), "invalid_api_key");
  EXPECT_EQ(r.status().message().find(wrong.substr(3, 8)), std::string::npos);
  EXPECT_EQ(store->Authenticate("").status().error_code(), "missing_api_key");
}

TEST_F(KeyStoreTest, KeysAreStoredOnlyAsHashes) {
  std::string key;
  {
    auto store = Open();
    CreateKeyRequest req;
    req.tenant = "acme";
    auto created = store->Create(req);
    ASSERT_TRUE(created.ok());
    key = created->key;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(key.substr(11)), std::string::npos) << entry.path();
  }
  // And it still authenticates from the file after a restart.
  auto reopened = Open();
  EXPECT_TRUE(reopened->Authenticate("Bearer " + key).ok());
}

TEST_F(KeyStoreTest, ListTenantsAndLimitUpdates) {
  auto store = Open();
  CreateKeyRequest a;
  a.tenant = "acme";
  a.rpm = 10;
  auto k1 = store->Create(a);
  ASSERT_TRUE(k1.ok());
  clock_.Advance(std::chrono::seconds(1));
  CreateKeyRequest b;
  b.tenant = "acme";
  b.tpm = 500;  // rpm stays 10
  auto k2 = store->Create(b);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(k2->limits, (TenantLimits{0, 10, 500}));
  CreateKeyRequest c;
  c.tenant = "beta.team-1";
  auto k3 = store->Create(c);
  ASSERT_TRUE(k3.ok());
  ASSERT_TRUE(store->Revoke(k1->key).ok());

  auto keys = store->List();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].key_id, k1->info.key_id);
  EXPECT_TRUE((*keys)[0].revoked());
  EXPECT_FALSE((*keys)[1].revoked());
  for (const KeyInfo& k : *keys) {
    EXPECT_EQ(k.masked.find(k1->key.substr(11)), std::string::npos);
  }
  auto active = store->List(false);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->size(), 2u);
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.ok());
  ASSERT_EQ(tenants->size(), 2u);
  EXPECT_EQ((*tenants)[0].name, "acme");
  EXPECT_EQ((*tenants)[0].limits, (TenantLimits{0, 10, 500}));
  EXPECT_EQ((*tenants)[1].name, "beta.team-1");
  // The authenticated limits follow the update.
  auto auth = store->Authenticate("Bearer " + k2->key);
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->limits.tpm, 500);
}

TEST_F(KeyStoreTest, CreateValidation) {
  auto store = Open();
  auto expect = [&](CreateKeyRequest r, const std::string& msg) {
    auto c = store->Create(r);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(c.status().message(), msg);
  };
  expect({"", {}, {}, {}}, "tenant name must match [A-Za-z0-9._-]{1,64}");
  expect({"a b", {}, {}, {}}, "tenant name must match [A-Za-z0-9._-]{1,64}");
  expect({std::string(65, 'a'), {}, {}, {}}, "tenant name must match [A-Za-z0-9._-]{1,64}");
  expect({"acme", -1.0, {}, {}}, "budget_usd_day must be a finite number >= 0");
  expect({"acme", std::nan(""), {}, {}}, "budget_usd_day must be a finite number >= 0");
  expect({"acme", {}, -1, {}}, "rpm must be >= 0");
  expect({"acme", {}, {}, -5}, "tpm must be >= 0");
}

TEST_F(KeyStoreTest, RevokeUnknownKey) {
  auto store = Open();
  auto r = store->Revoke("nosuchid");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no API key with id 'nosuchid'");
}

TEST_F(KeyStoreTest, RandomSourceFailure) {
  KeyStoreOptions o;
  o.random_bytes = [](unsigned char*, size_t) { return false; };
  auto store = Open(std::move(o));
  CreateKeyRequest req;
  req.tenant = "acme";
  auto c = store->Create(req);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), core::StatusCode::kInternal);
  EXPECT_EQ(c.status().message(), "keys: random source failed");
  // Nothing half-written: no key, and the tenant insert was rolled back.
  auto tenants = store->Tenants();
  ASSERT_TRUE(tenants.ok());
  EXPECT_TRUE(tenants->empty());
}

TEST_F(KeyStoreTest, IdCollisionDrawsAgain) {
  // The first two draws are identical: the second key gets a fresh draw.
  KeyStoreOptions o;
  auto calls = std::make_shared<int>(0);
  o.random_bytes = [calls](unsigned char* buf, size_t n) {
    const int c = (*calls)++;
    for (size_t i = 0; i < n; ++i) buf[i] = static_cast<unsigned char>(c < 2 ? 7 : i + c);
    return true;
  };
  auto store = Open(std::move(o));
  CreateKeyRequest req;
  req.tenant = "acme";
  auto a = store->Create(req);
  auto b = store->Create(req);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(a->info.key_id, b->info.key_id);
  EXPECT_EQ(*calls, 3);
}

TEST_F(KeyStoreTest, KeysAreDistinctBase62) {
  auto store = Open();
  std::set<std::string> seen;
  CreateKeyRequest req;
  req.tenant = "acme";
  for (int i = 0; i < 50; ++i) {
    auto c = store->Create(req);
    ASSERT_TRUE(c.ok());
    for (char ch : c->key.substr(3)) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch))) << c->key;
    }
    EXPECT_TRUE(seen.insert(c->key).second);
  }
}

TEST_F(KeyStoreTest, OtherProcessRevocationIsSeenAfterRefreshInterval) {
  KeyStoreOptions o;
  o.refresh_interval = std::chrono::milliseconds(1000);
  auto gateway = Open(o);
  auto cli = Open();  // a second connection, as `switchyard keys revoke` would have
  CreateKeyRequest req;
  req.tenant = "acme";
  auto created = cli->Create(req);
  ASSERT_TRUE(created.ok());
  const std::string bearer = "Bearer " + created->key;
  // Created elsewhere: unknown until the gateway's snapshot refreshes.
  ExpectUnauthenticated(gateway->Authenticate(bearer), "invalid API key");
  clock_.Advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(gateway->Authenticate(bearer).ok());

  ASSERT_TRUE(cli->Revoke(created->info.key_id).ok());
  // Within the interval the gateway still has its snapshot...
  clock_.Advance(std::chrono::milliseconds(500));
  EXPECT_TRUE(gateway->Authenticate(bearer).ok());
  // ...and after it, the revocation is in force.
  clock_.Advance(std::chrono::milliseconds(500));
  ExpectUnauthenticated(gateway->Authenticate(bearer), "revoked API key");
  // Reload() applies it at once too.
  auto other = cli->Create(req);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(gateway->Reload().ok());
  EXPECT_TRUE(gateway->Authenticate("Bearer " + other->key).ok());
}

TEST_F(KeyStoreTest, ConcurrentAuthenticateWhileRevoking) {
  auto store = Open();
  CreateKeyRequest req;
  req.tenant = "acme";
  auto keep = store->Create(req);
  auto drop = store->Create(req);
  ASSERT_TRUE(keep.ok());
  ASSERT_TRUE(drop.ok());
  std::atomic<bool> revoked{false};
  std::atomic<int> accepted_after_revoke{0};
  std::atomic<int> keep_failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const bool was_revoked = revoked.load();
        if (store->Authenticate("Bearer " + drop->key).ok() && was_revoked) {
          ++accepted_after_revoke;
        }
        if (!store->Authenticate("Bearer " + keep->key).ok()) ++keep_failures;
      }
    });
  }
  ASSERT_TRUE(store->Revoke(drop->info.key_id).ok());
  revoked = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted_after_revoke.load(), 0);
  EXPECT_EQ(keep_failures.load(), 0);
}

TEST_F(KeyStoreTest, ReadOnlyOpenOfMissingFile) {
  KeyStoreOptions o;
  o.read_only = true;
  auto s = KeyStore::Open(path_, o, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(), "keys: no key database at " + path_);
}

TEST_F(KeyStoreTest, NotADatabase) {
  fs::create_directories(fs::path(path_).parent_path());
  std::ofstream(path_) << "this is not sqlite, just text that is long enough to be a header....";
  auto s = KeyStore::Open(path_, {}, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            "keys: " + path_ + ": file is not a database (SQLite: file is not a database)");
}

TEST(KeysHelpersTest, MaskAndPath) {
  EXPECT_EQ(MaskKey("sy-Ab3dE5gH7jK9mN1pQ3rS5tU7vW9xY1zA3cE5gH7jK9m"), "sy-Ab3dE5gH…");
  EXPECT_EQ(MaskKey("Ab3dE5gH"), "sy-Ab3dE5gH…");
  EXPECT_EQ(MaskKey("sy-abc"), "sy-…");
  EXPECT_EQ(KeysDbPath("/var/lib/sy"), "/var/lib/sy/keys.db");
}

}  // namespace
}  // namespace switchyard::guard
