// `switchyard router train|score|eval|export`: offline router work on outcome
// CSVs, and the export of a route's shadow outcomes as such a CSV.
// Each function returns the process exit code: 0 success; 2 bad usage, bad
// input data or a bad model file (one line on stderr, "switchyard: ...");
// 1 when an output file cannot be written. Results go to stdout.
#pragma once

#include <optional>
#include <string>

namespace switchyard::app {

struct RouterTrainOptions {
  std::string data_path;        // --data: id,prompt,weak_correct,strong_correct[,...]
  std::string out_path;         // --out: model file to write
  std::string kind = "prompt";  // --kind: prompt | cascade
  // --target: benefit | difference | discordant | weak_wrong | rank ("" = default)
  std::string target;
  std::optional<double> c;  // --c: liblinear C (default: DefaultTrainOptions)
};

struct RouterScoreOptions {
  std::string model_path;  // --model
  std::string data_path;   // --data: id,prompt[,subject][,weak_response][,weak_logprobs]
  std::string out_path;    // --out: id,score CSV
};

struct RouterEvalOptions {
  std::string data_path;    // --data: id,weak_correct,strong_correct (prompt not needed)
  std::string scores_path;  // --scores: id,score
  bool json = false;        // --json: print JSON instead of the table
  std::string plot_path;    // --plot: write an SVG cost-quality chart here ("" = none)
  uint64_t seed = 1;        // random-baseline seed
};

struct RouterExportOptions {
  std::string config_path;     // -c: for the ledger's path ("" = embedded defaults)
  std::string db_path;         // --db: overrides the config's ledger path
  std::string route;           // --route
  std::string out_path;        // --out: the data CSV to write
  std::string match = "auto";  // --match: auto | number | choice | exact
  std::string since = "all";   // --since: 30m, 24h, 7d, or all
};

int RunRouterTrain(const RouterTrainOptions& options);
int RunRouterScore(const RouterScoreOptions& options);
int RunRouterEval(const RouterEvalOptions& options);
// Exit 2 also when the route has no shadow outcomes (the message lists the
// routes that have some) or none of them has a reference answer.
int RunRouterExport(const RouterExportOptions& options);

}  // namespace switchyard::app
