// Router and cascade routes end to end: a real gateway over loopback weak and
// strong upstreams (FakeUpstream), with models trained here so the test knows
// which answers the scorer rejects.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/policies.h"
#include "gateway/shadow.h"
#include "gateway_fixture.h"
#include "guard/pii.h"
#include "routing/model.h"
#include "routing/outcome_export.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/temp_dir.h"

namespace switchyard::gateway {
namespace {

using testing::FakeResponse;
using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;
using testing::RecordedRequest;

constexpr char kGood[] = "It is 3 + 4 = 7.\\n#### 7";
constexpr char kBad[] = "It is 3 + 4 = 8 so we can set up the following";
const std::vector<double> kGoodLogprobs = {-0.01, -0.02, -0.05};
const std::vector<double> kBadLogprobs = {-2.3, -1.9, -3.1};

std::string Answer(const std::string& model, const std::string& content,
                   const std::vector<double>& logprobs) {
  std::string lp;
  for (size_t i = 0; i < logprobs.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s{\"token\":\"t%zu\",\"logprob\":%g}", i ? "," : "", i,
                  logprobs[i]);
    lp += buf;
  }
  return R"({"id":"chatcmpl-)" + model + R"(","object":"chat.completion","created":1,"model":")" +
         model + R"(","choices":[{"index":0,"message":{"role":"assistant","content":")" + content +
         R"("},"logprobs":{"content":[)" + lp + R"(]},"finish_reason":"stop"}],)" +
         R"("usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";
}

const std::string kStrongAnswer =
    R"({"id":"chatcmpl-big","object":"chat.completion","created":1,"model":"big",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"strong says 7"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,)"
    R"("total_tokens":8}})";

// The weak model fails "prove" questions.
bool Hard(std::string_view body) {
  return body.find("prove") != std::string_view::npos;
}

// Everything a test checks about a recorded request.
struct Decision {
  std::vector<std::string> stages_tried;
  std::string answered_by;
  bool escalated = false;
  std::optional<double> confidence;
  std::string route_reason;
  int status = 0;
};

class RoutePolicyTest : public GatewayFixture {
 protected:
  void SetUp() override {
    weak_.SetHandler([](const RecordedRequest& r) {
      return Hard(r.body) ? JsonResponse(Answer("small", kBad, kBadLogprobs))
                          : JsonResponse(Answer("small", kGood, kGoodLogprobs));
    });
    strong_.SetDefault(JsonResponse(kStrongAnswer));
  }
  // The gateway stops before this class's members (the recorder writes
  // decisions_; requests may still be finishing).
  void TearDown() override {
    if (shadow_) shadow_->Drain(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    Stop();
    if (shadow_) {
      EXPECT_TRUE(shadow_->Shutdown().ok());
    }
  }

  // Shadow outcomes into a store in the test's directory.
  void EnableShadow(ShadowOptions options = {}) {
    auto created = ShadowRecorder::Create(dir_.File("ledger.db"), clock_, metrics_,
                                          observe::MakeNullLogger(), options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    shadow_ = std::move(*created);
    gateway_->set_shadow(shadow_.get());
  }
  // Every shadow call ended and every row written: the route's rows, in the
  // order of `prompts` (a row is written when its shadow call ends, so the
  // store's order is not the requests').
  std::vector<routing::PairedOutcome> ShadowRows(const std::string& route,
                                                 const std::vector<std::string>& prompts) {
    EXPECT_EQ(shadow_->Drain(std::chrono::steady_clock::now() + std::chrono::seconds(5)), 0u);
    EXPECT_TRUE(shadow_->Shutdown().ok());
    auto rows = shadow_->store().Load(route);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<routing::PairedOutcome> out;
    if (!rows.ok() || rows->size() != prompts.size()) {
      ADD_FAILURE() << (rows.ok() ? rows->size() : 0) << " rows for " << prompts.size()
                    << " prompts";
      return out;
    }
    for (const std::string& p : prompts) {
      auto it = std::find_if(rows->begin(), rows->end(),
                             [&](const routing::PairedOutcome& r) { return r.prompt == p; });
      if (it == rows->end()) {
        ADD_FAILURE() << "no row for " << p;
        return {};
      }
      out.push_back(*it);
    }
    return out;
  }
  std::string MetricsText() { return metrics_.RenderPrometheus(); }

  // Providers "local" (owned, weak_) and "cloud" (strong_), then `routes`.
  void StartWith(const std::string& routes) {
    Start("[[providers]]\nname = \"local\"\nkind = \"openai\"\nowned = true\nbase_url = \"" +
          weak_.base_url() + "/v1\"\nmax_retries = 0\n" +
          "[[providers]]\nname = \"cloud\"\nkind = \"openai\"\nbase_url = \"" + strong_.base_url() +
          "/v1\"\nmax_retries = 0\n" + routes);
    gateway_->set_recorder([this](Outcome& o) {
      Decision d{o.stages_tried, o.answered_by,  o.escalated,
                 o.confidence,   o.route_reason, o.status};
      {
        std::lock_guard lock(mu_);
        decisions_.push_back(std::move(d));
        outcomes_.emplace_back();
      }
      cv_.notify_all();
    });
  }

  // One request; returns once its outcome was recorded, so decisions_ stays
  // in request order.
  HttpResult Send(const std::string& body) {
    size_t before = 0;
    {
      std::lock_guard lock(mu_);
      before = decisions_.size();
    }
    HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
    WaitForOutcomes(before + 1);
    return r;
  }

  std::vector<Decision> Decisions(size_t n) {
    WaitForOutcomes(n);
    std::lock_guard lock(mu_);
    return decisions_;
  }

  static std::string Route(const std::string& policy, const std::string& model, double threshold,
                           const std::string& extra = "") {
    char t[64];
    std::snprintf(t, sizeof(t), "%.17g", threshold);
    return "[[routes]]\nname = \"" + policy + "\"\npolicy = \"" + policy +
           "\"\nweak = \"local/small\"\nstrong = \"cloud/big\"\nmodel = \"" + model +
           "\"\nthreshold = " + t + "\n" + extra;
  }

  static std::string Request(const std::string& route, const std::string& prompt,
                             const std::string& extra = "") {
    return R"({"model":")" + route + R"(","messages":[{"role":"user","content":")" + prompt +
           R"("}])" + extra + "}";
  }

  static std::string Score(double s) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4f", s);
    return buf;
  }

  // A cascade model: answers that show a broken sum and no final answer are
  // the weak model's failures.
  std::string TrainCascade() {
    std::vector<routing::RoutingExample> rows;
    for (int i = 0; i < 60; ++i) {
      routing::RoutingExample ex;
      ex.id = "q" + std::to_string(i);
      ex.prompt = "question number " + std::to_string(i);
      const bool wrong = i % 3 == 0;
      ex.weak_response = wrong ? kBad : "It is 3 + 4 = 7.\n#### 7";
      ex.weak_logprobs = wrong ? kBadLogprobs : kGoodLogprobs;
      ex.weak_correct = wrong ? 0 : 1;
      ex.strong_correct = 1;
      rows.push_back(ex);
    }
    auto model = routing::RouterModel::Train(
        rows, routing::DefaultTrainOptions(routing::RouterKind::kCascade));
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    cascade_ = std::make_unique<routing::RouterModel>(std::move(*model));
    const std::string path = dir_.File("cascade.model");
    EXPECT_TRUE(cascade_->Save(path).ok());
    return path;
  }

  // A prompt model: "prove" prompts need the strong model.
  std::string TrainRouter() {
    std::vector<routing::RoutingExample> rows;
    for (int i = 0; i < 40; ++i) {
      routing::RoutingExample ex;
      ex.id = "q" + std::to_string(i);
      const bool hard = i % 2 == 0;
      ex.prompt = hard ? "prove theorem " + std::to_string(i) : "capital of " + std::to_string(i);
      ex.weak_correct = hard ? 0 : 1;
      ex.strong_correct = 1;
      rows.push_back(ex);
    }
    auto model = routing::RouterModel::Train(
        rows, routing::DefaultTrainOptions(routing::RouterKind::kPrompt));
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    router_ = std::make_unique<routing::RouterModel>(std::move(*model));
    const std::string path = dir_.File("router.model");
    EXPECT_TRUE(router_->Save(path).ok());
    return path;
  }

  // The cascade model's score of the weak answer the handler gives `prompt`.
  double CascadeScore(const std::string& prompt) {
    routing::RouterInput in;
    in.prompt = prompt;
    const bool hard = Hard(prompt);
    const std::string response = hard ? kBad : "It is 3 + 4 = 7.\n#### 7";
    in.weak_response = response;
    in.weak_logprobs = hard ? kBadLogprobs : kGoodLogprobs;
    auto s = cascade_->Score(in);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : 0;
  }

  double RouterScore(const std::string& prompt) {
    routing::RouterInput in;
    in.prompt = prompt;
    return *router_->Score(in);
  }

  FakeUpstream weak_;
  FakeUpstream strong_;
  testing::ScopedTempDir dir_{"route_policy"};
  std::unique_ptr<routing::RouterModel> cascade_;
  std::unique_ptr<routing::RouterModel> router_;
  std::vector<Decision> decisions_;
  std::unique_ptr<ShadowRecorder> shadow_;  // outlives the loops (TearDown)
};

TEST_F(RoutePolicyTest, CascadeEscalatesExactlyTheAnswersTheScorerRejects) {
  const std::string model = TrainCascade();
  const std::vector<std::string> prompts = {"prove that 7 is prime", "add 3 and 4",
                                            "please prove it again", "what is 3 + 4",
                                            "now prove the lemma",   "sum of 3 and 4"};
  // The model reads the logprobs: the scores below need the gateway to pass
  // on the ones the weak upstream returned.
  {
    routing::RouterInput in;
    in.prompt = prompts[0];
    in.weak_response = kBad;
    const double without = *cascade_->Score(in);
    ASSERT_NE(without, CascadeScore(prompts[0]));
  }
  // The threshold between the accepted and the rejected answers' scores.
  double lowest_hard = 1e300, highest_easy = -1e300;
  for (const auto& p : prompts) {
    if (Hard(p)) lowest_hard = std::min(lowest_hard, CascadeScore(p));
    if (!Hard(p)) highest_easy = std::max(highest_easy, CascadeScore(p));
  }
  ASSERT_LT(highest_easy, lowest_hard) << "the trained model must separate the answers";
  const double threshold = (highest_easy + lowest_hard) / 2;
  StartWith(Route("cascade", model, threshold));

  int escalations = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const double score = CascadeScore(prompts[i]);
    const bool rejected = score >= threshold;
    escalations += rejected ? 1 : 0;
    HttpResult r = Send(Request("cascade", prompts[i]));
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-switchyard-escalated"], rejected ? "true" : "false") << prompts[i];
    EXPECT_EQ(r.headers["x-switchyard-route"], rejected ? "cloud/big" : "local/small");
    EXPECT_EQ(r.headers["x-switchyard-confidence"], Score(score));
    EXPECT_EQ(r.headers["x-switchyard-attempts"], rejected ? "2" : "1");
    EXPECT_EQ(r.headers.count("x-switchyard-route-reason"), 0u);
    if (rejected) {
      EXPECT_EQ(r.body, kStrongAnswer);
    } else {
      // The logprobs were asked for the score, not by the client.
      EXPECT_NE(r.body.find(R"("content":"It is 3 + 4 = 7.\n#### 7")"), std::string::npos)
          << r.body;
      EXPECT_EQ(r.body.find("top_logprobs"), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find("\"t0\""), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(escalations, 3);
  EXPECT_EQ(weak_.request_count(), prompts.size());
  EXPECT_EQ(strong_.request_count(), 3u);
  for (const RecordedRequest& rec : weak_.requests()) {
    EXPECT_NE(rec.body.find(R"("stream":false,"logprobs":true,"top_logprobs":1})"),
              std::string::npos)
        << rec.body;
  }
  for (const RecordedRequest& rec : strong_.requests()) {
    EXPECT_TRUE(Hard(rec.body)) << rec.body;
    EXPECT_EQ(rec.body.find("logprobs"), std::string::npos) << rec.body;
  }

  const std::vector<Decision> d = Decisions(prompts.size());
  ASSERT_EQ(d.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const bool rejected = CascadeScore(prompts[i]) >= threshold;
    EXPECT_EQ(d[i].escalated, rejected);
    ASSERT_TRUE(d[i].confidence.has_value());
    EXPECT_DOUBLE_EQ(*d[i].confidence, CascadeScore(prompts[i]));
    EXPECT_EQ(d[i].answered_by, rejected ? "cloud/big" : "local/small");
    EXPECT_EQ(d[i].stages_tried, rejected ? (std::vector<std::string>{"local/small", "cloud/big"})
                                          : std::vector<std::string>{"local/small"});
    EXPECT_EQ(d[i].route_reason, "");
    EXPECT_EQ(d[i].status, 200);
  }
}

TEST_F(RoutePolicyTest, CascadeStreamSendsOnlyTheAcceptedAnswer) {
  const std::string model = TrainCascade();
  const double easy = CascadeScore("add 3 and 4");
  const double hard = CascadeScore("prove that 7 is prime");
  ASSERT_LT(easy, hard);
  strong_.SetDefault(testing::SseResponse(
      {"data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"big\","
       "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"strong stream\"},"
       "\"finish_reason\":\"stop\"}]}\n\n",
       "data: [DONE]\n\n"}));
  StartWith(Route("cascade", model, (easy + hard) / 2));

  // Accepted: the weak answer, fetched without streaming, re-sent as SSE.
  testing::StreamResult accepted = testing::HttpStream(
      port(), "/v1/chat/completions", Request("cascade", "add 3 and 4", R"(,"stream":true)"));
  ASSERT_TRUE(accepted.error.ok()) << accepted.error.ToString();
  EXPECT_EQ(accepted.status, 200);
  EXPECT_EQ(accepted.headers["content-type"], "text/event-stream");
  EXPECT_EQ(accepted.headers["x-switchyard-escalated"], "false");
  EXPECT_EQ(accepted.headers["x-switchyard-route"], "local/small");
  const std::string chunk =
      R"({"id":"chatcmpl-small","object":"chat.completion.chunk","created":1,"model":"small",)"
      R"("choices":[{"index":0,"delta":)";
  EXPECT_EQ(accepted.body,
            "data: " + chunk + R"({"role":"assistant","content":""},"logprobs":null,)" +
                R"("finish_reason":null}]})" + "\n\ndata: " + chunk +
                R"({"content":"It is 3 + 4 = 7.\n#### 7"},"logprobs":null,)" +
                R"("finish_reason":null}]})" + "\n\ndata: " + chunk +
                R"({},"logprobs":null,"finish_reason":"stop"}]})" + "\n\ndata: [DONE]\n\n");

  // Escalated: the weak answer never reaches the client; the strong one streams.
  testing::StreamResult escalated =
      testing::HttpStream(port(), "/v1/chat/completions",
                          Request("cascade", "prove that 7 is prime", R"(,"stream":true)"));
  ASSERT_TRUE(escalated.error.ok());
  EXPECT_EQ(escalated.headers["x-switchyard-escalated"], "true");
  EXPECT_EQ(escalated.headers["x-switchyard-route"], "cloud/big");
  EXPECT_EQ(escalated.headers["x-switchyard-confidence"], Score(hard));
  EXPECT_NE(escalated.body.find("strong stream"), std::string::npos) << escalated.body;
  EXPECT_EQ(escalated.body.find("3 + 4 = 8"), std::string::npos) << escalated.body;

  ASSERT_EQ(weak_.request_count(), 2u);
  for (const RecordedRequest& rec : weak_.requests()) {
    EXPECT_NE(rec.body.find(R"("stream":false)"), std::string::npos) << rec.body;
    EXPECT_EQ(rec.body.find("stream_options"), std::string::npos) << rec.body;
  }
  ASSERT_EQ(strong_.request_count(), 1u);
  EXPECT_NE(strong_.requests()[0].body.find(R"("stream":true)"), std::string::npos);
}

TEST_F(RoutePolicyTest, CascadeEscalatesWhenTheWeakCallFails) {
  const std::string model = TrainCascade();
  weak_.SetHandler({});
  weak_.SetDefault(JsonResponse(R"({"error":{"message":"overloaded"}})", 503));
  StartWith(Route("cascade", model, 0));
  HttpResult r = Send(Request("cascade", "add"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, kStrongAnswer);
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "true");
  EXPECT_EQ(r.headers["x-switchyard-route-reason"], "weak_failed");
  EXPECT_EQ(r.headers.count("x-switchyard-confidence"), 0u);
  const std::vector<Decision> d = Decisions(1);
  EXPECT_EQ(d[0].route_reason, "weak_failed");
  EXPECT_FALSE(d[0].confidence.has_value());
  EXPECT_EQ(d[0].stages_tried, (std::vector<std::string>{"local/small", "cloud/big"}));
  // The weak call counts as an upstream attempt.
  HttpResult m = HttpRequest(port(), "GET", "/metrics");
  EXPECT_NE(
      m.body.find("switchyard_upstream_attempts_total{provider=\"local\",outcome=\"error\"} 1"),
      std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("switchyard_upstream_attempts_total{provider=\"cloud\",outcome=\"ok\"} 1"),
            std::string::npos);
}

TEST_F(RoutePolicyTest, RouterPicksWeakOrStrongByTheScore) {
  const std::string model = TrainRouter();
  const double hard = RouterScore("prove theorem 99");
  const double easy = RouterScore("capital of 99");
  ASSERT_LT(easy, hard);
  StartWith(Route("router", model, (easy + hard) / 2));

  HttpResult s = Send(Request("router", "prove theorem 99"));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.body, kStrongAnswer);
  EXPECT_EQ(s.headers["x-switchyard-route"], "cloud/big");
  EXPECT_EQ(s.headers["x-switchyard-escalated"], "true");
  EXPECT_EQ(s.headers["x-switchyard-confidence"], Score(hard));

  HttpResult w = Send(Request("router", "capital of 99"));
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(w.headers["x-switchyard-route"], "local/small");
  EXPECT_EQ(w.headers["x-switchyard-escalated"], "false");
  EXPECT_EQ(w.headers["x-switchyard-confidence"], Score(easy));
  // The router calls the chosen target once, as the client asked (no logprobs).
  ASSERT_EQ(weak_.request_count(), 1u);
  EXPECT_EQ(weak_.requests()[0].body.find("logprobs"), std::string::npos);
  EXPECT_EQ(strong_.request_count(), 1u);

  const std::vector<Decision> d = Decisions(2);
  EXPECT_TRUE(d[0].escalated);
  EXPECT_EQ(d[0].answered_by, "cloud/big");
  EXPECT_DOUBLE_EQ(*d[0].confidence, hard);
  EXPECT_FALSE(d[1].escalated);
  EXPECT_EQ(d[1].answered_by, "local/small");
  EXPECT_DOUBLE_EQ(*d[1].confidence, easy);
}

TEST_F(RoutePolicyTest, RouterFallsBackToTheOtherTargetWhenTheChosenOneFails) {
  const std::string model = TrainRouter();
  weak_.SetHandler({});
  weak_.SetDefault(JsonResponse(R"({"error":{"message":"down"}})", 500));
  StartWith(Route("router", model, 1e9));  // every request scores below: weak
  HttpResult r = Send(Request("router", "capital of 1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "cloud/big");
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "false");  // the policy chose weak
  EXPECT_EQ(Decisions(1)[0].stages_tried, (std::vector<std::string>{"local/small", "cloud/big"}));
}

TEST_F(RoutePolicyTest, SlowStrongTargetIsAvoidedUntilItsSamplesAgeOut) {
  const std::string model = TrainRouter();
  FakeResponse slow = JsonResponse(kStrongAnswer);
  slow.head_delay = std::chrono::milliseconds(120);
  strong_.SetDefault(slow);
  // Threshold -1e9: every request scores above it and goes strong.
  StartWith(Route("router", model, -1e9, "latency_slo_ms = 50\n"));
  const std::string body = Request("router", "prove theorem 5");
  for (int i = 0; i < 3; ++i) {  // three samples (GatewayOptions::latency_min_samples)
    HttpResult r = Send(body);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["x-switchyard-route"], "cloud/big");
    EXPECT_EQ(r.headers.count("x-switchyard-route-reason"), 0u);
  }
  // Strong's p95 (>= 120 ms) exceeds the 50 ms SLO: the weak target answers.
  HttpResult r = Send(body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "local/small");
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "false");
  EXPECT_EQ(r.headers["x-switchyard-route-reason"], "latency_slo");
  EXPECT_EQ(Decisions(4)[3].route_reason, "latency_slo");
  EXPECT_EQ(strong_.request_count(), 3u);
  // A minute later the slow samples have aged out: strong is tried again.
  clock_.Advance(std::chrono::seconds(61));
  HttpResult again = Send(body);
  EXPECT_EQ(again.headers["x-switchyard-route"], "cloud/big");
  EXPECT_EQ(strong_.request_count(), 4u);
}

TEST_F(RoutePolicyTest, CascadeKeepsTheWeakAnswerWhileStrongIsOverItsSlo) {
  const std::string model = TrainCascade();
  FakeResponse slow = JsonResponse(kStrongAnswer);
  slow.head_delay = std::chrono::milliseconds(120);
  strong_.SetDefault(slow);
  StartWith(Route("cascade", model, -1e9, "latency_slo_ms = 50\n"));  // rejects every answer
  const std::string body = Request("cascade", "prove it");
  for (int i = 0; i < 3; ++i) {
    HttpResult r = Send(body);
    EXPECT_EQ(r.headers["x-switchyard-route"], "cloud/big");
  }
  HttpResult r = Send(body);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "local/small");
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "false");
  EXPECT_EQ(r.headers["x-switchyard-route-reason"], "latency_slo");
  EXPECT_NE(r.body.find("3 + 4 = 8"), std::string::npos);
  EXPECT_EQ(strong_.request_count(), 3u);
}

// ------------------------------------------------------------ shadow outcomes

TEST_F(RoutePolicyTest, RouterShadowCallsTheOtherTargetAndKeepsBothAnswers) {
  const std::string model = TrainRouter();
  const double hard = RouterScore("prove theorem 99");
  const double easy = RouterScore("capital of 99");
  ASSERT_LT(easy, hard);
  StartWith(Route("router", model, (easy + hard) / 2, "shadow_sample = 1.0\n"));
  EnableShadow();

  HttpResult s = Send(Request("router", "prove theorem 99"));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.body, kStrongAnswer);  // the client's answer is unchanged
  HttpResult w = Send(Request("router", "capital of 99"));
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(w.headers["x-switchyard-route"], "local/small");

  const std::vector<routing::PairedOutcome> rows =
      ShadowRows("router", {"prove theorem 99", "capital of 99"});
  ASSERT_EQ(rows.size(), 2u);
  // Strong answered: the weak target was called too.
  EXPECT_EQ(rows[0].prompt, "prove theorem 99");
  EXPECT_EQ(rows[0].strong_target, "cloud/big");
  EXPECT_EQ(rows[0].strong_response, "strong says 7");
  EXPECT_EQ(rows[0].strong_finish, "stop");
  EXPECT_EQ(rows[0].weak_target, "local/small");
  EXPECT_EQ(rows[0].weak_response, "It is 3 + 4 = 8 so we can set up the following");
  // A router's weak answers to clients carry no logprobs, so neither do its
  // shadow calls' (a feature present only on one side would leak the choice).
  EXPECT_TRUE(rows[0].weak_logprobs.empty());
  EXPECT_EQ(rows[0].shadow_target, "local/small");
  // Weak answered: the strong target was called too.
  EXPECT_EQ(rows[1].prompt, "capital of 99");
  EXPECT_EQ(rows[1].weak_response, "It is 3 + 4 = 7.\n#### 7");
  EXPECT_TRUE(rows[1].weak_logprobs.empty());  // the client's own call asked for none
  EXPECT_EQ(rows[1].strong_response, "strong says 7");
  EXPECT_EQ(rows[1].shadow_target, "cloud/big");
  EXPECT_NE(rows[0].request_id, rows[1].request_id);

  ASSERT_EQ(weak_.request_count(), 2u);
  ASSERT_EQ(strong_.request_count(), 2u);
  // The shadow call to the weak target: non-streamed, without logprobs.
  int shadow_calls = 0;
  for (const RecordedRequest& rec : weak_.requests()) {
    if (rec.body.find("prove theorem 99") == std::string::npos) continue;
    ++shadow_calls;
    EXPECT_NE(rec.body.find(R"("stream":false})"), std::string::npos) << rec.body;
    EXPECT_EQ(rec.body.find("logprobs"), std::string::npos) << rec.body;
  }
  EXPECT_EQ(shadow_calls, 1);
  EXPECT_NE(
      MetricsText().find("switchyard_router_shadow_total{route=\"router\",outcome=\"recorded\"} 2"),
      std::string::npos)
      << MetricsText();
}

TEST_F(RoutePolicyTest, CascadeShadowUsesTheEscalatedWeakAnswerWithoutAnotherCall) {
  const std::string model = TrainCascade();
  const double easy = CascadeScore("add 3 and 4");
  const double hard = CascadeScore("prove that 7 is prime");
  ASSERT_LT(easy, hard);
  strong_.SetDefault(JsonResponse(Answer("big", "4 + 3 = 7.\\n#### 7", {})));
  StartWith(Route("cascade", model, (easy + hard) / 2, "shadow_sample = 1.0\n"));
  EnableShadow();

  HttpResult a = Send(Request("cascade", "add 3 and 4"));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.headers["x-switchyard-escalated"], "false");
  HttpResult e = Send(Request("cascade", "prove that 7 is prime"));
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(e.headers["x-switchyard-escalated"], "true");

  const std::vector<routing::PairedOutcome> rows =
      ShadowRows("cascade", {"add 3 and 4", "prove that 7 is prime"});
  ASSERT_EQ(rows.size(), 2u);
  // Accepted: the strong target is called after the client's answer.
  EXPECT_EQ(rows[0].weak_response, "It is 3 + 4 = 7.\n#### 7");
  EXPECT_EQ(rows[0].weak_logprobs, kGoodLogprobs);
  EXPECT_EQ(rows[0].strong_response, "4 + 3 = 7.\n#### 7");
  EXPECT_EQ(rows[0].shadow_target, "cloud/big");
  // Escalated: both answers were already there.
  EXPECT_EQ(rows[1].weak_response, "It is 3 + 4 = 8 so we can set up the following");
  EXPECT_EQ(rows[1].weak_logprobs, kBadLogprobs);
  EXPECT_EQ(rows[1].strong_response, "4 + 3 = 7.\n#### 7");
  EXPECT_EQ(rows[1].shadow_target, "");
  EXPECT_EQ(weak_.request_count(), 2u);
  EXPECT_EQ(strong_.request_count(), 2u);  // one escalation, one shadow call

  // With the strong answer as the reference: the accepted answer agrees, the
  // escalated one does not.
  routing::ExportStats stats;
  const auto exported = routing::ExportOutcomes(rows, routing::MatchRule::kAuto, &stats);
  ASSERT_EQ(exported.size(), 2u);
  EXPECT_EQ(exported[0].example.weak_correct, 1);
  EXPECT_EQ(exported[1].example.weak_correct, 0);
  EXPECT_EQ(stats.by_number, 2u);
}

TEST_F(RoutePolicyTest, ShadowOfAStreamedAnswerReadsTheStreamedText) {
  const std::string model = TrainRouter();
  strong_.SetDefault(testing::SseResponse(
      {"data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
       "\"model\":\"big\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"strong \"},"
       "\"finish_reason\":null}]}\n\n",
       "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,"
       "\"model\":\"big\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"stream\"},"
       "\"finish_reason\":\"stop\"}]}\n\n",
       "data: [DONE]\n\n"}));
  StartWith(Route("router", model, -1e9, "shadow_sample = 1.0\n"));  // everything goes strong
  EnableShadow();
  testing::StreamResult r = testing::HttpStream(
      port(), "/v1/chat/completions", Request("router", "capital of 5", R"(,"stream":true)"));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  ASSERT_EQ(r.status, 200);
  WaitForOutcomes(1);
  const std::vector<routing::PairedOutcome> rows = ShadowRows("router", {"capital of 5"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].strong_response, "strong stream");
  EXPECT_EQ(rows[0].strong_finish, "stop");
  EXPECT_EQ(rows[0].weak_response, "It is 3 + 4 = 7.\n#### 7");
  EXPECT_TRUE(rows[0].weak_logprobs.empty());
}

TEST_F(RoutePolicyTest, ShadowCallsAreBoundedAndCancelledAtShutdown) {
  const std::string model = TrainRouter();
  FakeResponse slow = JsonResponse(kStrongAnswer);
  slow.head_delay = std::chrono::milliseconds(3000);
  strong_.SetDefault(slow);
  StartWith(Route("router", model, 1e9, "shadow_sample = 1.0\n"));  // everything goes weak
  ShadowOptions options;
  options.max_inflight = 1;
  EnableShadow(options);
  // The first request's shadow call hangs on the slow strong target; the
  // second finds no room for its own.
  ASSERT_EQ(Send(Request("router", "capital of 1")).status, 200);
  for (int i = 0; i < 200 && shadow_->stats().inflight == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(Send(Request("router", "capital of 2")).status, 200);
  EXPECT_NE(
      MetricsText().find("switchyard_router_shadow_total{route=\"router\",outcome=\"busy\"} 1"),
      std::string::npos)
      << MetricsText();
  // Shutdown: the running call is cancelled once the deadline passes.
  EXPECT_EQ(shadow_->Drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(50)), 0u);
  EXPECT_NE(MetricsText().find(
                "switchyard_router_shadow_total{route=\"router\",outcome=\"cancelled\"} 1"),
            std::string::npos)
      << MetricsText();
  ASSERT_TRUE(shadow_->Shutdown().ok());
  auto rows = shadow_->store().Load("router");
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_F(RoutePolicyTest, NoShadowCallToATargetThatFailedOnTheRequestsPath) {
  const std::string model = TrainRouter();
  weak_.SetHandler({});
  weak_.SetDefault(JsonResponse(R"({"error":{"message":"down"}})", 500));
  StartWith(Route("router", model, 1e9, "shadow_sample = 1.0\n"));  // weak first, then strong
  EnableShadow();
  HttpResult r = Send(Request("router", "capital of 1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "cloud/big");
  EXPECT_TRUE(ShadowRows("router", {}).empty());
  EXPECT_EQ(weak_.request_count(), 1u);  // the failed attempt only
  EXPECT_NE(MetricsText().find(
                "switchyard_router_shadow_total{route=\"router\",outcome=\"unavailable\"} 1"),
            std::string::npos)
      << MetricsText();
}

TEST_F(RoutePolicyTest, ShadowRowsWithPersonalDataInTheAnswersAreNotKept) {
  const std::string model = TrainRouter();
  strong_.SetDefault(JsonResponse(Answer("big", "write to alice.smith@example.com", {})));
  StartWith(Route("router", model, 1e9, "shadow_sample = 1.0\n"));  // everything goes weak
  auto scanner = guard::PiiScanner::Create();
  ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
  GuardHooks hooks;
  hooks.scanner = scanner->get();
  gateway_->set_guard(std::move(hooks));
  EnableShadow();
  ASSERT_EQ(Send(Request("router", "capital of 1")).status, 200);
  // A prompt with personal data is not sampled at all.
  ASSERT_EQ(Send(Request("router", "mail bob.jones@example.com the capital of 2")).status, 200);
  EXPECT_TRUE(ShadowRows("router", {}).empty());
  EXPECT_EQ(strong_.request_count(), 1u);  // the first request's shadow call; its row dropped
  EXPECT_NE(
      MetricsText().find("switchyard_router_shadow_total{route=\"router\",outcome=\"pii\"} 1"),
      std::string::npos)
      << MetricsText();
}

TEST_F(RoutePolicyTest, NoShadowCallToAStrongTargetOverItsSlo) {
  const std::string model = TrainRouter();
  const double hard = RouterScore("prove theorem 5");
  const double easy = RouterScore("capital of 5");
  ASSERT_LT(easy, hard);
  FakeResponse slow = JsonResponse(kStrongAnswer);
  slow.head_delay = std::chrono::milliseconds(120);
  strong_.SetDefault(slow);
  StartWith(
      Route("router", model, (easy + hard) / 2, "latency_slo_ms = 50\nshadow_sample = 1.0\n"));
  EnableShadow();
  for (int i = 0; i < 3; ++i) {  // three slow strong samples: p95 over the SLO
    ASSERT_EQ(Send(Request("router", "prove theorem 5")).status, 200);
  }
  // The router picks weak on its own score; its shadow call would go to the
  // slow strong target, which the SLO is steering requests away from.
  HttpResult r = Send(Request("router", "capital of 5"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-route"], "local/small");
  EXPECT_EQ(r.headers.count("x-switchyard-route-reason"), 0u);
  EXPECT_EQ(ShadowRows("router", {"prove theorem 5", "prove theorem 5", "prove theorem 5"}).size(),
            3u);
  EXPECT_EQ(strong_.request_count(), 3u);
  EXPECT_NE(MetricsText().find(
                "switchyard_router_shadow_total{route=\"router\",outcome=\"unavailable\"} 1"),
            std::string::npos)
      << MetricsText();
}

TEST(ShadowRecorderTest, RowsAfterShutdownAreDroppedAndCounted) {
  testing::ScopedTempDir dir("shadow_recorder");
  core::FakeClock clock;
  observe::Registry metrics;
  auto shadow =
      ShadowRecorder::Create(dir.File("ledger.db"), clock, metrics, observe::MakeNullLogger());
  ASSERT_TRUE(shadow.ok()) << shadow.status().ToString();
  routing::PairedOutcome row;
  row.route = "r";
  row.request_id = "a";
  EXPECT_TRUE((*shadow)->Add(row));
  ASSERT_TRUE((*shadow)->Shutdown().ok());
  EXPECT_EQ((*shadow)->stats().written, 1);
  row.request_id = "b";
  EXPECT_FALSE((*shadow)->Add(row));
  const core::Status s = (*shadow)->Shutdown();
  EXPECT_EQ(s.message(),
            "router shadow: 1 outcome rows were not kept (queue full, recorder stopped, or a "
            "failed write)");
  EXPECT_NE(metrics.RenderPrometheus().find(
                "switchyard_router_shadow_total{route=\"r\",outcome=\"dropped\"} 1"),
            std::string::npos);
  auto rows = (*shadow)->store().Load("r");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].request_id, "a");
}

TEST(ShadowRecorderTest, DrainingRefusesNewCalls) {
  testing::ScopedTempDir dir("shadow_drain");
  core::FakeClock clock;
  observe::Registry metrics;
  ShadowOptions options;
  options.max_inflight = 1;
  auto shadow = ShadowRecorder::Create(dir.File("ledger.db"), clock, metrics,
                                       observe::MakeNullLogger(), options);
  ASSERT_TRUE(shadow.ok()) << shadow.status().ToString();
  http::asio::io_context io;
  auto first = std::make_shared<ShadowFlight>(io.get_executor());
  auto second = std::make_shared<ShadowFlight>(io.get_executor());
  EXPECT_TRUE((*shadow)->TryBegin("r", first));
  EXPECT_FALSE((*shadow)->TryBegin("r", second));  // max_inflight
  (*shadow)->End(first);
  EXPECT_TRUE((*shadow)->TryBegin("r", second));
  (*shadow)->End(second);
  EXPECT_EQ((*shadow)->Drain(std::chrono::steady_clock::now()), 0u);
  EXPECT_FALSE((*shadow)->TryBegin("r", first));  // draining
  EXPECT_NE(metrics.RenderPrometheus().find(
                "switchyard_router_shadow_total{route=\"r\",outcome=\"busy\"} 2"),
            std::string::npos);
}

}  // namespace
}  // namespace switchyard::gateway
