#include "economics/replay.h"

#include <gtest/gtest.h>

#include <memory>

#include "ledger/record_json.h"

namespace switchyard::economics {
namespace {

// gpt-4o-mini at 100 in / 1 out: 100 x 0.15 + 1 x 0.6 per million = $0.0000156.
constexpr double kMini = 0.0000156;

std::string Completion(const std::string& content) {
  return "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"}}]}";
}

ledger::Record Rec(std::string id, std::string answered_by, std::optional<double> confidence,
                   bool escalated, double cost, std::string answer) {
  ledger::Record r;
  r.id = std::move(id);
  r.ts_ms = 1714564800000;
  r.answered_by = std::move(answered_by);
  r.confidence = confidence;
  r.escalated = escalated;
  r.cost_usd = cost;
  r.input_tokens = 100;
  r.output_tokens = 1;
  r.status = 200;
  if (!answer.empty()) r.response_body = Completion(answer);
  return r;
}

// r1 student 0.95 "up" (label up: agrees), r2 student 0.85 "down" (label up:
// disagrees), r3 escalated 0.5 (label neutral), r4 escalated 0.88 (no label),
// r5 unanswered.
std::vector<TraceRecord> Fixture() {
  std::vector<TraceRecord> v;
  v.push_back({Rec("r1", "student/h@v1", 0.95, false, 0, "up"), "up"});
  v.push_back({Rec("r2", "student/h@v1", 0.85, false, 0, "down"), "up"});
  v.push_back({Rec("r3", "openai/gpt-4o-mini", 0.5, true, kMini, "neutral"), "neutral"});
  v.push_back({Rec("r4", "openai/gpt-4o-mini", 0.88, true, kMini, "none"), std::nullopt});
  ledger::Record failed = Rec("r5", "", std::nullopt, false, 0, "");
  failed.status = 502;
  failed.error_code = "upstream_unavailable";
  v.push_back({failed, std::nullopt});
  v[4].record.ts_ms += 3 * 86'400'000;  // spans three days
  return v;
}

class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = PriceBook::Embedded();
    ASSERT_TRUE(r.ok()) << r.status().message();
    book_ = std::make_unique<PriceBook>(std::move(r).value());
  }
  static void TearDownTestSuite() { book_.reset(); }
  static std::unique_ptr<PriceBook> book_;

  static ReplayPolicy Threshold(double t) {
    ReplayPolicy p;
    p.name = "stricter";
    p.kind = PolicyKind::kThreshold;
    p.frontier_model = "openai/gpt-4o-mini";
    p.threshold = t;
    return p;
  }
};
std::unique_ptr<PriceBook> ReplayTest::book_;

TEST_F(ReplayTest, AsRecordedAllFrontierAndStricterThreshold) {
  auto r = Replay(Fixture(), Threshold(0.9), *book_, {}, "trace t.jsonl");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->records, 5);
  EXPECT_DOUBLE_EQ(r->days, 3);
  EXPECT_EQ(r->frontier_model, "openai/gpt-4o-mini");
  ASSERT_EQ(r->results.size(), 3u);

  const ReplayResult& rec = r->results[0];
  EXPECT_EQ(rec.name, "as_recorded");
  EXPECT_FALSE(rec.is_policy);
  EXPECT_EQ(rec.answered, 4);
  EXPECT_EQ(rec.frontier_calls, 2);
  EXPECT_EQ(rec.local_answers, 2);
  EXPECT_NEAR(rec.spend_usd, 2 * kMini, 1e-15);
  EXPECT_DOUBLE_EQ(rec.frontier_share, 0.5);
  ASSERT_TRUE(rec.expected_agreement.has_value());
  EXPECT_NEAR(*rec.expected_agreement, (0.95 + 0.85 + 1 + 1) / 4, 1e-12);
  ASSERT_TRUE(rec.measured_agreement.has_value());
  EXPECT_EQ(rec.measured_samples, 3);
  EXPECT_NEAR(*rec.measured_agreement, 2.0 / 3, 1e-12);

  const ReplayResult& all = r->results[1];
  EXPECT_EQ(all.kind, PolicyKind::kAllFrontier);
  EXPECT_NEAR(all.spend_usd, 4 * kMini, 1e-15);
  EXPECT_DOUBLE_EQ(all.frontier_share, 1);
  EXPECT_EQ(all.changed, 2);
  EXPECT_NEAR(all.delta_vs_recorded_usd, 2 * kMini, 1e-15);
  EXPECT_NEAR(*all.expected_agreement, 1, 1e-12);
  EXPECT_NEAR(*all.measured_agreement, 1, 1e-12);

  // 0.9: r2 (0.85) goes to the frontier; r4 (0.88) stays escalated.
  const ReplayResult& th = r->results[2];
  EXPECT_EQ(th.name, "stricter");
  EXPECT_TRUE(th.is_policy);
  EXPECT_EQ(th.changed, 1);
  EXPECT_EQ(th.frontier_calls, 3);
  EXPECT_EQ(th.local_answers, 1);
  EXPECT_NEAR(th.spend_usd, 3 * kMini, 1e-15);
  EXPECT_NEAR(th.spend_per_month_usd, 3 * kMini / 3 * 30, 1e-15);
  EXPECT_DOUBLE_EQ(th.frontier_share, 0.75);
  EXPECT_NEAR(*th.expected_agreement, (0.95 + 1 + 1 + 1) / 4, 1e-12);
  EXPECT_NEAR(*th.measured_agreement, 1, 1e-12);

  // The traffic as one workload at the frontier: 100 in / 1 out.
  EXPECT_EQ(r->shape.input_tokens, 100);
  EXPECT_EQ(r->shape.output_tokens, 1);
  EXPECT_NEAR(r->frontier_cost_per_request, kMini, 1e-15);
}

// 0.8: looser; r4 (escalated at 0.88) becomes a local answer at the mean
// local cost ($0); r2 (0.85) stays local.
TEST_F(ReplayTest, LooserThresholdTakesEscalationsBack) {
  auto r = Replay(Fixture(), Threshold(0.8), *book_, {}, "trace t.jsonl");
  ASSERT_TRUE(r.ok());
  const ReplayResult& th = r->results.at(2);
  EXPECT_EQ(th.changed, 1);
  EXPECT_EQ(th.frontier_calls, 1);
  EXPECT_EQ(th.local_answers, 3);
  EXPECT_NEAR(th.spend_usd, kMini, 1e-15);
  EXPECT_NEAR(*th.expected_agreement, (0.95 + 0.85 + 1 + 0.88) / 4, 1e-12);
  // r4 has no label and its would-be answer is unknown: measured on r1-r3.
  EXPECT_EQ(th.measured_samples, 3);
  EXPECT_NEAR(*th.measured_agreement, 2.0 / 3, 1e-12);
}

TEST_F(ReplayTest, AsRecordedPolicyWithoutFrontier) {
  ReplayPolicy p;
  p.name = "now";
  auto r = Replay(Fixture(), p, *book_, {}, "trace t.jsonl");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].name, "now");
  EXPECT_TRUE(r->results[0].is_policy);
  EXPECT_EQ(r->frontier_model, "");
}

TEST_F(ReplayTest, OwnedProvidersCountAsLocal) {
  std::vector<TraceRecord> v;
  v.push_back({Rec("a", "vllm/llama-8b", 0.7, false, 0.000001, "up"), std::nullopt});
  ReplayOptions o;
  o.local_providers = {"vllm"};
  auto r = Replay(v, Threshold(0.9), *book_, o, "trace x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->results[0].local_answers, 1);
  // Below 0.9: the frontier is called after the local model ran.
  EXPECT_NEAR(r->results[2].spend_usd, 0.000001 + kMini, 1e-15);
}

TEST_F(ReplayTest, Errors) {
  ReplayPolicy p = Threshold(0.9);
  p.frontier_model = "nope-model-1";
  EXPECT_EQ(Replay(Fixture(), p, *book_, {}, "x").status().message(),
            "policy.frontier_model: unknown model \"nope-model-1\": not in the price book (add "
            "it under [[prices]] in the config)");
  EXPECT_EQ(Replay({}, Threshold(0.9), *book_, {}, "x").status().message(),
            "nothing to replay: no records");
}

TEST(PolicyTomlTest, ParsesEveryKind) {
  auto p = ParsePolicyToml(
      "[policy]\nkind = \"threshold\"\nfrontier_model = \"openai/gpt-4o\"\nthreshold = 0.95\n",
      "p.toml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->kind, PolicyKind::kThreshold);
  EXPECT_EQ(p->name, "threshold");
  EXPECT_EQ(p->frontier_model, "openai/gpt-4o");
  EXPECT_EQ(p->threshold, 0.95);
  auto all = ParsePolicyToml(
      "[policy]\nkind = \"all_frontier\"\nfrontier_model = \"gpt-4o\"\n"
      "name = \"everything big\"\n",
      "p.toml");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->kind, PolicyKind::kAllFrontier);
  EXPECT_EQ(all->name, "everything big");
  auto rec = ParsePolicyToml("[policy]\n", "p.toml");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->kind, PolicyKind::kAsRecorded);
  auto integer = ParsePolicyToml(
      "[policy]\nkind = \"threshold\"\nfrontier_model = \"gpt-4o\"\nthreshold = 1\n", "p.toml");
  ASSERT_TRUE(integer.ok()) << integer.status().message();
  EXPECT_EQ(integer->threshold, 1);
}

TEST(PolicyTomlTest, BadPolicies) {
  auto err = [](std::string_view toml) {
    auto p = ParsePolicyToml(toml, "p.toml");
    return p.ok() ? std::string("OK") : p.status().message();
  };
  EXPECT_EQ(err("kind = \"threshold\"\n"), "policy p.toml: missing [policy] table");
  EXPECT_EQ(err("[policy]\nkind = \"cheapest\"\n"),
            "policy p.toml: policy.kind must be one of all_frontier, as_recorded, threshold, got "
            "\"cheapest\"");
  EXPECT_EQ(err("[policy]\nkind = \"threshold\"\nthreshold = 0.9\n"),
            "policy p.toml: policy.frontier_model is required for kind \"threshold\"");
  EXPECT_EQ(err("[policy]\nkind = \"threshold\"\nfrontier_model = \"x\"\nthreshold = 1.5\n"),
            "policy p.toml: policy.threshold must be in [0, 1], got 1.5");
  EXPECT_EQ(err("[policy]\nthreshold = \"high\"\n"),
            "policy p.toml: policy.threshold must be a number");
  EXPECT_EQ(err("[policy]\nkind = 3\n"), "policy p.toml: policy.kind must be a string");
  EXPECT_EQ(err("[policy]\nthresold = 0.9\n"), "policy p.toml: unknown key policy.thresold");
  EXPECT_EQ(err("[policy\n").rfind("policy p.toml: invalid TOML at line 1: ", 0), 0u)
      << err("[policy\n");
  EXPECT_EQ(LoadPolicyFile("/nonexistent/p.toml").status().message(),
            "policy /nonexistent/p.toml: cannot read the file (No such file or directory)");
}

TEST(TraceTest, JsonLinesWithLabels) {
  std::string text;
  ledger::AppendRecordJson(text, Rec("a", "student/h@v1", 0.9, false, 0, "up"));
  text.insert(text.size() - 1, ",\"label\":\" Up \"");
  text += "\n\n";
  ledger::AppendRecordJson(text, Rec("b", "openai/gpt-4o-mini", std::nullopt, false, kMini, ""));
  text += "\n";
  auto trace = ParseTraceJsonl(text, "t.jsonl");
  ASSERT_TRUE(trace.ok()) << trace.status().message();
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_EQ((*trace)[0].record.id, "a");
  ASSERT_TRUE((*trace)[0].label.has_value());
  EXPECT_EQ(*(*trace)[0].label, "up");
  EXPECT_FALSE((*trace)[1].label.has_value());
  EXPECT_NEAR((*trace)[1].record.cost_usd, kMini, 1e-18);
}

TEST(TraceTest, BadTraces) {
  EXPECT_EQ(ParseTraceJsonl("\n\n", "t.jsonl").status().message(), "trace t.jsonl: no records");
  auto bad = ParseTraceJsonl("{\"id\":\"a\"}\n{not json\n", "t.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("trace t.jsonl:2: ledger record: ", 0), 0u)
      << bad.status().message();
  EXPECT_EQ(LoadTraceFile("/nonexistent/t.jsonl").status().message(),
            "trace /nonexistent/t.jsonl: cannot read the file (No such file or directory)");
}

TEST_F(ReplayTest, Rendering) {
  auto r = Replay(Fixture(), Threshold(0.9), *book_, {}, "trace t.jsonl");
  ASSERT_TRUE(r.ok());
  const std::string text = RenderReplayText(*r);
  EXPECT_NE(text.find("Replay of 5 records from trace t.jsonl"), std::string::npos) << text;
  EXPECT_NE(text.find("stricter * (0.90)"), std::string::npos) << text;
  const std::string json = RenderReplayJson(*r);
  for (const char* needle :
       {"\"kind\":\"threshold\"", "\"threshold\":0.9", "\"changed\":1", "\"frontier_share\":0.75",
        "\"measured_agreement\":1", "\"frontier_model\":\"openai/gpt-4o-mini\""}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
}

}  // namespace
}  // namespace switchyard::economics
