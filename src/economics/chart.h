// The crossover chart: monthly cost against daily volume, as a standalone SVG
// document written by hand (no library, no script, works offline).
//
//   x  tokens per day (input + output), from 0
//   y  USD per month (30 days)
//   API line          requests/day x API cost per request x 30
//   self-hosted steps (replicas x GPU cost per day + fixed cost per day) x 30,
//                     one step up each time the volume needs another replica
//   markers           the first crossover (unless never) and the current volume
//
// The x range, unless given, covers twice the crossover, three replicas'
// capacity and 1.25 x the current volume, rounded up to a 1/2/2.5/5 x 10^k value.
// Thread-safety: pure function. Requires valid assumptions and shape.
#pragma once

#include <optional>
#include <string>

#include "economics/cost_model.h"

namespace switchyard::economics {

struct CrossoverChart {
  std::string title;  // escaped for XML by the renderer
  double api_cost_per_request = 0;
  RequestShape shape;
  SelfHostingAssumptions assumptions;
  std::optional<double> current_requests_per_day;
  double max_tokens_per_day = 0;  // 0 = automatic
  int width = 800;
  int height = 480;
};

// A complete SVG document ("<svg ...>...</svg>\n") with ids "api-line",
// "self-hosted-line", "crossover-marker" (absent when never) and
// "current-marker" (absent without a current volume).
std::string RenderCrossoverSvg(const CrossoverChart& chart);

}  // namespace switchyard::economics
