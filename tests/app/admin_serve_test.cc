// Black box: the dashboard and the admin API through the real `switchyard serve`
// — the page and its assets at / with their headers, the admin endpoints'
// figures after a real request, 405 on a wrong method, and the admin key when
// auth is on (the page itself stays public; its data does not).
#include <signal.h>
#include <simdjson.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace switchyard::app {
namespace {

using std::chrono::seconds;
using testing::ChildProcess;
using testing::FakeResponse;
using testing::FakeUpstream;
using testing::HttpRequest;

const std::string kBinary = std::string(SWITCHYARD_BINARY_DIR) + "/switchyard";
constexpr char kAdminKey[] = "sy-admin-test-key";

FakeResponse Answer() {
  FakeResponse r;
  r.headers = {{"content-type", "application/json"}};
  r.body = R"({"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
           R"("choices":[{"index":0,"message":{"role":"assistant","content":"ok"},)"
           R"("finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":100,)"
           R"("total_tokens":1100}})";
  return r;
}

class AdminServeTest : public ::testing::Test {
 protected:
  // Starts `switchyard serve` with one OpenAI-kind provider at the fake
  // upstream; `auth` adds [guard] auth = "keys" with an admin key.
  void Start(bool auth) {
    up_.SetDefault(Answer());
    const std::string config = dir_.File("switchyard.toml");
    std::ofstream f(config);
    f << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 1\n\n"
      << "[storage]\ndata_dir = \"" << dir_.path() << "/data\"\n\n";
    if (auth) f << "[guard]\nauth = \"keys\"\nadmin_key_env = \"SY_TEST_ADMIN_KEY\"\n\n";
    f << "[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"" << up_.base_url()
      << "/v1\"\nmodels = [\"gpt-4o-mini\"]\nmax_retries = 0\n";
    f.close();
    auto child = ChildProcess::Start(kBinary, {"serve", "--config", config},
                                     {{"SY_TEST_ADMIN_KEY", kAdminKey}});
    ASSERT_TRUE(child.ok()) << child.status().ToString();
    child_ = std::move(*child);
    ASSERT_TRUE(child_->WaitForOutput("switchyard is listening on http://127.0.0.1:", seconds(15)))
        << child_->Output();
    std::smatch m;
    const std::string out = child_->Output();
    ASSERT_TRUE(
        std::regex_search(out, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)")));
    port_ = static_cast<uint16_t>(std::stoi(m[1]));
    ASSERT_TRUE(testing::WaitForHttpOk(port_, "/healthz", seconds(10))) << child_->Output();
  }

  void TearDown() override {
    if (child_) {
      child_->Signal(SIGTERM);
      child_->WaitExit(seconds(20));
    }
  }

  testing::HttpResult Admin(const std::string& target, const std::string& method = "GET",
                            const std::string& key = "") {
    testing::HeaderList headers;
    if (!key.empty()) headers.emplace_back("authorization", "Bearer " + key);
    return HttpRequest(port_, method, target, "", headers);
  }

  testing::ScopedTempDir dir_{"admin_serve"};
  FakeUpstream up_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

TEST_F(AdminServeTest, ServesThePageAndItsAssetsFromTheBinary) {
  Start(/*auth=*/false);
  auto page = HttpRequest(port_, "GET", "/");
  ASSERT_TRUE(page.error.ok()) << page.error.ToString();
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(page.headers["cache-control"], "no-cache");
  EXPECT_NE(page.headers["content-security-policy"].find("default-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("<title>Switchyard dashboard</title>"), std::string::npos);
  auto js = HttpRequest(port_, "GET", "/dashboard/app.js?v=1");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  auto css = HttpRequest(port_, "GET", "/dashboard/style.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.headers["content-type"], "text/css; charset=utf-8");
  // Not an asset: the gateway's 404.
  auto missing = HttpRequest(port_, "GET", "/dashboard/missing.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("unknown path /dashboard/missing.js"), std::string::npos);
}

TEST_F(AdminServeTest, AdminFiguresFollowTheTrafficAndWrongMethodsAre405) {
  Start(/*auth=*/false);
  auto chat = HttpRequest(port_, "POST", "/v1/chat/completions",
                          R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})",
                          {{"content-type", "application/json"}});
  ASSERT_EQ(chat.status, 200) << chat.body;
  // The ledger writer commits within flush_interval_ms (50 ms); poll for it.
  simdjson::dom::parser parser;
  int64_t requests = 0;
  std::string body;
  for (int i = 0; i < 100 && requests == 0; ++i) {
    auto summary = Admin("/admin/summary");
    ASSERT_EQ(summary.status, 200) << summary.body;
    body = summary.body;
    requests = int64_t(parser.parse(body)["windows"]["all"]["requests"]);
    if (requests == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(requests, 1) << body;
  auto all = parser.parse(body)["windows"]["all"];
  EXPECT_EQ(int64_t(all["frontier"]), 1);
  EXPECT_GT(double(all["spend_usd"]), 0);  // gpt-4o-mini from the embedded price book

  auto providers = Admin("/admin/providers");
  ASSERT_EQ(providers.status, 200) << providers.body;
  auto p = parser.parse(providers.body)["providers"].at(0);
  EXPECT_EQ(std::string_view(p["name"]), "openai");
  EXPECT_EQ(std::string_view(p["circuit"]), "closed");
  EXPECT_EQ(int64_t(p["requests"]), 1);

  auto post = Admin("/admin/summary", "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(std::string_view(parser.parse(post.body)["error"]["message"]),
            "method POST is not allowed on /admin/summary (allowed: GET)");
  auto bad = Admin("/admin/timeseries?bucket=week");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(std::string_view(parser.parse(bad.body)["error"]["message"]),
            "bucket: expected one of minute, hour, day, got \"week\"");
}

TEST_F(AdminServeTest, WithAuthOnThePageIsPublicButItsDataNeedsTheAdminKey) {
  Start(/*auth=*/true);
  EXPECT_EQ(HttpRequest(port_, "GET", "/").status, 200);
  simdjson::dom::parser parser;
  auto none = Admin("/admin/summary");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(std::string_view(parser.parse(none.body)["error"]["message"]), "missing admin key");
  auto wrong = Admin("/admin/summary", "GET", "not-the-key");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(std::string_view(parser.parse(wrong.body)["error"]["message"]), "invalid admin key");
  auto ok = Admin("/admin/summary", "GET", kAdminKey);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

}  // namespace
}  // namespace switchyard::app
