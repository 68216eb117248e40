// AdminApi over a real SQLite ledger written with the real store: every
// endpoint's figures for a small hand-made history, and every bad parameter's
// exact error. Also the embedded dashboard assets.
#include "app/admin_api.h"

#include <simdjson.h>

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "app/dashboard.h"
#include "core/clock.h"
#include "learn/label_store.h"
#include "ledger/sqlite_store.h"
#include "support/temp_dir.h"

namespace switchyard::app {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 86'400'000;

// FakeClock starts at 1'700'000'000'000 = 2023-11-14T22:13:20Z.
class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = clock_.UnixMillis();
    db_ = dir_.File("ledger.db");
  }

  void WriteHistory() {
    std::vector<ledger::Record> records;
    ledger::Record teacher;  // today, the teacher answers a task request
    teacher.id = "r1";
    teacher.ts_ms = now_ - 10 * kMinute;
    teacher.route = "task:tickets";
    teacher.task = "tickets";
    teacher.answered_by = "teacher/gpt-4o-mini";
    teacher.provider = "teacher";
    teacher.model = "gpt-4o-mini";
    teacher.input_tokens = 100;
    teacher.output_tokens = 2;
    teacher.cost_usd = 0.001;
    teacher.total_ms = 100;
    teacher.first_byte_ms = 90;
    teacher.status = 200;
    teacher.escalated = true;
    teacher.confidence = 0.4;
    records.push_back(teacher);

    ledger::Record student;  // today, the student answers
    student.id = "r2";
    student.ts_ms = now_ - 9 * kMinute;
    student.route = "task:tickets";
    student.task = "tickets";
    student.answered_by = "student/tickets@v1";
    student.provider = "student";
    student.model = "tickets@v1";
    student.input_tokens = 100;
    student.output_tokens = 2;
    student.cost_usd = 1e-7;
    student.total_ms = 2;
    student.first_byte_ms = 2;
    student.status = 200;
    student.confidence = 0.97;
    records.push_back(student);

    ledger::Record api;  // two days ago (this month), a plain API request
    api.id = "r3";
    api.ts_ms = now_ - 2 * kDay;
    api.route = "gpt-4o";
    api.answered_by = "openai/gpt-4o";
    api.provider = "openai";
    api.model = "gpt-4o";
    api.input_tokens = 1000;
    api.output_tokens = 500;
    api.cost_usd = 0.01;
    api.total_ms = 500;
    api.first_byte_ms = 300;
    api.status = 200;
    records.push_back(api);

    ledger::Record failed;  // 40 days ago (last month), failed, payload kept
    failed.id = "r4";
    failed.ts_ms = now_ - 40 * kDay;
    failed.route = "gpt-4o";
    failed.provider = "openai";
    failed.model = "gpt-4o";
    failed.total_ms = 50;
    failed.status = 502;
    failed.error_code = "upstream_error";
    failed.pii_findings = R"({"email":1})";
    failed.request_body = R"({"messages":[]})";
    failed.response_body = R"({"error":{}})";
    records.push_back(failed);

    auto store = ledger::SqliteStore::Open(db_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    auto written = (*store)->WriteBatch(records);
    ASSERT_TRUE(written.ok()) << written.status().message();
    ASSERT_EQ(*written, 4u);
  }

  AdminApiOptions Options() {
    AdminApiOptions o;
    o.ledger_path = db_;
    auto book = economics::PriceBook::Embedded();
    EXPECT_TRUE(book.ok());
    if (book.ok()) o.book = std::move(*book);
    o.task_kinds = {{"idle", "classify"}, {"tickets", "classify"}};
    o.clock = &clock_;
    o.live_tasks = [] {
      TaskLive t;
      t.task = "tickets";
      t.has_student = true;
      t.version = 1;
      t.serving = true;
      learn::LiveStats ls;
      ls.compared = 10;
      ls.agreed = 9;
      ls.agreement = 0.9;
      ls.accepted = 8;
      ls.accepted_agreement = 1.0;
      t.live = ls;
      return std::vector<TaskLive>{t};
    };
    o.providers = [] {
      return std::vector<ProviderHealth>{{"openai", "openai", false, "open"},
                                         {"teacher", "replay", false, "closed"}};
    };
    return o;
  }

  // Parses an answer's body, expecting `status`.
  simdjson::dom::element Json(const AdminApi::Answer& a, int status = 200) {
    EXPECT_EQ(a.status, status) << a.body;
    bodies_.push_back(a.body);
    auto doc = parsers_.emplace_back().parse(bodies_.back());
    EXPECT_EQ(doc.error(), simdjson::SUCCESS) << a.body;
    return doc.value_unsafe();
  }

  // The message of an OpenAI-style error answer.
  std::string ErrorMessage(const AdminApi::Answer& a, int status) {
    return std::string(std::string_view(Json(a, status)["error"]["message"]));
  }

  core::FakeClock clock_;
  int64_t now_ = 0;
  testing::ScopedTempDir dir_{"admin"};
  std::string db_;
  std::deque<std::string> bodies_;
  std::deque<simdjson::dom::parser> parsers_;
};

TEST_F(AdminApiTest, SummaryCountsSpendSavingAndFrontierSharePerWindow) {
  WriteHistory();
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/summary"));
  EXPECT_EQ(int64_t(j["now_ms"]), now_);
  EXPECT_TRUE(bool(j["ledger_exists"]));
  auto today = j["windows"]["today"];
  EXPECT_EQ(int64_t(today["since_ms"]), 1'699'920'000'000);  // 2023-11-14T00:00:00Z
  EXPECT_EQ(int64_t(today["requests"]), 2);
  EXPECT_EQ(int64_t(today["local"]), 1);
  EXPECT_EQ(int64_t(today["frontier"]), 1);
  EXPECT_DOUBLE_EQ(double(today["frontier_share"]), 0.5);
  EXPECT_NEAR(double(today["spend_usd"]), 0.0010001, 1e-12);
  // The student's answer would have cost the teacher's price ($0.001).
  EXPECT_NEAR(double(today["saving_usd"]), 0.001 - 1e-7, 1e-12);
  EXPECT_NEAR(double(today["all_frontier_usd"]), 0.002, 1e-12);
  auto month = j["windows"]["month"];
  EXPECT_EQ(int64_t(month["since_ms"]), 1'698'796'800'000);  // 2023-11-01T00:00:00Z
  EXPECT_EQ(int64_t(month["requests"]), 3);
  EXPECT_EQ(int64_t(month["frontier"]), 2);
  EXPECT_NEAR(double(month["spend_usd"]), 0.0110001, 1e-12);
  auto all = j["windows"]["all"];
  EXPECT_EQ(int64_t(all["since_ms"]), 0);
  EXPECT_EQ(int64_t(all["requests"]), 4);
  EXPECT_EQ(int64_t(all["errors"]), 1);
  EXPECT_EQ(int64_t(all["answered"]), 3);
  EXPECT_NEAR(double(all["spend_usd"]), 0.0110001, 1e-12);
}

TEST_F(AdminApiTest, SummaryWithoutLedgerIsEmptyNotAnError) {
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/summary"));
  EXPECT_FALSE(bool(j["ledger_exists"]));
  EXPECT_EQ(int64_t(j["windows"]["all"]["requests"]), 0);
  EXPECT_EQ(int64_t(j["windows"]["all"]["spend_usd"]), 0);
}

TEST_F(AdminApiTest, TimeseriesPutsRecordsInTheirMinuteBuckets) {
  WriteHistory();
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/timeseries"));
  EXPECT_EQ(std::string_view(j["bucket"]), "minute");
  EXPECT_EQ(int64_t(j["bucket_ms"]), kMinute);
  auto buckets = simdjson::dom::array(j["buckets"]);
  ASSERT_EQ(buckets.size(), 61u);  // 60 minutes back from 22:13:20, rounded down, to now
  EXPECT_EQ(int64_t(buckets.at(0)["start_ms"]), now_ - 60 * kMinute - 20'000);
  EXPECT_EQ(int64_t(buckets.at(50)["requests"]), 1);
  EXPECT_EQ(int64_t(buckets.at(50)["frontier"]), 1);
  EXPECT_DOUBLE_EQ(double(buckets.at(50)["cost_usd"]), 0.001);
  EXPECT_EQ(int64_t(buckets.at(51)["local"]), 1);
  EXPECT_DOUBLE_EQ(double(buckets.at(51)["frontier_share"]), 0);
  int64_t total = 0;
  for (auto b : buckets) total += int64_t(b["requests"]);
  EXPECT_EQ(total, 2);
  auto task = j["by_task"].at(0);
  EXPECT_EQ(std::string_view(task["key"]), "tickets");
  EXPECT_EQ(int64_t(task["requests_total"]), 2);
  EXPECT_EQ(simdjson::dom::array(task["requests"]).size(), 61u);
  EXPECT_EQ(int64_t(task["frontier"].at(50)), 1);

  auto days = Json(api.Get("/admin/timeseries?bucket=day&since=all"));
  EXPECT_EQ(simdjson::dom::array(days["buckets"]).size(), 41u);
  EXPECT_EQ(int64_t(days["by_route"].at(0)["requests_total"]), 2);
}

TEST_F(AdminApiTest, TimeseriesRejectsBadParameters) {
  WriteHistory();
  AdminApi api(Options());
  EXPECT_EQ(ErrorMessage(api.Get("/admin/timeseries?bucket=week"), 400),
            "bucket: expected one of minute, hour, day, got \"week\"");
  EXPECT_EQ(ErrorMessage(api.Get("/admin/timeseries?since=abc"), 400),
            "since: expected a duration like 30m, 24h or 7d, or all, got \"abc\"");
  EXPECT_EQ(ErrorMessage(api.Get("/admin/timeseries?bucket=minute&since=30d"), 400),
            "since: 43201 buckets of a minute; at most 2000 (use a larger bucket or a shorter "
            "since)");
}

TEST_F(AdminApiTest, TimeseriesWithoutLedgerIsNotFound) {
  AdminApi api(Options());
  EXPECT_EQ(ErrorMessage(api.Get("/admin/timeseries"), 404),
            "no ledger at " + db_ + " yet: no request has been recorded");
}

TEST_F(AdminApiTest, TasksJoinTheAdvisorTheLiveTrackerAndTheTeacherLabels) {
  WriteHistory();
  {
    auto labels = learn::LabelStore::Open(db_, clock_);
    ASSERT_TRUE(labels.ok()) << labels.status().message();
    for (const char* l : {"billing", "shipping", "billing", "billing"}) {
      ASSERT_TRUE((*labels)->Add("tickets", "text", l, "r").ok());
    }
  }
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/tasks"));
  EXPECT_EQ(int64_t(j["since_ms"]), now_ - 30 * kDay);
  auto tasks = simdjson::dom::array(j["tasks"]);
  ASSERT_GE(tasks.size(), 2u);
  auto t = tasks.at(0);
  EXPECT_EQ(std::string_view(t["name"]), "tickets");
  EXPECT_TRUE(bool(t["configured"]));
  EXPECT_EQ(std::string_view(t["kind"]), "classify");
  EXPECT_EQ(int64_t(t["requests"]), 2);
  EXPECT_EQ(int64_t(t["escalations"]), 1);
  EXPECT_DOUBLE_EQ(double(t["escalation_rate"]), 0.5);
  EXPECT_EQ(int64_t(t["student_answers"]), 1);
  EXPECT_DOUBLE_EQ(double(t["coverage"]), 0.5);
  EXPECT_TRUE(t["student"].is_null());  // no registry in this file
  EXPECT_EQ(int64_t(t["live"]["compared"]), 10);
  EXPECT_DOUBLE_EQ(double(t["live"]["agreement"]), 0.9);
  EXPECT_EQ(std::string_view(t["labels_source"]), "teacher_labels");
  EXPECT_EQ(std::string_view(t["labels"].at(0)["label"]), "billing");
  EXPECT_EQ(int64_t(t["labels"].at(0)["count"]), 3);
  EXPECT_EQ(int64_t(t["labels"].at(1)["count"]), 1);
  // 2 requests < min_requests (100).
  EXPECT_EQ(std::string_view(t["recommendation"]), "not_enough_data");
  EXPECT_GT(simdjson::dom::array(t["reasons"]).size(), 0u);
  auto idle = tasks.at(1);
  EXPECT_EQ(std::string_view(idle["name"]), "idle");
  EXPECT_EQ(int64_t(idle["requests"]), 0);
  EXPECT_EQ(std::string_view(idle["reasons"].at(0)), "no requests for this task in the window yet");
  EXPECT_EQ(std::string_view(j["overall"]["recommendation"]), "not_enough_data");

  EXPECT_EQ(ErrorMessage(api.Get("/admin/tasks?since=1w"), 400),
            "since: expected a duration like 30m, 24h or 7d, or all, got \"1w\"");
}

TEST_F(AdminApiTest, CrossoverCarriesTheAdvisorsFiguresAndChart) {
  WriteHistory();
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/crossover?since=all"));
  ASSERT_TRUE(bool(j["priced"]));
  // API answers: $0.001 and $0.01.
  EXPECT_NEAR(double(j["api_cost_per_request_usd"]), 0.0055, 1e-12);
  EXPECT_GT(double(j["current"]["requests_per_day"]), 0);
  EXPECT_NE(std::string_view(j["svg"]).find("id=\"api-line\""), std::string_view::npos);
  EXPECT_NE(std::string_view(j["svg"]).find("id=\"self-hosted-line\""), std::string_view::npos);
  EXPECT_FALSE(std::string_view(j["crossover"]["summary"]).empty());

  EXPECT_EQ(ErrorMessage(api.Get("/admin/crossover?since=x"), 400),
            "since: expected a duration like 30m, 24h or 7d, or all, got \"x\"");
}

TEST_F(AdminApiTest, CrossoverOfAnEmptyWindowSaysWhy) {
  WriteHistory();
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/crossover?since=1m"));
  EXPECT_FALSE(bool(j["priced"]));
  EXPECT_EQ(std::string_view(j["reason"]), "no requests in the window yet");
}

TEST_F(AdminApiTest, LatencyPercentilesByRouteLocalVsApi) {
  WriteHistory();
  AdminApi api(Options());
  auto groups = simdjson::dom::array(Json(api.Get("/admin/latency"))["groups"]);
  ASSERT_EQ(groups.size(), 4u);  // last 24 h: r1 (api), r2 (local)
  EXPECT_EQ(std::string_view(groups.at(0)["route"]), "*");
  EXPECT_EQ(std::string_view(groups.at(0)["where"]), "api");
  EXPECT_EQ(int64_t(groups.at(0)["p99_ms"]), 100);
  EXPECT_EQ(int64_t(groups.at(0)["first_byte_p50_ms"]), 90);
  EXPECT_EQ(std::string_view(groups.at(1)["where"]), "local");
  EXPECT_EQ(int64_t(groups.at(1)["p50_ms"]), 2);
  EXPECT_EQ(std::string_view(groups.at(2)["route"]), "task:tickets");

  auto all = simdjson::dom::array(Json(api.Get("/admin/latency?since=all"))["groups"]);
  // *: api, local, unanswered; gpt-4o: api, unanswered; task:tickets: api, local.
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(std::string_view(all.at(2)["where"]), "unanswered");
  EXPECT_EQ(int64_t(all.at(0)["requests"]), 2);
  EXPECT_EQ(int64_t(all.at(0)["p50_ms"]), 100);
  EXPECT_EQ(int64_t(all.at(0)["p95_ms"]), 500);

  EXPECT_EQ(ErrorMessage(api.Get("/admin/latency?since=-1h"), 400),
            "since: expected a duration like 30m, 24h or 7d, or all, got \"-1h\"");
}

TEST_F(AdminApiTest, ProvidersJoinCircuitStateWithTheLedgersErrorRate) {
  WriteHistory();
  AdminApi api(Options());
  auto list = simdjson::dom::array(Json(api.Get("/admin/providers?since=all"))["providers"]);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(std::string_view(list.at(0)["name"]), "openai");
  EXPECT_EQ(std::string_view(list.at(0)["circuit"]), "open");
  EXPECT_EQ(int64_t(list.at(0)["requests"]), 2);
  EXPECT_EQ(int64_t(list.at(0)["errors"]), 1);
  EXPECT_DOUBLE_EQ(double(list.at(0)["error_rate"]), 0.5);
  EXPECT_EQ(std::string_view(list.at(1)["name"]), "teacher");
  EXPECT_EQ(int64_t(list.at(1)["requests"]), 1);
  // Students are not configured providers; they still show, without a circuit.
  EXPECT_EQ(std::string_view(list.at(2)["name"]), "student");
  EXPECT_EQ(std::string_view(list.at(2)["circuit"]), "n/a");

  auto hour = simdjson::dom::array(Json(api.Get("/admin/providers"))["providers"]);
  EXPECT_EQ(int64_t(hour.at(0)["requests"]), 0);
  EXPECT_DOUBLE_EQ(double(hour.at(0)["error_rate"]), 0);
  EXPECT_EQ(ErrorMessage(api.Get("/admin/providers?since="), 400),
            "since: expected a duration like 30m, 24h or 7d, or all, got \"\"");
}

TEST_F(AdminApiTest, TailShowsDecisionsAndKeptPayloads) {
  WriteHistory();
  AdminApi api(Options());
  auto data = simdjson::dom::array(Json(api.Get("/admin/ledger/tail?n=4"))["data"]);
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(std::string_view(data.at(0)["id"]), "r4");  // oldest first
  EXPECT_EQ(std::string_view(data.at(0)["pii_findings"]), R"({"email":1})");
  EXPECT_EQ(std::string_view(data.at(0)["request_body"]), R"({"messages":[]})");
  EXPECT_EQ(std::string_view(data.at(3)["id"]), "r2");
  EXPECT_EQ(std::string_view(data.at(3)["answered_by"]), "student/tickets@v1");
  EXPECT_DOUBLE_EQ(double(data.at(3)["confidence"]), 0.97);
  EXPECT_EQ(std::string_view(data.at(3)["request_body"]), "");

  EXPECT_EQ(ErrorMessage(api.Get("/admin/ledger/tail?n=0"), 400),
            "n: expected an integer from 1 to 10000, got \"0\"");
  EXPECT_EQ(ErrorMessage(api.Get("/admin/ledger/tail?n=abc"), 400),
            "n: expected an integer from 1 to 10000, got \"abc\"");
}

TEST_F(AdminApiTest, StatsMatchesTheLedgerCommandsFigures) {
  WriteHistory();
  AdminApi api(Options());
  auto j = Json(api.Get("/admin/ledger/stats?since=all&by=task"));
  EXPECT_EQ(int64_t(j["total"]["requests"]), 4);
  EXPECT_EQ(std::string_view(j["by"]), "task");
  EXPECT_EQ(ErrorMessage(api.Get("/admin/ledger/stats?by=color"), 400),
            "--by: expected one of model, task, tenant, template, got \"color\"");
}

TEST_F(AdminApiTest, UnknownPathListsTheEndpoints) {
  AdminApi api(Options());
  EXPECT_EQ(ErrorMessage(api.Get("/admin/nope"), 404),
            "unknown admin path /admin/nope (admin endpoints: GET /admin/summary, GET "
            "/admin/timeseries, GET /admin/tasks, GET /admin/crossover, GET /admin/latency, GET "
            "/admin/providers, GET /admin/ledger/stats, GET /admin/ledger/tail)");
}

TEST(DashboardAssetsTest, RootAndDashboardPathsServeTheEmbeddedFiles) {
  const DashboardAsset* index = FindDashboardAsset("/");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->name, "index.html");
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<title>Switchyard dashboard</title>"), std::string_view::npos);
  const DashboardAsset* js = FindDashboardAsset("/dashboard/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("/admin/summary"), std::string_view::npos);
  ASSERT_NE(FindDashboardAsset("/dashboard/style.css"), nullptr);
  EXPECT_EQ(FindDashboardAsset("/dashboard/nope.js"), nullptr);
  EXPECT_EQ(FindDashboardAsset("/v1/models"), nullptr);
  EXPECT_EQ(FindDashboardAsset("/admin/summary"), nullptr);
}

TEST(DashboardAssetsTest, ThePageLoadsNothingFromOutsideTheGateway) {
  for (const DashboardAsset& a : DashboardAssets()) {
    EXPECT_EQ(a.body.find("src=\"http"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.body.find("href=\"http"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.body.find("@import"), std::string_view::npos) << a.name;
    EXPECT_EQ(a.body.find("fetch(\"http"), std::string_view::npos) << a.name;
  }
}

}  // namespace
}  // namespace switchyard::app
