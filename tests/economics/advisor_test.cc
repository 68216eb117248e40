#include "economics/advisor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "ledger/sqlite_store.h"

namespace switchyard::economics {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNow = 1714564800000 + 30 * kDay;  // 2024-05-31T12:00:00Z
constexpr int64_t kStart = kNow - 20 * kDay;         // first record: 20 days back
const char* kLabels[] = {"up", "down", "neutral", "none"};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sy_advisor_test_XXXXXX";
    const char* made = mkdtemp(tmpl);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string Completion(const std::string& content) {
  return "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
         "{\"role\":\"assistant\",\"content\":\"" +
         content + "\"},\"finish_reason\":\"stop\"}]}";
}

// "headlines": 400 requests evenly over 20 days, 3 of 4 answered by the
// student (confidence 0.97, cost 0, 0.3 ms), 1 of 4 escalated to the teacher
// (teacher/gpt-4o-mini, $0.0001, 400 ms). 50 input + 1 output tokens each.
std::vector<ledger::Record> Headlines() {
  std::vector<ledger::Record> v;
  for (int i = 0; i < 400; ++i) {
    ledger::Record r;
    r.id = "h" + std::to_string(i);
    r.ts_ms = kStart + int64_t{i} * (20 * kDay / 400);
    r.task = "headlines";
    r.tenant = "acme";
    r.template_hash = "1111111111111111";
    r.input_tokens = 50;
    r.output_tokens = 1;
    r.status = 200;
    const bool teacher = i % 4 == 0;
    if (teacher) {
      r.answered_by = "teacher/gpt-4o-mini";
      r.provider = "teacher";
      r.cost_usd = 0.0001;
      r.total_ms = 400;
      r.escalated = true;
      r.confidence = 0.5;
    } else {
      r.answered_by = "student/headlines@v3";
      r.provider = "student";
      r.cost_usd = 0;
      r.total_ms = 0.3;
      r.confidence = 0.97;
    }
    r.response_body = Completion(kLabels[(i / 4) % 4]);
    v.push_back(r);
  }
  return v;
}

// "essays": 200 requests evenly over the same 20 days, all on openai/gpt-4o,
// 2000 in / 800 out, $0.013 each (2000 x 2.5 + 800 x 10 per million), long
// answers, PII in one of four.
std::vector<ledger::Record> Essays() {
  std::vector<ledger::Record> v;
  for (int i = 0; i < 200; ++i) {
    ledger::Record r;
    r.id = "e" + std::to_string(i);
    r.ts_ms = kStart + 1 + int64_t{i} * (20 * kDay / 200);
    r.task = "essays";
    r.tenant = "acme";
    r.template_hash = "2222222222222222";
    r.input_tokens = 2000;
    r.output_tokens = 800;
    r.status = 200;
    r.answered_by = "openai/gpt-4o";
    r.provider = "openai";
    r.model = "gpt-4o";
    r.cost_usd = 0.013;
    r.total_ms = 2000 + i;
    r.response_body =
        Completion("A long essay that is certainly not a label, number " + std::to_string(i));
    if (i % 4 == 0) r.pii_findings = "[{\"kind\":\"email\",\"count\":1}]";
    if (i % 4 == 1) r.pii_findings = "[]";
    v.push_back(r);
  }
  return v;
}

class AdvisorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = PriceBook::Embedded();
    ASSERT_TRUE(r.ok()) << r.status().message();
    book_ = std::make_unique<PriceBook>(std::move(r).value());
  }
  static void TearDownTestSuite() { book_.reset(); }

  void SetUp() override {
    auto store = ledger::SqliteStore::Open(dir_.File("ledger.db"));
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }

  void Write(const std::vector<ledger::Record>& records) {
    auto n = store_->WriteBatch(records);
    ASSERT_TRUE(n.ok()) << n.status().message();
  }

  AdvisorOptions Options() const {
    AdvisorOptions o;
    o.now_ms = kNow;
    o.since_ms = kNow - 30 * kDay;
    o.task_kinds = {{"headlines", "classify"}, {"essays", "generate"}};
    return o;
  }

  static const TaskReport* Find(const AdvisorReport& r, const std::string& name) {
    for (const TaskReport& t : r.tasks) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  static bool HasReason(const TaskReport& t, const std::string& reason) {
    return std::find(t.reasons.begin(), t.reasons.end(), reason) != t.reasons.end();
  }

  static std::string Reasons(const TaskReport& t) {
    std::string s;
    for (const auto& r : t.reasons) s += "  " + r + "\n";
    return s;
  }

  static std::unique_ptr<PriceBook> book_;
  TempDir dir_;
  std::unique_ptr<ledger::SqliteStore> store_;
};
std::unique_ptr<PriceBook> AdvisorTest::book_;

// Two tasks from one ledger: the student-backed classify task goes hybrid, the
// low-volume generate task stays on the API, and the reasons say why.
TEST_F(AdvisorTest, TwoTasksGetDifferentRecommendations) {
  Write(Headlines());
  Write(Essays());
  auto report = Advise(*store_, *book_, Options());
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->requests, 600);
  EXPECT_EQ(report->window_start_ms, kStart);
  EXPECT_DOUBLE_EQ(report->days, 20);
  ASSERT_EQ(report->tasks.size(), 2u);
  EXPECT_EQ(report->tasks[0].name, "essays");  // more spend first

  const TaskReport* h = Find(*report, "headlines");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->recommendation, Recommendation::kHybridStudent) << Reasons(*h);
  EXPECT_EQ(h->requests, 400);
  EXPECT_EQ(h->local_answers, 300);
  EXPECT_EQ(h->student_answers, 300);
  EXPECT_EQ(h->escalations, 100);
  EXPECT_DOUBLE_EQ(h->coverage, 0.75);
  ASSERT_TRUE(h->expected_agreement.has_value());
  EXPECT_NEAR(*h->expected_agreement, 0.97, 1e-12);
  EXPECT_EQ(h->teacher, "teacher/gpt-4o-mini");
  EXPECT_NEAR(h->teacher_cost_per_request, 0.0001, 1e-15);
  // Realized: 300 avoided teacher calls x $0.0001 - $0 local = $0.03 in 20 days.
  EXPECT_NEAR(h->realized_saving_usd, 0.03, 1e-12);
  EXPECT_NEAR(h->projected_monthly_saving_usd, 0.045, 1e-12);
  EXPECT_NEAR(h->requests_per_day, 20, 1e-12);
  EXPECT_NEAR(h->tokens_per_day, 400 * 51 / 20.0, 1e-9);
  // Stable: one template, one length, the same label mix in both halves.
  EXPECT_TRUE(h->drift_known);
  EXPECT_NEAR(h->template_drift, 0, 1e-12);
  EXPECT_NEAR(h->length_drift, 0, 1e-12);
  EXPECT_LT(h->drift, 0.05);
  ASSERT_TRUE(h->label_drift.has_value());
  EXPECT_EQ(h->labelled, 400);
  EXPECT_EQ(h->distinct_labels, 4);
  EXPECT_NEAR(h->label_entropy_bits, 2, 1e-12);
  EXPECT_TRUE(h->narrow);
  EXPECT_NEAR(h->api_p95_ms, 400, 1e-12);
  EXPECT_NEAR(h->local_p95_ms, 0.3, 1e-12);
  EXPECT_TRUE(HasReason(*h,
                        "a local model already answers 75.0% (300 of 400) of answered requests, "
                        "expected agreement 0.970 (mean calibrated confidence of 300 answers)"))
      << Reasons(*h);
  EXPECT_TRUE(HasReason(*h,
                        "realized saving $0.03 over 20.0 days: 300 teacher calls avoided x "
                        "$0.0001 (teacher/gpt-4o-mini) - $0 local compute"))
      << Reasons(*h);
  EXPECT_TRUE(HasReason(*h, "projected saving $0.045/month at this volume")) << Reasons(*h);
  EXPECT_TRUE(HasReason(*h, "narrow: a classify task, 4 labels (entropy 2.00 bits)"));
  EXPECT_TRUE(HasReason(*h, "p95 latency: API 400 ms vs local 0.30 ms"));

  const TaskReport* e = Find(*report, "essays");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->recommendation, Recommendation::kKeepOnApi) << Reasons(*e);
  EXPECT_EQ(e->projected_monthly_saving_usd, 0);
  EXPECT_NEAR(e->spend_usd, 2.6, 1e-9);
  EXPECT_NEAR(e->teacher_cost_per_request, 0.013, 1e-15);
  // Crossover at $0.013 per request: 95.76 / 0.013 = 7,366.15 requests/day
  // x 2800 tokens = 20.6 million tokens/day; the task runs 28,000 tokens/day.
  EXPECT_NEAR(e->crossover.requests_per_day, 95.76 / 0.013, 1e-9);
  EXPECT_NEAR(e->tokens_per_day, 28000, 1e-9);
  EXPECT_EQ(e->pii_requests, 50);  // "[]" counts as none
  EXPECT_DOUBLE_EQ(e->pii_share, 0.25);
  EXPECT_EQ(e->labelled, 0);
  EXPECT_FALSE(e->narrow);
  EXPECT_TRUE(HasReason(*e,
                        "volume 28,000 tokens/day is below the self-hosting crossover at 20.6 "
                        "million tokens/day (7,366 requests/day) on 1 replica (1 GPU) (0.1% of "
                        "it)"))
      << Reasons(*e);
  EXPECT_TRUE(HasReason(*e, "no student: not narrow: a generate task")) << Reasons(*e);
  EXPECT_TRUE(HasReason(*e,
                        "sensitive: 25.0% of requests (50) carry PII findings; a local model "
                        "keeps them inside the boundary"));
  EXPECT_TRUE(HasReason(*e, "p95 latency: API 2,189 ms (no local answers)")) << Reasons(*e);

  EXPECT_EQ(report->overall, Recommendation::kHybridStudent);
  EXPECT_NEAR(report->projected_monthly_saving_usd, 0.045, 1e-12);
  EXPECT_NEAR(report->realized_saving_usd, 0.03, 1e-12);
  ASSERT_FALSE(report->overall_reasons.empty());
  EXPECT_EQ(report->overall_reasons[0], "headlines: hybrid with a student, saving $0.045/month");

  const std::string text = RenderAdvisorText(*report);
  EXPECT_NE(text.find("headlines: hybrid with a student, projected saving $0.045/month\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("essays: keep on API\n"), std::string::npos) << text;
  EXPECT_NE(text.find("OVERALL: hybrid with a student, projected saving $0.045/month\n"),
            std::string::npos)
      << text;
  const std::string json = RenderAdvisorJson(*report);
  for (const char* needle :
       {"\"recommendation\":\"hybrid_student\"", "\"recommendation\":\"keep_on_api\"",
        "\"realized_saving_usd\":0.03", "\"coverage\":0.75", "\"pii_share\":0.25",
        "\"label_entropy_bits\":2", "\"expected_agreement\":0.97"}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
}

// 14+ days in the window: week over week is measured. Records 1.2 h apart
// from kStart: this week (ts > now - 7d) = i in 261..399 = 139 records, the
// week before = i in 121..260 = 140 records, 51 tokens each.
TEST_F(AdvisorTest, WeekOverWeekTrend) {
  Write(Headlines());
  auto report = Advise(*store_, *book_, Options());
  ASSERT_TRUE(report.ok());
  const TaskReport& h = report->tasks.at(0);
  EXPECT_TRUE(h.trend_known);
  EXPECT_NEAR(h.this_week_tokens_per_day, 139 * 51 / 7.0, 1e-9);
  EXPECT_NEAR(h.last_week_tokens_per_day, 140 * 51 / 7.0, 1e-9);
  ASSERT_TRUE(h.week_over_week.has_value());
  EXPECT_NEAR(*h.week_over_week, 139.0 / 140.0 - 1, 1e-12);
  EXPECT_TRUE(HasReason(h, "trend: 1,013 tokens/day this week vs 1,020 last week (-0.7%)"))
      << Reasons(h);
}

// Untagged traffic becomes candidate tasks, grouped by template; too few
// requests give "not enough data" with the count.
TEST_F(AdvisorTest, UntaggedTrafficBecomesCandidates) {
  std::vector<ledger::Record> v = Headlines();
  for (int i = 0; i < 30; ++i) {
    ledger::Record r;
    r.id = "u" + std::to_string(i);
    r.ts_ms = kNow - kDay + i;
    r.template_hash = "abcdefabcdefabcd";
    r.answered_by = "openai/gpt-4o-mini";
    r.input_tokens = 10;
    r.output_tokens = 5;
    r.cost_usd = 0.00001;
    r.status = 200;
    v.push_back(r);
  }
  Write(v);
  auto report = Advise(*store_, *book_, Options());
  ASSERT_TRUE(report.ok());
  const TaskReport* c = Find(*report, "template:abcdefabcdefabcd");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->candidate);
  EXPECT_EQ(c->template_hash, "abcdefabcdefabcd");
  EXPECT_EQ(c->recommendation, Recommendation::kNotEnoughData);
  EXPECT_EQ(c->reasons.at(0), "only 30 requests in the window (needs 100)");
  EXPECT_EQ(report->tasks.back().name, "template:abcdefabcdefabcd");  // candidates last
}

// An empty ledger is one clear error.
TEST_F(AdvisorTest, EmptyLedger) {
  auto report = Advise(*store_, *book_, Options());
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(report.status().message(),
            "the ledger has no records since 2024-05-01T12:00:00.000Z: nothing to advise on");
  AdvisorOptions all = Options();
  all.since_ms = 0;
  EXPECT_EQ(Advise(*store_, *book_, all).status().message(),
            "the ledger has no records: nothing to advise on");
}

TEST_F(AdvisorTest, BadAssumptions) {
  AdvisorOptions o = Options();
  o.assumptions.self_hosting.throughput_tokens_per_second = -3;
  EXPECT_EQ(Advise(*store_, *book_, o).status().message(),
            "throughput must be > 0 output tokens/s, got -3");
  o = Options();
  o.assumptions.max_drift = 2;
  EXPECT_EQ(Advise(*store_, *book_, o).status().message(), "max_drift must be in [0, 1], got 2");
}

// Huge requests at gpt-4o prices: 100k in / 50k out = $0.75 each; one replica
// serves 263,001,600 / 50,000 = 5,260 requests/day; crossover 95.76 / 0.75 =
// 127.68 requests/day. 200 requests in one day: API 200 x 0.75 x 30 = $4,500
// per month, self-hosted 95.76 x 30 = $2,872.80: self-host saves $1,627.20.
TEST_F(AdvisorTest, SelfHostAboveTheCrossover) {
  AdvisorOptions o = Options();
  AdvisorAccumulator acc(*book_, o);
  for (int i = 0; i < 200; ++i) {
    ledger::Record r;
    r.id = "b" + std::to_string(i);
    r.ts_ms = kNow - kDay / 2 + i * 1000;
    r.task = "bulk";
    r.template_hash = "3333333333333333";
    r.answered_by = "openai/gpt-4o";
    r.input_tokens = 100000;
    r.output_tokens = 50000;
    r.cost_usd = 0.75;
    r.status = 200;
    acc.Add(r);
  }
  auto report = acc.Finish();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_DOUBLE_EQ(report->days, 1);
  const TaskReport& t = report->tasks.at(0);
  EXPECT_EQ(t.recommendation, Recommendation::kSelfHost) << Reasons(t);
  EXPECT_NEAR(t.crossover.requests_per_day, 127.68, 1e-9);
  EXPECT_NEAR(t.self_hosting.api_monthly_usd, 4500, 1e-9);
  EXPECT_NEAR(t.self_hosting.self_hosted_monthly_usd, 2872.8, 1e-9);
  EXPECT_NEAR(t.projected_monthly_saving_usd, 1627.2, 1e-9);
  EXPECT_TRUE(HasReason(t,
                        "self-hosting all 30.0 million tokens/day costs $2,873/month on 1 replica "
                        "(1 GPU) against $4,500/month on the API at $0.75 per request: saves "
                        "$1,627/month"))
      << Reasons(t);
  EXPECT_EQ(report->overall, Recommendation::kSelfHost);
}

// A narrow, stable task without a student: train one when it would pay, else
// say how little it would save.
TEST_F(AdvisorTest, StudentToTrainOnlyWhenItPays) {
  auto run = [&](double cost) {
    AdvisorOptions o = Options();
    o.task_kinds = {{"triage", "classify"}};
    AdvisorAccumulator acc(*book_, o);
    for (int i = 0; i < 1000; ++i) {
      ledger::Record r;
      r.id = "t" + std::to_string(i);
      r.ts_ms = kStart + int64_t{i} * (20 * kDay / 1000);
      r.task = "triage";
      r.template_hash = "4444444444444444";
      r.answered_by = "openai/gpt-4o-mini";
      r.input_tokens = 300;
      r.output_tokens = 2;
      r.cost_usd = cost;
      r.status = 200;
      acc.Add(r);
    }
    auto report = acc.Finish();
    EXPECT_TRUE(report.ok());
    return report->tasks.at(0);
  };
  // 50 requests/day x $0.02 x 30 = $30/month; 60% of it = $18 >= $10.
  TaskReport yes = run(0.02);
  EXPECT_EQ(yes.recommendation, Recommendation::kHybridStudent) << Reasons(yes);
  EXPECT_NEAR(yes.projected_monthly_saving_usd, 18, 1e-9);
  EXPECT_TRUE(HasReason(yes,
                        "a student answering 60.0% of requests would save about $18.00/month of "
                        "$30.00/month API spend"))
      << Reasons(yes);
  // $0.01: $15/month, 60% = $9 < $10.
  TaskReport no = run(0.01);
  EXPECT_EQ(no.recommendation, Recommendation::kKeepOnApi) << Reasons(no);
  EXPECT_TRUE(HasReason(no, "a student answering 60.0% would save only $9.00/month (< $10.00)"))
      << Reasons(no);
}

// Drift: the second half of the window uses another template and longer inputs.
TEST_F(AdvisorTest, DriftBlocksANewStudent) {
  AdvisorOptions o = Options();
  o.task_kinds = {{"triage", "classify"}};
  AdvisorAccumulator acc(*book_, o);
  for (int i = 0; i < 1000; ++i) {
    ledger::Record r;
    r.id = "t" + std::to_string(i);
    r.ts_ms = kStart + int64_t{i} * (20 * kDay / 1000);
    r.task = "triage";
    const bool late = i >= 500;
    r.template_hash = late ? "5555555555555555" : "4444444444444444";
    r.answered_by = "openai/gpt-4o-mini";
    r.input_tokens = late ? 3000 : 300;
    r.output_tokens = 2;
    r.cost_usd = 0.02;
    r.status = 200;
    acc.Add(r);
  }
  auto report = acc.Finish();
  ASSERT_TRUE(report.ok());
  const TaskReport& t = report->tasks.at(0);
  EXPECT_TRUE(t.drift_known);
  EXPECT_NEAR(t.template_drift, 1, 1e-12);
  EXPECT_NEAR(t.length_drift, 1, 1e-12);
  EXPECT_EQ(t.recommendation, Recommendation::kKeepOnApi) << Reasons(t);
  EXPECT_TRUE(HasReason(t, "no student: the input drifted 1.00 (> 0.20)")) << Reasons(t);
  EXPECT_TRUE(HasReason(t,
                        "drifting: drift 1.00 between the window's halves (templates 1.00, input "
                        "lengths 1.00; > 0.20)"))
      << Reasons(t);
}

TEST(ExtractLabelTest, ShortSingleLineContentOnly) {
  EXPECT_EQ(ExtractLabel(Completion("  Up ")), "up");
  EXPECT_EQ(ExtractLabel(Completion("this answer is longer than forty bytes, so it is text")), "");
  EXPECT_EQ(ExtractLabel(Completion("two\\nlines")), "");
  EXPECT_EQ(ExtractLabel("not json"), "");
  EXPECT_EQ(ExtractLabel("{\"choices\":[]}"), "");
  EXPECT_EQ(ExtractLabel(""), "");
}

}  // namespace
}  // namespace switchyard::economics
