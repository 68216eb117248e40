#include "routing/dataset.h"

#include <gtest/gtest.h>

namespace switchyard::routing {
namespace {

TEST(ParseRoutingCsvTest, ReadsAllColumns) {
  auto rows = ParseRoutingCsv(
      "id,subject,prompt,weak_correct,strong_correct,weak_response,strong_response,"
      "weak_logprobs\n"
      "q1,anatomy,\"What, exactly?\",1,0,\"It is 4.\",\"secret\",\"[-0.1, -2.5]\"\n"
      "q2,,Why?,0,1,,,\n",
      "d.csv", {});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  const RoutingExample& a = (*rows)[0];
  EXPECT_EQ(a.id, "q1");
  EXPECT_EQ(a.prompt, "What, exactly?");
  EXPECT_EQ(*a.subject, "anatomy");
  EXPECT_EQ(a.weak_correct, 1);
  EXPECT_EQ(a.strong_correct, 0);
  EXPECT_EQ(*a.weak_response, "It is 4.");
  ASSERT_EQ(a.weak_logprobs.size(), 2u);
  EXPECT_DOUBLE_EQ(a.weak_logprobs[1], -2.5);
  const RoutingExample& b = (*rows)[1];
  EXPECT_FALSE(b.subject.has_value());
  EXPECT_TRUE(b.weak_logprobs.empty());
  const auto outcomes = Outcomes(*rows);
  EXPECT_TRUE(outcomes[0].weak_correct);
  EXPECT_FALSE(outcomes[0].strong_correct);
}

TEST(ParseRoutingCsvTest, Errors) {
  auto msg = [](std::string_view text, LoadOptions o = {}) {
    return ParseRoutingCsv(text, "d.csv", o).status().message();
  };
  EXPECT_EQ(msg(""), "d.csv: empty file");
  EXPECT_EQ(msg("id,prompt,weak_correct\n"), "d.csv: missing column 'strong_correct'");
  EXPECT_EQ(msg("prompt,weak_correct,strong_correct\n"), "d.csv: missing column 'id'");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\n"), "d.csv: no data rows");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\nq1,hi,1,0\nq2,hi,yes,0\n"),
            "d.csv:3: bad value 'yes' in column 'weak_correct' (expected 0 or 1)");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\nq1,hi,1,2\n"),
            "d.csv:2: bad value '2' in column 'strong_correct' (expected 0 or 1)");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\nq1,hi,1,0\nq1,hi,0,0\n"),
            "d.csv:3: duplicate id 'q1'");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\n ,hi,1,0\n"), "d.csv:2: empty id");
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct,weak_logprobs\nq1,hi,1,0,-0.5 abc\n"),
            "d.csv:2: bad value '-0.5 abc' in column 'weak_logprobs' (expected numbers)");
  LoadOptions cascade;
  cascade.need_weak_response = true;
  EXPECT_EQ(msg("id,prompt,weak_correct,strong_correct\nq1,hi,1,0\n", cascade),
            "d.csv: missing column 'weak_response'");
  LoadOptions scoring;
  scoring.need_outcomes = false;
  EXPECT_TRUE(ParseRoutingCsv("id,prompt\nq1,hi\n", "d.csv", scoring).ok());
  LoadOptions eval;
  eval.need_prompt = false;
  EXPECT_TRUE(ParseRoutingCsv("id,weak_correct,strong_correct\nq1,1,0\n", "d.csv", eval).ok());
}

TEST(ParseRoutingCsvTest, AcceptsTrueFalse) {
  auto rows =
      ParseRoutingCsv("id,prompt,weak_correct,strong_correct\nq,p,True,false\n", "d.csv", {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].weak_correct, 1);
  EXPECT_EQ((*rows)[0].strong_correct, 0);
}

TEST(ScoresCsvTest, ParseAlignRender) {
  auto scores = ParseScoresCsv("id,score\nb,0.25\na,-1e-3\n", "s.csv");
  ASSERT_TRUE(scores.ok()) << scores.status().message();
  auto rows =
      ParseRoutingCsv("id,prompt,weak_correct,strong_correct\na,x,1,0\nb,y,0,1\n", "d.csv", {});
  ASSERT_TRUE(rows.ok());
  auto aligned = AlignScores(*rows, *scores, "s.csv");
  ASSERT_TRUE(aligned.ok());
  EXPECT_DOUBLE_EQ((*aligned)[0], -0.001);
  EXPECT_DOUBLE_EQ((*aligned)[1], 0.25);
  EXPECT_EQ(RenderScoresCsv({{"a,1", 0.5}, {"b", -2}}), "id,score\n\"a,1\",0.5\nb,-2\n");
}

TEST(ScoresCsvTest, Errors) {
  EXPECT_EQ(ParseScoresCsv("", "s.csv").status().message(), "s.csv: empty file");
  EXPECT_EQ(ParseScoresCsv("id,value\na,1\n", "s.csv").status().message(),
            "s.csv: missing column 'score'");
  EXPECT_EQ(ParseScoresCsv("id,score\n", "s.csv").status().message(), "s.csv: no data rows");
  EXPECT_EQ(ParseScoresCsv("id,score\na,high\n", "s.csv").status().message(),
            "s.csv:2: bad value 'high' in column 'score' (expected a number)");
  EXPECT_EQ(ParseScoresCsv("id,score\na,nan\n", "s.csv").status().message(),
            "s.csv:2: bad value 'nan' in column 'score' (expected a number)");
  EXPECT_EQ(ParseScoresCsv("id,score\na,1\na,2\n", "s.csv").status().message(),
            "s.csv:3: duplicate id 'a'");
  auto rows =
      ParseRoutingCsv("id,prompt,weak_correct,strong_correct\na,x,1,0\nc,y,0,1\n", "d.csv", {});
  ASSERT_TRUE(rows.ok());
  auto scores = ParseScoresCsv("id,score\na,1\n", "s.csv");
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(AlignScores(*rows, *scores, "s.csv").status().message(), "s.csv: no score for id 'c'");
}

TEST(ParseLogprobsTest, Formats) {
  EXPECT_EQ(ParseLogprobs("-0.1 -2").value(), (std::vector<double>{-0.1, -2}));
  EXPECT_EQ(ParseLogprobs("[-0.1,-2]").value(), (std::vector<double>{-0.1, -2}));
  EXPECT_EQ(ParseLogprobs("-0.1;-2").value(), (std::vector<double>{-0.1, -2}));
  EXPECT_TRUE(ParseLogprobs("[]").value().empty());
  EXPECT_FALSE(ParseLogprobs("[-0.1").has_value());
  EXPECT_FALSE(ParseLogprobs("-0.1 x").has_value());
}

}  // namespace
}  // namespace switchyard::routing
