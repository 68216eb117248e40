// `switchyard advise` / `switchyard replay` as functions: exit codes, the one
// error line, and the must-show what-if.
#include "app/advise_cmd.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "ledger/record_json.h"
#include "ledger/sqlite_store.h"
#include "support/temp_dir.h"

namespace switchyard::app {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sy_advise_cmd_test_XXXXXX";
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

using switchyard::testing::ReadFile;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The what-if.
AdviseOptions WhatIf(std::string model) {
  AdviseOptions o;
  o.what_if = true;
  o.model = std::move(model);
  o.in_out = "1000:1000";
  o.gpu_hourly = 3.99;
  o.gpus = 1;
  o.throughput = 15220;
  o.utilization = 0.2;
  return o;
}

class AdviseCmdTest : public ::testing::Test {
 protected:
  int Advise(const AdviseOptions& o) {
    out_.clear();
    err_.clear();
    return RunAdvise(o, clock_, out_, err_);
  }
  int Replay(const ReplayCmdOptions& o) {
    out_.clear();
    err_.clear();
    return RunReplay(o, clock_, out_, err_);
  }
  core::FakeClock clock_;  // 1,700,000,000,000 ms = 2023-11-14T22:13:20Z
  std::string out_, err_;
  TempDir dir_;
};

TEST_F(AdviseCmdTest, WhatIfMustShow) {
  ASSERT_EQ(Advise(WhatIf("gpt-4o-mini")), 0) << err_;
  EXPECT_EQ(err_, "");
  EXPECT_NE(out_.find("crossover at 255.4 million tokens/day (127,680 requests/day)"),
            std::string::npos)
      << out_;
  EXPECT_NE(out_.find("526.0 million tokens/day per replica"), std::string::npos) << out_;
  ASSERT_EQ(Advise(WhatIf("gpt-4o")), 0) << err_;
  EXPECT_NE(out_.find("crossover at 15.3 million tokens/day (7,661 requests/day)"),
            std::string::npos)
      << out_;
  AdviseOptions json = WhatIf("gpt-4o-mini");
  json.json = true;
  ASSERT_EQ(Advise(json), 0) << err_;
  EXPECT_EQ(out_.front(), '{');
  EXPECT_EQ(out_.back(), '\n');
  EXPECT_NE(out_.find("\"replica_tokens_per_day\":526003200"), std::string::npos) << out_;
}

TEST_F(AdviseCmdTest, WhatIfWritesTheChart) {
  AdviseOptions o = WhatIf("gpt-4o-mini");
  o.tokens_per_day = 100e6;
  o.chart_path = dir_.File("chart.svg");
  ASSERT_EQ(Advise(o), 0) << err_;
  const std::string svg = ReadFile(o.chart_path);
  EXPECT_NE(svg.find("crossover 255.4 million tokens/day"), std::string::npos);
  EXPECT_NE(svg.find("current 100.0 million tokens/day"), std::string::npos);
}

// Bad input: one line, exit 2.
TEST_F(AdviseCmdTest, BadInputsExitTwoWithOneLine) {
  AdviseOptions o = WhatIf("gpt-4o-mini");
  o.throughput = 0;
  EXPECT_EQ(Advise(o), 2);
  EXPECT_EQ(err_, "switchyard: advise: throughput must be > 0 output tokens/s, got 0\n");
  EXPECT_EQ(out_, "");
  o.throughput = -15220;
  EXPECT_EQ(Advise(o), 2);
  EXPECT_EQ(err_, "switchyard: advise: throughput must be > 0 output tokens/s, got -15220\n");

  EXPECT_EQ(Advise(WhatIf("gpt-17-ultra")), 2);
  EXPECT_EQ(err_,
            "switchyard: advise: unknown model \"gpt-17-ultra\": not in the price book (add it "
            "under [[prices]] in the config)\n");

  o = WhatIf("gpt-4o-mini");
  o.in_out = "1000/1000";
  EXPECT_EQ(Advise(o), 2);
  EXPECT_EQ(err_,
            "switchyard: advise: --in-out: expected INPUT:OUTPUT token counts like 1000:1000, "
            "got \"1000/1000\"\n");
  o.in_out = "1000:0";
  EXPECT_EQ(Advise(o), 2);
  EXPECT_EQ(err_, "switchyard: advise: output tokens must be > 0, got 0\n");

  AdviseOptions no_what_if;
  no_what_if.model = "gpt-4o";
  EXPECT_EQ(Advise(no_what_if), 2);
  EXPECT_EQ(err_, "switchyard: advise: --model and --tokens-per-day need --what-if\n");

  AdviseOptions since;
  since.db_path = dir_.File("ledger.db");
  since.since = "yesterday";
  EXPECT_EQ(Advise(since), 2);
  EXPECT_EQ(err_,
            "switchyard: advise: --since: expected a duration like 30m, 24h or 7d, got "
            "\"yesterday\"\n");
}

TEST_F(AdviseCmdTest, MissingAndEmptyLedgerExitTwo) {
  AdviseOptions o;
  o.db_path = dir_.File("none.db");
  EXPECT_EQ(Advise(o), 2);
  EXPECT_EQ(err_, "switchyard: advise: no ledger at " + o.db_path +
                      " yet: run `switchyard serve` and send a request first\n");

  o.db_path = dir_.File("ledger.db");
  { ASSERT_TRUE(ledger::SqliteStore::Open(o.db_path).ok()); }  // creates an empty ledger
  EXPECT_EQ(Advise(o), 2);
  // now - 30d = 1,697,408,000,000 ms.
  EXPECT_EQ(err_,
            "switchyard: advise: the ledger has no records since 2023-10-15T22:13:20.000Z: "
            "nothing to advise on\n");
}

TEST_F(AdviseCmdTest, AdviseOnALedger) {
  const std::string db = dir_.File("ledger.db");
  {
    auto store = ledger::SqliteStore::Open(db);
    ASSERT_TRUE(store.ok());
    std::vector<ledger::Record> v;
    for (int i = 0; i < 150; ++i) {
      ledger::Record r;
      r.id = "r" + std::to_string(i);
      r.ts_ms = clock_.UnixMillis() - 3600'000 + i;
      r.task = "headlines";
      r.template_hash = "1111111111111111";
      r.input_tokens = 40;
      r.output_tokens = 1;
      r.status = 200;
      if (i % 5 == 0) {
        r.answered_by = "teacher/gpt-4o-mini";
        r.cost_usd = 0.0000066;
        r.escalated = true;
      } else {
        r.answered_by = "student/headlines@v1";
        r.confidence = 0.98;
      }
      v.push_back(r);
    }
    ASSERT_TRUE((*store)->WriteBatch(v).ok());
  }
  AdviseOptions o;
  o.db_path = db;
  o.chart_path = dir_.File("advice.svg");
  ASSERT_EQ(Advise(o), 0) << err_;
  EXPECT_NE(out_.find("headlines: hybrid with a student"), std::string::npos) << out_;
  EXPECT_NE(out_.find("realized saving $0.000792 over 1.0 days: 120 teacher calls avoided"),
            std::string::npos)
      << out_;
  EXPECT_NE(ReadFile(o.chart_path).find("id=\"self-hosted-line\""), std::string::npos);
  o.json = true;
  o.chart_path.clear();
  ASSERT_EQ(Advise(o), 0) << err_;
  EXPECT_NE(out_.find("\"recommendation\":\"hybrid_student\""), std::string::npos);
}

TEST_F(AdviseCmdTest, ReplayFromATrace) {
  const std::string trace = dir_.File("trace.jsonl");
  const std::string policy = dir_.File("policy.toml");
  std::string text;
  for (int i = 0; i < 4; ++i) {
    ledger::Record r;
    r.id = "t" + std::to_string(i);
    r.ts_ms = 1714564800000 + i;
    r.answered_by = i == 0 ? "openai/gpt-4o-mini" : "student/h@v1";
    r.escalated = i == 0;
    r.confidence = 0.8 + 0.05 * i;  // 0.8, 0.85, 0.9, 0.95
    r.input_tokens = 100;
    r.output_tokens = 1;
    r.cost_usd = i == 0 ? 0.0000156 : 0;
    r.status = 200;
    ledger::AppendRecordJson(text, r);
    text += "\n";
  }
  WriteFile(trace, text);
  WriteFile(policy,
            "[policy]\nkind = \"threshold\"\nfrontier_model = \"openai/gpt-4o-mini\"\n"
            "threshold = 0.92\nname = \"stricter\"\n");
  ReplayCmdOptions o;
  o.trace_path = trace;
  o.policy_path = policy;
  o.json = true;
  o.chart_path = dir_.File("replay.svg");
  ASSERT_EQ(Replay(o), 0) << err_;
  // 0.85 and 0.9 < 0.92 move to the frontier: 3 frontier calls of 4.
  EXPECT_NE(out_.find("\"name\":\"stricter\",\"kind\":\"threshold\",\"is_policy\":true,"
                      "\"threshold\":0.92,\"answered\":4,\"frontier_calls\":3"),
            std::string::npos)
      << out_;
  EXPECT_NE(ReadFile(o.chart_path).find("<svg"), std::string::npos);
}

TEST_F(AdviseCmdTest, ReplayBadUsageExitsTwo) {
  ReplayCmdOptions o;
  o.policy_path = dir_.File("policy.toml");
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: give exactly one of --ledger or --trace FILE\n");
  o.from_ledger = true;
  o.trace_path = "t.jsonl";
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: give exactly one of --ledger or --trace FILE\n");
  o.from_ledger = false;
  o.policy_path.clear();
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: --policy FILE is required\n");
  o.policy_path = dir_.File("policy.toml");
  WriteFile(o.policy_path, "[policy]\nkind = \"sometimes\"\n");
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: policy " + o.policy_path +
                      ": policy.kind must be one of all_frontier, as_recorded, threshold, got "
                      "\"sometimes\"\n");
  WriteFile(o.policy_path, "[policy]\n");
  o.trace_path = dir_.File("missing.jsonl");
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: trace " + o.trace_path +
                      ": cannot read the file (No such file or directory)\n");
  o.trace_path.clear();
  o.db_path = dir_.File("ledger.db");
  { ASSERT_TRUE(ledger::SqliteStore::Open(o.db_path).ok()); }
  EXPECT_EQ(Replay(o), 2);
  EXPECT_EQ(err_, "switchyard: replay: the ledger has no records: nothing to replay\n");
}

}  // namespace
}  // namespace switchyard::app
