// The guard on the request path: API keys (401), per-tenant limits (429 with
// Retry-After), PII policies (block and local_only never reach an external
// upstream), the admin key, the tenant in the outcome and the egress audit.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

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
  // The gateway stops before this fixture's members go: its loops may still
  // be finishing a request (recorder, limits, audit) when a test returns.
  void TearDown() override { Stop(); }

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
  // (outcomes are recorded after the response, so not necessarily in order)
  ASSERT_EQ(std::count(tenants_.begin(), tenants_.end(), "acme"), 1);
  const size_t acme = std::find(tenants_.begin(), tenants_.end(), "acme") - tenants_.begin();
  EXPECT_EQ(pii_[acme], "{}");
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
  // The hash is of the exact bytes the upstream received (model renamed).
  EXPECT_EQ((*records)[0].payload_sha256, guard::Sha256Hex(external.requests()[0].body));
  EXPECT_NE((*records)[0].payload_sha256, guard::Sha256Hex(clean));
}

// --- redact ---------------------------------------------------------------

// The upstream's answer naming the placeholders it was given.
constexpr char kPlaceholderAnswer[] =
    R"({"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"gpt-up",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":)"
    R"("Sent to \u003cEMAIL_1\u003e, charged <CARD_1>."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})";

std::string SseChunk(const std::string& content, const std::string& finish = "null") {
  std::string delta = content.empty() ? "{}" : R"({"content":")" + content + "\"}";
  return R"(data: {"id":"u1","object":"chat.completion.chunk","created":1,"model":"gpt-up",)"
         R"("choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + finish + "}]}\n\n";
}

// The concatenated delta contents of an SSE body.
std::string StreamedText(const std::string& sse) {
  std::string text;
  simdjson::dom::parser p;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find("\n\n", pos);
    if (end == std::string::npos) end = sse.size();
    const std::string data = sse.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") continue;
    std::string_view v;
    if (!p.parse(data).at_pointer("/choices/0/delta/content").get(v)) text += v;
  }
  return text;
}

TEST_F(GuardGatewayTest, RedactSendsPlaceholdersAndRestoresTheJsonAnswer) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kPlaceholderAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kRedact);
  const std::string key = NewKey("acme");
  const std::string body = std::string(R"({"model":"gpt-up","user":")") + kEmail +
                           R"(","messages":[{"role":"user","content":"mail )" + kEmail + " card " +
                           kCard + R"("}]})";
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body, Bearer(key));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up.request_count(), 1u);
  const std::string sent = up.requests()[0].body;
  ExpectNoLeak(up);
  EXPECT_EQ(sent, R"({"model":"gpt-up","user":"<EMAIL_1>","messages":[{"role":"user","content":)"
                  R"("mail <EMAIL_1> card <CARD_1>"}]})");
  // The client gets the originals back.
  simdjson::dom::parser p;
  std::string_view content;
  ASSERT_FALSE(p.parse(r.body).at_pointer("/choices/0/message/content").get(content)) << r.body;
  EXPECT_EQ(content, std::string("Sent to ") + kEmail + ", charged " + kCard + ".");
  EXPECT_EQ(r.body.find("<EMAIL_1>"), std::string::npos);

  // The egress audit: what left had no findings, and its hash is what arrived.
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  const guard::AuditRecord& rec = (*records)[0];
  EXPECT_EQ(rec.policy, "redact");
  // (the e-mail twice: in the message and in the user field)
  EXPECT_EQ(rec.findings_before,
            (std::map<std::string, int64_t, std::less<>>{{"card", 1}, {"email", 2}}));
  EXPECT_TRUE(rec.findings_after.empty());
  EXPECT_EQ(rec.payload_sha256, guard::Sha256Hex(sent));
  EXPECT_EQ(rec.payload_bytes, static_cast<int64_t>(sent.size()));
}

TEST_F(GuardGatewayTest, RedactRestoresStreamsWithPlaceholdersSplitAcrossChunks) {
  FakeUpstream up;
  // HTTP chunks split one event in the middle of "<EMAIL_1>" inside its JSON
  // string, and "<CARD_1>" is split across two delta events (and chunks).
  const std::string first = SseChunk("To <EMAIL_1> now, ");
  const size_t cut = first.find("<EMAIL_1>") + 4;  // ...<EMA | IL_1>...
  up.SetDefault(testing::SseResponse(
      {first.substr(0, cut), first.substr(cut), SseChunk("card <CA"), SseChunk("RD_1>"),
       SseChunk(", bye <EM"), SseChunk("AIL_1>"), SseChunk("", "\"stop\""), "data: [DONE]\n\n"},
      std::chrono::milliseconds(5)));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kRedact,
               /*auth=*/false);
  const std::string body = std::string(R"({"model":"gpt-up","stream":true,"messages":[)") +
                           R"({"role":"user","content":"mail )" + kEmail + " card " + kCard +
                           R"("}]})";
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectNoLeak(up);
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_NE(up.requests()[0].body.find("mail <EMAIL_1> card <CARD_1>"), std::string::npos);
  EXPECT_EQ(StreamedText(r.body),
            std::string("To ") + kEmail + " now, card " + kCard + ", bye " + kEmail);
  EXPECT_EQ(r.body.find("<EMAIL_1>"), std::string::npos);
  EXPECT_EQ(r.body.find("<CARD_1>"), std::string::npos);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

TEST_F(GuardGatewayTest, RedactGivesOwnedTargetsTheOriginal) {
  FakeUpstream owned;
  owned.SetDefault(JsonResponse(R"({"error":{"message":"overloaded"}})", 503));
  FakeUpstream external;
  external.SetDefault(JsonResponse(kPlaceholderAnswer));
  StartGuarded(Provider("local", owned.base_url(), "llama", true) +
                   Provider("ext", external.base_url(), "gpt-ext", false) +
                   Route("mixed", {"local/llama", "ext/gpt-ext"}),
               guard::PolicyAction::kRedact);
  const std::string key = NewKey("acme");
  const std::string body = Chat("mixed", std::string("mail ") + kEmail + " card " + kCard);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body, Bearer(key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "ext/gpt-ext");
  // The owned target saw the original (only the model name is rewritten).
  ASSERT_EQ(owned.request_count(), 1u);
  EXPECT_NE(owned.requests()[0].body.find(kEmail), std::string::npos);
  EXPECT_NE(owned.requests()[0].body.find(kCard), std::string::npos);
  // The external one did not, and the answer is restored.
  ASSERT_EQ(external.request_count(), 1u);
  ExpectNoLeak(external);
  EXPECT_NE(r.body.find(kEmail), std::string::npos);
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].provider, "ext");
  EXPECT_TRUE((*records)[0].findings_after.empty());
}

TEST_F(GuardGatewayTest, AllowAuditsFindingsAfterAsSent) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow);
  const std::string key = NewKey("acme");
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("gpt-up", std::string("mail ") + kEmail), Bearer(key));
  ASSERT_EQ(r.status, 200) << r.body;
  auto records = audit_->Query({});
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].findings_after,
            (std::map<std::string, int64_t, std::less<>>{{"email", 1}}));
}

TEST_F(GuardGatewayTest, RedactWorksThroughTheAnthropicAdapterStreamed) {
  FakeUpstream up;
  auto delta = [](const std::string& text) {
    return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
           "\"delta\":{\"type\":\"text_delta\",\"text\":\"" +
           text + "\"}}\n\n";
  };
  up.SetDefault(testing::SseResponse(
      {"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
       "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-5-haiku-latest\","
       "\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}"
       "\n\n",
       "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
       delta("Card <CA"), delta("RD_1> for <EMAIL"), delta("_1>."),
       "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
       "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
       "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n\n",
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
      std::chrono::milliseconds(2)));
  StartGuarded("[[providers]]\nname = \"claude\"\nkind = \"anthropic\"\nbase_url = \"" +
                   up.base_url() +
                   "/v1\"\napi_key_env = \"ANTH_KEY\"\nmodels = [\"claude-3-5-haiku-latest\"]\n",
               guard::PolicyAction::kRedact, /*auth=*/false);
  const std::string body =
      std::string(R"({"model":"claude-3-5-haiku-latest","stream":true,"messages":[)") +
      R"({"role":"system","content":"customer )" + kEmail + R"("},)" +
      R"({"role":"user","content":"charge )" + kCard + R"("}]})";
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up.request_count(), 1u);
  ExpectNoLeak(up);
  const std::string sent = up.requests()[0].body;
  EXPECT_NE(sent.find("customer <EMAIL_1>"), std::string::npos) << sent;
  EXPECT_NE(sent.find("charge <CARD_1>"), std::string::npos) << sent;
  EXPECT_EQ(StreamedText(r.body), std::string("Card ") + kCard + " for " + kEmail + ".");
  EXPECT_EQ(r.body.find("<CARD_1>"), std::string::npos);
}

// --- no echo of secrets --------------------------------------------------------

TEST_F(GuardGatewayTest, UpstreamErrorsEchoingPiiOrKeysAreMasked) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(std::string(R"({"error":{"message":"Invalid 'user': )") + kEmail +
                                 R"(; Incorrect API key provided: )"
                                 R"(sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3"}})",
                             401));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow,
               /*auth=*/false);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("gpt-up", std::string("mail ") + kEmail));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(Message(r.body),
            "provider 'up' answered HTTP 401: Invalid 'user': [email]; Incorrect API key "
            "provided: [secret]");
  EXPECT_EQ(r.body.find(kEmail), std::string::npos);
  EXPECT_EQ(r.body.find("sk-proj"), std::string::npos);
}

// The gateway's log lines (an ostream logger instead of the fixture's null
// one) carry neither the upstream's echo of the request nor keys.
TEST_F(GuardGatewayTest, LogLinesNeverCarryPiiOrKeys) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(std::string(R"({"error":{"message":"bad 'user' )") + kEmail +
                                 R"(, card )" + kCard +
                                 R"(, auth Bearer sk-live-abcdef0123456789"}})",
                             500));
  // As GatewayFixture::Start, with a logger we can read.
  auto cfg = config::ParseConfig(
      "[server]\nlisten = \"127.0.0.1:0\"\n" + Provider("up", up.base_url(), "gpt-up", false),
      "test.toml", [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  config_ = std::make_shared<const config::Config>(std::move(*cfg));
  loops_ = std::make_unique<http::EventLoops>(1);
  auto tls = http::UpstreamClient::MakeTlsContext();
  ASSERT_TRUE(tls.ok());
  tls_ = std::move(*tls);
  std::ostringstream log_text;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
  auto options = observe::ParseLogOptions("info", "text");
  ASSERT_TRUE(options.ok());
  auto gw = Gateway::Create(config_, *loops_, *tls_, metrics_, clock_,
                            observe::MakeLogger("gateway", sink, *options));
  ASSERT_TRUE(gw.ok()) << gw.status().ToString();
  gateway_ = std::move(*gw);
  GuardHooks hooks;
  hooks.scanner = scanner_.get();
  gateway_->set_guard(std::move(hooks));
  http::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  Gateway* raw = gateway_.get();
  server_ = std::make_unique<http::Server>(
      *loops_, so,
      [raw](http::ServerRequest& req, http::ResponseWriter& w) { return raw->Handle(req, w); },
      [raw](int status, std::string_view msg) { return raw->ServerErrorBody(status, msg); });
  ASSERT_TRUE(server_->Start().ok());
  loops_->Start();

  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("gpt-up", std::string("mail ") + kEmail),
                             Bearer("sk-live-abcdef0123456789"));
  EXPECT_EQ(r.status, 502) << r.body;
  Stop();  // every log line is written
  const std::string logged = log_text.str();
  EXPECT_NE(logged.find("attempt 1 on up/gpt-up failed: provider 'up' answered HTTP 500: bad "
                        "'user' [email], card [card], auth Bearer [secret]"),
            std::string::npos)
      << logged;
  for (const std::string& raw_value :
       {std::string(kEmail), std::string(kCard), std::string("sk-live-abcdef0123456789")}) {
    EXPECT_EQ(logged.find(raw_value), std::string::npos) << raw_value;
    EXPECT_EQ(r.body.find(raw_value), std::string::npos) << raw_value;
  }
}

// --- limits ------------------------------------------------------------------

TEST_F(GuardGatewayTest, ConcurrentRequestsNeverExceedTheRpm) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow);
  const std::string key = NewKey("busy", /*rpm=*/5);
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hello"),
                                   Bearer(key));
        (r.status == 200 ? ok : r.status == 429 ? limited : other)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(limited.load(), 19);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(up.request_count(), 5u);
}

TEST_F(GuardGatewayTest, RevokedKeyFailsOnTheNextRequestWhileOthersRun) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  StartGuarded(Provider("up", up.base_url(), "gpt-up", false), guard::PolicyAction::kAllow);
  const std::string doomed = NewKey("acme");
  const std::string kept = NewKey("acme");
  std::atomic<bool> stop{false};
  std::atomic<int> kept_failures{0};
  std::thread other([&] {
    while (!stop) {
      HttpResult r =
          HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hi"), Bearer(kept));
      if (r.status != 200) ++kept_failures;
    }
  });
  ASSERT_EQ(
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hi"), Bearer(doomed))
          .status,
      200);
  ASSERT_TRUE(keys_->Revoke(doomed).ok());
  for (int i = 0; i < 5; ++i) {
    HttpResult r =
        HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", "hi"), Bearer(doomed));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(Message(r.body), "revoked API key");
  }
  stop = true;
  other.join();
  EXPECT_EQ(kept_failures.load(), 0);
}

}  // namespace
}  // namespace switchyard::gateway
