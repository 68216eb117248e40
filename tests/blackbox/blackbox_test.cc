// The switchyard binary end to end: a temp config pointing a provider at a
// FakeUpstream, the process started with ChildProcess, requests over loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kBinary = std::string(SWITCHYARD_BINARY_DIR) + "/switchyard";

constexpr char kAnswer[] =
    R"({"id":"chatcmpl-bb","object":"chat.completion","created":1,"model":"local-model",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"pong"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";

const std::vector<std::string> kFrames = {
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"po\"},"
    "\"finish_reason\":null}]}\n\n",
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ng\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: "
    "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}"
    "\n\n",
    "data: [DONE]\n\n",
};

std::string Chat(const std::string& extra = "") {
  return R"({"model":"default","messages":[{"role":"user","content":"ping"}])" + extra + "}";
}

class BlackboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("switchyard-blackbox-");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    process_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // Writes a config with one provider "local" at `upstream` and a "default"
  // route over it, starts `switchyard serve` on a free port and waits for
  // /healthz.
  void StartServe(const FakeUpstream& upstream) {
    port_ = FreePort();
    ASSERT_NE(port_, 0);
    const std::string config =
        WriteFile("switchyard.toml",
                  "[server]\nlisten = \"127.0.0.1:" + std::to_string(port_) +
                      "\"\nthreads = 2\nshutdown_grace_ms = 5000\n\n"
                      "[storage]\ndata_dir = \"" +
                      dir_ +
                      "/data\"\n\n"
                      "[[providers]]\nname = \"local\"\nkind = \"openai\"\nbase_url = \"" +
                      upstream.base_url() +
                      "/v1\"\nmodels = [\"local-model\"]\nretry_base_ms = 5\nretry_max_ms = 20\n\n"
                      "[[routes]]\nname = \"default\"\ntargets = [\"local/local-model\"]\n");
    auto child = ChildProcess::Start(kBinary, {"serve", "--config", config});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    process_ = std::move(*child);
    ASSERT_TRUE(WaitForHttpOk(port_, "/healthz", seconds(10))) << process_->Output();
  }

  // Runs the binary to completion; returns its exit code (-1 on timeout).
  int RunToExit(std::vector<std::string> args, std::string* output) {
    auto child = ChildProcess::Start(kBinary, std::move(args), {}, dir_);
    if (!child.ok()) {
      ADD_FAILURE() << child.status().ToString();
      return -1;
    }
    auto code = (*child)->WaitExit(seconds(10));
    *output = (*child)->Output();
    return code.value_or(-1);
  }

  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

TEST_F(BlackboxTest, PlainAndStreamedChatReturnTheUpstreamAnswer) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(kAnswer));
  up.Enqueue(SseResponse(kFrames, milliseconds(10)));
  StartServe(up);

  HttpResult plain = HttpRequest(port_, "POST", "/v1/chat/completions", Chat());
  ASSERT_TRUE(plain.error.ok()) << plain.error.ToString();
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body, kAnswer);
  EXPECT_EQ(plain.headers["x-switchyard-route"], "local/local-model");
  EXPECT_EQ(plain.headers["x-switchyard-attempts"], "1");

  StreamResult streamed = HttpStream(port_, "/v1/chat/completions", Chat(R"(,"stream":true)"));
  ASSERT_TRUE(streamed.error.ok()) << streamed.error.ToString();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_EQ(streamed.headers["content-type"], "text/event-stream");
  EXPECT_EQ(streamed.headers["x-switchyard-route"], "local/local-model");
  EXPECT_EQ(streamed.headers["x-switchyard-attempts"], "1");
  EXPECT_EQ(streamed.body, kFrames[0] + kFrames[1] + kFrames[3]);  // usage chunk not asked for

  ASSERT_EQ(up.request_count(), 2u);
  EXPECT_EQ(up.requests()[0].target, "/v1/chat/completions");
  EXPECT_EQ(up.requests()[0].body,
            R"({"model":"local-model","messages":[{"role":"user","content":"ping"}]})");
}

TEST_F(BlackboxTest, BadJsonIs400WithTheExactMessage) {
  FakeUpstream up;
  StartServe(up);
  HttpResult r = HttpRequest(port_, "POST", "/v1/chat/completions", R"({"model":"default",)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body,
            R"({"error":{"message":"request body is not valid JSON: JSON document ended early in )"
            R"(the middle of an object or array.","type":"invalid_request_error","param":null,)"
            R"("code":null}})");
  HttpResult model = HttpRequest(port_, "POST", "/v1/chat/completions",
                                 R"({"model":7,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(model.status, 400);
  EXPECT_EQ(
      model.body,
      R"({"error":{"message":"field 'model' must be a string","type":"invalid_request_error",)"
      R"("param":"model","code":null}})");
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(BlackboxTest, TwoUpstream500sThenSuccessIs200) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(R"({"error":{"message":"boom"}})", 500));
  up.Enqueue(JsonResponse(R"({"error":{"message":"boom"}})", 500));
  up.Enqueue(JsonResponse(kAnswer));
  StartServe(up);
  HttpResult r = HttpRequest(port_, "POST", "/v1/chat/completions", Chat());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kAnswer);
  EXPECT_EQ(r.headers["x-switchyard-attempts"], "3");
  EXPECT_EQ(up.request_count(), 3u);
}

TEST_F(BlackboxTest, SigtermExitsZeroWithinSeconds) {
  FakeUpstream up;
  StartServe(up);
  const auto start = std::chrono::steady_clock::now();
  process_->Signal(SIGTERM);
  auto code = process_->WaitExit(seconds(5));
  ASSERT_TRUE(code.has_value()) << process_->Output();
  EXPECT_EQ(*code, 0) << process_->Output();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

TEST_F(BlackboxTest, SigtermLetsAnInFlightRequestComplete) {
  FakeUpstream up;
  FakeResponse slow = JsonResponse(kAnswer);
  slow.head_delay = milliseconds(500);
  up.Enqueue(slow);
  StartServe(up);

  HttpResult in_flight;
  std::thread client(
      [&] { in_flight = HttpRequest(port_, "POST", "/v1/chat/completions", Chat()); });
  ASSERT_TRUE(up.WaitForRequests(1, seconds(5)));
  process_->Signal(SIGTERM);
  auto code = process_->WaitExit(seconds(5));
  client.join();
  ASSERT_TRUE(code.has_value()) << process_->Output();
  EXPECT_EQ(*code, 0) << process_->Output();
  ASSERT_TRUE(in_flight.error.ok()) << in_flight.error.ToString();
  EXPECT_EQ(in_flight.status, 200);
  EXPECT_EQ(in_flight.body, kAnswer);
}

TEST_F(BlackboxTest, ConfigErrorExitsTwoWithOneLineNamingFileAndKey) {
  const std::string config =
      WriteFile("bad.toml", "[server]\nlisten = \"127.0.0.1:0\"\nthreads = \"many\"\n");
  std::string output;
  EXPECT_EQ(RunToExit({"serve", "--config", config}, &output), 2);
  EXPECT_EQ(output, "switchyard: config error: " + config +
                        ": server.threads: expected an integer, got a string\n");
}

TEST_F(BlackboxTest, MissingConfigFileExitsTwo) {
  std::string output;
  EXPECT_EQ(RunToExit({"serve", "--config", dir_ + "/none.toml"}, &output), 2);
  EXPECT_EQ(output, "switchyard: config error: " + dir_ +
                        "/none.toml: cannot read file: No such file or directory\n");
}

TEST_F(BlackboxTest, BusyPortExitsOneNamingTheAddress) {
  FakeUpstream up;
  StartServe(up);
  const std::string config = dir_ + "/switchyard.toml";
  std::string output;
  EXPECT_EQ(RunToExit({"serve", "--config", config}, &output), 1);
  EXPECT_NE(output.find("switchyard: cannot listen on 127.0.0.1:" + std::to_string(port_) +
                        ": Address already in use\n"),
            std::string::npos)
      << output;
}

TEST_F(BlackboxTest, VersionAndHelpExitZero) {
  std::string output;
  EXPECT_EQ(RunToExit({"version"}, &output), 0);
  EXPECT_TRUE(output.starts_with("switchyard ")) << output;
  EXPECT_EQ(RunToExit({"--help"}, &output), 0);
  EXPECT_NE(output.find("serve"), std::string::npos) << output;
  EXPECT_EQ(RunToExit({"serve", "--help"}, &output), 0);
  EXPECT_NE(output.find("--config"), std::string::npos) << output;
  EXPECT_EQ(RunToExit({"version", "--help"}, &output), 0);
}

TEST_F(BlackboxTest, UsageErrorsExitTwo) {
  std::string output;
  EXPECT_EQ(RunToExit({}, &output), 2);
  EXPECT_EQ(RunToExit({"serve", "--bogus"}, &output), 2);
  EXPECT_EQ(RunToExit({"frobnicate"}, &output), 2);
}

}  // namespace
}  // namespace switchyard::testing
