#include "ledger/query.h"

#include <gtest/gtest.h>

#include "ledger/sqlite_store.h"
#include "ledger_test_util.h"

namespace switchyard::ledger {
namespace {

using testing::TempDir;

constexpr int64_t kT = 1714564800000;  // 2024-05-01T12:00:00Z
const std::string kTmplA = "aaaaaaaaaaaaaaaa";
const std::string kTmplB = "bbbbbbbbbbbbbbbb";

Record Rec(std::string id, int64_t dt, std::string provider, std::string model, std::string task,
           std::string tenant, int status, int64_t in, int64_t cached, int64_t out, double cost,
           double total_ms, std::string tmpl, std::string route) {
  Record r;
  r.id = std::move(id);
  r.ts_ms = kT + dt;
  r.provider = std::move(provider);
  r.model = std::move(model);
  if (!r.provider.empty()) r.answered_by = r.provider + "/" + r.model;
  r.task = std::move(task);
  r.tenant = std::move(tenant);
  r.status = status;
  r.input_tokens = in;
  r.cached_input_tokens = cached;
  r.output_tokens = out;
  r.cost_usd = cost;
  r.total_ms = total_ms;
  r.first_byte_ms = total_ms / 2;
  r.template_hash = std::move(tmpl);
  r.route = std::move(route);
  return r;
}

// Costs are binary fractions so sums are exact.
std::vector<Record> Fixture() {
  std::vector<Record> v = {
      Rec("r1", 1, "openai", "gpt-4o-mini", "triage", "acme", 200, 1000, 200, 100, 0.25, 100,
          kTmplA, "default"),
      Rec("r2", 2, "openai", "gpt-4o-mini", "triage", "acme", 200, 2000, 0, 200, 0.5, 300, kTmplA,
          "fast"),
      Rec("r3", 3, "openai", "gpt-4o-mini", "triage", "beta", 502, 0, 0, 0, 0, 50, kTmplA,
          "default"),
      Rec("r4", 4, "anthropic", "claude-3-5-haiku-latest", "summarize", "beta", 200, 500, 100, 50,
          1.0, 200, kTmplB, "smart"),
      Rec("r5", 5, "anthropic", "claude-3-5-haiku-latest", "summarize", "acme", 200, 300, 0, 30,
          0.125, 400, kTmplB, "smart"),
      // Rejected before routing: no provider, no template, no task.
      Rec("r6", 6, "", "", "", "acme", 400, 0, 0, 0, 0, 1, "", "nope"),
  };
  v[2].error_code = "upstream_unavailable";
  v[2].answered_by.clear();
  v[5].error_code = "invalid_request_error";
  return v;
}

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(LedgerDbPath(dir_.path()));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->WriteBatch(Fixture()).ok());
  }
  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST(NearestRankPercentileTest, MatchesHandComputedRanks) {
  std::vector<double> v;
  EXPECT_EQ(NearestRankPercentile(v, 50), 0);
  v = {7};
  EXPECT_EQ(NearestRankPercentile(v, 50), 7);
  EXPECT_EQ(NearestRankPercentile(v, 95), 7);
  for (int i = 20; i >= 1; --i) v.push_back(i);  // 7 and 1..20, unsorted
  // 21 values: p50 -> rank ceil(10.5) = 11 -> 10; p95 -> rank ceil(19.95) = 20 -> 19.
  EXPECT_EQ(NearestRankPercentile(v, 50), 10);
  EXPECT_EQ(NearestRankPercentile(v, 95), 19);
  v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRankPercentile(v, 50), 50);   // rank 5
  EXPECT_EQ(NearestRankPercentile(v, 95), 100);  // rank ceil(9.5) = 10
  EXPECT_EQ(NearestRankPercentile(v, 90), 90);   // rank 9 exactly
}

TEST_F(QueryTest, StatsByModelMatchHandComputedValues) {
  auto report = ComputeStats(*store_, {.since_ms = 0, .by = "model"});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->groups.size(), 3u);

  const GroupStats& a = report->groups[0];  // highest spend first
  EXPECT_EQ(a.key, "anthropic/claude-3-5-haiku-latest");
  EXPECT_EQ(a.requests, 2);
  EXPECT_EQ(a.errors, 0);
  EXPECT_EQ(a.error_rate, 0);
  EXPECT_EQ(a.input_tokens, 800);
  EXPECT_EQ(a.cached_input_tokens, 100);
  EXPECT_EQ(a.output_tokens, 80);
  EXPECT_EQ(a.cost_usd, 1.125);
  EXPECT_EQ(a.p50_ms, 200);  // {200, 400}: rank 1
  EXPECT_EQ(a.p95_ms, 400);  // rank 2

  const GroupStats& o = report->groups[1];
  EXPECT_EQ(o.key, "openai/gpt-4o-mini");
  EXPECT_EQ(o.requests, 3);
  EXPECT_EQ(o.errors, 1);
  EXPECT_DOUBLE_EQ(o.error_rate, 1.0 / 3.0);
  EXPECT_EQ(o.input_tokens, 3000);
  EXPECT_EQ(o.cached_input_tokens, 200);
  EXPECT_EQ(o.output_tokens, 300);
  EXPECT_EQ(o.cost_usd, 0.75);
  EXPECT_EQ(o.p50_ms, 100);  // {50, 100, 300}: rank 2
  EXPECT_EQ(o.p95_ms, 300);  // rank 3

  const GroupStats& n = report->groups[2];
  EXPECT_EQ(n.key, "(none)");
  EXPECT_EQ(n.requests, 1);
  EXPECT_EQ(n.errors, 1);
  EXPECT_EQ(n.error_rate, 1);

  const GroupStats& t = report->total;
  EXPECT_EQ(t.key, "total");
  EXPECT_EQ(t.requests, 6);
  EXPECT_EQ(t.errors, 2);
  EXPECT_DOUBLE_EQ(t.error_rate, 2.0 / 6.0);
  EXPECT_EQ(t.input_tokens, 3800);
  EXPECT_EQ(t.cost_usd, 1.875);
  EXPECT_EQ(t.p50_ms, 100);  // {1, 50, 100, 200, 300, 400}: rank 3
  EXPECT_EQ(t.p95_ms, 400);  // rank ceil(5.7) = 6

  ASSERT_EQ(report->top_templates.size(), 2u);
  EXPECT_EQ(report->top_templates[0].hash, kTmplB);
  EXPECT_EQ(report->top_templates[0].requests, 2);
  EXPECT_EQ(report->top_templates[0].cost_usd, 1.125);
  EXPECT_EQ(report->top_templates[0].example_route, "smart");
  EXPECT_EQ(report->top_templates[0].example_task, "summarize");
  EXPECT_EQ(report->top_templates[1].hash, kTmplA);
  EXPECT_EQ(report->top_templates[1].requests, 3);
  EXPECT_EQ(report->top_templates[1].cost_usd, 0.75);
  EXPECT_EQ(report->top_templates[1].example_route, "default");  // r3, the most recent
  EXPECT_EQ(report->top_templates[1].example_task, "triage");
}

TEST_F(QueryTest, StatsByTaskTenantTemplateAndSince) {
  auto by_task = ComputeStats(*store_, {.since_ms = 0, .by = "task"});
  ASSERT_TRUE(by_task.ok());
  ASSERT_EQ(by_task->groups.size(), 3u);
  EXPECT_EQ(by_task->groups[0].key, "summarize");
  EXPECT_EQ(by_task->groups[1].key, "triage");
  EXPECT_EQ(by_task->groups[2].key, "(none)");

  auto by_tenant = ComputeStats(*store_, {.since_ms = 0, .by = "tenant"});
  ASSERT_TRUE(by_tenant.ok());
  ASSERT_EQ(by_tenant->groups.size(), 2u);
  EXPECT_EQ(by_tenant->groups[0].key, "beta");  // 1.0 vs 0.875
  EXPECT_EQ(by_tenant->groups[0].cost_usd, 1.0);
  EXPECT_EQ(by_tenant->groups[0].requests, 2);
  EXPECT_EQ(by_tenant->groups[1].key, "acme");
  EXPECT_EQ(by_tenant->groups[1].cost_usd, 0.875);
  EXPECT_EQ(by_tenant->groups[1].requests, 4);
  EXPECT_EQ(by_tenant->groups[1].p50_ms, 100);  // {1, 100, 300, 400}: rank 2
  EXPECT_EQ(by_tenant->groups[1].p95_ms, 400);

  auto by_template = ComputeStats(*store_, {.since_ms = 0, .by = "template"});
  ASSERT_TRUE(by_template.ok());
  ASSERT_EQ(by_template->groups.size(), 3u);
  EXPECT_EQ(by_template->groups[0].key, kTmplB);

  auto recent = ComputeStats(*store_, {.since_ms = kT + 4, .by = "model"});
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->total.requests, 3);
  EXPECT_EQ(recent->total.cost_usd, 1.125);
  ASSERT_EQ(recent->top_templates.size(), 1u);

  auto bad = ComputeStats(*store_, {.since_ms = 0, .by = "color"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "--by: expected one of model, task, tenant, template, got \"color\"");
}

TEST(StatsAccumulatorTest, KeepsTheTopTenTemplatesBySpend) {
  StatsAccumulator acc({.since_ms = 0, .by = "template"});
  for (int i = 0; i < 12; ++i) {
    Record r;
    r.id = "x" + std::to_string(i);
    r.template_hash = std::string(15, 'c') + static_cast<char>('a' + i);
    r.cost_usd = i;
    acc.Add(r);
  }
  const StatsReport report = acc.Finish();
  ASSERT_EQ(report.top_templates.size(), kTopTemplates);
  EXPECT_EQ(report.top_templates.front().cost_usd, 11);
  EXPECT_EQ(report.top_templates.back().cost_usd, 2);
  EXPECT_EQ(report.groups.size(), 12u);  // groups are not truncated
}

TEST_F(QueryTest, RendersTextTable) {
  auto report = ComputeStats(*store_, {.since_ms = kT, .by = "model"});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(RenderStatsText(*report),
            "Ledger stats, since 2024-05-01T12:00:00.000Z, by model\n"
            "\n"
            "MODEL                              REQUESTS  ERRORS  ERROR%  INPUT  CACHED  OUTPUT"
            "  COST_USD  P50_MS  P95_MS\n"
            "anthropic/claude-3-5-haiku-latest         2       0    0.0%    800     100      80"
            "  1.125000   200.0   400.0\n"
            "openai/gpt-4o-mini                        3       1   33.3%   3000     200     300"
            "  0.750000   100.0   300.0\n"
            "(none)                                    1       1  100.0%      0       0       0"
            "  0.000000     1.0     1.0\n"
            "TOTAL                                     6       2   33.3%   3800     300     380"
            "  1.875000   100.0   400.0\n"
            "\n"
            "Top prompt templates by spend\n"
            "TEMPLATE          REQUESTS  COST_USD    ROUTE       TASK\n"
            "bbbbbbbbbbbbbbbb         2  1.125000    smart  summarize\n"
            "aaaaaaaaaaaaaaaa         3  0.750000  default     triage\n");
}

TEST_F(QueryTest, RendersJson) {
  auto report = ComputeStats(*store_, {.since_ms = kT + 4, .by = "tenant"});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(
      RenderStatsJson(*report),
      R"({"since_ms":1714564800004,"by":"tenant",)"
      R"("total":{"key":"total","requests":3,"errors":1,"error_rate":0.3333333333333333,)"
      R"("input_tokens":800,"cached_input_tokens":100,"output_tokens":80,"cost_usd":1.125,)"
      R"("p50_ms":200,"p95_ms":400},)"
      R"("groups":[{"key":"beta","requests":1,"errors":0,"error_rate":0,"input_tokens":500,)"
      R"("cached_input_tokens":100,"output_tokens":50,"cost_usd":1,"p50_ms":200,"p95_ms":200},)"
      R"({"key":"acme","requests":2,"errors":1,"error_rate":0.5,"input_tokens":300,)"
      R"("cached_input_tokens":0,"output_tokens":30,"cost_usd":0.125,"p50_ms":1,"p95_ms":400}],)"
      R"("top_templates":[{"hash":"bbbbbbbbbbbbbbbb","requests":2,"cost_usd":1.125,)"
      R"("example_route":"smart","example_task":"summarize"}]})");
}

TEST_F(QueryTest, EmptyLedgerRendersZeros) {
  auto report = ComputeStats(*store_, {.since_ms = kT + 1000, .by = "model"});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->groups.empty());
  EXPECT_EQ(report->total.requests, 0);
  EXPECT_EQ(report->total.p95_ms, 0);
  EXPECT_EQ(RenderStatsText(*report),
            "Ledger stats, since 2024-05-01T12:00:01.000Z, by model\n"
            "\n"
            "MODEL  REQUESTS  ERRORS  ERROR%  INPUT  CACHED  OUTPUT  COST_USD  P50_MS  P95_MS\n"
            "TOTAL         0       0    0.0%      0       0       0  0.000000     0.0     0.0\n"
            "\n"
            "Top prompt templates by spend\n"
            "(no templated requests)\n");
}

TEST_F(QueryTest, TailReturnsTheLatestRecordsOneLineEach) {
  auto tail = Tail(*store_, 2);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ(RenderTail(*tail),
            "2024-05-01T12:00:00.005Z r5 acme/summarize smart -> "
            "anthropic/claude-3-5-haiku-latest 200 in=300 cached=0 out=30 $0.125000 "
            "first_byte=200ms total=400ms\n"
            "2024-05-01T12:00:00.006Z r6 acme/- nope -> - 400 in=0 cached=0 out=0 $0.000000 "
            "first_byte=0ms total=1ms error=invalid_request_error\n");
  Record r = testing::SampleRecord(3);
  EXPECT_EQ(RenderTailLine(r),
            "2024-05-01T12:00:00.003Z req-3 acme/triage default -> "
            "anthropic/claude-3-5-haiku-latest 200 in=1003 cached=200 out=300 $0.000492 "
            "first_byte=120ms total=480ms attempts=2 estimated escalated confidence=0.88");
}

TEST(SinceCutoffTest, AllOrEmptyIsEverythingElseTheWindowStart) {
  EXPECT_EQ(*SinceCutoff("", 5'000'000), 0);
  EXPECT_EQ(*SinceCutoff("all", 5'000'000), 0);
  EXPECT_EQ(*SinceCutoff("30m", 5'000'000), 5'000'000 - 1'800'000);
  EXPECT_EQ(SinceCutoff("soon", 5'000'000).status().message(),
            "--since: expected a duration like 30m, 24h or 7d, got \"soon\"");
}

TEST(ParseSinceTest, AcceptsSecondsMinutesHoursDays) {
  EXPECT_EQ(*ParseSince("90s"), 90'000);
  EXPECT_EQ(*ParseSince("30m"), 1'800'000);
  EXPECT_EQ(*ParseSince("24h"), 86'400'000);
  EXPECT_EQ(*ParseSince("7d"), 604'800'000);
  EXPECT_EQ(*ParseSince("365d"), 31'536'000'000);
}

TEST(ParseSinceTest, RejectsAnythingElseWithExactError) {
  for (std::string bad :
       {"", "h", "24", "24x", "-1h", "1.5h", "0h", " 24h", "24h ", "24H", "99999999999999999d"}) {
    auto r = ParseSince(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              "--since: expected a duration like 30m, 24h or 7d, got \"" + bad + "\"");
  }
}

TEST(FormatUtcMillisTest, FormatsIso8601) {
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(1714564800123), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(FormatUtcMillis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace switchyard::ledger
