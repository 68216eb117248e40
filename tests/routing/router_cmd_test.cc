#include "app/router_cmd.h"

#include <gtest/gtest.h>

#include "routing/dataset.h"
#include "support/temp_dir.h"
#include "test_data.h"

namespace switchyard::app {
namespace {

using routing::testing::Generated;
using routing::testing::TempDir;
using routing::testing::ToCsv;

using switchyard::testing::ReadFile;

TEST(RouterCmdTest, TrainScoreEvalEndToEnd) {
  TempDir dir("cmd_e2e");
  const std::string train = dir.Write("train.csv", ToCsv(Generated(120), true));
  const std::string test = dir.Write("test.csv", ToCsv(Generated(60), true));
  for (const char* kind : {"prompt", "cascade"}) {
    RouterTrainOptions t;
    t.data_path = train;
    t.out_path = dir.File(std::string(kind) + ".model");
    t.kind = kind;
    ::testing::internal::CaptureStdout();
    ASSERT_EQ(RunRouterTrain(t), 0) << kind;
    const std::string out = ::testing::internal::GetCapturedStdout();
    const std::string target = std::string(kind) == "prompt" ? "difference" : "benefit";
    EXPECT_EQ(out, "trained a " + std::string(kind) + " router (target " + target +
                       ") on 120 rows: " + t.out_path + "\n");

    RouterScoreOptions s;
    s.model_path = t.out_path;
    s.data_path = test;
    s.out_path = dir.File(std::string(kind) + "_scores.csv");
    ::testing::internal::CaptureStdout();
    ASSERT_EQ(RunRouterScore(s), 0);
    EXPECT_EQ(::testing::internal::GetCapturedStdout(), "scored 60 rows: " + s.out_path + "\n");
    auto scores = routing::LoadScoresCsv(s.out_path);
    ASSERT_TRUE(scores.ok()) << scores.status().message();
    EXPECT_EQ(scores->size(), 60u);
    EXPECT_EQ((*scores)[0].id, "q0");

    RouterEvalOptions e;
    e.data_path = test;
    e.scores_path = s.out_path;
    e.json = true;
    e.plot_path = dir.File("plot.svg");
    ::testing::internal::CaptureStdout();
    ASSERT_EQ(RunRouterEval(e), 0);
    const std::string json = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(json.rfind("{\"title\":\"test.csv\",\"rows\":60,", 0), 0u) << json;
    EXPECT_NE(ReadFile(e.plot_path).find("CPT(50%)"), std::string::npos);
    e.json = false;
    e.plot_path.clear();
    ::testing::internal::CaptureStdout();
    ASSERT_EQ(RunRouterEval(e), 0);
    EXPECT_NE(::testing::internal::GetCapturedStdout().find("APGR"), std::string::npos);
  }
}

struct Failure {
  int code;
  std::string stderr_text;
};

template <typename Options, typename Fn>
Failure RunCaptured(Fn fn, const Options& o) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int code = fn(o);
  ::testing::internal::GetCapturedStdout();
  return {code, ::testing::internal::GetCapturedStderr()};
}

TEST(RouterCmdTest, CsvErrorsPrintOneLineAndExit2) {
  TempDir dir("cmd_err");
  RouterTrainOptions t;
  t.out_path = dir.File("m.model");

  t.data_path = dir.Write("empty.csv", "");
  auto f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + t.data_path + ": empty file\n");

  t.data_path = dir.Write("missing.csv", "id,prompt,weak_correct\nq1,hi,1\n");
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + t.data_path + ": missing column 'strong_correct'\n");

  t.data_path = dir.Write("bad.csv", "id,prompt,weak_correct,strong_correct\nq1,hi,1,maybe\n");
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + t.data_path +
                               ":2: bad value 'maybe' in column 'strong_correct' (expected 0 "
                               "or 1)\n");

  t.data_path = dir.Write("ok.csv", ToCsv(Generated(30), false));
  t.kind = "cascade";
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + t.data_path + ": missing column 'weak_response'\n");
  t.kind = "sometimes";
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.stderr_text,
            "switchyard: unknown router kind 'sometimes' (expected prompt or cascade)\n");
  t.kind = "prompt";
  t.c = -1;
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.stderr_text, "switchyard: --c must be positive\n");
  t.c.reset();
  t.out_path = dir.File("no/such/dir/m.model");
  f = RunCaptured(RunRouterTrain, t);
  EXPECT_EQ(f.code, 1);
  EXPECT_EQ(f.stderr_text, "switchyard: " + t.out_path + ": cannot write file\n");

  RouterScoreOptions s;
  s.model_path = dir.Write("junk.model", "hello\n");
  s.data_path = t.data_path;
  s.out_path = dir.File("s.csv");
  f = RunCaptured(RunRouterScore, s);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + s.model_path +
                               ": not a switchyard router model (first line 'hello')\n");

  RouterEvalOptions e;
  e.data_path = t.data_path;
  e.scores_path = dir.Write("scores.csv", "id,score\nq0,1\n");
  f = RunCaptured(RunRouterEval, e);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text, "switchyard: " + e.scores_path + ": no score for id 'q1'\n");
  e.scores_path = dir.Write("scores2.csv", "id,score\nq0,\n");
  f = RunCaptured(RunRouterEval, e);
  EXPECT_EQ(f.stderr_text, "switchyard: " + e.scores_path +
                               ":2: bad value '' in column 'score' (expected a number)\n");
  e.scores_path = dir.File("absent.csv");
  f = RunCaptured(RunRouterEval, e);
  EXPECT_EQ(f.code, 2);
  EXPECT_EQ(f.stderr_text,
            "switchyard: " + e.scores_path + ": cannot read file (No such file or directory)\n");
}

}  // namespace
}  // namespace switchyard::app
