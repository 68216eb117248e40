// Renders router metrics for people and programs: a text table, JSON, and an
// SVG cost-quality chart (accuracy against the share of strong calls, with the
// router's curve, the random router's diagonal, the oracle, weak-only and
// strong-only reference lines and CPT(50%) marked). The SVG is written by
// hand: no plotting library.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "routing/metrics.h"

namespace switchyard::routing {

struct EvalReport {
  std::string title;  // e.g. the data file name
  RouterMetrics router;
  RouterMetrics random;  // RandomBaseline on the same rows
  RouterMetrics oracle;  // OracleBaseline on the same rows
};

std::string RenderReportText(const EvalReport& report);
// One JSON object; CPTs never reached and thresholds of baselines are null.
std::string RenderReportJson(const EvalReport& report);
std::string RenderCostQualitySvg(const EvalReport& report);

}  // namespace switchyard::routing
