// switchyard — command-line entry point. Declares the subcommands and their
// flags (CLI11) and hands over to the composition roots in this folder.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "app/commands.h"

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"switchyard — a hybrid LLM gateway: own the routine, rent the frontier"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  switchyard::app::ServeOptions serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run the OpenAI-compatible gateway (POST /v1/chat/completions)");
  serve_cmd
      ->add_option("-c,--config", serve.config_path,
                   "TOML config file (default: embedded defaults and the environment)")
      ->envname("SWITCHYARD_CONFIG");

  switchyard::app::LedgerOptions ledger;
  CLI::App* ledger_cmd =
      app.add_subcommand("ledger", "Read the request ledger (spend, tokens, latency)");
  ledger_cmd->require_subcommand(1);
  for (CLI::App* sub :
       {ledger_cmd->add_subcommand("stats",
                                   "Requests, tokens, spend, p50/p95 latency and error rate per "
                                   "group, and the top prompt templates by spend"),
        ledger_cmd->add_subcommand("tail", "The latest requests, one line each")}) {
    sub->add_option("-c,--config", ledger.config_path, "Config file (for data_dir / ledger path)")
        ->envname("SWITCHYARD_CONFIG");
    sub->add_option("--db", ledger.db_path, "Ledger database file (default: <data_dir>/ledger.db)");
  }
  CLI::App* stats_cmd = ledger_cmd->get_subcommand("stats");
  stats_cmd->add_option("--since", ledger.since, "Window: 30m, 24h, 7d, or all")
      ->capture_default_str();
  stats_cmd->add_option("--by", ledger.by, "Group by model, task, tenant or template")
      ->capture_default_str();
  stats_cmd->add_flag("--json", ledger.json, "Print every figure as JSON");
  CLI::App* tail_cmd = ledger_cmd->get_subcommand("tail");
  tail_cmd->add_option("-n,--lines", ledger.tail_count, "How many records")->capture_default_str();

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 returns 0 for --help; usage errors become exit code 2.
    return code == 0 ? 0 : 2;
  }

  if (*version_cmd) {
    std::printf("switchyard %s\n", SWITCHYARD_VERSION);
    return 0;
  }
  if (*serve_cmd) return switchyard::app::RunServe(serve);
  if (*stats_cmd) return switchyard::app::RunLedgerStats(ledger);
  if (*tail_cmd) return switchyard::app::RunLedgerTail(ledger);
  return 2;
}
