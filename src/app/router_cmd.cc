// `switchyard router train|score|eval|export`: thin shells over src/routing.
#include "app/router_cmd.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/clock.h"
#include "ledger/query.h"
#include "routing/dataset.h"
#include "routing/metrics.h"
#include "routing/model.h"
#include "routing/outcome_export.h"
#include "routing/outcome_store.h"
#include "routing/report.h"

namespace switchyard::app {
namespace {

int Fail(const core::Status& status, int code) {
  std::fprintf(stderr, "switchyard: %s\n", status.message().c_str());
  return code;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return false;
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

int RunRouterTrain(const RouterTrainOptions& options) {
  auto kind = routing::ParseRouterKind(options.kind);
  if (!kind.ok()) return Fail(kind.status(), 2);
  routing::TrainOptions train = routing::DefaultTrainOptions(*kind);
  if (!options.target.empty()) {
    auto target = routing::ParseTarget(options.target);
    if (!target.ok()) return Fail(target.status(), 2);
    train.target = *target;
  }
  if (options.c) {
    if (!(*options.c > 0)) return Fail(core::InvalidArgument("--c must be positive"), 2);
    train.c = *options.c;
  }
  routing::LoadOptions load;
  load.need_outcomes = true;
  load.need_weak_response = *kind == routing::RouterKind::kCascade;
  auto data = routing::LoadRoutingCsv(options.data_path, load);
  if (!data.ok()) return Fail(data.status(), 2);
  auto model = routing::RouterModel::Train(*data, train);
  if (!model.ok()) return Fail(model.status(), 2);
  if (auto s = model->Save(options.out_path); !s.ok()) return Fail(s, 1);
  std::printf("trained a %s router (target %s) on %zu rows: %s\n",
              std::string(routing::RouterKindName(*kind)).c_str(),
              std::string(routing::TargetName(train.target)).c_str(), data->size(),
              options.out_path.c_str());
  return 0;
}

int RunRouterScore(const RouterScoreOptions& options) {
  auto model = routing::RouterModel::Load(options.model_path);
  if (!model.ok()) return Fail(model.status(), 2);
  routing::LoadOptions load;
  load.need_outcomes = false;
  load.need_weak_response = model->kind() == routing::RouterKind::kCascade;
  auto data = routing::LoadRoutingCsv(options.data_path, load);
  if (!data.ok()) return Fail(data.status(), 2);
  auto scores = model->ScoreAll(*data);
  if (!scores.ok()) return Fail(scores.status(), 2);
  std::vector<routing::ScoredId> rows;
  rows.reserve(data->size());
  for (size_t i = 0; i < data->size(); ++i) rows.push_back({(*data)[i].id, (*scores)[i]});
  if (!WriteFile(options.out_path, routing::RenderScoresCsv(rows))) {
    return Fail(core::InvalidArgument(options.out_path + ": cannot write file"), 1);
  }
  std::printf("scored %zu rows: %s\n", rows.size(), options.out_path.c_str());
  return 0;
}

int RunRouterEval(const RouterEvalOptions& options) {
  routing::LoadOptions load;
  load.need_prompt = false;
  load.need_outcomes = true;
  auto data = routing::LoadRoutingCsv(options.data_path, load);
  if (!data.ok()) return Fail(data.status(), 2);
  auto score_rows = routing::LoadScoresCsv(options.scores_path);
  if (!score_rows.ok()) return Fail(score_rows.status(), 2);
  auto scores = routing::AlignScores(*data, *score_rows, options.scores_path);
  if (!scores.ok()) return Fail(scores.status(), 2);
  const auto outcomes = routing::Outcomes(*data);
  routing::EvalReport report;
  report.title = std::filesystem::path(options.data_path).filename().string();
  auto router = routing::EvaluateRouter(*scores, outcomes);
  if (!router.ok()) return Fail(router.status(), 2);
  report.router = std::move(*router);
  auto random = routing::RandomBaseline(outcomes, options.seed);
  if (!random.ok()) return Fail(random.status(), 2);
  report.random = std::move(*random);
  auto oracle = routing::OracleBaseline(outcomes);
  if (!oracle.ok()) return Fail(oracle.status(), 2);
  report.oracle = std::move(*oracle);
  if (!options.plot_path.empty() &&
      !WriteFile(options.plot_path, routing::RenderCostQualitySvg(report))) {
    return Fail(core::InvalidArgument(options.plot_path + ": cannot write file"), 1);
  }
  const std::string out =
      options.json ? routing::RenderReportJson(report) + "\n" : routing::RenderReportText(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int RunRouterExport(const RouterExportOptions& options) {
  auto rule = routing::ParseMatchRule(options.match);
  if (!rule.ok()) return Fail(rule.status(), 2);
  core::SystemClock clock;
  auto since_ms = ledger::SinceCutoff(options.since, clock.UnixMillis());
  if (!since_ms.ok()) return Fail(since_ms.status(), 2);
  const config::EnvLookup env = config::ProcessEnv();
  auto cfg = config::LoadConfigOrDefaults(options.config_path, env);
  if (!cfg.ok()) return Fail(cfg.status(), 2);
  const std::string path = options.db_path.empty() ? cfg->LedgerPath() : options.db_path;
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error)) {
    return Fail(
        core::NotFound("no ledger at " + path + " yet: serve a route with shadow_sample first"), 1);
  }
  auto store = routing::OutcomeStore::Open(path, clock);
  if (!store.ok()) return Fail(store.status(), 1);
  auto outcomes = (*store)->Load(options.route, *since_ms);
  if (!outcomes.ok()) return Fail(outcomes.status(), 1);
  if (outcomes->empty()) {
    auto counts = (*store)->CountByRoute();
    if (!counts.ok()) return Fail(counts.status(), 1);
    std::string have;
    for (const auto& [route, n] : *counts) {
      have += (have.empty() ? "" : ", ") + route + " (" + std::to_string(n) + ")";
    }
    return Fail(
        core::InvalidArgument("route '" + options.route + "' has no shadow outcomes" +
                              (*since_ms > 0 ? " since " + options.since : "") + " in " + path +
                              " (routes with outcomes: " + (have.empty() ? "none" : have) + ")"),
        2);
  }
  routing::ExportStats stats;
  const auto rows = routing::ExportOutcomes(*outcomes, *rule, &stats);
  if (rows.empty()) {
    return Fail(
        core::InvalidArgument(
            "route '" + options.route + "': none of its " + std::to_string(outcomes->size()) +
            " shadow outcomes has a usable reference answer under rule '" + options.match + "' (" +
            std::to_string(stats.no_reference) + " without one, " + std::to_string(stats.cut_off) +
            " cut off, " + std::to_string(stats.duplicates) + " repeated)"),
        2);
  }
  if (!WriteFile(options.out_path, routing::RenderOutcomeCsv(rows))) {
    return Fail(core::InvalidArgument(options.out_path + ": cannot write file"), 1);
  }
  std::printf(
      "exported %zu rows of route %s: the weak answer agrees with the strong one on %zu (%.1f%%); "
      "judged by number %zu, choice %zu, exact %zu; skipped %zu without a reference answer, %zu "
      "with a cut-off one, %zu repeated; shadow calls cost $%.6f: %s\n",
      stats.rows, options.route.c_str(), stats.agreed,
      100.0 * static_cast<double>(stats.agreed) / static_cast<double>(stats.rows), stats.by_number,
      stats.by_choice, stats.by_exact, stats.no_reference, stats.cut_off, stats.duplicates,
      stats.shadow_cost_usd, options.out_path.c_str());
  return 0;
}

}  // namespace switchyard::app
