#pragma once
// Subcommand groups of the `rustlog` tool. Each group lives in its own file
// and registers its subcommands onto the root app; a subcommand's callback
// runs after a successful parse and stores the process exit status in
// Context::exit_code (0 = success, 1 = failure or problems found). Callbacks
// report expected failures themselves; anything they throw becomes a
// one-line error in main().
#include <CLI/CLI.hpp>

namespace rustlog::cli {

struct Context {
  int exit_code = 0;
};

// Offline tools that read a data directory directly: verify, dump.
void register_storage_commands(CLI::App& app, Context& ctx);

// Commands that talk to a broker (--broker HOST:PORT): ping, topic, produce,
// consume, group, metrics, top.
void register_client_commands(CLI::App& app, Context& ctx);

// Prints "rustlog: <message>" on stderr (one line) and returns 1.
int fail(const std::string& message);

}  // namespace rustlog::cli
