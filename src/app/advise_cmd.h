// `switchyard advise` and `switchyard replay`: the build-vs-buy advisor's CLI.
//
//   switchyard advise [--since 30d] [--json] [--chart FILE]
//   switchyard advise --what-if --model M [--tokens-per-day N] [--in-out 1000:1000]
//                     [--cached-in N] [--gpu-hourly 3.99] [--gpus 1] [--throughput 15220]
//                     [--utilization 0.2] [--ops-monthly 0] [--training-cost 0]
//                     [--horizon-months 12] [--json] [--chart FILE]
//   switchyard replay (--ledger [--db FILE] | --trace FILE) --policy FILE [--since all]
//                     [--json] [--chart FILE]
//
// Both load the config (file or embedded defaults) for the ledger path, price
// overrides ([[prices]]), owned providers (their answers count as local) and
// task kinds ([[tasks]]). Hardware flags override `assumptions` field by field.
// Exit codes: 0 success; 1 runtime failure (ledger unreadable, chart not
// written); 2 bad usage, bad input or nothing to work on — one line on stderr,
// "switchyard: advise: <message>" / "switchyard: replay: <message>".
// Thread-safety: run from the main thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "economics/advisor.h"

namespace switchyard::app {

struct AdviseOptions {
  std::string config_path;    // "" = embedded defaults (data_dir, prices)
  std::string db_path;        // overrides the config's ledger path
  std::string since = "30d";  // window: 30m, 24h, 7d, or "all"
  bool json = false;          // every figure as JSON instead of the table
  std::string chart_path;     // write the crossover chart (SVG) here ("" = none)

  // Defaults documented in docs/ECONOMICS.md; the lead fills them from config.
  economics::AdvisorAssumptions assumptions;
  // Flag overrides of assumptions.self_hosting (unset = keep).
  std::optional<double> gpu_hourly;      // --gpu-hourly USD per GPU-hour
  std::optional<int> gpus;               // --gpus per replica
  std::optional<double> throughput;      // --throughput output tokens/s per replica
  std::optional<double> utilization;     // --utilization (0, 1]
  std::optional<double> ops_monthly;     // --ops-monthly USD per month
  std::optional<double> training_cost;   // --training-cost USD, one-off
  std::optional<double> horizon_months;  // --horizon-months amortisation horizon

  // What-if mode: no ledger.
  bool what_if = false;                  // --what-if
  std::string model;                     // --model gpt-4o-mini | openai/gpt-4o-mini
  std::optional<double> tokens_per_day;  // --tokens-per-day (input + output)
  std::string in_out = "1000:1000";      // --in-out INPUT:OUTPUT tokens per request
  int64_t cached_input_tokens = 0;       // --cached-in: of the input, cached tokens
};

// The embedded price book with the config's [[prices]] applied (as the
// gateway's accounting does). Errors: the embedded book's parse error.
core::Result<economics::PriceBook> AdvisorPriceBook(const config::Config& cfg);
// The config's owned providers: their answers count as local.
std::vector<std::string> OwnedProviders(const config::Config& cfg);

int RunAdvise(const AdviseOptions& options);
// For tests: an injected clock, output and error text instead of stdout/stderr.
int RunAdvise(const AdviseOptions& options, const core::Clock& clock, std::string& out,
              std::string& err);

struct ReplayCmdOptions {
  std::string config_path;
  bool from_ledger = false;   // --ledger: replay the ledger (the config's, or db_path)
  std::string db_path;        // --db FILE: this ledger file (implies --ledger)
  std::string trace_path;     // --trace FILE (JSONL of ledger records)
  std::string policy_path;    // --policy FILE (TOML, see economics/replay.h)
  std::string since = "all";  // ledger window
  bool json = false;
  std::string chart_path;  // crossover chart of the traffic at the frontier price
  economics::SelfHostingAssumptions assumptions;  // for the chart
};

int RunReplay(const ReplayCmdOptions& options);
int RunReplay(const ReplayCmdOptions& options, const core::Clock& clock, std::string& out,
              std::string& err);

}  // namespace switchyard::app
