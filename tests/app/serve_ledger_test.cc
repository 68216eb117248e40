// Black box: the real `switchyard` binary and its ledger. SIGTERM under load
// loses no record; a corrupt or locked ledger file stops the start with one
// clear line; `switchyard ledger stats --json` after a mixed run reports the
// requests sent and the hand-computed spend.
#include <signal.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/sqlite_store.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "support/process.h"

namespace switchyard::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildProcess;
using testing::FakeResponse;
using testing::FakeUpstream;
using testing::HttpConnection;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;
using testing::RecordedRequest;
using testing::SseResponse;

constexpr char kIdHeader[] = "x-switchyard-request-id";
const std::string kBinary = std::string(SWITCHYARD_BINARY_DIR) + "/switchyard";

std::string Usage(int prompt, int cached, int completion) {
  std::string u = R"({"prompt_tokens":)" + std::to_string(prompt) + R"(,"completion_tokens":)" +
                  std::to_string(completion) + R"(,"total_tokens":)" +
                  std::to_string(prompt + completion);
  if (cached > 0)
    u += R"(,"prompt_tokens_details":{"cached_tokens":)" + std::to_string(cached) + "}";
  return u + "}";
}

FakeResponse JsonAnswer(const std::string& usage) {
  return JsonResponse(
      R"({"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"ok"},)"
      R"("finish_reason":"stop"}],"usage":)" +
      usage + "}");
}

FakeResponse SseAnswer(const std::string& usage, milliseconds delay = {}) {
  const std::string head = R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,)"
                           R"("model":"gpt-4o-mini-2024-07-18",)";
  return SseResponse({head + R"("choices":[{"index":0,"delta":{"role":"assistant",)"
                             R"("content":"ok"},"finish_reason":null}]})"
                             "\n\n",
                      head + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
                             "\n\n",
                      head + R"("choices":[],"usage":)" + usage + "}\n\n", "data: [DONE]\n\n"},
                     delay);
}

std::string ChatBody(const std::string& prompt, bool stream) {
  return std::string(R"({"model":"gpt-4o-mini",)") + (stream ? R"("stream":true,)" : "") +
         R"("messages":[{"role":"user","content":")" + prompt + R"("}]})";
}

// Reads every record of a ledger file (read-only), by id.
std::map<std::string, ledger::Record> ReadLedger(const std::string& path) {
  std::map<std::string, ledger::Record> out;
  ledger::SqliteOptions so;
  so.read_only = true;
  auto store = ledger::SqliteStore::Open(path, so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  core::Status s = (*store)->Scan({}, [&](ledger::Record& r) {
    EXPECT_EQ(out.count(r.id), 0u) << "duplicate id " << r.id;
    out.emplace(r.id, std::move(r));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class ServeLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sy_app_serve_");
    ASSERT_FALSE(dir_.empty());
    data_dir_ = dir_ + "/data";
    ledger_path_ = data_dir_ + "/ledger.db";
    config_path_ = dir_ + "/switchyard.toml";
  }
  void TearDown() override {
    child_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes a config: one OpenAI-kind provider at `upstream`, any free port,
  // data in `data_dir` (default: data_dir_), to `path` (default: config_path_).
  void WriteConfig(const std::string& upstream, std::string path = "", std::string data_dir = "") {
    if (path.empty()) path = config_path_;
    if (data_dir.empty()) data_dir = data_dir_;
    std::ofstream f(path);
    f << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 2\nshutdown_grace_ms = 5000\n\n"
      << "[storage]\ndata_dir = \"" << data_dir << "\"\n\n"
      << "[[providers]]\nname = \"openai\"\nkind = \"openai\"\nbase_url = \"" << upstream
      << "/v1\"\nmodels = [\"gpt-4o-mini\"]\nmax_retries = 0\nbreaker_failures = 100000\n";
    ASSERT_TRUE(f.good());
  }

  std::unique_ptr<ChildProcess> Run(std::vector<std::string> args) {
    auto child = ChildProcess::Start(kBinary, std::move(args));
    EXPECT_TRUE(child.ok()) << child.status().ToString();
    return child.ok() ? std::move(*child) : nullptr;
  }

  // Starts `switchyard serve` and waits until it answers /healthz; sets port_.
  void StartServe() {
    child_ = Run({"serve", "--config", config_path_});
    ASSERT_NE(child_, nullptr);
    const std::string banner = "switchyard is listening on http://127.0.0.1:";
    ASSERT_TRUE(child_->WaitForOutput(banner, seconds(15))) << child_->Output();
    std::smatch m;
    const std::string out = child_->Output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)")))
        << out;
    port_ = static_cast<uint16_t>(std::stoi(m[1]));
    ASSERT_TRUE(testing::WaitForHttpOk(port_, "/healthz", seconds(10))) << child_->Output();
  }

  // SIGTERM, then the exit code (-1 if it did not exit in time).
  int Terminate() {
    child_->Signal(SIGTERM);
    auto code = child_->WaitExit(seconds(20));
    EXPECT_TRUE(code.has_value()) << "no exit after SIGTERM\n" << child_->Output();
    return code.value_or(-1);
  }

  std::string dir_, data_dir_, ledger_path_, config_path_;
  std::unique_ptr<ChildProcess> child_;
  uint16_t port_ = 0;
};

TEST_F(ServeLedgerTest, SigtermUnderConcurrentLoadLosesNoRecord) {
  FakeUpstream up;
  up.SetHandler([](const RecordedRequest& req) {
    // A little upstream latency keeps requests in flight when SIGTERM lands.
    if (req.body.find(R"("stream":true)") != std::string::npos) {
      return SseAnswer(Usage(1000, 0, 500), milliseconds(1));
    }
    FakeResponse r = JsonAnswer(Usage(1000, 0, 500));
    r.head_delay = milliseconds(2);
    return r;
  });
  WriteConfig(up.base_url());
  StartServe();

  constexpr int kThreads = 8;
  std::atomic<bool> terminated{false};
  std::mutex mu;
  std::set<std::string> completed;  // ids of responses received in full
  std::vector<std::string> problems;
  size_t incomplete = 0;  // requests sent whose response did not arrive in full
  auto client = [&](int t) {
    std::unique_ptr<HttpConnection> conn;
    const auto give_up = std::chrono::steady_clock::now() + seconds(8);
    for (int i = 0; std::chrono::steady_clock::now() < give_up; ++i) {
      if (!conn || !conn->open()) {
        auto c = HttpConnection::Connect(port_, seconds(5));
        if (!c.ok()) {
          if (terminated.load()) return;  // the server stopped listening
          std::lock_guard lock(mu);
          problems.push_back("connect before SIGTERM: " + c.status().ToString());
          return;
        }
        conn = std::move(*c);
      }
      const bool stream = (t + i) % 2 == 0;
      HttpResult r = conn->Request("POST", "/v1/chat/completions",
                                   ChatBody("load " + std::to_string(t), stream),
                                   {{"content-type", "application/json"}}, seconds(10));
      const bool whole =
          r.error.ok() && r.status == 200 && (!stream || r.body.ends_with("data: [DONE]\n\n"));
      std::lock_guard lock(mu);
      if (whole && !r.headers[kIdHeader].empty()) {
        completed.insert(r.headers[kIdHeader]);
      } else {
        ++incomplete;
        if (!terminated.load()) {
          problems.push_back("before SIGTERM: status " + std::to_string(r.status) + " " +
                             r.error.ToString());
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(client, t);
  // About a second of load, then SIGTERM while the clients keep sending.
  std::this_thread::sleep_for(seconds(1));
  {
    std::lock_guard lock(mu);
    terminated.store(true);
  }
  const int code = Terminate();
  for (auto& th : threads) th.join();
  EXPECT_EQ(code, 0) << child_->Output();
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);
  ASSERT_GT(completed.size(), 100u) << "too little load to prove anything";

  const std::map<std::string, ledger::Record> records = ReadLedger(ledger_path_);
  size_t missing = 0;
  for (const std::string& id : completed) {
    if (records.count(id) == 0 && ++missing <= 5) ADD_FAILURE() << "no record for " << id;
  }
  EXPECT_EQ(missing, 0u) << "of " << completed.size() << " responses received";
  // Requests cut short by the shutdown may or may not have a record; nothing
  // else may.
  EXPECT_GE(records.size(), completed.size());
  EXPECT_LE(records.size(), completed.size() + incomplete);
  size_t ok = 0;
  for (const auto& [id, r] : records) {
    if (r.status == 200) {
      ++ok;
      EXPECT_NEAR(r.cost_usd, 0.00045, 1e-12) << id;
    }
  }
  EXPECT_GE(ok, completed.size());
  // The writer committed everything itself: nothing was left in a spill file.
  EXPECT_TRUE(child_->Output().find("ledger: " + std::to_string(records.size()) +
                                    " records written, 0 spilled") != std::string::npos)
      << child_->Output();
  std::cout << "[ info ] " << completed.size() << " responses, " << incomplete << " cut short, "
            << records.size() << " records\n";
}

TEST_F(ServeLedgerTest, CorruptLedgerFileStopsTheStartWithOneLine) {
  FakeUpstream up;
  WriteConfig(up.base_url());
  std::filesystem::create_directories(data_dir_);
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a ledger, just some text\n";
  {
    std::ofstream f(ledger_path_, std::ios::binary);
    f << garbage;
  }
  const auto started = std::chrono::steady_clock::now();
  auto child = Run({"serve", "--config", config_path_});
  ASSERT_NE(child, nullptr);
  auto code = child->WaitExit(seconds(10));
  ASSERT_TRUE(code.has_value()) << child->Output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5));
  EXPECT_EQ(*code, 1) << child->Output();
  EXPECT_EQ(child->Output(), "switchyard: ledger: " + ledger_path_ +
                                 ": file is not a database (SQLite: file is not a database)\n");
  // The file is left as it was.
  std::ifstream f(ledger_path_, std::ios::binary);
  std::string after((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, garbage);
}

// Holds BEGIN EXCLUSIVE on a database file with the SQLite C API.
class ExclusiveLock {
 public:
  // Creates the file if needed; the lock is held until destruction.
  explicit ExclusiveLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    Exec("BEGIN EXCLUSIVE");
    Exec("CREATE TABLE IF NOT EXISTS holder (x INTEGER)");
    Exec("INSERT INTO holder VALUES (1)");
  }
  ~ExclusiveLock() {
    Exec("ROLLBACK");
    sqlite3_close(db_);
  }
  void Exec(const char* sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err != nullptr ? err : "");
    sqlite3_free(err);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Another program holds the ledger file with BEGIN EXCLUSIVE: a file it
// created (rollback journal), and an existing ledger (WAL). Both starts wait
// out SQLite's busy timeout (5 s, so they run side by side) and stop with one
// line.
TEST_F(ServeLedgerTest, LockedLedgerFileStopsTheStartWithOneLine) {
  FakeUpstream up;
  const std::string fresh_dir = dir_ + "/fresh", existing_dir = dir_ + "/existing";
  const std::string fresh_db = fresh_dir + "/ledger.db", existing_db = existing_dir + "/ledger.db";
  WriteConfig(up.base_url(), dir_ + "/fresh.toml", fresh_dir);
  WriteConfig(up.base_url(), dir_ + "/existing.toml", existing_dir);
  std::filesystem::create_directories(fresh_dir);
  {
    auto store = ledger::SqliteStore::Open(existing_db);  // a current, WAL-mode ledger
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ledger::Record r;
    r.id = "req-before";
    ASSERT_TRUE((*store)->WriteBatch({&r, 1}).ok());
  }
  ExclusiveLock fresh_lock(fresh_db);
  ExclusiveLock existing_lock(existing_db);

  auto fresh = Run({"serve", "--config", dir_ + "/fresh.toml"});
  auto existing = Run({"serve", "--config", dir_ + "/existing.toml"});
  ASSERT_NE(fresh, nullptr);
  ASSERT_NE(existing, nullptr);
  const std::vector<std::pair<ChildProcess*, std::string>> runs = {{fresh.get(), fresh_db},
                                                                   {existing.get(), existing_db}};
  for (const auto& [child, db] : runs) {
    auto code = child->WaitExit(seconds(15));
    ASSERT_TRUE(code.has_value()) << child->Output();
    EXPECT_EQ(*code, 1) << child->Output();
    EXPECT_EQ(child->Output(), "switchyard: ledger: " + db +
                                   ": database is locked by another process or connection "
                                   "(SQLite: database is locked)\n");
  }
}

TEST_F(ServeLedgerTest, LedgerStatsReportsTheRequestsSentAndTheirHandComputedCost) {
  // gpt-4o-mini: $0.15 in, $0.075 cached in, $0.60 out per million tokens.
  FakeUpstream up;
  up.SetHandler([](const RecordedRequest& req) {
    const std::string& b = req.body;
    if (b.find("fail") != std::string::npos) {
      return JsonResponse(R"({"error":{"message":"overloaded","type":"server_error"}})", 503);
    }
    if (b.find(R"("stream":true)") != std::string::npos) return SseAnswer(Usage(2000, 0, 1000));
    if (b.find("cached") != std::string::npos) return JsonAnswer(Usage(1000, 400, 500));
    return JsonAnswer(Usage(1000, 0, 500));
  });
  WriteConfig(up.base_url());
  StartServe();

  struct Send {
    std::string body;
    int status;
  };
  const std::vector<Send> sends = {
      {ChatBody("plain one", false), 200},    // 1000 x 0.15 + 500 x 0.60 = 450 per million
      {ChatBody("plain two", false), 200},    // 450
      {ChatBody("plain three", false), 200},  // 450
      {ChatBody("cached one", false), 200},   // 600 x 0.15 + 400 x 0.075 + 500 x 0.60 = 420
      {ChatBody("cached two", false), 200},   // 420
      {ChatBody("stream one", true), 200},    // 2000 x 0.15 + 1000 x 0.60 = 900
      {ChatBody("stream two", true), 200},    // 900
      {ChatBody("please fail", false), 502},  // 0
      {R"({"model":"gpt-4o-mini","messages":)", 400},                           // 0
      {R"({"model":"nope","messages":[{"role":"user","content":"x"}]})", 404},  // 0
  };
  // 3 x 450 + 2 x 420 + 2 x 900 = 3990 per million.
  constexpr double kTotalUsd = 0.00399;
  for (const Send& s : sends) {
    HttpResult r = HttpRequest(port_, "POST", "/v1/chat/completions", s.body,
                               {{"content-type", "application/json"}});
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    ASSERT_EQ(r.status, s.status) << s.body << "\n" << r.body;
  }
  // The writers' counters are exported; nothing had to be spilled.
  HttpResult metrics = HttpRequest(port_, "GET", "/metrics", "", {});
  ASSERT_TRUE(metrics.error.ok()) << metrics.error.ToString();
  for (const char* line :
       {"switchyard_ledger_records_spilled_total 0\n", "switchyard_audit_records_spilled_total 0\n",
        "switchyard_audit_records_replayed_total 0\n",
        "switchyard_audit_records_rejected_total 0\n",
        "# TYPE switchyard_ledger_queue_depth gauge\n",
        "# TYPE switchyard_audit_queue_depth gauge\n"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line << metrics.body;
  }
  ASSERT_EQ(Terminate(), 0) << child_->Output();

  auto stats = Run({"ledger", "stats", "--since", "all", "--json", "--config", config_path_});
  ASSERT_NE(stats, nullptr);
  auto code = stats->WaitExit(seconds(10));
  ASSERT_TRUE(code.has_value());
  ASSERT_EQ(*code, 0) << stats->Output();
  const std::string json = stats->Output();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  simdjson::dom::element total = doc["total"];
  EXPECT_EQ(int64_t(total["requests"]), 10) << json;
  EXPECT_EQ(int64_t(total["errors"]), 3) << json;
  EXPECT_NEAR(double(total["error_rate"]), 0.3, 1e-12) << json;
  EXPECT_EQ(int64_t(total["input_tokens"]), 3 * 1000 + 2 * 1000 + 2 * 2000) << json;
  EXPECT_EQ(int64_t(total["cached_input_tokens"]), 2 * 400) << json;
  EXPECT_EQ(int64_t(total["output_tokens"]), 3 * 500 + 2 * 500 + 2 * 1000) << json;
  EXPECT_NEAR(double(total["cost_usd"]), kTotalUsd, 1e-12) << json;

  // By model: the answered requests under the model that answered them.
  bool found = false;
  for (simdjson::dom::element g : simdjson::dom::array(doc["groups"])) {
    if (std::string_view(g["key"]) != "openai/gpt-4o-mini-2024-07-18") continue;
    found = true;
    EXPECT_EQ(int64_t(g["requests"]), 7) << json;
    EXPECT_EQ(int64_t(g["errors"]), 0) << json;
    EXPECT_NEAR(double(g["cost_usd"]), kTotalUsd, 1e-12) << json;
  }
  EXPECT_TRUE(found) << json;
}

// A cascade route with shadow_sample = 1 over loopback weak and strong
// upstreams: every request's two answers are kept — including those of the
// shadow calls started just before SIGTERM (the strong upstream answers after
// 300 ms; the shutdown waits for them) — and `router export` turns the rows
// into training data `router train` accepts.
TEST_F(ServeLedgerTest, ShadowOutcomesSurviveSigtermAndTrainARouter) {
  auto answer = [](const std::string& content) {
    return JsonResponse(R"({"id":"x","object":"chat.completion","created":1,"model":"m",)"
                        R"("choices":[{"index":0,"message":{"role":"assistant","content":")" +
                        content + R"("},"finish_reason":"stop"}],"usage":)" + Usage(10, 0, 5) +
                        "}");
  };
  FakeUpstream weak;
  weak.SetHandler([&](const RecordedRequest& req) {
    return answer(req.body.find("prove") != std::string::npos ? "3 + 4 = 8\\n#### 8"
                                                              : "3 + 4 = 7\\n#### 7");
  });
  FakeUpstream strong;
  FakeResponse slow = answer("4 + 3 = 7\\n#### 7");
  slow.head_delay = milliseconds(300);
  strong.SetDefault(slow);

  // A cascade model from a small outcome file (the binary's own `router train`).
  std::string csv = "id,prompt,weak_correct,strong_correct,weak_response\n";
  for (int i = 0; i < 40; ++i) {
    const bool hard = i % 2 == 0;
    csv += "q" + std::to_string(i) + ",question " + std::to_string(i) + "," + (hard ? "0" : "1") +
           ",1," + (hard ? "\"3 + 4 = 8\"" : "\"3 + 4 = 7\n#### 7\"") + "\n";
  }
  {
    std::ofstream f(dir_ + "/seed.csv");
    f << csv;
  }
  auto train = Run({"router", "train", "--data", dir_ + "/seed.csv", "--kind", "cascade", "--out",
                    dir_ + "/seed.model"});
  ASSERT_NE(train, nullptr);
  ASSERT_EQ(train->WaitExit(seconds(30)).value_or(-1), 0) << train->Output();

  {
    std::ofstream f(config_path_);
    f << "[server]\nlisten = \"127.0.0.1:0\"\nthreads = 2\nshutdown_grace_ms = 5000\n\n"
      << "[storage]\ndata_dir = \"" << data_dir_ << "\"\n\n"
      << "[[providers]]\nname = \"local\"\nkind = \"openai\"\nowned = true\nbase_url = \""
      << weak.base_url() << "/v1\"\nmax_retries = 0\n\n"
      << "[[providers]]\nname = \"cloud\"\nkind = \"openai\"\nbase_url = \"" << strong.base_url()
      << "/v1\"\nmax_retries = 0\n\n"
      << "[[routes]]\nname = \"math\"\npolicy = \"cascade\"\nweak = \"local/small\"\n"
      << "strong = \"cloud/big\"\nmodel = \"" << dir_ << "/seed.model\"\nthreshold = 0.5\n"
      << "shadow_sample = 1.0\n";
    ASSERT_TRUE(f.good());
  }
  StartServe();
  constexpr int kRequests = 12;
  for (int i = 0; i < kRequests; ++i) {
    const std::string prompt = (i % 2 == 0 ? "prove step " : "add step ") + std::to_string(i);
    HttpResult r = HttpRequest(
        port_, "POST", "/v1/chat/completions",
        R"({"model":"math","messages":[{"role":"user","content":")" + prompt + R"("}]})",
        {{"content-type", "application/json"}});
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_EQ(Terminate(), 0) << child_->Output();
  EXPECT_NE(child_->Output().find("router shadow: " + std::to_string(kRequests) +
                                  " outcome rows written"),
            std::string::npos)
      << child_->Output();

  const std::string out = dir_ + "/math.csv";
  auto exported =
      Run({"router", "export", "--config", config_path_, "--route", "math", "--out", out});
  ASSERT_NE(exported, nullptr);
  ASSERT_EQ(exported->WaitExit(seconds(10)).value_or(-1), 0) << exported->Output();
  EXPECT_NE(exported->Output().find("exported 12 rows of route math: the weak answer agrees with "
                                    "the strong one on 6 (50.0%); judged by number 12"),
            std::string::npos)
      << exported->Output();
  auto retrain =
      Run({"router", "train", "--data", out, "--kind", "cascade", "--out", dir_ + "/math.model"});
  ASSERT_NE(retrain, nullptr);
  ASSERT_EQ(retrain->WaitExit(seconds(30)).value_or(-1), 0) << retrain->Output();
  EXPECT_NE(retrain->Output().find("on 12 rows"), std::string::npos) << retrain->Output();
}

}  // namespace
}  // namespace switchyard::app
