// Route policy building blocks: logprob parsing, the weak call's body, the
// accepted answer as SSE, the latency tracker, thresholds from held-out rows
// and PolicyTable errors.
#include "gateway/policies.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "api/openai_parse.h"
#include "routing/online.h"
#include "support/temp_dir.h"

namespace switchyard::gateway {
namespace {

// ------------------------------------------------------------------ logprobs

TEST(AnswerLogprobsTest, ReadsTheTokenLogprobsOfTheFirstChoice) {
  const std::string body =
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"4 2"},)"
      R"("logprobs":{"content":[{"token":"4","logprob":-0.25,"bytes":[52],)"
      R"("top_logprobs":[{"token":"4","logprob":-0.25}]},{"token":" 2","logprob":-1.5},)"
      R"({"token":"!","logprob":0}]},"finish_reason":"stop"}]})";
  auto lp = ParseAnswerLogprobs(body);
  ASSERT_TRUE(lp.ok()) << lp.status().ToString();
  EXPECT_EQ(*lp, (std::vector<double>{-0.25, -1.5, 0.0}));
}

TEST(AnswerLogprobsTest, MissingLogprobsAreAnEmptyList) {
  for (const std::string body : {
           R"({"choices":[{"message":{"content":"hi"}}]})",
           R"({"choices":[{"message":{"content":"hi"},"logprobs":null}]})",
           R"({"choices":[{"message":{"content":"hi"},"logprobs":{"content":null}}]})",
           R"({"choices":[{"message":{"content":"hi"},"logprobs":{}}]})",
           R"({"choices":[]})",
       }) {
    auto lp = ParseAnswerLogprobs(body);
    ASSERT_TRUE(lp.ok()) << body << ": " << lp.status().ToString();
    EXPECT_TRUE(lp->empty()) << body;
  }
}

TEST(AnswerLogprobsTest, MalformedLogprobsAreErrors) {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "answer is not JSON"},
      {"{\"choices\":[", "answer is not JSON"},
      {R"({"choices":[{"logprobs":"high"}]})", "choices[0].logprobs is not an object"},
      {R"({"choices":[{"logprobs":{"content":{"a":1}}}]})",
       "choices[0].logprobs.content is not an array"},
      {R"({"choices":[{"logprobs":{"content":[{"logprob":-1},{"token":"x"}]}}]})",
       "choices[0].logprobs.content[1].logprob is not a number"},
      {R"({"choices":[{"logprobs":{"content":[{"logprob":"-1"}]}}]})",
       "choices[0].logprobs.content[0].logprob is not a number"},
      {R"({"choices":[{"logprobs":{"content":[7]}}]})",
       "choices[0].logprobs.content[0].logprob is not a number"},
  };
  for (const Case& c : cases) {
    auto lp = ParseAnswerLogprobs(c.body);
    ASSERT_FALSE(lp.ok()) << c.body;
    EXPECT_EQ(lp.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(lp.status().message(), c.error) << c.body;
  }
}

// --------------------------------------------------------- the weak request

core::ChatRequest ParseRequest(std::string& body) {
  api::ChatRequestParser parser;
  auto req = parser.Parse(body);
  EXPECT_TRUE(req.ok()) << req.status().ToString();
  return req.ok() ? *req : core::ChatRequest{};
}

TEST(WeakRequestTest, StreamIsOffAndLogprobsAreAskedFor) {
  std::string body = R"({"messages":[{"role":"user","content":"2+2?"}],"stream":true,)"
                     R"("stream_options":{"include_usage":true},"model":"math","temperature":0.5,)"
                     R"("logprobs":false,"x":{"y":[1,2.5,null]}})";
  const core::ChatRequest req = ParseRequest(body);
  auto weak = MakeWeakRequest(body, req, /*logprobs=*/true);
  ASSERT_TRUE(weak.ok()) << weak.status().ToString();
  EXPECT_EQ(weak->body,
            R"({"model":"math","messages":[{"role":"user","content":"2+2?"}],"temperature":0.5,)"
            R"("x":{"y":[1,2.5,null]},"stream":false,"logprobs":true,"top_logprobs":1})");
  EXPECT_FALSE(weak->client_logprobs);
  EXPECT_FALSE(weak->request.stream);
  EXPECT_FALSE(weak->request.include_usage);
  EXPECT_FALSE(weak->request.has_stream_options);
  // The model span points at the new body, so the upstream rewrite still works.
  EXPECT_EQ(api::RewriteForUpstream(weak->body, weak->request, "small-7b", false),
            R"({"model":"small-7b","messages":[{"role":"user","content":"2+2?"}],)"
            R"("temperature":0.5,"x":{"y":[1,2.5,null]},"stream":false,"logprobs":true,)"
            R"("top_logprobs":1})");
}

TEST(WeakRequestTest, WithoutLogprobsTheClientsOwnAreKept) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true,)"
                     R"("top_logprobs":3})";
  const core::ChatRequest req = ParseRequest(body);
  auto weak = MakeWeakRequest(body, req, /*logprobs=*/false);
  ASSERT_TRUE(weak.ok());
  EXPECT_TRUE(weak->client_logprobs);
  EXPECT_EQ(weak->body,
            R"({"model":"m","messages":[{"role":"user","content":"hi"}],"logprobs":true,)"
            R"("top_logprobs":3,"stream":false})");
  auto bad = MakeWeakRequest("[1]", req, true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "request body is not a JSON object");
}

// ------------------------------------------------------ the accepted answer

TEST(CompletionTest, ParsedAnswerBecomesSseFrames) {
  const std::string body =
      R"({"id":"c-1","object":"chat.completion","created":7,"model":"small",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},)"
      R"("logprobs":null,"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})";
  auto parsed = ParseCompletion(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->content, "Hi!");
  EXPECT_EQ(parsed->usage.completion_tokens, 2);
  const std::string sse = CompletionAsSse(*parsed, /*include_usage=*/false);
  const std::string chunk = R"({"id":"c-1","object":"chat.completion.chunk","created":7,)"
                            R"("model":"small","choices":[{"index":0,"delta":)";
  EXPECT_EQ(sse, "data: " + chunk + R"({"role":"assistant","content":""},"logprobs":null,)" +
                     R"("finish_reason":null}]})" + "\n\ndata: " + chunk +
                     R"({"content":"Hi!"},"logprobs":null,"finish_reason":null}]})" +
                     "\n\ndata: " + chunk + R"({},"logprobs":null,"finish_reason":"stop"}]})" +
                     "\n\ndata: [DONE]\n\n");
  EXPECT_NE(CompletionAsSse(*parsed, true).find(R"("choices":[],"usage":{"prompt_tokens":3)"),
            std::string::npos);
  auto bad = ParseCompletion(R"({"choices":[]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "answer is not a chat completion");
}

// ---------------------------------------------------------- latency tracker

TEST(LatencyTrackerTest, P95OverTheWindowOnceThereAreEnoughSamples) {
  core::FakeClock clock;
  LatencyTracker::Options options;
  options.window = std::chrono::seconds(10);
  options.min_samples = 3;
  LatencyTracker t(clock, {"cloud"}, options);
  EXPECT_FALSE(t.P95("cloud").has_value());
  t.Record("cloud", 100);
  t.Record("cloud", 300);
  EXPECT_FALSE(t.P95("cloud").has_value());  // 2 < min_samples
  t.Record("cloud", 200);
  EXPECT_EQ(t.P95("cloud"), 300.0);  // nearest rank: ceil(0.95 * 3) = 3rd
  for (int i = 0; i < 17; ++i) t.Record("cloud", 10);
  EXPECT_EQ(t.P95("cloud"), 200.0);  // 20 samples: the 19th smallest
  t.Record("local", 5000);           // untracked
  EXPECT_FALSE(t.P95("local").has_value());
  clock.Advance(std::chrono::seconds(11));  // every sample aged out
  EXPECT_FALSE(t.P95("cloud").has_value());
  t.Record("cloud", 1);
  t.Record("cloud", 2);
  t.Record("cloud", 3);
  EXPECT_EQ(t.P95("cloud"), 3.0);
}

TEST(LatencyTrackerTest, KeepsOnlyTheNewestSamples) {
  core::FakeClock clock;
  LatencyTracker::Options options;
  options.capacity = 4;
  options.min_samples = 1;
  LatencyTracker t(clock, {"cloud"}, options);
  for (double ms : {900.0, 1.0, 2.0, 3.0, 4.0}) t.Record("cloud", ms);
  EXPECT_EQ(t.P95("cloud"), 4.0);
}

// ------------------------------------------------------------- thresholds

// Scores 0.9, 0.1, 0.5, 0.5, 0.3: weak right on rows 1 and 3, strong on all
// but row 4 (weak 2/5, strong 4/5, gap 2 rows).
const std::vector<double> kScores = {0.9, 0.1, 0.5, 0.5, 0.3};
const std::vector<routing::Outcome> kOutcomes = {
    {false, true}, {true, true}, {false, true}, {true, true}, {false, false}};

TEST(ThresholdTest, MaxStrongShareKeepsTiesTogether) {
  auto half = routing::ThresholdForStrongShare(kScores, kOutcomes, 0.5);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->threshold, 0.9);  // 0.5 would send 3/5 (the tie) strong
  EXPECT_DOUBLE_EQ(half->strong_share, 0.2);
  EXPECT_DOUBLE_EQ(half->pgr, 0.5);
  auto sixty = routing::ThresholdForStrongShare(kScores, kOutcomes, 0.6);
  ASSERT_TRUE(sixty.ok());
  EXPECT_EQ(sixty->threshold, 0.5);
  EXPECT_DOUBLE_EQ(sixty->strong_share, 0.6);
  EXPECT_DOUBLE_EQ(sixty->pgr, 1.0);
  auto none = routing::ThresholdForStrongShare(kScores, kOutcomes, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_GT(none->threshold, 0.9);
  EXPECT_EQ(none->strong_share, 0);
  auto all = routing::ThresholdForStrongShare(kScores, kOutcomes, 1);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->threshold, 0.1);
  EXPECT_EQ(all->strong_share, 1);
}

TEST(ThresholdTest, TargetPgrTakesTheCheapestThresholdReachingIt) {
  auto half = routing::ThresholdForTargetPgr(kScores, kOutcomes, 0.5);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->threshold, 0.9);
  EXPECT_DOUBLE_EQ(half->strong_share, 0.2);
  auto most = routing::ThresholdForTargetPgr(kScores, kOutcomes, 0.75);
  ASSERT_TRUE(most.ok());
  EXPECT_EQ(most->threshold, 0.5);
  EXPECT_DOUBLE_EQ(most->pgr, 1.0);
  auto full = routing::ThresholdForTargetPgr(kScores, kOutcomes, 1.0);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->threshold, 0.5);
}

TEST(ThresholdTest, Errors) {
  const std::vector<routing::Outcome> same = {{true, false}, {false, true}};
  EXPECT_EQ(routing::ThresholdForTargetPgr(std::vector<double>{1, 2}, same, 0.5).status().message(),
            "the strong and weak models have the same accuracy on the held-out rows: target_pgr "
            "is undefined");
  EXPECT_EQ(routing::ThresholdForStrongShare(std::vector<double>{1, 2}, kOutcomes, 0.5)
                .status()
                .message(),
            "2 scores for 5 rows");
  EXPECT_EQ(routing::ThresholdForStrongShare({}, {}, 0.5).status().message(), "no held-out rows");
}

// -------------------------------------------------------------- PolicyTable

config::Config PolicyConfig(const std::string& route_keys) {
  const std::string text =
      "[[providers]]\nname = \"local\"\nbase_url = \"http://127.0.0.1:9/v1\"\nowned = true\n"
      "[[providers]]\nname = \"cloud\"\nbase_url = \"http://127.0.0.1:9/v1\"\n"
      "[[routes]]\nname = \"r\"\nweak = \"local/small\"\nstrong = \"cloud/big\"\n" +
      route_keys;
  auto cfg = config::ParseConfig(text, "t.toml", nullptr);
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return cfg.ok() ? *cfg : config::Config{};
}

// A prompt model trained on rows where "proof" prompts need the strong model.
std::string TrainPromptModel(const testing::ScopedTempDir& dir) {
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
  auto model =
      routing::RouterModel::Train(rows, routing::DefaultTrainOptions(routing::RouterKind::kPrompt));
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  const std::string path = dir.File("prompt.model");
  EXPECT_TRUE(model->Save(path).ok());
  return path;
}

TEST(PolicyTableTest, LoadsTheModelAndSetsTheThresholdFromTheHoldout) {
  testing::ScopedTempDir dir("policy");
  const std::string model = TrainPromptModel(dir);
  std::string csv = "id,prompt,weak_correct,strong_correct\n";
  for (int i = 0; i < 10; ++i) {
    const bool hard = i < 3;
    csv += "h" + std::to_string(i) + "," + (hard ? "prove theorem 9" : "capital of 9") + "," +
           (hard ? "0" : "1") + ",1\n";
  }
  const std::string holdout = dir.Write("holdout.csv", csv);
  core::FakeClock clock;
  auto table =
      PolicyTable::Create(PolicyConfig("policy = \"router\"\nmodel = \"" + model +
                                       "\"\ntarget_pgr = 1.0\nholdout = \"" + holdout + "\"\n"),
                          clock);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const RoutePolicy* p = (*table)->Find("r");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind, RoutePolicy::Kind::kRouter);
  EXPECT_EQ(p->strong_provider, "cloud");
  // PGR 1 needs exactly the three "prove" rows: the threshold is their score.
  routing::RouterInput hard;
  hard.prompt = "prove theorem 9";
  routing::RouterInput easy;
  easy.prompt = "capital of 9";
  const double hard_score = *p->model->Score(hard);
  ASSERT_GT(hard_score, *p->model->Score(easy));
  EXPECT_EQ(p->threshold, hard_score);
  EXPECT_EQ((*table)->Find("other"), nullptr);
}

TEST(PolicyTableTest, Errors) {
  testing::ScopedTempDir dir("policy");
  const std::string model = TrainPromptModel(dir);
  core::FakeClock clock;
  auto missing = PolicyTable::Create(PolicyConfig("policy = \"router\"\nmodel = \"" +
                                                  dir.File("none.model") + "\"\nthreshold = 0\n"),
                                     clock);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "route \"r\": " + dir.File("none.model") +
                                            ": cannot read file (No such file or directory)");
  auto kind = PolicyTable::Create(
      PolicyConfig("policy = \"cascade\"\nmodel = \"" + model + "\"\nthreshold = 0\n"), clock);
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().message(), "route \"r\": policy \"cascade\" needs a cascade model; " +
                                         model + " is a prompt model");
  const std::string holdout = dir.Write("bad.csv", "id,prompt,weak_correct\nq1,hi,1\n");
  auto bad = PolicyTable::Create(
      PolicyConfig("policy = \"router\"\nmodel = \"" + model +
                   "\"\nmax_strong_share = 0.2\nholdout = \"" + holdout + "\"\n"),
      clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "route \"r\": " + holdout + ": missing column 'strong_correct'");
}

}  // namespace
}  // namespace switchyard::gateway
