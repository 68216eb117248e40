// The gateway end to end, in process: FakeUpstreams behind a real http::Server.
// Pass-through, SSE relay, retries, Retry-After, fallback, timeouts, breaker,
// cancellation, Anthropic translation, error statuses and graceful shutdown.
#include "gateway/gateway.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gateway_fixture.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::gateway {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeResponse;
using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::HttpStream;
using testing::JsonResponse;
using testing::SseResponse;
using testing::StreamResult;

constexpr char kAnswer[] =
    R"({"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"gpt-up-0613",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi there"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})";

// An OpenAI stream with the usage chunk at the end (index kUsageFrame).
const std::vector<std::string> kFrames = {
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-up\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}"
    "\n\n",
    "data: [DONE]\n\n",
};
constexpr size_t kUsageFrame = 4;

std::string Join(const std::vector<std::string>& v, size_t skip = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != skip) out += v[i];
  }
  return out;
}

// A [[providers]] entry for an OpenAI-kind upstream with fast retries.
std::string Provider(const std::string& name, const std::string& base_url, const std::string& model,
                     const std::string& extra = "") {
  return "[[providers]]\nname = \"" + name + "\"\nkind = \"openai\"\nbase_url = \"" + base_url +
         "/v1\"\nmodels = [\"" + model + "\"]\nretry_base_ms = 5\nretry_max_ms = 20\n" + extra +
         "\n";
}
std::string Route(const std::string& name, const std::vector<std::string>& targets) {
  std::string out = "[[routes]]\nname = \"" + name + "\"\ntargets = [";
  for (size_t i = 0; i < targets.size(); ++i) out += (i ? ", \"" : "\"") + targets[i] + "\"";
  return out + "]\n";
}
std::string Chat(const std::string& model, const std::string& extra = "") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hello"}])" + extra +
         "}";
}
std::string ErrorJson(const std::string& message, const std::string& type,
                      const std::string& param = "null", const std::string& code = "null") {
  return R"({"error":{"message":")" + message + R"(","type":")" + type + R"(","param":)" + param +
         R"(,"code":)" + code + "}}";
}
FakeResponse ServerError(const std::string& message, int status = 500) {
  return JsonResponse(R"({"error":{"message":")" + message + R"("}})", status);
}

using GatewayTest = GatewayFixture;

// Request ids carry the start time (base62 ms, most significant digit first)
// ahead of the random part, so they sort by time: the ledger's unique index
// on id then only ever appends.
TEST_F(GatewayTest, RequestIdsSortByStartTime) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(kAnswer));
  up.Enqueue(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up", "api_key_env = \"UP_KEY\"") +
        Route("fast", {"up/gpt-up"}));
  const std::string body = R"({"model":"fast","messages":[{"role":"user","content":"hi"}]})";
  HttpResult a = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  clock_.Advance(std::chrono::milliseconds(1));
  HttpResult b = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  const std::string ida = a.headers["x-switchyard-request-id"];
  const std::string idb = b.headers["x-switchyard-request-id"];
  ASSERT_EQ(ida.size(), 31u) << ida;
  ASSERT_EQ(idb.size(), 31u) << idb;
  EXPECT_LT(ida, idb);
  // 1'700'000'000'000 ms in base62 is "0Tvcokgi" (8 digits, zero-padded).
  EXPECT_EQ(ida.substr(11, 8), "0Tvcokgi");
  EXPECT_EQ(idb.substr(11, 8), "0Tvcokgj");
}

TEST_F(GatewayTest, PlainAnswerPassesThroughWithDecisionHeaders) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up", "api_key_env = \"UP_KEY\"") +
        Route("fast", {"up/gpt-up"}));

  const std::string body =
      R"({"model":"fast","messages":[{"role":"user","content":"hello"}],"temperature":0.5,)"
      R"("x_custom":{"a":[1,2.50,null]},"user":"u1"})";
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kAnswer);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.headers["x-switchyard-route"], "up/gpt-up");
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "1");
  EXPECT_TRUE(r.headers["x-switchyard-request-id"].starts_with("chatcmpl-sy"));

  ASSERT_EQ(up.request_count(), 1u);
  testing::RecordedRequest rec = up.requests()[0];
  EXPECT_EQ(rec.method, "POST");
  EXPECT_EQ(rec.target, "/v1/chat/completions");
  EXPECT_EQ(rec.headers["authorization"], "Bearer sk-up-test");
  EXPECT_EQ(rec.headers["content-type"], "application/json");
  EXPECT_EQ(rec.body,
            R"({"model":"gpt-up","messages":[{"role":"user","content":"hello"}],"temperature":0.5,)"
            R"("x_custom":{"a":[1,2.50,null]},"user":"u1"})");

  auto outcomes = WaitForOutcomes(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].route, "fast");
  EXPECT_EQ(outcomes[0].answered_by, "up/gpt-up");
  EXPECT_EQ(outcomes[0].provider, "up");
  EXPECT_EQ(outcomes[0].model, "gpt-up-0613");
  EXPECT_EQ(outcomes[0].attempts, 1);
  EXPECT_EQ(outcomes[0].status, 200);
  EXPECT_EQ(outcomes[0].id, r.headers["x-switchyard-request-id"]);
  EXPECT_EQ(outcomes[0].usage.prompt_tokens, 5);
  EXPECT_EQ(outcomes[0].usage.completion_tokens, 2);
}

TEST_F(GatewayTest, BareModelAndProviderSlashModelResolve) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult bare = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up"));
  EXPECT_EQ(bare.status, 200);
  EXPECT_EQ(bare.headers["x-switchyard-route"], "up/gpt-up");
  HttpResult any = HttpRequest(port(), "POST", "/chat/completions", Chat("up/other-model"));
  EXPECT_EQ(any.status, 200);
  EXPECT_EQ(any.headers["x-switchyard-route"], "up/other-model");
  ASSERT_EQ(up.request_count(), 2u);
  EXPECT_EQ(up.requests()[1].body, Chat("other-model"));
}

TEST_F(GatewayTest, UpstreamConnectionsAreKeptAlive) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up"), "", /*threads=*/1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up")).status, 200);
  }
  EXPECT_EQ(up.request_count(), 5u);
  EXPECT_EQ(up.connections_accepted(), 1u);
}

TEST_F(GatewayTest, SseIsRelayedChunkByChunkWithoutTheUsageChunk) {
  FakeUpstream up;
  up.Enqueue(SseResponse(kFrames, milliseconds(60)));
  Start(Provider("up", up.base_url(), "gpt-up") + Route("fast", {"up/gpt-up"}));

  StreamResult r = HttpStream(port(), "/v1/chat/completions", Chat("fast", R"(,"stream":true)"));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.headers["x-switchyard-route"], "up/gpt-up");
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "1");
  EXPECT_EQ(r.body, Join(kFrames, kUsageFrame));
  // Each event went out as it arrived: one piece per upstream event, spread
  // over the upstream's pacing (5 gaps of 60 ms), not one burst at the end.
  EXPECT_EQ(r.pieces.size(), kFrames.size() - 1);
  ASSERT_FALSE(r.arrival_times.empty());
  EXPECT_GE(r.arrival_times.back() - r.arrival_times.front(), milliseconds(200));

  ASSERT_EQ(up.request_count(), 1u);
  // The gateway asks for the usage chunk (for accounting) and strips it again.
  EXPECT_EQ(
      up.requests()[0].body,
      R"({"stream_options":{"include_usage":true},"model":"gpt-up","messages":[{"role":"user","content":"hello"}],"stream":true})");
  auto outcomes = WaitForOutcomes(1);
  EXPECT_TRUE(outcomes[0].stream);
  EXPECT_EQ(outcomes[0].usage.prompt_tokens, 5);
  EXPECT_EQ(outcomes[0].usage.completion_tokens, 2);
}

TEST_F(GatewayTest, SseWithIncludeUsageIsByteIdentical) {
  FakeUpstream up;
  up.Enqueue(SseResponse(kFrames, milliseconds(5)));
  Start(Provider("up", up.base_url(), "gpt-up") + Route("fast", {"up/gpt-up"}));
  const std::string extra = R"(,"stream":true,"stream_options":{"include_usage":true})";
  StreamResult r = HttpStream(port(), "/v1/chat/completions", Chat("fast", extra));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.body, Join(kFrames));
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_EQ(up.requests()[0].body, Chat("gpt-up", extra));
}

TEST_F(GatewayTest, TwoServerErrorsThenSuccessIsRetriedInto200) {
  FakeUpstream up;
  up.Enqueue(ServerError("boom"));
  up.Enqueue(ServerError("boom", 503));
  up.Enqueue(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up") + Route("fast", {"up/gpt-up"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kAnswer);
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "3");
  EXPECT_EQ(r.headers["x-switchyard-route"], "up/gpt-up");
  EXPECT_EQ(up.request_count(), 3u);
  auto outcomes = WaitForOutcomes(1);
  EXPECT_EQ(outcomes[0].stages_tried,
            (std::vector<std::string>{"up/gpt-up", "up/gpt-up", "up/gpt-up"}));
}

TEST_F(GatewayTest, RetriesStopAtMaxRetries) {
  FakeUpstream up;
  up.SetDefault(ServerError("boom"));
  Start(Provider("up", up.base_url(), "gpt-up", "max_retries = 1") + Route("fast", {"up/gpt-up"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, ErrorJson("provider 'up' answered HTTP 500: boom", "upstream_error"));
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(up.request_count(), 2u);
}

TEST_F(GatewayTest, RateLimitWithRetryAfterSecondsWaitsThenSucceeds) {
  FakeUpstream up;
  FakeResponse limited = ServerError("slow down", 429);
  limited.headers.emplace_back("retry-after", "1");
  up.Enqueue(limited);
  up.Enqueue(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up") + Route("fast", {"up/gpt-up"}));
  const auto start = std::chrono::steady_clock::now();
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "2");
  EXPECT_GE(elapsed, milliseconds(950));  // the upstream's 1 s, not the 5 ms backoff
  EXPECT_EQ(up.request_count(), 2u);
}

TEST_F(GatewayTest, RetryAfterMsIsHonouredAndWinsOverSeconds) {
  FakeUpstream up;
  FakeResponse limited = ServerError("slow down", 429);
  limited.headers.emplace_back("retry-after", "30");
  limited.headers.emplace_back("retry-after-ms", "50");
  up.Enqueue(limited);
  up.Enqueue(JsonResponse(kAnswer));
  // With 30 s honoured the gateway would give up (max_retry_after_ms 2000).
  Start(Provider("up", up.base_url(), "gpt-up", "max_retry_after_ms = 2000") +
        Route("fast", {"up/gpt-up"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(up.request_count(), 2u);
}

TEST_F(GatewayTest, RetryAfterBeyondTheLimitFallsBackToTheNextTarget) {
  FakeUpstream a, b;
  FakeResponse limited = ServerError("slow down", 429);
  limited.headers.emplace_back("retry-after", "30");
  a.SetDefault(limited);
  b.Enqueue(JsonResponse(kAnswer));
  Start(Provider("a", a.base_url(), "m-a", "max_retry_after_ms = 500") +
        Provider("b", b.base_url(), "m-b") + Route("fast", {"a/m-a", "b/m-b"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "b/m-b");
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(a.request_count(), 1u);
  EXPECT_EQ(b.request_count(), 1u);
  EXPECT_EQ(b.requests()[0].body, Chat("m-b"));
}

TEST_F(GatewayTest, RateLimitWithNowhereElseToGoIs429WithRetryAfter) {
  FakeUpstream a;
  FakeResponse limited = ServerError("slow down", 429);
  limited.headers.emplace_back("retry-after", "30");
  a.SetDefault(limited);
  Start(Provider("a", a.base_url(), "m-a", "max_retry_after_ms = 500"));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "30");
  EXPECT_EQ(r.body, ErrorJson("provider 'a' answered HTTP 429: slow down", "rate_limit_error"));
  EXPECT_EQ(a.request_count(), 1u);
}

TEST_F(GatewayTest, ConnectionRefusedFallsBackAndHeadersNameTheAnsweringTarget) {
  const uint16_t dead = testing::FreePort();
  ASSERT_NE(dead, 0);
  FakeUpstream b;
  b.Enqueue(JsonResponse(kAnswer));
  Start(Provider("a", "http://127.0.0.1:" + std::to_string(dead), "m-a", "max_retries = 1") +
        Provider("b", b.base_url(), "m-b") + Route("fast", {"a/m-a", "b/m-b"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kAnswer);
  EXPECT_EQ(r.headers["x-switchyard-route"], "b/m-b");
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "3");  // a, a again, then b
  auto outcomes = WaitForOutcomes(1);
  EXPECT_EQ(outcomes[0].stages_tried, (std::vector<std::string>{"a/m-a", "a/m-a", "b/m-b"}));
  EXPECT_EQ(outcomes[0].answered_by, "b/m-b");
}

TEST_F(GatewayTest, AllTargetsFailingIs502NamingTheProvider) {
  FakeUpstream a, b;
  a.SetDefault(ServerError("boom a"));
  b.SetDefault(ServerError("boom b", 503));
  Start(Provider("a", a.base_url(), "m-a", "max_retries = 0") +
        Provider("b", b.base_url(), "m-b", "max_retries = 0") + Route("fast", {"a/m-a", "b/m-b"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, ErrorJson("provider 'b' answered HTTP 503: boom b", "upstream_error"));
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(r.headers["x-switchyard-route"], "b/m-b");
  auto outcomes = WaitForOutcomes(1);
  EXPECT_EQ(outcomes[0].status, 502);
  EXPECT_EQ(outcomes[0].error_code, "upstream_error");
}

TEST_F(GatewayTest, UpstreamRejectionIsPassedOnAs400WithoutRetry) {
  FakeUpstream a;
  a.SetDefault(ServerError("unknown parameter: foo", 400));
  Start(Provider("a", a.base_url(), "m-a", "breaker_failures = 1"));
  for (int i = 0; i < 2; ++i) {
    HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, ErrorJson("provider 'a' answered HTTP 400: unknown parameter: foo",
                                "invalid_request_error"));
    EXPECT_EQ(r.headers["x-switchyard-attempts"], "1");
  }
  // Not retried, and a rejected request says nothing bad about the upstream:
  // the breaker (threshold 1) stayed closed.
  EXPECT_EQ(a.request_count(), 2u);
}

TEST_F(GatewayTest, UpstreamRejectionFallsBackToTheNextTarget) {
  FakeUpstream a, b;
  a.SetDefault(ServerError("model not found", 404));
  b.SetDefault(JsonResponse(kAnswer));
  Start(Provider("a", a.base_url(), "m-a") + Provider("b", b.base_url(), "m-b") +
        Route("fast", {"a/m-a", "b/m-b"}));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "b/m-b");
  EXPECT_EQ(a.request_count(), 1u);
}

TEST_F(GatewayTest, FirstByteTimeoutIs504NamingTheProvider) {
  FakeUpstream a;
  FakeResponse slow = JsonResponse(kAnswer);
  slow.head_delay = seconds(3);
  a.SetDefault(slow);
  Start(Provider("a", a.base_url(), "m-a", "first_byte_timeout_ms = 100"));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a"));
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, ErrorJson("provider 'a': no response from http://127.0.0.1:" +
                                  std::to_string(a.port()) + " within 100 ms",
                              "timeout_error"));
  EXPECT_EQ(r.headers["x-switchyard-route"], "a/m-a");
  EXPECT_EQ(a.request_count(), 1u);
}

TEST_F(GatewayTest, ResetMidStreamEndsTheStreamWithAnErrorEventAndNoRetry) {
  FakeUpstream a, b;
  FakeResponse cut = SseResponse({kFrames[0], kFrames[1]}, milliseconds(10));
  cut.reset_after_chunks = true;
  a.SetDefault(cut);
  b.SetDefault(SseResponse(kFrames));
  Start(Provider("a", a.base_url(), "m-a") + Provider("b", b.base_url(), "m-b") +
        Route("fast", {"a/m-a", "b/m-b"}));
  StreamResult r = HttpStream(port(), "/v1/chat/completions", Chat("fast", R"(,"stream":true)"));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();  // a properly terminated chunked body
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "a/m-a");
  const std::string error_event =
      "data: " +
      ErrorJson("provider 'a': http://127.0.0.1:" + std::to_string(a.port()) +
                    ": connection failed mid-response: Connection reset by peer",
                "upstream_error") +
      "\n\n";
  EXPECT_EQ(r.body, kFrames[0] + kFrames[1] + error_event);
  EXPECT_EQ(a.request_count(), 1u);
  EXPECT_EQ(b.request_count(), 0u);
}

TEST_F(GatewayTest, CircuitBreakerOpensSkipsAndProbesAfterTheCooldown) {
  FakeUpstream a, b;
  a.SetDefault(ServerError("down"));
  b.SetDefault(JsonResponse(kAnswer));
  Start(Provider("a", a.base_url(), "m-a",
                 "max_retries = 0\nbreaker_failures = 2\nbreaker_cooldown_ms = 10000") +
        Provider("b", b.base_url(), "m-b") + Route("fast", {"a/m-a", "b/m-b"}));
  auto send = [&] {
    HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast"));
    EXPECT_EQ(r.status, 200);
    return r;
  };
  EXPECT_EQ(send().headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(send().headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(a.request_count(), 2u);  // two consecutive failures: the circuit opens

  HttpResult skipped = send();
  EXPECT_EQ(skipped.headers["x-switchyard-attempts"], "1");
  EXPECT_EQ(skipped.headers["x-switchyard-route"], "b/m-b");
  EXPECT_EQ(a.request_count(), 2u);
  HttpResult metrics = HttpRequest(port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("switchyard_circuit_state{provider=\"a\"} 1"), std::string::npos)
      << metrics.body;

  clock_.Advance(milliseconds(10000));  // half-open: one probe, which fails
  EXPECT_EQ(send().headers["x-switchyard-attempts"], "2");
  EXPECT_EQ(a.request_count(), 3u);
  EXPECT_EQ(send().headers["x-switchyard-attempts"], "1");  // open again
  EXPECT_EQ(a.request_count(), 3u);

  a.SetDefault(JsonResponse(kAnswer));
  clock_.Advance(milliseconds(10000));  // the next probe succeeds and closes it
  HttpResult probe = send();
  EXPECT_EQ(probe.headers["x-switchyard-route"], "a/m-a");
  EXPECT_EQ(send().headers["x-switchyard-route"], "a/m-a");
  EXPECT_EQ(a.request_count(), 5u);
}

TEST_F(GatewayTest, AllCircuitsOpenIs502) {
  FakeUpstream a;
  a.SetDefault(ServerError("down"));
  Start(Provider("a", a.base_url(), "m-a", "max_retries = 0\nbreaker_failures = 1"));
  EXPECT_EQ(HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a")).status, 502);
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body,
            ErrorJson("provider 'a': circuit open after repeated failures", "upstream_error"));
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "0");
  EXPECT_EQ(a.request_count(), 1u);
}

TEST_F(GatewayTest, ClientDisconnectCancelsTheUpstreamRequest) {
  FakeUpstream a;
  FakeResponse slow = JsonResponse(kAnswer);
  slow.head_delay = seconds(5);
  a.SetDefault(slow);
  Start(Provider("a", a.base_url(), "m-a"));
  HttpResult r =
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("m-a"), {}, milliseconds(200));
  EXPECT_EQ(r.error.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(a.WaitForClientAborts(1, seconds(3)));
  auto outcomes = WaitForOutcomes(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, 499);
  EXPECT_EQ(outcomes[0].error_code, "client_closed");
  EXPECT_EQ(a.request_count(), 1u);
}

TEST_F(GatewayTest, ClientDisconnectMidStreamCancelsTheUpstream) {
  FakeUpstream a;
  a.SetDefault(SseResponse(kFrames, milliseconds(300)));
  Start(Provider("a", a.base_url(), "m-a"));
  StreamResult r = testing::HttpStreamAbortAfter(port(), "/v1/chat/completions",
                                                 Chat("m-a", R"(,"stream":true)"), 1);
  EXPECT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_TRUE(a.WaitForClientAborts(1, seconds(3)));
  auto outcomes = WaitForOutcomes(1);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].status, 499);
}

// ---------------------------------------------------------------- Anthropic

constexpr char kAnthropicAnswer[] =
    R"({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",)"
    R"("model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"Hi!"}],)"
    R"("stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":3}})";

const std::vector<std::string> kAnthropicEvents = {
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7g\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
    "\"claude-3-5-haiku-20241022\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"
    "{\"input_tokens\":25,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
    "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: ping\ndata: {\"type\": \"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"!\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
};

std::string AnthropicProvider(const std::string& base_url) {
  return "[[providers]]\nname = \"claude\"\nkind = \"anthropic\"\nbase_url = \"" + base_url +
         "/v1\"\napi_key_env = \"ANTH_KEY\"\nmodels = [\"claude-3-5-haiku-latest\"]\n";
}
const std::string kAnthropicChat =
    R"({"model":"claude-3-5-haiku-latest","messages":[{"role":"system","content":"be brief"},)"
    R"({"role":"user","content":"hello"}])";

// Checks the Messages request the fake Anthropic endpoint received.
void ExpectMessagesRequest(const testing::RecordedRequest& rec, bool stream) {
  EXPECT_EQ(rec.method, "POST");
  EXPECT_EQ(rec.target, "/v1/messages");
  auto headers = rec.headers;
  EXPECT_EQ(headers["x-api-key"], "sk-ant-test");
  EXPECT_EQ(headers["anthropic-version"], "2023-06-01");
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers.count("authorization"), 0u);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(rec.body).get(doc)) << rec.body;
  EXPECT_EQ(std::string_view(doc["model"]), "claude-3-5-haiku-latest");
  EXPECT_EQ(int64_t(doc["max_tokens"]), 4096);
  EXPECT_EQ(std::string_view(doc["system"]), "be brief");
  simdjson::dom::array messages = doc["messages"];
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(std::string_view(messages.at(0)["role"]), "user");
  EXPECT_EQ(std::string_view(messages.at(0)["content"]), "hello");
  bool s = false;
  if (!doc["stream"].get(s))
    EXPECT_EQ(s, stream);
  else
    EXPECT_FALSE(stream) << rec.body;
}

TEST_F(GatewayTest, AnthropicJsonAnswerBecomesAChatCompletion) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(kAnthropicAnswer));
  Start(AnthropicProvider(up.base_url()));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", kAnthropicChat + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "claude/claude-3-5-haiku-latest");
  ASSERT_EQ(up.request_count(), 1u);
  ExpectMessagesRequest(up.requests()[0], false);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(r.body).get(doc)) << r.body;
  EXPECT_EQ(std::string_view(doc["object"]), "chat.completion");
  EXPECT_EQ(std::string_view(doc["id"]), "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(std::string_view(doc["model"]), "claude-3-5-haiku-20241022");
  EXPECT_EQ(std::string_view(doc.at_pointer("/choices/0/message/role")), "assistant");
  EXPECT_EQ(std::string_view(doc.at_pointer("/choices/0/message/content")), "Hi!");
  EXPECT_EQ(std::string_view(doc.at_pointer("/choices/0/finish_reason")), "stop");
  EXPECT_EQ(int64_t(doc.at_pointer("/usage/prompt_tokens")), 12);
  EXPECT_EQ(int64_t(doc.at_pointer("/usage/completion_tokens")), 3);
  EXPECT_EQ(int64_t(doc.at_pointer("/usage/total_tokens")), 15);
}

// Splits an OpenAI SSE body into its data payloads.
std::vector<std::string> DataPayloads(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string event = body.substr(pos, end - pos);
    if (event.starts_with("data: ")) out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

TEST_F(GatewayTest, AnthropicEventStreamBecomesOpenAiChunks) {
  FakeUpstream up;
  up.Enqueue(SseResponse(kAnthropicEvents, milliseconds(5)));
  Start(AnthropicProvider(up.base_url()));
  StreamResult r =
      HttpStream(port(), "/v1/chat/completions", kAnthropicChat + R"(,"stream":true})");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  ASSERT_EQ(up.request_count(), 1u);
  ExpectMessagesRequest(up.requests()[0], true);

  const std::vector<std::string> payloads = DataPayloads(r.body);
  ASSERT_GE(payloads.size(), 3u) << r.body;
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::string content, finish, role;
  simdjson::dom::parser parser;
  for (size_t i = 0; i + 1 < payloads.size(); ++i) {
    simdjson::dom::element chunk;
    ASSERT_FALSE(parser.parse(payloads[i]).get(chunk)) << payloads[i];
    EXPECT_EQ(std::string_view(chunk["object"]), "chat.completion.chunk");
    EXPECT_EQ(std::string_view(chunk["id"]), "msg_014p7g");
    EXPECT_EQ(std::string_view(chunk["model"]), "claude-3-5-haiku-latest");
    simdjson::dom::array choices = chunk["choices"];
    ASSERT_EQ(choices.size(), 1u) << "no usage chunk unless asked: " << payloads[i];
    std::string_view s;
    if (!choices.at(0).at_pointer("/delta/content").get(s)) content += s;
    if (!choices.at(0).at_pointer("/delta/role").get(s)) role = s;
    if (!choices.at(0)["finish_reason"].get(s)) finish = s;
  }
  EXPECT_EQ(role, "assistant");
  EXPECT_EQ(content, "Hello!");
  EXPECT_EQ(finish, "stop");
  auto outcomes = WaitForOutcomes(1);
  EXPECT_EQ(outcomes[0].usage.prompt_tokens, 25);
  EXPECT_EQ(outcomes[0].usage.completion_tokens, 15);
}

TEST_F(GatewayTest, AnthropicStreamWithIncludeUsageEndsWithAUsageChunk) {
  FakeUpstream up;
  up.Enqueue(SseResponse(kAnthropicEvents));
  Start(AnthropicProvider(up.base_url()));
  StreamResult r =
      HttpStream(port(), "/v1/chat/completions",
                 kAnthropicChat + R"(,"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::vector<std::string> payloads = DataPayloads(r.body);
  ASSERT_GE(payloads.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::element usage_chunk;
  ASSERT_FALSE(parser.parse(payloads[payloads.size() - 2]).get(usage_chunk));
  EXPECT_EQ(simdjson::dom::array(usage_chunk["choices"]).size(), 0u);
  EXPECT_EQ(int64_t(usage_chunk.at_pointer("/usage/prompt_tokens")), 25);
  EXPECT_EQ(int64_t(usage_chunk.at_pointer("/usage/completion_tokens")), 15);
}

TEST_F(GatewayTest, AnthropicErrorIsMappedWithTheProviderName) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", 529));
  Start(AnthropicProvider(up.base_url()) + "max_retries = 1\nretry_base_ms = 5\n");
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", kAnthropicChat + "}");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, ErrorJson("provider 'claude' answered HTTP 529: Overloaded", "upstream_error"));
  EXPECT_EQ(up.request_count(), 2u);
}

// ---------------------------------------------------------------- errors and endpoints

TEST_F(GatewayTest, UnknownModelIs404) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, ErrorJson("model \\\"nope\\\" not found: it is not a route, a model listed by "
                              "a provider, or \\\"provider/model\\\" with a configured provider",
                              "invalid_request_error", "\"model\"", "\"model_not_found\""));
  HttpResult unknown_provider =
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("other/gpt-up"));
  EXPECT_EQ(unknown_provider.status, 404);
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(GatewayTest, InvalidRequestsAre400WithTheField) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult bad_json = HttpRequest(port(), "POST", "/v1/chat/completions", R"({"model":)");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.body, ErrorJson("request body is not valid JSON: JSON document ended early "
                                     "in the middle of an object or array.",
                                     "invalid_request_error"));
  HttpResult no_messages =
      HttpRequest(port(), "POST", "/v1/chat/completions", R"({"model":"gpt-up"})");
  EXPECT_EQ(no_messages.status, 400);
  EXPECT_EQ(no_messages.body, ErrorJson("missing required field 'messages'",
                                        "invalid_request_error", "\"messages\""));
  HttpResult bad_temp =
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up", R"(,"temperature":3)"));
  EXPECT_EQ(bad_temp.status, 400);
  EXPECT_EQ(bad_temp.body, ErrorJson("field 'temperature' must be a number between 0 and 2",
                                     "invalid_request_error", "\"temperature\""));
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(GatewayTest, FrontDoorRefusesDeepNestingAndInvalidUtf8) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  std::string deep = R"({"model":"gpt-up","messages":[{"role":"user","content":"x"}],"x":)";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  deep += "}";
  HttpResult too_deep = HttpRequest(port(), "POST", "/v1/chat/completions", deep);
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_EQ(too_deep.body, ErrorJson("JSON nesting deeper than 64 levels", "invalid_request_error",
                                     "null", "\"json_too_deep\""));
  HttpResult bad_utf8 =
      HttpRequest(port(), "POST", "/v1/chat/completions",
                  Chat("gpt-up").substr(0, 10) + "\xff\xfe" + Chat("gpt-up").substr(10));
  EXPECT_EQ(bad_utf8.status, 400);
  EXPECT_EQ(bad_utf8.body, ErrorJson("request body is not valid UTF-8 (byte 10)",
                                     "invalid_request_error", "null", "\"invalid_utf8\""));
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(GatewayTest, BodyTooLargeIs413WithAnOpenAiError) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"), "max_body_bytes = 256");
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions",
                             Chat("gpt-up", R"(,"user":")" + std::string(300, 'x') + "\""));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, ErrorJson("request body exceeds 256 bytes", "invalid_request_error"));
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(GatewayTest, WrongMethodIs405WithAllow) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult get = HttpRequest(port(), "GET", "/v1/chat/completions");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.headers["allow"], "POST");
  EXPECT_EQ(get.body, ErrorJson("method GET is not allowed on /v1/chat/completions (allowed: POST)",
                                "invalid_request_error"));
  HttpResult post = HttpRequest(port(), "POST", "/v1/models", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET");
  EXPECT_EQ(post.body, ErrorJson("method POST is not allowed on /v1/models (allowed: GET)",
                                 "invalid_request_error"));
}

TEST_F(GatewayTest, UnknownPathIs404) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult r = HttpRequest(port(), "GET", "/v2/whatever?x=1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, ErrorJson("unknown path /v2/whatever (endpoints: POST /v1/chat/completions, "
                              "GET /v1/models, GET /healthz, GET /metrics)",
                              "invalid_request_error", "null", "\"unknown_url\""));
}

TEST_F(GatewayTest, ModelsListsRoutesAndModels) {
  FakeUpstream a, b;
  Start(Provider("a", a.base_url(), "m-a") + Provider("b", b.base_url(), "m-b") +
        Route("fast", {"a/m-a", "b/m-b"}));
  HttpResult r = HttpRequest(port(), "GET", "/v1/models");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(r.body).get(doc)) << r.body;
  EXPECT_EQ(std::string_view(doc["object"]), "list");
  std::map<std::string, std::string> owners;
  for (simdjson::dom::element m : simdjson::dom::array(doc["data"])) {
    EXPECT_EQ(std::string_view(m["object"]), "model");
    owners[std::string(std::string_view(m["id"]))] = std::string(std::string_view(m["owned_by"]));
  }
  EXPECT_EQ(
      owners,
      (std::map<std::string, std::string>{
          {"fast", "switchyard"}, {"a/m-a", "a"}, {"b/m-b", "b"}, {"m-a", "a"}, {"m-b", "b"}}));
}

TEST_F(GatewayTest, MetricsCountRequestsByRoute) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(kAnswer));
  Start(Provider("up", up.base_url(), "gpt-up") + Route("fast", {"up/gpt-up"}));
  EXPECT_EQ(HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast")).status, 200);
  EXPECT_EQ(HttpRequest(port(), "POST", "/v1/chat/completions", Chat("fast")).status, 200);
  EXPECT_EQ(HttpRequest(port(), "POST", "/v1/chat/completions", Chat("nope")).status, 404);
  WaitForOutcomes(3);
  HttpResult r = HttpRequest(port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  EXPECT_NE(
      r.body.find("switchyard_requests_total{route=\"fast\",provider=\"up\",status=\"200\"} 2"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(
                "switchyard_requests_total{route=\"unknown\",provider=\"none\",status=\"404\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_NE(
      r.body.find("switchyard_request_duration_seconds_count{route=\"fast\",provider=\"up\"} 2"),
      std::string::npos)
      << r.body;
}

TEST_F(GatewayTest, HealthzAnswersOkAndHeadHasNoBody) {
  FakeUpstream up;
  Start(Provider("up", up.base_url(), "gpt-up"));
  HttpResult r = HttpRequest(port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  auto conn = testing::HttpConnection::Connect(port());
  ASSERT_TRUE(conn.ok());
  HttpResult head = (*conn)->Request("HEAD", "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  HttpResult after = (*conn)->Request("GET", "/healthz");  // the connection is still in sync
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, R"({"status":"ok"})");
}

TEST_F(GatewayTest, GracefulShutdownLetsInFlightRequestsFinish) {
  FakeUpstream up;
  FakeResponse slow = JsonResponse(kAnswer);
  slow.head_delay = milliseconds(300);
  up.SetDefault(slow);
  Start(Provider("up", up.base_url(), "gpt-up"));

  HttpResult in_flight;
  std::thread client(
      [&] { in_flight = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-up")); });
  ASSERT_TRUE(up.WaitForRequests(1, seconds(5)));
  server_->BeginShutdown();

  // New connections are not served. The acceptors close on their loops right
  // after BeginShutdown() returns: a connect racing that may be reset instead
  // of refused, but none gets an answer, and soon every one is refused.
  const std::string refused =
      "connect to 127.0.0.1:" + std::to_string(port()) + ": Connection refused";
  bool was_refused = false;
  for (int i = 0; i < 100 && !was_refused; ++i) {
    HttpResult health = HttpRequest(port(), "GET", "/healthz", "", {}, seconds(2));
    EXPECT_EQ(health.status, 0) << health.body;
    was_refused = health.error.message() == refused;
  }
  EXPECT_TRUE(was_refused);

  EXPECT_TRUE(server_->WaitIdle(std::chrono::steady_clock::now() + seconds(5)));
  client.join();
  ASSERT_TRUE(in_flight.error.ok()) << in_flight.error.ToString();
  EXPECT_EQ(in_flight.status, 200);
  EXPECT_EQ(in_flight.body, kAnswer);
  EXPECT_EQ(in_flight.headers["connection"], "close");
}

}  // namespace
}  // namespace switchyard::gateway
