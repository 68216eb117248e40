// The guard on the request path: API keys (401), per-tenant limits (429 with
// Retry-After), PII policies (block and local_only never reach an external
// upstream), the admin key, the tenant in the outcome and the egress audit.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "../gateway/gateway_fixture.h"
#include "guard/audit.h"
#include "guard/keys.h"
#include "guard/limits.h"
#include "guard/pii.h"
#include "guard/policy.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::gateway {
namespace {

using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;

constexpr char kAnswer[] =
    R"({"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"gpt-up",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi there"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})";
constexpr char kEmail[] = "alice.secret@example.com";
constexpr char kCard[] = "4111 1111 1111 1111";

std::string Provider(const std::string& name, const std::string& base_url, const std::string& model,
                     bool owned) {
  return "[[providers]]\nname = \"" + name + "\"\nkind = \"openai\"\nbase_url = \"" + base_url +
         "/v1\"\nmodels = [\"" + model +
         "\"]\nmax_retries = 0\nowned = " + (owned ? "true" : "false") + "\n";
}
std::string Route(const std::string& name, const std::vector<std::string>& targets) {
  std::string out = "[[routes]]\nname = \"" + name + "\"\ntargets = [";
  for (size_t i = 0; i < targets.size(); ++i) out += (i ? ", \"" : "\"") + targets[i] + "\"";
  return out + "]\n";
}
std::string Chat(const std::string& model, const std::string& content) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":")" + content +
         R"("}]})";
}
std::string Message(const std::string& body) {
  simdjson::dom::parser p;
  auto doc = p.parse(body);
  std::string_view m;
  if (doc.error() || doc["error"]["message"].get(m)) return "<no message in " + body + ">";
  return std::string(m);
}
testing::HeaderList Bearer(const std::string& key) {
  return {{"authorization", "Bearer " + key}};
}

class GuardGatewayTest : public GatewayFixture {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("guard_gateway");
    auto ks = guard::KeyStore::Open(dir_ + "/keys.db", {}, clock_);
    ASSERT_TRUE(ks.ok()) << ks.status().ToString();
    keys_ = std::move(*ks);
    auto sc = guard::PiiScanner::Create();
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    scanner_ = std::move(*sc);
    auto au = guard::AuditStore::Open(dir_ + "/audit.db");
    ASSERT_TRUE(au.ok()) << au.status().ToString();
    audit_ = std::move(*au);
    limits_ = std::make_unique<guard::InProcessLimitStore>(clock_);
  }

  // Starts the gateway with the guard wired as serve.cc wires it.
  void StartGuarded(const std::string& toml, guard::PolicyAction policy, bool auth = true) {
    Start(toml);
    GuardHooks hooks;
    if (auth) {
      hooks.keys = keys_.get();
      hooks.admin_key = "admin-key-1";
      hooks.limits = limits_.get();
    }
    hooks.scanner = scanner_.get();
    auto table = guard::PolicyTable::Create(policy, {});
    ASSERT_TRUE(table.ok());
    hooks.policies = *table;
    hooks.audit = audit_.get();
    gateway_->set_guard(std::move(hooks));
    gateway_->set_admin_handler(
        [](http::ServerRequest&, http::ResponseWriter& w) -> http::awaitable<void> {
          co_await w.Send(200, "application/json", R"({"admin":true})");
        });
    gateway_->set_recorder([this](Outcome& o) {
      std::lock_guard lock(mu_);
      tenants_.push_back(o.tenant);
      pii_.push_back(o.pii_findings);
      Recorded r;
      r.status = o.status;
      r.provider = o.provider;
      outcomes_.push_back(std::move(r));
      cv_.notify_all();
    });
  }

  std::string NewKey(const std::string& tenant, int64_t rpm = 0) {
    guard::CreateKeyRequest req;
    req.tenant = tenant;
    if (rpm > 0) req.rpm = rpm;
    auto created = keys_->Create(req);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->key : "";
  }

  // Nothing of the raw values arrived at the upstream.
  static void ExpectNoLeak(const FakeUpstream& up) {
    for (const auto& r : up.requests()) {
      EXPECT_EQ(r.body.find(kEmail), std::string::npos);
      EXPECT_EQ(r.body.find(kCard), std::string::npos);
    }
  }

  std::string dir_;
  std::unique_ptr<guard::KeyStore> keys_;
  std::unique_ptr<guard::PiiScanner> scanner_;
  std::unique_ptr<guard::AuditStore> audit_;
  std::unique_ptr<guard::LimitStore> limits_;
  std::vector<std::string> tenants_;
  std::vector<std::string> pii_;
};

TEST_F(GuardGatewayTest, MissingInvalidAndRevokedKeysGet401) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow);
  const std::string key = NewKey("acme");

  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Message(r.body), "missing API key");
  r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"),
                  Bearer("sy-nope"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Message(r.body), "invalid API key");

  r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"), Bearer(key));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, kAnswer);

  auto revoked = keys_->Revoke(key);
  ASSERT_TRUE(revoked.ok());
  r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"), Bearer(key));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Message(r.body), "revoked API key");
  EXPECT_EQ(up.request_count(), 1u);  // only the authenticated request went out

  WaitForOutcomes(4);
  std::lock_guard lock(mu_);
  ASSERT_EQ(tenants_.size(), 4u);
  EXPECT_EQ(tenants_[0], "");
  EXPECT_EQ(tenants_[2], "acme");
  EXPECT_EQ(pii_[2], "{}");
}

TEST_F(GuardGatewayTest, AdminPathsNeedTheAdminKey) {
  StartGuarded("", guard::PolicyAction::kAllow);
  HttpResult r = HttpRequest(port(), "GET", "/admin/ledger/stats");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Message(r.body), "missing admin key");
  r = HttpRequest(port(), "GET", "/admin/ledger/stats", "", Bearer(NewKey("acme")));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Message(r.body), "invalid admin key");
  r = HttpRequest(port(), "GET", "/admin/ledger/stats", "", Bearer("admin-key-1"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"admin":true})");
}

TEST_F(GuardGatewayTest, OverRpmGets429WithRetryAfter) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow);
  const std::string key = NewKey("small", /*rpm=*/1);
  HttpResult r =
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"), Bearer(key));
  EXPECT_EQ(r.status, 200) << r.body;
  r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"), Bearer(key));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Message(r.body), "rate limit exceeded for tenant 'small': 1 requests per minute");
  EXPECT_EQ(r.headers["retry-after"], "60");
  EXPECT_EQ(up.request_count(), 1u);
}

TEST_F(GuardGatewayTest, BlockNeverContactsTheUpstream) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kBlock);
  const std::string key = NewKey("acme");
  HttpResult r =
      HttpRequest(port(), "POST", "/v1/chat/completions",
                  Chat("gpt-up", std::string("mail ") + kEmail + " card " + kCard), Bearer(key));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r.body), "request contains card, email and policy block refuses it");
  EXPECT_EQ(r.body.find(kEmail), std::string::npos);
  EXPECT_EQ(up.request_count(), 0u);
  // Without findings the request goes through.
  r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"), Bearer(key));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(up.request_count(), 1u);
  ExpectNoLeak(up);
  WaitForOutcomes(2);
  std::lock_guard lock(mu_);
  ASSERT_EQ(pii_.size(), 2u);
  EXPECT_EQ(pii_[0], R"({"card":1,"email":1})");
}

TEST_F(GuardGatewayTest, LocalOnlyRefusesWhenNoOwnedTargetCanServe) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kLocalOnly,
               /*auth=*/false);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("gpt-up", std::string("write to ") + kEmail));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Message(r.body),
            "request contains email and policy local_only allows only owned targets; none can "
            "serve it");
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(GuardGatewayTest, LocalOnlyIsServedByTheOwnedTargetAndAuditsEgress) {
  FakeUpstream external;
  external.SetDefault(JsonResponse(kAnswer));
  FakeUpstream owned;
  owned.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("ext", external.base_url(), "gpt-ext", false) +
                   Provider("local", owned.base_url(), "llama", true) +
                   Route("mixed", {"ext/gpt-ext", "local/llama"}),
               guard::PolicyAction::kLocalOnly);
  const std::string key = NewKey("acme");
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("mixed", std::string("card ") + kCard), Bearer(key));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "local/llama");
  EXPECT_EQ(external.request_count(), 0u);
  EXPECT_EQ(owned.request_count(), 1u);
  ExpectNoLeak(external);

  // Without findings the external target serves, and the call is audited.
  const std::string clean = Chat("mixed", "hello");
  r = HttpRequest(port(), "POST", "/v1/chat/completions", clean, Bearer(key));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "ext/gpt-ext");
  EXPECT_EQ(external.request_count(), 1u);
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);  // the owned call is not egress
  EXPECT_EQ((*records)[0].provider, "ext");
  EXPECT_EQ((*records)[0].tenant, "acme");
  EXPECT_EQ((*records)[0].policy, "local_only");
  EXPECT_EQ((*records)[0].payload_sha256, guard::Sha256Hex(clean));
}

}  // namespace
}  // namespace switchyard::gateway
