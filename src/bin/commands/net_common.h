#pragma once
// Shared pieces of the networked `rustlog` commands (ping, topic, produce,
// consume, group, metrics): the --broker option, connecting, error lines,
// tables and JSON output.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/errors.h"

namespace rustlog::cli {

// Every networked command has these.
struct NetArgs {
  std::string broker;
  bool json = false;
};

// Adds --broker (default $RUSTLOG_BROKER, else 127.0.0.1:9092); with
// with_json also --json.
void add_net_options(CLI::App* cmd, NetArgs& args, bool with_json = true);

// Connects (with a Handshake) or prints the error and returns nullopt.
std::optional<client::Client> connect_or_report(const std::string& command, const NetArgs& args);

// "rustlog: <command>: <message>" on stderr, one line; returns 1. Broker
// errors get their code appended: "... (404 TopicNotFound)".
int fail_client(const std::string& command, const client::ClientError& error);

// Text that may hold any bytes, as JSON (invalid UTF-8 replaced).
std::string json_text(const nlohmann::json& j, int indent = -1);
void print_json(const nlohmann::json& j);

void out(const std::string& s);
void out_line(const std::string& s);

// A plain aligned table: headers in capitals, two spaces between columns,
// numbers right-aligned (columns named in `right`).
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right = {});
  void add(std::vector<std::string> row);
  bool empty() const { return rows_.empty(); }
  std::string render() const;
  void print() const { out(render()); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// "name=value" -> (name, value); false without '='.
bool split_pair(const std::string& text, std::string* name, std::string* value);

// Bytes as a short human string: "1.5 KiB".
std::string human_bytes(uint64_t bytes);
// A µs timestamp as ISO 8601 UTC with milliseconds: 2024-05-01T12:00:00.123Z
std::string iso_time(int64_t timestamp_us);

// The networked command groups, one file each; register_client_commands
// (commands.h) calls them all.
struct Context;
void register_ping_command(CLI::App& app, Context& ctx);
void register_topic_commands(CLI::App& app, Context& ctx);
void register_produce_command(CLI::App& app, Context& ctx);
void register_consume_command(CLI::App& app, Context& ctx);
void register_group_commands(CLI::App& app, Context& ctx);
void register_metrics_command(CLI::App& app, Context& ctx);
void register_top_command(CLI::App& app, Context& ctx);
void register_mirror_command(CLI::App& app, Context& ctx);  // mirror.cpp (needs librdkafka)
void register_bench_commands(CLI::App& app, Context& ctx);  // bench.cpp

inline constexpr const char* kBrokerGroup = "Broker commands";

}  // namespace rustlog::cli
