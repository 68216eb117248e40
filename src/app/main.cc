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
  return 2;
}
