// The guard and a cascade route whose weak target is NOT owned: the cascade's
// own weak call is in the egress audit (hash of the exact body sent), and a
// request being redacted never reaches that weak target with its original
// text (the cascade is skipped; the plan's targets serve it, redacted).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../gateway/gateway_fixture.h"
#include "guard/audit.h"
#include "guard/pii.h"
#include "guard/policy.h"
#include "routing/model.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace switchyard::gateway {
namespace {

using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;

constexpr char kEmail[] = "alice.secret@example.com";

std::string Answer(const std::string& model, const std::string& content) {
  return R"({"id":"chatcmpl-)" + model + R"(","object":"chat.completion","created":1,"model":")" +
         model + R"(","choices":[{"index":0,"message":{"role":"assistant","content":")" + content +
         R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,)" +
         R"("total_tokens":8}})";
}

class CascadeGuardTest : public GatewayFixture {
 protected:
  void SetUp() override {
    auto sc = guard::PiiScanner::Create();
    ASSERT_TRUE(sc.ok()) << sc.status().ToString();
    scanner_ = std::move(*sc);
    auto au = guard::AuditStore::Open(dir_.File("audit.db"));
    ASSERT_TRUE(au.ok()) << au.status().ToString();
    audit_ = std::move(*au);
    weak_.SetDefault(JsonResponse(Answer("small", "It is 3 + 4 = 7.\\n#### 7")));
    strong_.SetDefault(JsonResponse(Answer("big", "strong says 7")));
  }
  void TearDown() override { Stop(); }

  // A cascade model trained on a few rows; with `threshold` 1e9 every weak
  // answer is accepted, so a call to the strong target can only come from a
  // skipped cascade.
  std::string CascadeModel() {
    std::vector<routing::RoutingExample> rows;
    for (int i = 0; i < 30; ++i) {
      routing::RoutingExample ex;
      ex.id = "q" + std::to_string(i);
      ex.prompt = "question number " + std::to_string(i);
      const bool wrong = i % 3 == 0;
      ex.weak_response = wrong ? "It is 3 + 4 = 8 so" : "It is 3 + 4 = 7.\n#### 7";
      ex.weak_correct = wrong ? 0 : 1;
      ex.strong_correct = 1;
      rows.push_back(ex);
    }
    auto model = routing::RouterModel::Train(
        rows, routing::DefaultTrainOptions(routing::RouterKind::kCascade));
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    const std::string path = dir_.File("cascade.model");
    EXPECT_TRUE(model->Save(path).ok());
    return path;
  }

  // Providers "cheap" (weak, external) and "cloud" (strong, external) and a
  // cascade route "math" over them.
  void StartCascade(guard::PolicyAction policy) {
    Start("[[providers]]\nname = \"cheap\"\nkind = \"openai\"\nbase_url = \"" + weak_.base_url() +
          "/v1\"\nmax_retries = 0\n[[providers]]\nname = \"cloud\"\nkind = \"openai\"\n" +
          "base_url = \"" + strong_.base_url() + "/v1\"\nmax_retries = 0\n" +
          "[[routes]]\nname = \"math\"\npolicy = \"cascade\"\nweak = \"cheap/small\"\n" +
          "strong = \"cloud/big\"\nmodel = \"" + CascadeModel() + "\"\nthreshold = 1e9\n");
    GuardHooks hooks;
    hooks.scanner = scanner_.get();
    auto table = guard::PolicyTable::Create(policy, {});
    ASSERT_TRUE(table.ok());
    hooks.policies = *table;
    hooks.audit = audit_.get();
    gateway_->set_guard(std::move(hooks));
  }

  static std::string Chat(const std::string& content) {
    return R"({"model":"math","messages":[{"role":"user","content":")" + content + R"("}]})";
  }

  testing::ScopedTempDir dir_{"cascade_guard"};
  FakeUpstream weak_;
  FakeUpstream strong_;
  std::unique_ptr<guard::PiiScanner> scanner_;
  std::unique_ptr<guard::AuditStore> audit_;
};

TEST_F(CascadeGuardTest, TheCascadesWeakCallToAnExternalProviderIsAudited) {
  StartCascade(guard::PolicyAction::kAllow);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("what is 3 + 4?"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "cheap/small");
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "false");
  ASSERT_EQ(weak_.request_count(), 1u);
  EXPECT_EQ(strong_.request_count(), 0u);

  ASSERT_TRUE(audit_->Flush().ok());
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  const guard::AuditRecord& a = (*records)[0];
  EXPECT_EQ(a.provider, "cheap");
  EXPECT_EQ(a.model, "small");
  EXPECT_EQ(a.request_id, r.headers["x-switchyard-request-id"]);
  // The hash is of the exact bytes the weak upstream received (the weak
  // request the cascade built, not the client's body).
  const std::string sent = weak_.requests()[0].body;
  EXPECT_EQ(a.payload_sha256, guard::Sha256Hex(sent));
  EXPECT_EQ(a.payload_bytes, static_cast<int64_t>(sent.size()));
}

TEST_F(CascadeGuardTest, ARedactedRequestSkipsAnExternalWeakTargetsCascade) {
  StartCascade(guard::PolicyAction::kRedact);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat(std::string("mail ") + kEmail + " the sum of 3 + 4"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route-reason"], "redact");
  // The plan's first target (the weak one) served the redacted request.
  ASSERT_EQ(weak_.request_count(), 1u);
  const std::string sent = weak_.requests()[0].body;
  EXPECT_EQ(sent.find(kEmail), std::string::npos) << sent;
  EXPECT_NE(sent.find("<EMAIL_1>"), std::string::npos) << sent;
  EXPECT_EQ(strong_.request_count(), 0u);

  ASSERT_TRUE(audit_->Flush().ok());
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].provider, "cheap");
  EXPECT_EQ((*records)[0].findings_before.size(), 1u);
  EXPECT_TRUE((*records)[0].findings_after.empty());
  EXPECT_EQ((*records)[0].payload_sha256, guard::Sha256Hex(sent));
}

}  // namespace
}  // namespace switchyard::gateway
