// switchyard — command-line entry point. Declares the subcommands and their
// flags (CLI11) and hands over to the composition roots in this folder.
#include <cstdio>
#include <string>

#include <sqlite3.h>
#include <CLI/CLI.hpp>

#include "app/advise_cmd.h"
#include "app/audit_cmd.h"
#include "app/commands.h"
#include "app/keys_cmd.h"
#include "app/router_cmd.h"

#if defined(SWITCHYARD_WITH_TCMALLOC)
#include <gperftools/malloc_extension.h>
#elif defined(SWITCHYARD_WITH_MIMALLOC)
#include <mimalloc.h>
#endif

#ifndef SWITCHYARD_VERSION
#define SWITCHYARD_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  // Before any connection opens: Debian's SQLite keeps memory statistics,
  // which takes a process-wide mutex around every one of its allocations (and
  // it is built without lookaside, so a row insert makes many). Nothing here
  // reads those statistics; the ledger and audit writer threads stop paying.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  CLI::App app{"switchyard — a hybrid LLM gateway: own the routine, rent the frontier"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  switchyard::app::ServeOptions serve;
#if defined(SWITCHYARD_WITH_TCMALLOC)
  // Start-up (config, price book, Hyperscan's pattern compilation) frees many
  // MB that tcmalloc keeps: once serving starts, the main thread's cache goes
  // back to the central lists (it allocates little from then on) and the free
  // page heap back to the kernel (later frees go back gradually,
  // TCMALLOC_RELEASE_RATE).
  serve.release_free_memory = [] {
    MallocExtension::instance()->MarkThreadIdle();
    MallocExtension::instance()->ReleaseFreeMemory();
  };
#elif defined(SWITCHYARD_WITH_MIMALLOC)
  // Start-up (config, price book, Hyperscan's pattern compilation) frees many
  // MB: return freed pages to the kernel at once until serving starts, then go
  // back to mimalloc's delayed decommit (fewer syscalls under load).
  static const long kDecommitDelay = mi_option_get(mi_option_decommit_delay);
  static const long kSegmentDecommitDelay = mi_option_get(mi_option_segment_decommit_delay);
  mi_option_set(mi_option_decommit_delay, 0);
  mi_option_set(mi_option_segment_decommit_delay, 0);
  serve.release_free_memory = [] {
    mi_collect(/*force=*/true);
    mi_option_set(mi_option_decommit_delay, kDecommitDelay);
    mi_option_set(mi_option_segment_decommit_delay, kSegmentDecommitDelay);
  };
#endif
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

  switchyard::app::AdviseOptions advise;
  CLI::App* advise_cmd = app.add_subcommand(
      "advise", "Build vs buy: per task, keep on the API, go hybrid with a student, or self-host");
  advise_cmd->add_option("-c,--config", advise.config_path, "Config file")
      ->envname("SWITCHYARD_CONFIG");
  advise_cmd->add_option("--db", advise.db_path, "Ledger database file");
  advise_cmd->add_option("--since", advise.since, "Window: 30m, 24h, 7d, or all")
      ->capture_default_str();
  advise_cmd->add_flag("--json", advise.json, "Print every figure as JSON");
  advise_cmd->add_option("--chart", advise.chart_path, "Write the crossover chart (SVG) here");
  advise_cmd->add_flag("--what-if", advise.what_if, "Compute the figures without a ledger");
  advise_cmd->add_option("--model", advise.model, "What-if: the API model (e.g. gpt-4o-mini)");
  advise_cmd->add_option("--tokens-per-day", advise.tokens_per_day,
                         "What-if: input + output tokens per day");
  advise_cmd->add_option("--in-out", advise.in_out, "What-if: INPUT:OUTPUT tokens per request")
      ->capture_default_str();
  advise_cmd->add_option("--cached-in", advise.cached_input_tokens,
                         "What-if: cached input tokens per request");
  advise_cmd->add_option("--gpu-hourly", advise.gpu_hourly, "USD per GPU-hour");
  advise_cmd->add_option("--gpus", advise.gpus, "GPUs per replica");
  advise_cmd->add_option("--throughput", advise.throughput, "Output tokens/s per replica");
  advise_cmd->add_option("--utilization", advise.utilization, "Share of paid time serving (0, 1]");
  advise_cmd->add_option("--ops-monthly", advise.ops_monthly, "Operations cost, USD per month");
  advise_cmd->add_option("--training-cost", advise.training_cost, "One-off training cost, USD");
  advise_cmd->add_option("--horizon-months", advise.horizon_months,
                         "Months over which the training cost is amortised");

  switchyard::app::ReplayCmdOptions replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay", "Re-price past traffic under another routing policy (counterfactual)");
  replay_cmd->add_option("-c,--config", replay.config_path, "Config file")
      ->envname("SWITCHYARD_CONFIG");
  replay_cmd->add_flag("--ledger", replay.from_ledger, "Replay the ledger");
  replay_cmd->add_option("--db", replay.db_path, "This ledger file (implies --ledger)");
  replay_cmd->add_option("--trace", replay.trace_path, "A trace file (JSONL of ledger records)");
  replay_cmd->add_option("--policy", replay.policy_path, "Policy file (TOML)")->required();
  replay_cmd->add_option("--since", replay.since, "Ledger window")->capture_default_str();
  replay_cmd->add_flag("--json", replay.json, "Print every figure as JSON");
  replay_cmd->add_option("--chart", replay.chart_path, "Write the cost-vs-volume chart (SVG)");

  CLI::App* router_cmd =
      app.add_subcommand("router", "Learned routers and cascades: train, score, evaluate offline");
  router_cmd->require_subcommand(1);
  switchyard::app::RouterTrainOptions router_train;
  CLI::App* router_train_cmd =
      router_cmd->add_subcommand("train", "Train a router from outcome data (CSV)");
  router_train_cmd
      ->add_option("--data", router_train.data_path,
                   "CSV: id,prompt,weak_correct,strong_correct[,subject,weak_response]")
      ->required();
  router_train_cmd->add_option("--out", router_train.out_path, "Model file to write")->required();
  router_train_cmd
      ->add_option("--kind", router_train.kind,
                   "prompt (reads the prompt) or cascade (also the weak answer)")
      ->capture_default_str();
  router_train_cmd->add_option(
      "--target", router_train.target,
      "What to learn: benefit, difference, discordant, weak_wrong or rank");
  router_train_cmd->add_option("--c", router_train.c, "liblinear regularisation C");
  switchyard::app::RouterScoreOptions router_score;
  CLI::App* router_score_cmd =
      router_cmd->add_subcommand("score", "Score rows: higher means call the strong model");
  router_score_cmd->add_option("--model", router_score.model_path, "Model file")->required();
  router_score_cmd->add_option("--data", router_score.data_path, "CSV with id,prompt[,...]")
      ->required();
  router_score_cmd->add_option("--out", router_score.out_path, "Scores CSV (id,score)")->required();
  switchyard::app::RouterEvalOptions router_eval;
  CLI::App* router_eval_cmd = router_cmd->add_subcommand(
      "eval", "RouteLLM metrics of scores: PGR, APGR, CPT(20/50/80%), cost-quality chart");
  router_eval_cmd
      ->add_option("--data", router_eval.data_path, "CSV with id,weak_correct,strong_correct")
      ->required();
  router_eval_cmd->add_option("--scores", router_eval.scores_path, "Scores CSV (id,score)")
      ->required();
  router_eval_cmd->add_flag("--json", router_eval.json, "Print JSON instead of the table");
  router_eval_cmd->add_option("--plot", router_eval.plot_path, "Write the chart (SVG) here");
  switchyard::app::RouterExportOptions router_export;
  CLI::App* router_export_cmd = router_cmd->add_subcommand(
      "export", "Write a route's shadow outcomes as training data (CSV for `router train`)");
  router_export_cmd->add_option("--route", router_export.route, "Route name")->required();
  router_export_cmd->add_option("--out", router_export.out_path, "Data CSV to write")->required();
  router_export_cmd
      ->add_option("--match", router_export.match,
                   "How the weak answer is judged against the strong one: auto, number, choice "
                   "or exact")
      ->capture_default_str();
  router_export_cmd->add_option("--since", router_export.since, "Window: 30m, 24h, 7d, or all")
      ->capture_default_str();
  router_export_cmd->add_option("-c,--config", router_export.config_path, "Config file")
      ->envname("SWITCHYARD_CONFIG");
  router_export_cmd->add_option("--db", router_export.db_path,
                                "Ledger database file (default: <data_dir>/ledger.db)");

  switchyard::app::KeysOptions keys;
  CLI::App* keys_cmd = app.add_subcommand("keys", "API keys and tenants (keys are stored hashed)");
  keys_cmd->require_subcommand(1);
  CLI::App* keys_create_cmd =
      keys_cmd->add_subcommand("create", "Create a key for a tenant; the key is printed once");
  keys_create_cmd->add_option("--tenant", keys.tenant, "Tenant name")->required();
  keys_create_cmd->add_option("--budget-usd-day", keys.budget_usd_day, "Spend limit, USD per day");
  keys_create_cmd->add_option("--rpm", keys.rpm, "Requests per minute");
  keys_create_cmd->add_option("--tpm", keys.tpm, "Tokens per minute");
  CLI::App* keys_list_cmd = keys_cmd->add_subcommand("list", "List keys (masked) and tenants");
  CLI::App* keys_revoke_cmd = keys_cmd->add_subcommand("revoke", "Revoke a key, effective at once");
  keys_revoke_cmd->add_option("key", keys.key, "Key id, masked key or the key itself")->required();
  for (CLI::App* sub : {keys_create_cmd, keys_list_cmd, keys_revoke_cmd}) {
    sub->add_option("-c,--config", keys.config_path, "Config file (for data_dir)")
        ->envname("SWITCHYARD_CONFIG");
    sub->add_option("--db", keys.db_path, "Keys database (default: <data_dir>/keys.db)");
    sub->add_flag("--json", keys.json, "Machine-readable output");
  }

  switchyard::app::AuditOptions audit;
  CLI::App* audit_cmd =
      app.add_subcommand("audit", "Egress audit: what left the boundary, to whom, with which PII");
  audit_cmd->add_option("--since", audit.since, "Window: 30m, 24h, 7d, or all")
      ->capture_default_str();
  audit_cmd->add_flag("--json", audit.json, "Print JSON");
  audit_cmd->add_option("-n,--limit", audit.limit, "At most this many records (0 = all)");
  audit_cmd->add_option("-c,--config", audit.config_path, "Config file")
      ->envname("SWITCHYARD_CONFIG");
  audit_cmd->add_option("--db", audit.db_path, "Audit database (default: <data_dir>/audit.db)");

  switchyard::app::TaskCommandOptions task_opts;
  CLI::App* tasks_cmd =
      app.add_subcommand("tasks", "Tasks and their students: status, version, threshold, coverage");
  tasks_cmd->add_flag("--versions", task_opts.versions, "Every version of every task");
  CLI::App* train_cmd = app.add_subcommand("train", "Train a task's student now");
  train_cmd->add_option("task", task_opts.task, "Task name")->required();
  train_cmd->add_option("--from", task_opts.from_csv,
                        "Labelled CSV (text,label); default: the teacher's labels in the ledger");
  CLI::App* eval_cmd = app.add_subcommand(
      "eval", "Evaluate a task's student on labelled data: agreement, coverage, calibration");
  eval_cmd->add_option("task", task_opts.task, "Task name")->required();
  eval_cmd->add_option("--data", task_opts.data_csv, "Labelled CSV (id,text,label)")->required();
  eval_cmd->add_option("--version", task_opts.version, "Student version (default: promoted)");
  for (CLI::App* sub : {tasks_cmd, train_cmd, eval_cmd}) {
    sub->add_option("-c,--config", task_opts.config_path, "Config file declaring [[tasks]]")
        ->envname("SWITCHYARD_CONFIG");
    sub->add_flag("--json", task_opts.json, "Print JSON");
  }

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
  if (*router_train_cmd) return switchyard::app::RunRouterTrain(router_train);
  if (*router_score_cmd) return switchyard::app::RunRouterScore(router_score);
  if (*router_eval_cmd) return switchyard::app::RunRouterEval(router_eval);
  if (*router_export_cmd) return switchyard::app::RunRouterExport(router_export);
  if (*keys_create_cmd) return switchyard::app::RunKeysCreate(keys);
  if (*keys_list_cmd) return switchyard::app::RunKeysList(keys);
  if (*keys_revoke_cmd) return switchyard::app::RunKeysRevoke(keys);
  if (*audit_cmd) return switchyard::app::RunAudit(audit);
  if (*tasks_cmd) return switchyard::app::RunTasksCommand(task_opts);
  if (*train_cmd) return switchyard::app::RunTrainCommand(task_opts);
  if (*eval_cmd) return switchyard::app::RunEvalCommand(task_opts);
  if (*advise_cmd) return switchyard::app::RunAdvise(advise);
  if (*replay_cmd) return switchyard::app::RunReplay(replay);
  if (*stats_cmd) return switchyard::app::RunLedgerStats(ledger);
  if (*tail_cmd) return switchyard::app::RunLedgerTail(ledger);
  return 2;
}
