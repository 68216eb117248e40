// ReplayProvider: CSV and JSONL traces, lookup by trimmed input, load errors
// with their exact messages, and a miss answered by the gateway as a 404
// "replay_miss".
#include "providers/replay_provider.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../gateway/gateway_fixture.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::providers {
namespace {

class ReplayProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sy_replay_");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  config::ProviderConfig Config(const std::string& trace) {
    config::ProviderConfig cfg;
    cfg.name = "rec";
    cfg.kind = "replay";
    cfg.trace = trace;
    return cfg;
  }

  std::string dir_;
};

TEST_F(ReplayProviderTest, CsvWithCustomColumnsAnswersTrimmedInputs) {
  auto cfg = Config(Write("t.csv",
                          "id,question,label\n"
                          "1,  the market rose  ,up\n"
                          "2,shares fell,down\n"
                          "3,\"a, quoted input\",neutral\n"));
  cfg.trace_input = "question";
  cfg.trace_output = "label";
  auto p = ReplayProvider::Create(cfg);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->size(), 3u);
  ASSERT_NE((*p)->Find("the market rose"), nullptr);
  EXPECT_EQ(*(*p)->Find("the market rose"), "up");
  ASSERT_NE((*p)->Find("\n shares fell \t"), nullptr);
  EXPECT_EQ(*(*p)->Find("\n shares fell \t"), "down");
  ASSERT_NE((*p)->Find("a, quoted input"), nullptr);
  EXPECT_EQ(*(*p)->Find("a, quoted input"), "neutral");
  EXPECT_EQ((*p)->Find("shares rose"), nullptr);
  EXPECT_EQ((*p)->config().name, "rec");
}

TEST_F(ReplayProviderTest, JsonlTraceSkipsBlankLines) {
  auto p =
      ReplayProvider::Create(Config(Write("t.jsonl",
                                          "{\"input\": \" hello \", \"response\": \"hi\"}\n"
                                          "\n"
                                          "{\"input\": \"bye\", \"response\": \"see you\"}\n")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->size(), 2u);
  ASSERT_NE((*p)->Find("hello"), nullptr);
  EXPECT_EQ(*(*p)->Find("hello"), "hi");
  ASSERT_NE((*p)->Find("bye "), nullptr);
  EXPECT_EQ(*(*p)->Find("bye "), "see you");
}

TEST_F(ReplayProviderTest, MissingFile) {
  const std::string path = dir_ + "/absent.csv";
  auto p = ReplayProvider::Create(Config(path));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "provider 'rec': trace " + path + ": " + path +
                                      ": cannot read file (No such file or directory)");
}

TEST_F(ReplayProviderTest, MissingCsvColumn) {
  const std::string path = Write("t.csv", "input,answer\nq,a\n");
  auto p = ReplayProvider::Create(Config(path));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(),
            "provider 'rec': trace " + path + ": " + path + ": missing column 'response'");
}

TEST_F(ReplayProviderTest, MalformedJsonlLine) {
  const std::string path = Write("t.jsonl",
                                 "{\"input\": \"a\", \"response\": \"b\"}\n"
                                 "{\"input\": \"c\", \n");
  auto p = ReplayProvider::Create(Config(path));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      p.status().message().rfind("provider 'rec': trace " + path + ":2: not a JSON object (", 0),
      0u)
      << p.status().message();
}

TEST_F(ReplayProviderTest, JsonlLineWithoutTheFields) {
  const std::string path = Write("t.jsonl", "{\"input\": \"a\", \"output\": \"b\"}\n");
  auto p = ReplayProvider::Create(Config(path));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "provider 'rec': trace " + path +
                                      ":1: expected string fields \"input\" and \"response\"");
}

TEST_F(ReplayProviderTest, EmptyTraces) {
  const std::string csv = Write("t.csv", "input,response\n");
  auto p = ReplayProvider::Create(Config(csv));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().message(), "provider 'rec': trace " + csv + ": no recorded answers");

  const std::string jsonl = Write("t.jsonl", "\n\n");
  auto q = ReplayProvider::Create(Config(jsonl));
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().message(), "provider 'rec': trace " + jsonl + ": no recorded answers");
}

// Through the gateway: a hit answers with the recorded text; a miss is a 404
// with code "replay_miss" naming the trace and the input.
class ReplayGatewayTest : public gateway::GatewayFixture {
 protected:
  void TearDown() override {
    Stop();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(ReplayGatewayTest, HitAnswersAndMissIs404ReplayMiss) {
  dir_ = testing::MakeTempDir("sy_replay_gw_");
  ASSERT_FALSE(dir_.empty());
  const std::string trace = dir_ + "/t.csv";
  std::ofstream(trace) << "input,response\nthe market rose,up\n";
  Start("[[providers]]\nname = \"rec\"\nkind = \"replay\"\nmodels = [\"m\"]\ntrace = \"" + trace +
        "\"\n");
  const testing::HeaderList headers = {{"content-type", "application/json"}};
  auto hit = testing::HttpRequest(
      port(), "POST", "/v1/chat/completions",
      R"({"model":"rec/m","messages":[{"role":"user","content":"the market rose"}]})", headers);
  ASSERT_TRUE(hit.error.ok()) << hit.error.ToString();
  ASSERT_EQ(hit.status, 200) << hit.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(hit.body).get(doc)) << hit.body;
  std::string_view content;
  ASSERT_FALSE(doc["choices"].at(0)["message"]["content"].get(content)) << hit.body;
  EXPECT_EQ(content, "up");

  auto miss = testing::HttpRequest(
      port(), "POST", "/v1/chat/completions",
      R"({"model":"rec/m","messages":[{"role":"user","content":"shares fell"}]})", headers);
  ASSERT_TRUE(miss.error.ok()) << miss.error.ToString();
  EXPECT_EQ(miss.status, 404) << miss.body;
  simdjson::dom::parser parser2;
  ASSERT_FALSE(parser2.parse(miss.body).get(doc)) << miss.body;
  std::string_view code;
  std::string_view message;
  ASSERT_FALSE(doc["error"]["code"].get(code)) << miss.body;
  ASSERT_FALSE(doc["error"]["message"].get(message)) << miss.body;
  EXPECT_EQ(code, "replay_miss");
  EXPECT_EQ(message,
            "provider 'rec': input not in the replay trace " + trace + ": \"shares fell\"");
  // Outcomes are recorded after each response, on the connection's loop: the
  // two may arrive in either order.
  auto outcomes = WaitForOutcomes(2);
  ASSERT_EQ(outcomes.size(), 2u);
  const auto& miss_outcome = outcomes[0].status == 404 ? outcomes[0] : outcomes[1];
  const auto& hit_outcome = outcomes[0].status == 404 ? outcomes[1] : outcomes[0];
  EXPECT_EQ(hit_outcome.status, 200);
  EXPECT_EQ(miss_outcome.status, 404);
  EXPECT_EQ(miss_outcome.error_code, "replay_miss");
}

}  // namespace
}  // namespace switchyard::providers
