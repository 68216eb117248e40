// Shadow outcomes: the store (a real SQLite file), the agreement rules, the
// export to training rows, and `router export` feeding `router train`.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/router_cmd.h"
#include "core/clock.h"
#include "core/csv.h"
#include "routing/dataset.h"
#include "routing/outcome_export.h"
#include "routing/outcome_store.h"
#include "support/temp_dir.h"
#include "test_data.h"

namespace switchyard::routing {
namespace {

using testing::Generated;
using testing::TempDir;

PairedOutcome Row(std::string route, std::string id, std::string weak, std::string strong) {
  PairedOutcome r;
  r.route = std::move(route);
  r.request_id = std::move(id);
  r.prompt = "prompt of " + r.request_id;
  r.weak_target = "local/small";
  r.weak_response = std::move(weak);
  r.weak_finish = "stop";
  r.strong_target = "cloud/big";
  r.strong_response = std::move(strong);
  r.strong_finish = "stop";
  return r;
}

// ------------------------------------------------------------------ store

TEST(OutcomeStoreTest, RowsComeBackOldestFirstPerRoute) {
  TempDir dir("outcome_store");
  core::FakeClock clock;
  const int64_t now = clock.UnixMillis();
  auto store = OutcomeStore::Open(dir.File("sub/ledger.db"), clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  PairedOutcome a = Row("r", "a", "7", "7");
  a.subject = "maths";
  a.weak_logprobs = {-0.125, -2.5, -1e-9};
  a.shadow_target = "cloud/big";
  a.shadow_cost_usd = 0.0025;
  PairedOutcome b = Row("other", "b", "x", "y");
  PairedOutcome c = Row("r", "c", std::string(kMaxOutcomeTextBytes + 10, 'w'), "z");
  c.ts_ms = now + 5'000;
  ASSERT_TRUE((*store)->AddBatch({a, b, c}).ok());

  auto rows = (*store)->Load("r");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const PairedOutcome& got = (*rows)[0];
  EXPECT_EQ(got.request_id, "a");
  EXPECT_EQ(got.ts_ms, now);  // set from the clock
  EXPECT_EQ(got.prompt, "prompt of a");
  EXPECT_EQ(got.subject, "maths");
  EXPECT_EQ(got.weak_target, "local/small");
  EXPECT_EQ(got.weak_response, "7");
  EXPECT_EQ(got.weak_finish, "stop");
  EXPECT_EQ(got.weak_logprobs, (std::vector<double>{-0.125, -2.5, -1e-9}));
  EXPECT_EQ(got.strong_target, "cloud/big");
  EXPECT_EQ(got.strong_response, "7");
  EXPECT_EQ(got.shadow_target, "cloud/big");
  EXPECT_DOUBLE_EQ(got.shadow_cost_usd, 0.0025);
  EXPECT_EQ((*rows)[1].request_id, "c");
  EXPECT_EQ((*rows)[1].ts_ms, now + 5'000);
  EXPECT_EQ((*rows)[1].weak_response.size(), kMaxOutcomeTextBytes);  // cut

  auto since = (*store)->Load("r", now + 2'000);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].request_id, "c");

  auto counts = (*store)->CountByRoute();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::vector<std::pair<std::string, int64_t>>{{"other", 1}, {"r", 2}}));
}

TEST(OutcomeStoreTest, AFileThatIsNotADatabaseIsAnError) {
  TempDir dir("outcome_store_bad");
  const std::string path = dir.Write("ledger.db", "this is not a database, just text\n");
  core::FakeClock clock;
  auto store = OutcomeStore::Open(path, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message().rfind("router outcomes: " + path + ": ", 0), 0u)
      << store.status().message();
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos)
      << store.status().message();
}

// ------------------------------------------------------------------ rules

TEST(OutcomeExportTest, ChoiceKeys) {
  EXPECT_EQ(ChoiceKey("B"), "B");
  EXPECT_EQ(ChoiceKey(" (b) "), "B");
  EXPECT_EQ(ChoiceKey("**C**."), "C");
  EXPECT_EQ(ChoiceKey("D) Paris"), "D");
  EXPECT_EQ(ChoiceKey("(A) the first"), "A");
  EXPECT_EQ(ChoiceKey("Let me think.\nThe answer is (C)."), "C");
  EXPECT_EQ(ChoiceKey("Reasoning...\nAnswer: B) Paris"), "B");
  EXPECT_EQ(ChoiceKey("Paris"), std::nullopt);
  EXPECT_EQ(ChoiceKey("A cat sat."), std::nullopt);
  EXPECT_EQ(ChoiceKey("J. K. Rowling"), std::nullopt);  // initials
  EXPECT_EQ(ChoiceKey("H. G. Wells wrote it"), std::nullopt);
  EXPECT_EQ(ChoiceKey("K"), std::nullopt);  // beyond J
  EXPECT_EQ(ChoiceKey(""), std::nullopt);
}

TEST(OutcomeExportTest, PromptsWithOptions) {
  EXPECT_TRUE(PromptListsOptions("Which?\nA. 0\nB. 4\nC. 2\nD. 6\nAnswer:"));
  EXPECT_TRUE(PromptListsOptions("Pick one: (A) red (B) blue"));
  EXPECT_FALSE(PromptListsOptions("Who wrote it? J. K. Rowling or H. G. Wells?"));
  EXPECT_FALSE(PromptListsOptions("A. only one option"));
  EXPECT_FALSE(PromptListsOptions("Who wrote it, A. A. Milne or E. B. White?"));  // initials
  EXPECT_FALSE(PromptListsOptions("Answer A. or B. as you like"));  // not opening lines
  EXPECT_TRUE(PromptListsOptions("Options:\n  A: red\n  B: blue"));
}

TEST(OutcomeExportTest, NumberKeys) {
  EXPECT_EQ(NumberKey("3 + 4 = 7\n#### 7"), 7.0);
  EXPECT_EQ(NumberKey("The answer is $1,200.50 dollars."), 1200.5);
  EXPECT_EQ(NumberKey("#### -5"), -5.0);
  EXPECT_EQ(NumberKey("-5"), -5.0);
  EXPECT_EQ(NumberKey("The answer is 3/4."), 0.75);
  EXPECT_EQ(NumberKey("\\frac{3}{8}"), 0.375);
  EXPECT_EQ(NumberKey("18 dollars"), 18.0);
  EXPECT_EQ(NumberKey("45 km per hour"), 45.0);
  EXPECT_EQ(NumberKey("12.5%"), 12.5);
  EXPECT_EQ(NumberKey("1,234,567"), 1234567.0);
  EXPECT_EQ(NumberKey("so the total is \\boxed{42}."), 42.0);
  // A final answer with words around exactly one number.
  EXPECT_EQ(NumberKey("3 * 12 = 36 eggs.\n#### Each child receives 9 eggs."), 9.0);
  EXPECT_EQ(NumberKey("#### 84 (corrected)"), 84.0);
  // A worked answer in prose: its last line with a number, the last "= c"
  // there, else that line's last number.
  EXPECT_EQ(NumberKey("He covers 1.5 * 80 = 120 miles.\n\nHe is still 180 - 135 = 45 miles "
                      "away at the end of those 4 hours."),
            45.0);
  EXPECT_EQ(NumberKey("14 segments * 10 minutes = 140 minutes.\n\nIt will take 140 minutes.\n"
                      "(Assuming a steady wind.)"),
            140.0);
  // Not a number answer: no key.
  EXPECT_EQ(NumberKey("She has 3 apples, then 5, so 8."), std::nullopt);  // no computation
  EXPECT_EQ(NumberKey("The answer is no, because 3 people came"), std::nullopt);
  EXPECT_EQ(NumberKey("#### 3 or 4"), std::nullopt);
  EXPECT_EQ(NumberKey("1,23"), std::nullopt);  // not a thousands separator
  EXPECT_EQ(NumberKey("3,50"), std::nullopt);
  EXPECT_EQ(NumberKey("1,2345"), std::nullopt);
  EXPECT_EQ(NumberKey("$"), std::nullopt);
  EXPECT_EQ(NumberKey("-"), std::nullopt);
  EXPECT_EQ(NumberKey("\\frac{}{}"), std::nullopt);
  EXPECT_EQ(NumberKey("\\frac{3}{0}"), std::nullopt);
  EXPECT_EQ(NumberKey("George Orwell wrote 1984"), std::nullopt);
  EXPECT_EQ(NumberKey("July 4, 1776"), std::nullopt);
  EXPECT_EQ(NumberKey("2\\sqrt{3}"), std::nullopt);
  EXPECT_EQ(NumberKey("no digits here"), std::nullopt);
}

TEST(OutcomeExportTest, ExactKeys) {
  EXPECT_EQ(ExactKey("  Positive.  "), "positive");
  EXPECT_EQ(ExactKey("\"New   York\"!"), "new york");
  EXPECT_EQ(ExactKey("`spam`"), "spam");
  EXPECT_EQ(ExactKey("..."), "");
}

TEST(OutcomeExportTest, AutoPicksTheRuleFromTheStrongAnswer) {
  const std::string options = "Which?\nA. red\nB. blue\nAnswer:";
  Agreement a = Judge("The answer is (B)", "B", MatchRule::kAuto, options);
  EXPECT_EQ(a.rule, MatchRule::kChoice);
  EXPECT_EQ(a.agree, true);
  a = Judge("A", "B. blue", MatchRule::kAuto, options);
  EXPECT_EQ(a.rule, MatchRule::kChoice);
  EXPECT_EQ(a.agree, false);
  // Without options in the prompt a letter is just text.
  a = Judge("J. R. R. Tolkien", "J. K. Rowling", MatchRule::kAuto, "Who wrote it?");
  EXPECT_EQ(a.rule, MatchRule::kExact);
  EXPECT_EQ(a.agree, false);
  a = Judge("It is 3 + 4 = 8\n#### 8", "4 + 3 = 7.\n#### 7", MatchRule::kAuto);
  EXPECT_EQ(a.rule, MatchRule::kNumber);
  EXPECT_EQ(a.agree, false);
  a = Judge("7 apples", "#### 7", MatchRule::kAuto);
  EXPECT_EQ(a.rule, MatchRule::kNumber);
  EXPECT_EQ(a.agree, true);
  a = Judge("She has 7 apples", "7", MatchRule::kAuto);  // states no number answer
  EXPECT_EQ(a.agree, false);
  a = Judge("Aldous Huxley wrote 1984", "George Orwell wrote 1984", MatchRule::kAuto);
  EXPECT_EQ(a.rule, MatchRule::kExact);
  EXPECT_EQ(a.agree, false);
  a = Judge("positive", "Positive.", MatchRule::kAuto);
  EXPECT_EQ(a.rule, MatchRule::kExact);
  EXPECT_EQ(a.agree, true);
  a = Judge("", "Positive", MatchRule::kAuto);
  EXPECT_EQ(a.agree, false);  // no weak answer is a wrong one
  // No reference: the row is skipped.
  EXPECT_EQ(Judge("7", "", MatchRule::kAuto).agree, std::nullopt);
  EXPECT_EQ(Judge("7", "no number", MatchRule::kNumber).agree, std::nullopt);
  EXPECT_EQ(Judge("B", "Paris", MatchRule::kChoice).agree, std::nullopt);
  // A forced rule is applied as given.
  a = Judge("seven", "7", MatchRule::kExact);
  EXPECT_EQ(a.rule, MatchRule::kExact);
  EXPECT_EQ(a.agree, false);
}

TEST(OutcomeExportTest, MatchRuleNames) {
  for (const char* name : {"auto", "number", "choice", "exact"}) {
    auto r = ParseMatchRule(name);
    ASSERT_TRUE(r.ok()) << name;
    EXPECT_EQ(MatchRuleName(*r), name);
  }
  auto bad = ParseMatchRule("fuzzy");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown match rule 'fuzzy' (expected auto, number, choice or exact)");
}

TEST(OutcomeExportTest, ExportedRowsReadBackAsTrainingData) {
  PairedOutcome a = Row("r", "a", "3 + 4 = 7\n#### 7", "#### 7");
  a.subject = "arith, \"quoted\"";
  a.weak_logprobs = {-0.5, -0.25};
  a.shadow_cost_usd = 0.5;
  PairedOutcome dup = a;
  dup.shadow_cost_usd = 0.25;
  PairedOutcome b = Row("r", "b", "#### 8", "#### 7");
  PairedOutcome none = Row("r", "c", "x", "");
  PairedOutcome cut = Row("r", "d", "#### 7", "#### 7");
  cut.strong_finish = "length";
  ExportStats stats;
  const auto rows = ExportOutcomes({a, dup, b, none, cut}, MatchRule::kAuto, &stats);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(stats.rows, 2u);
  EXPECT_EQ(stats.agreed, 1u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.no_reference, 1u);
  EXPECT_EQ(stats.cut_off, 1u);
  EXPECT_EQ(stats.by_number, 2u);
  EXPECT_DOUBLE_EQ(stats.shadow_cost_usd, 0.75);

  const std::string csv = RenderOutcomeCsv(rows);
  LoadOptions load;
  load.need_weak_response = true;
  auto back = ParseRoutingCsv(csv, "export.csv", load);
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << csv;
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].id, "a");
  EXPECT_EQ((*back)[0].prompt, "prompt of a");
  EXPECT_EQ((*back)[0].subject, "arith, \"quoted\"");
  EXPECT_EQ((*back)[0].weak_response, "3 + 4 = 7\n#### 7");
  EXPECT_EQ((*back)[0].weak_logprobs, (std::vector<double>{-0.5, -0.25}));
  EXPECT_EQ((*back)[0].weak_correct, 1);
  EXPECT_EQ((*back)[0].strong_correct, 1);
  EXPECT_EQ((*back)[1].weak_correct, 0);
  EXPECT_EQ((*back)[1].subject, std::nullopt);
  // The columns for people: the reference and the rule that judged it.
  auto table = core::ParseCsv(csv, "export.csv");
  ASSERT_TRUE(table.ok()) << table.status().message();
  const auto strong = table->ColumnIndex("strong_response");
  const auto match = table->ColumnIndex("match");
  ASSERT_TRUE(strong && match);
  EXPECT_EQ(table->rows[0][*strong], "#### 7");
  EXPECT_EQ(table->rows[0][*match], "number");
}

// ---------------------------------------------------------- router export

TEST(RouterExportTest, ShadowOutcomesTrainACascade) {
  TempDir dir("router_export");
  const std::string db = dir.File("ledger.db");
  {
    core::FakeClock clock;
    auto store = OutcomeStore::Open(db, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<PairedOutcome> rows;
    for (const RoutingExample& ex : Generated(120)) {
      PairedOutcome r = Row("math", ex.id, *ex.weak_response, "4 + 3 = 7\n#### 7");
      r.prompt = ex.prompt;
      rows.push_back(std::move(r));
    }
    ASSERT_TRUE((*store)->AddBatch(rows).ok());
  }
  app::RouterExportOptions e;
  e.db_path = db;
  e.route = "math";
  e.out_path = dir.File("math.csv");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(app::RunRouterExport(e), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(),
            "exported 120 rows of route math: the weak answer agrees with the strong one on 68 "
            "(56.7%); judged by number 120, choice 0, exact 0; skipped 0 without a reference "
            "answer, 0 with a cut-off one, 0 repeated; shadow calls cost $0.000000: " +
                e.out_path + "\n");

  app::RouterTrainOptions t;
  t.data_path = e.out_path;
  t.out_path = dir.File("math.model");
  t.kind = "cascade";
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(app::RunRouterTrain(t), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(),
            "trained a cascade router (target benefit) on 120 rows: " + t.out_path + "\n");
}

TEST(RouterExportTest, ErrorsPrintOneLine) {
  TempDir dir("router_export_err");
  const std::string db = dir.File("ledger.db");
  {
    core::FakeClock clock;
    auto store = OutcomeStore::Open(db, clock);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->AddBatch({Row("a", "1", "x", ""), Row("b", "2", "x", "y")}).ok());
  }
  auto run = [](const app::RouterExportOptions& o) {
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    const int code = app::RunRouterExport(o);
    ::testing::internal::GetCapturedStdout();
    return std::make_pair(code, ::testing::internal::GetCapturedStderr());
  };
  app::RouterExportOptions e;
  e.db_path = db;
  e.route = "nope";
  e.out_path = dir.File("out.csv");
  EXPECT_EQ(run(e), std::make_pair(2, "switchyard: route 'nope' has no shadow outcomes in " + db +
                                          " (routes with outcomes: a (1), b (1))\n"));
  e.route = "a";
  EXPECT_EQ(run(e), std::make_pair(2, std::string("switchyard: route 'a': none of its 1 shadow "
                                                  "outcomes has a usable reference answer under "
                                                  "rule 'auto' (1 without one, 0 cut off, 0 "
                                                  "repeated)\n")));
  e.match = "fuzzy";
  EXPECT_EQ(run(e), std::make_pair(2, std::string("switchyard: unknown match rule 'fuzzy' "
                                                  "(expected auto, number, choice or exact)\n")));
  e.match = "auto";
  e.since = "soon";
  EXPECT_EQ(run(e).first, 2);
  e.since = "all";
  e.db_path = dir.File("missing.db");
  EXPECT_EQ(run(e), std::make_pair(1, "switchyard: no ledger at " + e.db_path +
                                          " yet: serve a route with shadow_sample first\n"));
  e.db_path = db;
  e.route = "b";
  e.out_path = dir.File("no/such/dir/out.csv");
  EXPECT_EQ(run(e), std::make_pair(1, "switchyard: " + e.out_path + ": cannot write file\n"));
}

}  // namespace
}  // namespace switchyard::routing
