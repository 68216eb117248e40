// The task loop end to end, in process: requests to "task:tickets" go to a
// replay teacher while the student is empty; its labels train a student on
// the learner thread; the promoted student then answers locally; a restart
// keeps the promoted version; unknown tasks, unreadable inputs and
// unparseable teacher replies give clear errors and are not trained on.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/learn_cmd.h"
#include "app/recording.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/tasks.h"
#include "http/client.h"
#include "http/event_loops.h"
#include "http/server.h"
#include "learn/registry.h"
#include "ledger/record.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::gateway {
namespace {

struct Ticket {
  std::string text;
  std::string label;
};

// Synthetic support tickets over four queues, each with its own clear words,
// in varied wording. Deterministic; every text is distinct.
std::vector<Ticket> MakeTickets() {
  const std::map<std::string, std::vector<std::string>> topics = {
      {"billing",
       {"refund my order", "I was charged twice", "my invoice is wrong", "cancel the payment",
        "the bill shows an extra fee", "I need a refund for the charge"}},
      {"shipping",
       {"where is my package", "the parcel has not arrived", "delivery is late",
        "track my shipment", "the courier lost the box", "change the delivery address"}},
      {"account",
       {"reset my password", "I cannot log in", "delete my account", "change my email address",
        "my username is locked", "update the profile login"}},
      {"technical",
       {"the app crashes on start", "the website shows an error", "the page does not load",
        "the screen freezes after the update", "a bug in the settings page",
        "the app error code 500"}},
  };
  const std::vector<std::string> prefixes = {
      "hello", "hi team", "please help", "urgent", "good morning", "quick question", "hey"};
  const std::vector<std::string> suffixes = {"thanks", "asap", "today please", "thank you",
                                             "regards"};
  std::vector<Ticket> out;
  for (size_t p = 0; p < prefixes.size(); ++p) {
    for (size_t s = 0; s < suffixes.size(); ++s) {
      for (const auto& [label, phrases] : topics) {
        for (size_t i = 0; i < phrases.size(); ++i) {
          if ((p + s + i) % 3 != 0) continue;  // a varied subset
          out.push_back({prefixes[p] + " " + phrases[i] + " " + suffixes[s], label});
        }
      }
    }
  }
  // Interleave the queues (deterministic shuffle by a fixed stride).
  std::vector<Ticket> mixed;
  const size_t n = out.size();
  for (size_t k = 0, i = 0; k < n; ++k, i = (i + 37) % n) mixed.push_back(out[i]);
  return mixed;
}

constexpr char kUnparseable1[] = "which queue is this";
constexpr char kUnparseable2[] = "no idea at all";
constexpr char kLongReply[] = "tell me a long story";

class TasksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sy_tasks_");
    ASSERT_FALSE(dir_.empty());
    tickets_ = MakeTickets();
    ASSERT_GE(tickets_.size(), 200u);
    std::ofstream trace(dir_ + "/trace.csv");
    trace << "input,response\n";
    for (const auto& t : tickets_) trace << t.text << "," << t.label << "\n";
    trace << kUnparseable1 << ",I am not sure which queue\n";
    trace << kUnparseable2 << ",sorry\n";
    trace << kLongReply << "," << std::string(5000, 'z') << "\n";
    trace << "Route this ticket: refund my order (answer with the queue),billing\n";
    trace << "hello there,billing\n";
    trace << "\"{\"\"text\"\": \"\"refund my order\"\"}\",billing\n";
  }

  void TearDown() override {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts on the trace `trace` (in dir_) with the task's shadow sampling
  // and demotion settings.
  // `tickets_extra`: more TOML lines for the tickets task.
  void Start(const std::string& trace = "trace.csv", double shadow_sample = 0.0,
             int min_live_samples = 200, const std::string& tickets_extra = "") {
    const std::string text =
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[storage]\ndata_dir = \"" + dir_ +
        "\"\n\n"
        "[[providers]]\nname = \"teacher\"\nkind = \"replay\"\n"
        "trace = \"" +
        dir_ + "/" + trace +
        "\"\n\n"
        "[[tasks]]\nname = \"tickets\"\n"
        "labels = [\"billing\", \"shipping\", \"account\", \"technical\"]\n"
        "teacher = \"teacher/gpt-4o-mini\"\n"
        "target_agreement = 0.9\nretrain_every = 60\nmin_train_labels = 120\n"
        "shadow_sample = " +
        std::to_string(shadow_sample) + "\nmin_live_samples = " + std::to_string(min_live_samples) +
        "\n" + tickets_extra +
        "\n[[tasks]]\nname = \"json_tickets\"\n"
        "labels = [\"billing\", \"shipping\"]\n"
        "teacher = \"teacher/gpt-4o-mini\"\ninput = \"json_field:text\"\n"
        "\n[[tasks]]\nname = \"tmpl_tickets\"\n"
        "labels = [\"billing\", \"shipping\"]\n"
        "teacher = \"teacher/gpt-4o-mini\"\ninput = \"template_var:ticket\"\n"
        "input_template = \"Route this ticket: {{ticket}} (answer with the "
        "queue)\"\n";
    auto cfg = config::ParseConfig(
        text, "test.toml",
        [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << text;
    config_ = std::make_shared<const config::Config>(std::move(*cfg));
    metrics_ = std::make_unique<observe::Registry>();
    loops_ = std::make_unique<http::EventLoops>(2);
    auto tls = http::UpstreamClient::MakeTlsContext();
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = std::move(*tls);
    GatewayOptions go;
    go.seed = 7;
    auto gw =
        Gateway::Create(config_, *loops_, *tls_, *metrics_, clock_, observe::MakeNullLogger(), go);
    ASSERT_TRUE(gw.ok()) << gw.status().ToString();
    gateway_ = std::move(*gw);
    auto rt = TaskRuntime::Create(*config_, clock_, *metrics_, observe::MakeNullLogger());
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    tasks_ = std::move(*rt);
    gateway_->set_tasks(tasks_.get());
    gateway_->set_recorder([this](Outcome& o) {
      ledger::Record r = app::ToRecord(o, config_->ledger);
      {
        std::lock_guard lock(mu_);
        records_[r.id] = std::move(r);
      }
      cv_.notify_all();
    });
    http::ServerOptions so;
    so.host = config_->server.host;
    so.port = config_->server.port;
    Gateway* raw = gateway_.get();
    server_ = std::make_unique<http::Server>(
        *loops_, so,
        [raw](http::ServerRequest& req, http::ResponseWriter& w) { return raw->Handle(req, w); },
        [raw](int status, std::string_view msg) { return raw->ServerErrorBody(status, msg); });
    auto s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    loops_->Start();
  }

  void Stop() {
    conn_.reset();
    if (server_) server_->BeginShutdown();
    if (loops_) loops_->Stop();
    server_.reset();
    tasks_.reset();
    gateway_.reset();
    loops_.reset();
  }

  testing::HttpResult Ask(const std::string& input, const std::string& model = "task:tickets",
                          bool stream = false, testing::HeaderList headers = {}) {
    std::string body = "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":";
    std::string quoted;
    for (char c : input) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    body += "\"" + quoted + "\"}]" + (stream ? ",\"stream\":true" : "") + "}";
    headers.emplace_back("content-type", "application/json");
    // One keep-alive connection (reopened when the server closed it).
    if (conn_ == nullptr || !conn_->open()) {
      auto c = testing::HttpConnection::Connect(server_->port());
      EXPECT_TRUE(c.ok()) << c.status().ToString();
      if (!c.ok()) return {};
      conn_ = std::move(*c);
    }
    return conn_->Request("POST", "/v1/chat/completions", body, headers);
  }

  ledger::Record RecordFor(const std::string& id) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(5), [&] { return records_.contains(id); }))
        << "no record for " << id;
    return records_[id];
  }

  static std::string Content(const std::string& body) {
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(body).at_pointer("/choices/0/message/content").get(v)) return "<none>";
    return std::string(v);
  }
  static std::string Field(const std::string& body, const char* pointer) {
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(body).at_pointer(pointer).get(v)) return "<none>";
    return std::string(v);
  }

  double Metric(const std::string& line_prefix) {
    const std::string text = metrics_->RenderPrometheus();
    const size_t at = text.find(line_prefix + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + line_prefix.size() + 1));
  }

  // Sends tickets [from, to) and waits for the learner and trainer. (The
  // response may reach the client before the gateway queued the label; the
  // record is made after it, so wait for each record first.)
  void Teach(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      auto r = Ask(tickets_[i].text);
      ASSERT_EQ(r.status, 200) << r.body;
      RecordFor(r.headers["x-switchyard-request-id"]);
    }
    ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(30)));
  }

  std::string dir_;
  std::vector<Ticket> tickets_;
  core::SystemClock clock_;
  std::unique_ptr<observe::Registry> metrics_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<http::EventLoops> loops_;
  std::unique_ptr<http::asio::ssl::context> tls_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<TaskRuntime> tasks_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<testing::HttpConnection> conn_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, ledger::Record> records_;
};

TEST_F(TasksTest, StudentLearnsFromTheTeacherThenAnswersLocally) {
  Start();
  // Empty student: the teacher answers and says so.
  auto first = Ask(tickets_[0].text);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["x-switchyard-route"], "teacher/gpt-4o-mini");
  EXPECT_EQ(first.headers["x-switchyard-escalated"], "true");
  EXPECT_EQ(first.headers.count("x-switchyard-confidence"), 0u);
  EXPECT_EQ(Content(first.body), tickets_[0].label);
  ledger::Record r0 = RecordFor(first.headers["x-switchyard-request-id"]);
  EXPECT_EQ(r0.task, "tickets");
  EXPECT_EQ(r0.route, "task:tickets");
  EXPECT_EQ(r0.answered_by, "teacher/gpt-4o-mini");
  EXPECT_TRUE(r0.escalated);
  EXPECT_FALSE(r0.confidence.has_value());

  // Below min_train_labels (120): no student yet.
  Teach(1, 119);
  EXPECT_EQ(tasks_->students().Get("tickets"), nullptr);
  EXPECT_EQ(tasks_->learner().labels_seen("tickets"), 119);

  // The 120th label starts the first training; it finds a threshold.
  Teach(119, 120);
  auto student = tasks_->students().Get("tickets");
  ASSERT_NE(student, nullptr);
  EXPECT_EQ(student->version(), 1);
  EXPECT_TRUE(student->serving());
  EXPECT_TRUE(student->threshold().has_value());
  auto promoted = tasks_->registry().Promoted("tickets");
  ASSERT_TRUE(promoted.ok());
  ASSERT_TRUE(promoted->has_value());
  EXPECT_EQ((*promoted)->version, 1);

  // Unseen tickets: most are answered by the student, always with the
  // teacher's label; the rest escalate with the student's confidence.
  size_t local = 0, escalated = 0;
  for (size_t i = 120; i < tickets_.size(); ++i) {
    auto r = Ask(tickets_[i].text);
    ASSERT_EQ(r.status, 200) << r.body;
    RecordFor(r.headers["x-switchyard-request-id"]);  // metrics are counted before it
    ASSERT_EQ(r.headers["x-switchyard-confidence"].size(), 6u)
        << r.headers["x-switchyard-confidence"];
    if (r.headers["x-switchyard-escalated"] == "false") {
      ++local;
      // (a retraining every 60 new labels may have promoted a later version)
      EXPECT_TRUE(r.headers["x-switchyard-route"].starts_with("student/tickets@v"))
          << r.headers["x-switchyard-route"];
      EXPECT_EQ(Content(r.body), tickets_[i].label) << tickets_[i].text;
      EXPECT_EQ(Field(r.body, "/model"), r.headers["x-switchyard-route"]);
      EXPECT_EQ(Field(r.body, "/object"), "chat.completion");
      EXPECT_EQ(r.headers["x-switchyard-cost-usd"], "0.0000001");
      if (local == 1) {
        ledger::Record rec = RecordFor(r.headers["x-switchyard-request-id"]);
        EXPECT_EQ(rec.task, "tickets");
        EXPECT_EQ(rec.answered_by, r.headers["x-switchyard-route"]);
        EXPECT_FALSE(rec.escalated);
        ASSERT_TRUE(rec.confidence.has_value());
        EXPECT_GE(*rec.confidence, *student->threshold());
        EXPECT_DOUBLE_EQ(rec.cost_usd, kStudentCostUsd);
        EXPECT_EQ(rec.status, 200);
        EXPECT_EQ(rec.error_code, "");
      }
    } else {
      ++escalated;
      EXPECT_EQ(r.headers["x-switchyard-escalated"], "true");
      EXPECT_EQ(r.headers["x-switchyard-route"], "teacher/gpt-4o-mini");
    }
  }
  EXPECT_GT(local, escalated) << local << " local, " << escalated << " escalated";
  EXPECT_EQ(Metric("switchyard_task_requests_total{task=\"tickets\",answered_by=\"student\"}"),
            static_cast<double>(local));
  EXPECT_EQ(Metric("switchyard_task_requests_total{task=\"tickets\",answered_by=\"teacher\"}"),
            static_cast<double>(120 + escalated));
  EXPECT_GT(Metric("switchyard_student_coverage{task=\"tickets\"}"), 0.0);

  // Streamed student answer: role, content, finish chunks and [DONE].
  auto streamed = Ask(tickets_[0].text, "task:tickets", /*stream=*/true);
  ASSERT_EQ(streamed.status, 200);
  if (streamed.headers["x-switchyard-escalated"] == "false") {
    EXPECT_EQ(streamed.headers["content-type"], "text/event-stream");
    EXPECT_NE(streamed.body.find("\"role\":\"assistant\""), std::string::npos);
    EXPECT_NE(streamed.body.find("\"content\":\"" + tickets_[0].label + "\""), std::string::npos);
    EXPECT_NE(streamed.body.find("\"finish_reason\":\"stop\""), std::string::npos);
    EXPECT_TRUE(streamed.body.ends_with("data: [DONE]\n\n")) << streamed.body;
  } else {
    ADD_FAILURE() << "the first ticket (trained on) escalated: " << streamed.body;
  }
}

TEST_F(TasksTest, HeaderNamesTheTaskAndStreamedTeacherAnswersAreLearned) {
  Start();
  auto r = Ask(tickets_[0].text, "anything", /*stream=*/true, {{"x-switchyard-task", "tickets"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "true");
  EXPECT_NE(r.body.find(tickets_[0].label), std::string::npos);
  RecordFor(r.headers["x-switchyard-request-id"]);
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(10)));
  EXPECT_EQ(tasks_->learner().labels_seen("tickets"), 1);
}

TEST_F(TasksTest, UnknownTaskIs404NamingTheConfiguredTasks) {
  Start();
  for (auto r : {Ask("refund my order", "task:nope"),
                 Ask("refund my order", "gpt-4o", false, {{"x-switchyard-task", "nope"}})}) {
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Field(r.body, "/error/code"), "task_not_found");
    EXPECT_EQ(Field(r.body, "/error/message"),
              "unknown task 'nope' (configured tasks: tickets, json_tickets, tmpl_tickets)");
    // Nothing is lost: the refused request is in the ledger with its reason.
    ledger::Record rec = RecordFor(r.headers["x-switchyard-request-id"]);
    EXPECT_EQ(rec.status, 404);
    EXPECT_EQ(rec.error_code, "task_not_found");
    EXPECT_EQ(rec.route, "task:nope");
  }
}

// Config validation and the registry (task names become directory names)
// accept the same task names.
TEST(TaskDefaultsTest, ConfigAndRegistryAgreeOnTaskNames) {
  for (const std::string& name : std::vector<std::string>{
           "tickets", "Tickets_v2.en-GB", "a", std::string(64, 'n'), std::string(65, 'n'), "",
           "my tickets", ".hidden", "a/b", "tick\xC3\xA9ts", "x:y"}) {
    const std::string text =
        "[[providers]]\nname = \"t\"\nkind = \"replay\"\ntrace = \"x.csv\"\n"
        "[[tasks]]\nlabels = [\"x\", \"y\"]\nteacher = \"t/m\"\nname = \"" +
        name + "\"\n";
    auto cfg = config::ParseConfig(
        text, "c.toml",
        [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
    EXPECT_EQ(cfg.ok(), learn::ValidateTaskName(name).ok()) << name;
  }
}

TEST_F(TasksTest, JsonFieldInputReadsTheFieldOrSays400) {
  Start();
  auto ok = Ask("{\"text\": \"refund my order\"}", "task:json_tickets");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Content(ok.body), "billing");
  RecordFor(ok.headers["x-switchyard-request-id"]);
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(10)));
  EXPECT_EQ(tasks_->learner().labels_seen("json_tickets"), 1);

  auto not_json = Ask("refund my order", "task:json_tickets");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(Field(not_json.body, "/error/message"),
            "task 'json_tickets': the last user message is not a JSON object (input = "
            "\"json_field:text\")");
  auto no_field = Ask("{\"body\": \"refund\"}", "task:json_tickets");
  EXPECT_EQ(no_field.status, 400);
  EXPECT_EQ(Field(no_field.body, "/error/message"),
            "task 'json_tickets': the last user message has no string field \"text\"");
}

// Payload retention is "none" (the default): the ledger keeps no bodies, yet
// every unparseable reply is kept (first 4 KB) in the learning store.
TEST_F(TasksTest, UnparseableTeacherReplyIsKeptCountedAndNotTrainedOn) {
  Start();
  ASSERT_EQ(config_->ledger.store_payloads, "none");
  std::vector<std::string> ids;
  for (const char* input : {kUnparseable1, kUnparseable2, kLongReply}) {
    auto r = Ask(input);
    ASSERT_EQ(r.status, 200) << r.body;  // the client still gets the teacher's answer
    EXPECT_EQ(r.headers["x-switchyard-escalated"], "true");
    ids.push_back(r.headers["x-switchyard-request-id"]);
    ledger::Record rec = RecordFor(ids.back());
    EXPECT_EQ(rec.error_code, "");
    EXPECT_EQ(rec.task, "tickets");
  }
  EXPECT_EQ(Content(Ask(kLongReply).body), std::string(5000, 'z'));  // unchanged for the client
  auto good = Ask(tickets_[0].text);
  ASSERT_EQ(good.status, 200);
  RecordFor(good.headers["x-switchyard-request-id"]);
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(10)));
  EXPECT_EQ(Metric("switchyard_task_unparseable_total{task=\"tickets\"}"), 4.0);
  EXPECT_EQ(Metric("switchyard_task_labels_total{task=\"tickets\"}"), 1.0);
  EXPECT_EQ(tasks_->learner().labels_seen("tickets"), 1);
  EXPECT_EQ(tasks_->learner().counts("tickets").unparseable, 4);
  auto store = learn::LabelStore::Open(config_->LedgerPath(), clock_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto labels = (*store)->Load("tickets");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ((*labels)[0].text, tickets_[0].text);
  EXPECT_EQ((*labels)[0].label, tickets_[0].label);
  auto unparsed = (*store)->LoadUnparsed("tickets");
  ASSERT_TRUE(unparsed.ok()) << unparsed.status().ToString();
  ASSERT_EQ(unparsed->size(), 4u);
  EXPECT_EQ((*unparsed)[0].request_id, ids[0]);
  EXPECT_EQ((*unparsed)[0].reply, "I am not sure which queue");
  EXPECT_EQ((*unparsed)[0].error,
            "teacher reply \"I am not sure which queue\" is not one of the labels: billing, "
            "shipping, account, technical");
  EXPECT_EQ((*unparsed)[1].request_id, ids[1]);
  EXPECT_EQ((*unparsed)[1].reply, "sorry");
  EXPECT_EQ((*unparsed)[2].request_id, ids[2]);
  EXPECT_EQ((*unparsed)[2].reply, std::string(4096, 'z'));
  EXPECT_EQ((*unparsed)[2].reply_bytes, 5000);

  // `switchyard tasks` reads the count from the store.
  app::TasksOptions o;
  o.registry_db = config_->LedgerPath();
  o.tasks.push_back({"tickets", {"billing", "shipping", "account", "technical"}, 0.9});
  ASSERT_TRUE(app::ReadTaskStats(o.registry_db, o).ok());
  EXPECT_EQ(o.counts["tickets"].unparseable, 4);
  EXPECT_EQ(o.counts["tickets"].labels, 1);
  o.json = true;
  auto json = app::RenderTasks(o);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_NE(json->find("\"labels_seen\":1,\"unparseable\":4,\"input_unmatched\":0,"
                       "\"demotions\":0,\"live\":null,\"student\":null"),
            std::string::npos)
      << *json;
}

TEST_F(TasksTest, TemplateVarInputReadsTheVariableOrAbstains) {
  Start();
  auto ok = Ask("Route this ticket: refund my order (answer with the queue)", "task:tmpl_tickets");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Content(ok.body), "billing");
  EXPECT_EQ(ok.headers["x-switchyard-escalated"], "true");
  RecordFor(ok.headers["x-switchyard-request-id"]);
  // Not the template's shape: the student abstains, the teacher answers.
  auto miss = Ask("hello there", "task:tmpl_tickets");
  ASSERT_EQ(miss.status, 200) << miss.body;
  EXPECT_EQ(Content(miss.body), "billing");
  EXPECT_EQ(miss.headers["x-switchyard-escalated"], "true");
  EXPECT_EQ(miss.headers["x-switchyard-route"], "teacher/gpt-4o-mini");
  EXPECT_EQ(miss.headers.count("x-switchyard-confidence"), 0u);
  ledger::Record rec = RecordFor(miss.headers["x-switchyard-request-id"]);
  EXPECT_EQ(rec.task, "tmpl_tickets");
  EXPECT_TRUE(rec.escalated);
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(10)));
  // Only the variable's text was learned, and only from the matching request.
  EXPECT_EQ(tasks_->learner().labels_seen("tmpl_tickets"), 1);
  EXPECT_EQ(Metric("switchyard_task_labels_total{task=\"tmpl_tickets\"}"), 1.0);
  EXPECT_EQ(Metric("switchyard_task_input_unmatched_total{task=\"tmpl_tickets\"}"), 1.0);
  EXPECT_EQ(tasks_->learner().counts("tmpl_tickets").input_unmatched, 1);
  auto store = learn::LabelStore::Open(config_->LedgerPath(), clock_);
  ASSERT_TRUE(store.ok());
  auto labels = (*store)->Load("tmpl_tickets");
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 1u);
  EXPECT_EQ((*labels)[0].text, "refund my order");
  EXPECT_EQ((*labels)[0].label, "billing");
  // The count is written at shutdown and kept across a restart.
  Stop();
  EXPECT_EQ((*store)->LoadCounters()->at("tmpl_tickets").input_unmatched, 1);
  Start();
  EXPECT_EQ(tasks_->learner().counts("tmpl_tickets").input_unmatched, 1);
}

TEST_F(TasksTest, StudentCostIsConfiguredPerTask) {
  Start("trace.csv", 0.0, 200, "student_cost_usd = 0.00002\n");
  Teach(0, 120);
  ASSERT_NE(tasks_->students().Get("tickets"), nullptr);
  bool answered_locally = false;
  for (size_t i = 120; i < tickets_.size() && !answered_locally; ++i) {
    auto r = Ask(tickets_[i].text);
    ASSERT_EQ(r.status, 200) << r.body;
    if (r.headers["x-switchyard-escalated"] != "false") continue;
    answered_locally = true;
    EXPECT_EQ(r.headers["x-switchyard-cost-usd"], "0.00002");
    ledger::Record rec = RecordFor(r.headers["x-switchyard-request-id"]);
    EXPECT_DOUBLE_EQ(rec.cost_usd, 0.00002);
  }
  EXPECT_TRUE(answered_locally);
}

TEST(TaskDefaultsTest, ConfigDefaultsAreTheStudentDefaults) {
  const config::TaskConfig task;
  const learn::ModelOptions defaults;
  const learn::ModelOptions o = ModelOptionsFor(task);
  EXPECT_EQ(o.word_ngrams, defaults.word_ngrams);
  EXPECT_EQ(o.minn, defaults.minn);
  EXPECT_EQ(o.maxn, defaults.maxn);
  EXPECT_EQ(o.epoch, defaults.epoch);
  EXPECT_EQ(o.dim, defaults.dim);
  EXPECT_DOUBLE_EQ(task.student_cost_usd, kStudentCostUsd);
}

TEST_F(TasksTest, RestartKeepsThePromotedStudent) {
  Start();
  Teach(0, 120);
  auto before = tasks_->students().Get("tickets");
  ASSERT_NE(before, nullptr);
  ASSERT_TRUE(before->serving());
  Stop();

  Start();
  auto after = tasks_->students().Get("tickets");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->version(), 1);
  EXPECT_TRUE(after->serving());
  EXPECT_EQ(tasks_->learner().labels_seen("tickets"), 120);
  // The first request after the restart is answered by v1 without the teacher.
  auto r = Ask(tickets_[5].text);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-switchyard-escalated"], "false") << r.body;
  EXPECT_EQ(r.headers["x-switchyard-route"], "student/tickets@v1");
  EXPECT_EQ(Content(r.body), tickets_[5].label);
}

}  // namespace
}  // namespace switchyard::gateway

namespace switchyard::gateway {
namespace {

// The teacher changes its mind (every label rotated): with shadow_sample 1
// every request the student would accept is compared with the teacher, and
// after min_live_samples accepted disagreements the student is demoted.
TEST_F(TasksTest, StudentIsDemotedWhenLiveAgreementDrops) {
  Start();
  Teach(0, 120);
  auto v1 = tasks_->students().Get("tickets");
  ASSERT_NE(v1, nullptr);
  ASSERT_TRUE(v1->serving());
  Stop();

  const std::map<std::string, std::string> rotate = {{"billing", "shipping"},
                                                     {"shipping", "account"},
                                                     {"account", "technical"},
                                                     {"technical", "billing"}};
  {
    std::ofstream trace(dir_ + "/flipped.csv");
    trace << "input,response\n";
    for (const auto& t : tickets_) trace << t.text << "," << rotate.at(t.label) << "\n";
  }
  Start("flipped.csv", /*shadow_sample=*/1.0, /*min_live_samples=*/10);
  ASSERT_TRUE(tasks_->students().Get("tickets")->serving());
  for (size_t i = 0; i < 30; ++i) {
    auto r = Ask(tickets_[i].text);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["x-switchyard-escalated"], "true");  // sampled, then demoted
    EXPECT_EQ(Content(r.body), rotate.at(tickets_[i].label));
    RecordFor(r.headers["x-switchyard-request-id"]);
  }
  ASSERT_TRUE(tasks_->learner().WaitIdle(std::chrono::seconds(10)));
  auto now = tasks_->students().Get("tickets");
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->version(), 1);
  EXPECT_FALSE(now->serving());
  auto record = tasks_->registry().Get("tickets", 1);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->status, learn::StudentStatus::kDemoted);
  EXPECT_TRUE(
      record->reason.starts_with("live agreement lower bound 0.0000 < target 0.9000 after "))
      << record->reason;
  auto promoted = tasks_->registry().Promoted("tickets");
  ASSERT_TRUE(promoted.ok());
  EXPECT_FALSE(promoted->has_value());

  // The live statistics are written at shutdown: `switchyard tasks` shows
  // them, and a restart continues from them.
  const learn::LiveStats live = tasks_->live().For("tickets", 1)->Stats();
  EXPECT_EQ(live.compared, 30u);
  EXPECT_GE(live.accepted, 10u);
  EXPECT_EQ(tasks_->learner().counts("tickets").demotions, 1);
  Stop();
  app::TasksOptions o;
  o.registry_db = config_->LedgerPath();
  o.tasks.push_back({"tickets", {"billing", "shipping", "account", "technical"}, 0.9});
  ASSERT_TRUE(app::ReadTaskStats(o.registry_db, o).ok());
  const std::pair<std::string, int64_t> v1_key("tickets", 1);
  ASSERT_EQ(o.live.count(v1_key), 1u);
  EXPECT_EQ(o.live[v1_key].compared, live.compared);
  EXPECT_EQ(o.live[v1_key].agreed, live.agreed);
  EXPECT_EQ(o.live[v1_key].accepted, live.accepted);
  EXPECT_EQ(o.live[v1_key].accepted_agreed, live.accepted_agreed);
  EXPECT_EQ(o.counts["tickets"].demotions, 1);
  auto table = app::RenderTasks(o);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  char cell[96];
  std::snprintf(cell, sizeof(cell), "%.3f (n=%llu, lower %.3f)", live.accepted_agreement,
                static_cast<unsigned long long>(live.accepted), live.lower_bound);
  const size_t row = table->find("\ntickets ");
  ASSERT_NE(row, std::string::npos) << *table;
  const std::string line = table->substr(row + 1, table->find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find("demoted"), std::string::npos) << line;
  EXPECT_NE(line.find(cell), std::string::npos) << line << "\nexpected " << cell;
  EXPECT_NE(line.find("live agreement lower bound 0.0000 < target 0.9000"), std::string::npos)
      << line;

  Start("flipped.csv", 1.0, 10);
  const learn::LiveStats restored = tasks_->live().For("tickets", 1)->Stats();
  EXPECT_EQ(restored.compared, live.compared);
  EXPECT_EQ(restored.accepted, live.accepted);
  EXPECT_EQ(restored.accepted_agreed, live.accepted_agreed);
  EXPECT_EQ(tasks_->learner().counts("tickets").demotions, 1);
}

}  // namespace
}  // namespace switchyard::gateway
