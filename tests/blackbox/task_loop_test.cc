// The task loop through the real binary on generated data: a replay teacher
// labels the first requests, the student trains, is promoted and answers
// locally; after SIGTERM and a restart on the same config the promoted
// student answers the first request.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::testing {
namespace {

using std::chrono::seconds;

const std::string kBinary = std::string(SWITCHYARD_BINARY_DIR) + "/switchyard";

struct Row {
  std::string text;
  std::string label;
};

// 300 distinct rows over three labels, each label with its own words.
std::vector<Row> MakeRows() {
  const std::vector<std::string> labels = {"sports", "weather", "finance"};
  const std::vector<std::vector<std::string>> words = {
      {"football", "goal", "match", "striker", "league", "referee", "tennis", "stadium"},
      {"rain", "storm", "sunny", "forecast", "snow", "wind", "cloudy", "thunder"},
      {"stocks", "bank", "interest", "market", "dividend", "bond", "inflation", "shares"},
  };
  const std::vector<std::string> openers = {"today",    "news",   "report", "update",
                                            "breaking", "latest", "story"};
  std::vector<Row> rows;
  for (int i = 0; i < 300; ++i) {
    const int l = i % 3;
    const auto& pool = words[l];
    rows.push_back({openers[i % 7] + " " + pool[(i / 3) % 8] + " " + pool[(i / 24 + 3) % 8] +
                        " item " + std::to_string(i),
                    labels[l]});
  }
  return rows;
}

std::string Body(const std::string& input) {
  return R"({"model":"task:news","messages":[{"role":"user","content":")" + input + R"("}]})";
}

std::string Content(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view content;
  if (parser.parse(body).get(doc) || doc["choices"].at(0)["message"]["content"].get(content)) {
    return "<unparseable: " + body + ">";
  }
  return std::string(content);
}

class TaskLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("switchyard-taskloop-");
    ASSERT_FALSE(dir_.empty());
    rows_ = MakeRows();
    std::ofstream trace(dir_ + "/trace.csv");
    trace << "input,response\n";
    for (const auto& r : rows_) trace << r.text << "," << r.label << "\n";
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    config_ = dir_ + "/switchyard.toml";
    std::ofstream(config_) << "[server]\nlisten = \"127.0.0.1:" << std::to_string(port_)
                           << "\"\nthreads = 2\nshutdown_grace_ms = 5000\n\n"
                           << "[storage]\ndata_dir = \"" << dir_ << "/data\"\n\n"
                           << "[[providers]]\nname = \"teacher\"\nkind = \"replay\"\ntrace = \""
                           << dir_ << "/trace.csv\"\n\n"
                           << "[[tasks]]\nname = \"news\"\n"
                           << "labels = [\"sports\", \"weather\", \"finance\"]\n"
                           << "teacher = \"teacher/gpt-4o-mini\"\ntarget_agreement = 0.8\n"
                           << "min_train_labels = 100\nretrain_every = 100\nshadow_sample = 0\n";
  }
  void TearDown() override {
    process_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void StartServe() {
    auto child = ChildProcess::Start(kBinary, {"serve", "--config", config_});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    process_ = std::move(*child);
    ASSERT_TRUE(WaitForHttpOk(port_, "/healthz", seconds(10))) << process_->Output();
  }

  void StopServe() {
    process_->Signal(SIGTERM);
    auto code = process_->WaitExit(seconds(10));
    ASSERT_TRUE(code.has_value()) << process_->Output();
    EXPECT_EQ(*code, 0) << process_->Output();
    process_.reset();
  }

  std::string dir_;
  std::string config_;
  uint16_t port_ = 0;
  std::vector<Row> rows_;
  std::unique_ptr<ChildProcess> process_;
};

TEST_F(TaskLoopTest, StudentTakesOverAndSurvivesRestart) {
  StartServe();
  struct StudentAnswer {
    size_t row;
    std::string content;
    std::string route;
  };
  std::mutex mu;
  std::vector<StudentAnswer> student;
  std::atomic<bool> promoted{false};
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t) {
    senders.emplace_back([&] {
      while (!promoted.load() && std::chrono::steady_clock::now() < deadline) {
        const size_t i = next.fetch_add(1) % rows_.size();
        HttpResult r = HttpRequest(port_, "POST", "/v1/chat/completions", Body(rows_[i].text),
                                   {{"content-type", "application/json"}});
        if (!r.error.ok() || r.status != 200) {
          if (failures.fetch_add(1) == 0) {
            ADD_FAILURE() << r.error.ToString() << " " << r.status << " " << r.body;
          }
          continue;
        }
        if (r.headers["x-switchyard-escalated"] == "false") {
          std::lock_guard lock(mu);
          student.push_back({i, Content(r.body), r.headers["x-switchyard-route"]});
          promoted.store(true);
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(promoted.load()) << "no student answer after " << next.load() << " requests\n"
                               << process_->Output();
  ASSERT_FALSE(student.empty());
  size_t agree = 0;
  for (const auto& a : student) {
    EXPECT_EQ(a.route.rfind("student/news@v", 0), 0u) << a.route;
    if (a.content == rows_[a.row].label) ++agree;
  }
  EXPECT_GE(agree, 1u);
  EXPECT_GE(agree * 10, student.size() * 9) << agree << " of " << student.size();

  // A restart on the same config keeps the promoted student: the first
  // request (a row the student answered before) is answered locally.
  const StudentAnswer probe = student.back();
  StopServe();
  StartServe();
  HttpResult first = HttpRequest(port_, "POST", "/v1/chat/completions", Body(rows_[probe.row].text),
                                 {{"content-type", "application/json"}});
  ASSERT_TRUE(first.error.ok()) << first.error.ToString();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.headers["x-switchyard-route"].rfind("student/", 0), 0u)
      << first.headers["x-switchyard-route"] << "\n"
      << process_->Output();
  EXPECT_EQ(first.headers["x-switchyard-escalated"], "false");
  EXPECT_EQ(Content(first.body), probe.content);
  StopServe();
}

}  // namespace
}  // namespace switchyard::testing
