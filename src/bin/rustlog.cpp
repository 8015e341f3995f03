// rustlog: the project's command-line tool. Subcommand groups register
// themselves from src/bin/commands/; this file only wires them up and turns
// every failure into a one-line message and exit status 1.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "bin/commands/commands.h"

#ifndef RUSTLOG_VERSION
#define RUSTLOG_VERSION "unknown"
#endif

namespace rustlog::cli {

int fail(const std::string& message) {
  std::fprintf(stderr, "rustlog: %s\n", message.c_str());
  return 1;
}

namespace {

int run(int argc, char** argv) {
  Context ctx;
  CLI::App app("rustlog: command-line tool for RustLog, a log-structured message broker.",
               "rustlog");
  app.set_version_flag("--version", std::string("rustlog ") + RUSTLOG_VERSION);
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  rustlog ping\n"
      "  rustlog topic create orders --partitions 3\n"
      "  seq 1 100 | rustlog produce orders\n"
      "  rustlog consume orders --group billing --count 10\n"
      "  rustlog verify /var/lib/rustlog/data\n"
      "  rustlog dump /var/lib/rustlog/data/orders-0/00000000000000000000.log --records\n"
      "Run 'rustlog <command> --help' for a command's options.");
  register_client_commands(app, ctx);
  register_storage_commands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0: CLI11 prints them.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string hint = "rustlog --help";
    std::string path = "rustlog";
    for (const CLI::App* cur = &app; !cur->get_subcommands().empty();) {
      cur = cur->get_subcommands().front();
      path += " " + cur->get_name();
      hint = path + " --help";
    }
    return fail(std::string(e.what()) + " (see '" + hint + "')");
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  return ctx.exit_code;
}

}  // namespace
}  // namespace rustlog::cli

int main(int argc, char** argv) {
  try {
    return rustlog::cli::run(argc, argv);
  } catch (const std::exception& e) {
    return rustlog::cli::fail(e.what());
  } catch (...) {
    return rustlog::cli::fail("unexpected internal error");
  }
}
