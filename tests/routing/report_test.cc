#include "routing/report.h"

#include <gtest/gtest.h>

namespace switchyard::routing {
namespace {

EvalReport Sample() {
  std::vector<double> scores;
  std::vector<Outcome> outcomes;
  const int weak[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0};
  const int strong[] = {1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1};
  for (int j = 0; j <= 10; ++j) {
    scores.push_back(j / 10.0);
    outcomes.push_back({weak[j] == 1, strong[j] == 1});
  }
  EvalReport r;
  r.title = "sample.csv";
  r.router = *EvaluateRouter(scores, outcomes);
  r.random = *RandomBaseline(outcomes, 1, 5);
  r.oracle = *OracleBaseline(outcomes);
  return r;
}

TEST(ReportTest, Text) {
  const std::string text = RenderReportText(Sample());
  EXPECT_NE(text.find("sample.csv: 11 rows; weak-only accuracy 0.4545, strong-only 0.7273"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("router    0.955         5.5%        13.6%        30.9%"), std::string::npos)
      << text;
  EXPECT_NE(text.find("oracle    1.091"), std::string::npos) << text;
}

TEST(ReportTest, Json) {
  EvalReport r = Sample();
  r.router.cpt80.reset();
  const std::string json = RenderReportJson(r);
  EXPECT_EQ(json.rfind("{\"title\":\"sample.csv\",\"rows\":11,", 0), 0u) << json;
  EXPECT_NE(json.find("\"cpt80\":null"), std::string::npos);
  EXPECT_NE(json.find("\"router\":{\"apgr\":0.9545454545454"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"threshold\":1,\"strong_fraction\":0,\"accuracy\":0.4545"),
            std::string::npos)
      << json;
  // Baselines have no thresholds.
  const size_t random = json.find("\"random\":");
  ASSERT_NE(random, std::string::npos);
  EXPECT_NE(json.find("\"threshold\":null", random), std::string::npos);
}

TEST(ReportTest, SvgHasTheReadableParts) {
  const std::string svg = RenderCostQualitySvg(Sample());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("Calls to the strong model (% of queries)"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find("CPT(50%) = 13.6%"), std::string::npos);
  EXPECT_NE(svg.find("router (APGR 0.955)"), std::string::npos);
  EXPECT_NE(svg.find("random (expected APGR 0.5)"), std::string::npos);
  EXPECT_NE(svg.find("strong only 72.7%"), std::string::npos);
  EXPECT_NE(svg.find("weak only 45.5%"), std::string::npos);
  EXPECT_NE(svg.find("Cost and quality — sample.csv"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // 11 markers on the router curve.
  size_t markers = 0;
  for (size_t p = svg.find("r=\"3.5\""); p != std::string::npos; p = svg.find("r=\"3.5\"", p + 1)) {
    ++markers;
  }
  EXPECT_EQ(markers, 11u);
}

}  // namespace
}  // namespace switchyard::routing
