#include "economics/chart.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::economics {
namespace {

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
  return n;
}

// The points attribute of the polyline with this id.
std::string Points(const std::string& svg, const std::string& id) {
  const size_t at = svg.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t b = svg.find("points=\"", at) + 8;
  return svg.substr(b, svg.find('"', b) - b);
}

CrossoverChart IssueChart() {
  CrossoverChart c;
  c.title = "openai/gpt-4o-mini vs self-hosted <H100>";
  c.api_cost_per_request = 0.00075;
  c.shape = {1000, 0, 1000};
  c.current_requests_per_day = 50000;  // 100M tokens/day
  return c;
}

// x range: max(3 x 526M, 2 x 255.4M, 1.25 x 100M) = 1.578B -> 2B. Replicas of
// 526M tokens/day: 4 steps (2 points each) up to 2B. API at 2B tokens/day =
// 1M requests x 0.00075 x 30 = $22,500; y range 1.1 x 22,500 -> $25,000.
TEST(ChartTest, CrossoverChartForTheIssueExample) {
  const std::string svg = RenderCrossoverSvg(IssueChart());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("<title>openai/gpt-4o-mini vs self-hosted &lt;H100&gt;</title>"),
            std::string::npos);
  EXPECT_EQ(Count(svg, "<g"), Count(svg, "</g>"));
  EXPECT_NE(svg.find("id=\"api-line\""), std::string::npos);
  EXPECT_NE(svg.find("crossover 255.4 million tokens/day"), std::string::npos);
  EXPECT_NE(svg.find("current 100.0 million tokens/day"), std::string::npos);
  EXPECT_NE(svg.find(">2B</text>"), std::string::npos);        // x axis end
  EXPECT_NE(svg.find(">$25k</text>"), std::string::npos);      // y axis end
  EXPECT_EQ(Count(Points(svg, "self-hosted-line"), ","), 8u);  // 4 steps
  // Plot 800 x 480 with margins 84 / 24 / 48 / 64: the API line ends at
  // x = 776, y = 48 + 368 - 22,500 / 25,000 x 368 = 84.8.
  EXPECT_EQ(Points(svg, "api-line"), "84.0,416.0 776.0,84.8");
}

TEST(ChartTest, NeverHasNoCrossoverMarker) {
  CrossoverChart c = IssueChart();
  c.api_cost_per_request = 0.00002;
  c.current_requests_per_day.reset();
  const std::string svg = RenderCrossoverSvg(c);
  EXPECT_EQ(svg.find("crossover-marker"), std::string::npos);
  EXPECT_EQ(svg.find("current-marker"), std::string::npos);
  EXPECT_NE(svg.find("self-hosted-line"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::economics
