// Every response the gateway gives has exactly one ledger record with the
// status and error code the client saw: answers, streams, and each kind of
// failure, sent concurrently.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ledger_gateway_fixture.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"

namespace switchyard::app {
namespace {

using testing::FakeResponse;
using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;
using testing::RecordedRequest;
using testing::SseResponse;

constexpr char kIdHeader[] = "x-switchyard-request-id";

// What one request should leave in the ledger.
struct Expected {
  std::string kind;
  int status = 0;
  std::string error_code;
  bool stream = false;
  double cost_usd = 0;
  std::string cost_header;  // on the wire (a trailer for streams)
};

constexpr char kUsage[] = R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500})";

// The upstream: "fail" in the prompt -> HTTP 500; streams -> SSE with a usage
// chunk; otherwise a JSON answer. 1000 in / 500 out of gpt-4o-mini each.
FakeResponse Answer(const RecordedRequest& req) {
  if (req.body.find("please fail") != std::string::npos) {
    return JsonResponse(R"({"error":{"message":"upstream exploded","type":"server_error"}})", 500);
  }
  const std::string head =
      R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)";
  if (req.body.find(R"("stream":true)") != std::string::npos) {
    return SseResponse({
        head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},)"
               R"("finish_reason":null}]})"
               "\n\n",
        head + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
               "\n\n",
        head + R"("choices":[],"usage":)" + kUsage + "}\n\n",
        "data: [DONE]\n\n",
    });
  }
  return JsonResponse(R"({"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
                      R"("choices":[{"index":0,"message":{"role":"assistant","content":"ok"},)"
                      R"("finish_reason":"stop"}],"usage":)" +
                      std::string(kUsage) + "}");
}

class LedgerRecordTest : public LedgerGatewayTest {};

TEST_F(LedgerRecordTest, EveryResponseHasExactlyOneRecord) {
  FakeUpstream up;
  up.SetHandler(Answer);
  Start("[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"" + up.base_url() +
        "/v1\"\nmodels = [\"gpt-4o-mini\"]\nmax_retries = 0\nbreaker_failures = 1000\n");

  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;  // two rounds of the five kinds each
  std::mutex mu;
  std::map<std::string, Expected> sent;  // by request id
  std::vector<std::string> problems;
  auto client = [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      Expected e;
      std::string body;
      switch ((t + i) % 5) {
        case 0:
          e = {"plain", 200, "", false, 0.00045, "0.00045"};
          body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";
          break;
        case 1:
          e = {"stream", 200, "", true, 0.00045, "0.00045"};
          body = R"({"model":"gpt-4o-mini","stream":true,)"
                 R"("messages":[{"role":"user","content":"hi"}]})";
          break;
        case 2:
          e = {"bad json", 400, "invalid_request", false, 0, "0.0"};
          body = R"({"model":"gpt-4o-mini","messages":[)";
          break;
        case 3:
          e = {"unknown model", 404, "model_not_found", false, 0, "0.0"};
          body = R"({"model":"no-such-model","messages":[{"role":"user","content":"hi"}]})";
          break;
        default:
          e = {"upstream failure", 502, "upstream_error", false, 0, "0.0"};
          body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"please fail"}]})";
          break;
      }
      HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
      std::lock_guard lock(mu);
      const std::string id = r.headers[kIdHeader];
      if (!r.error.ok() || r.status != e.status || id.empty() ||
          r.headers["x-switchyard-cost-usd"] != e.cost_header) {
        problems.push_back(e.kind + ": status " + std::to_string(r.status) + " cost '" +
                           r.headers["x-switchyard-cost-usd"] + "' id '" + id + "' " +
                           r.error.ToString() + " " + r.body);
        continue;
      }
      if (!sent.emplace(id, e).second) problems.push_back("id reused: " + id);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(client, t);
  for (auto& th : threads) th.join();
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  ASSERT_EQ(sent.size(), size_t{kThreads * kPerThread});

  // Stop serving and drain the writer: from here no record can be added.
  Stop();
  // One outcome per response reached the recorder (the store ignores repeated
  // ids, so count them before it).
  std::vector<std::string> ids = recorded_ids();
  EXPECT_EQ(ids.size(), sent.size());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "an id recorded twice";
  const std::map<std::string, ledger::Record> records = ReadLedger();
  EXPECT_EQ(records.size(), sent.size());
  std::map<std::string, int> per_kind;
  for (const auto& [id, e] : sent) {
    auto it = records.find(id);
    if (it == records.end()) {
      ADD_FAILURE() << "no record for the " << e.kind << " request " << id;
      continue;
    }
    const ledger::Record& r = it->second;
    ++per_kind[e.kind];
    EXPECT_EQ(r.status, e.status) << e.kind;
    EXPECT_EQ(r.error_code, e.error_code) << e.kind;
    EXPECT_EQ(r.stream, e.stream) << e.kind;
    EXPECT_NEAR(r.cost_usd, e.cost_usd, 1e-12) << e.kind;
    if (e.status == 200) {
      EXPECT_EQ(r.input_tokens, 1000) << e.kind;
      EXPECT_EQ(r.output_tokens, 500) << e.kind;
      EXPECT_EQ(r.answered_by, "openai/gpt-4o-mini") << e.kind;
    } else {
      EXPECT_EQ(r.input_tokens, 0) << e.kind;
      EXPECT_EQ(r.answered_by, "") << e.kind;
    }
    if (e.kind == "upstream failure") {
      EXPECT_EQ(r.attempts, 1);
      EXPECT_EQ(r.stages_tried, std::vector<std::string>{"openai/gpt-4o-mini"});
    }
  }
  for (const auto& [id, r] : records) {
    EXPECT_EQ(sent.count(id), 1u) << "a record for a request nobody sent: " << id;
  }
  const std::map<std::string, int> want = {
      {"plain", 8}, {"stream", 8}, {"bad json", 8}, {"unknown model", 8}, {"upstream failure", 8}};
  EXPECT_EQ(per_kind, want);
}

// ledger/record.h: `provider` and `model` are those of the last attempt, ""
// only when no attempt was made — so that `ledger stats --by model` puts a
// failing upstream's errors under its own name.
TEST_F(LedgerRecordTest, FailedUpstreamRecordNamesTheProviderTried) {
  FakeUpstream up;
  up.SetHandler(Answer);
  Start("[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"" + up.base_url() +
        "/v1\"\nmodels = [\"gpt-4o-mini\"]\nmax_retries = 1\nretry_base_ms = 1\n");
  HttpResult r = HttpRequest(
      port(), "POST", "/v1/chat/completions",
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"please fail"}]})");
  ASSERT_EQ(r.status, 502) << r.body;
  const ledger::Record rec = RecordFor(r.headers[kIdHeader]);
  EXPECT_EQ(rec.status, 502);
  EXPECT_EQ(rec.error_code, "upstream_error");
  EXPECT_EQ(rec.attempts, 2);
  EXPECT_EQ(rec.stages_tried,
            (std::vector<std::string>{"openai/gpt-4o-mini", "openai/gpt-4o-mini"}));
  EXPECT_EQ(rec.answered_by, "");
  EXPECT_EQ(rec.provider, "openai");
  EXPECT_EQ(rec.model, "gpt-4o-mini");
}

}  // namespace
}  // namespace switchyard::app
