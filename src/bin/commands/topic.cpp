// `rustlog ping` and `rustlog topic create|list|describe|delete`.
#include <memory>
#include <string>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"

namespace rustlog::cli {
namespace {

// ------------------------------------------------------------------ ping

int run_ping(const NetArgs& a) {
  auto c = connect_or_report("ping", a);
  if (!c) return 1;
  auto rtt = c->ping();
  if (!rtt) return fail_client("ping", rtt.error());
  const double ms = static_cast<double>(rtt->count()) / 1000.0;
  const std::string version = c->server().server_version.empty() ? "unknown version" : c->server().server_version;
  if (a.json) {
    print_json({{"broker", c->broker()},
                {"server_version", c->server().server_version},
                {"max_frame_bytes", c->server().max_frame_bytes},
                {"rtt_ms", ms}});
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f ms", ms);
    out_line("pong from " + c->broker() + " (" + version + ") in " + buf);
  }
  return 0;
}

// ----------------------------------------------------------------- topics

struct CreateArgs {
  NetArgs net;
  std::string name;
  uint32_t partitions = 1;
  std::vector<std::string> configs;
};

int run_create(const CreateArgs& a) {
  std::vector<client::ConfigEntry> configs;
  for (const auto& kv : a.configs) {
    client::ConfigEntry e;
    if (!split_pair(kv, &e.key, &e.value))
      return fail("topic create: --config wants key=value, got '" + kv + "'");
    configs.push_back(std::move(e));
  }
  auto c = connect_or_report("topic create", a.net);
  if (!c) return 1;
  if (auto st = c->create_topic(a.name, a.partitions, configs); !st) return fail_client("topic create", st.error());
  if (a.net.json) {
    nlohmann::json cfg = nlohmann::json::object();
    for (const auto& e : configs) cfg[e.key] = e.value;
    print_json({{"created", a.name}, {"partitions", a.partitions}, {"config", cfg}});
  } else {
    out_line("created topic " + a.name + " with " + std::to_string(a.partitions) +
             (a.partitions == 1 ? " partition" : " partitions"));
  }
  return 0;
}

int run_list(const NetArgs& a) {
  auto c = connect_or_report("topic list", a);
  if (!c) return 1;
  auto topics = c->list_topics();
  if (!topics) return fail_client("topic list", topics.error());
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& t : *topics) j.push_back({{"name", t.name}, {"partitions", t.partitions}});
    print_json(j);
    return 0;
  }
  if (topics->empty()) {
    out_line("no topics (create one: rustlog topic create NAME --partitions N)");
    return 0;
  }
  Table t({"TOPIC", "PARTITIONS"}, {false, true});
  for (const auto& x : *topics) t.add({x.name, std::to_string(x.partitions)});
  t.print();
  return 0;
}

struct NameArgs {
  NetArgs net;
  std::string name;
};

int run_describe(const NameArgs& a) {
  auto c = connect_or_report("topic describe", a.net);
  if (!c) return 1;
  auto d = c->describe_topic(a.name);
  if (!d) return fail_client("topic describe", d.error());
  if (a.net.json) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& p : d->partitions)
      parts.push_back({{"partition", p.partition},
                       {"log_start_offset", p.log_start_offset},
                       {"high_watermark", p.high_watermark},
                       {"segments", p.segment_count},
                       {"size_bytes", p.size_bytes}});
    nlohmann::json cfg = nlohmann::json::object();
    for (const auto& e : d->configs) cfg[e.key] = e.value;
    print_json({{"name", d->name}, {"partition_count", d->partition_count}, {"partitions", parts}, {"config", cfg}});
    return 0;
  }
  uint64_t records = 0, bytes = 0;
  for (const auto& p : d->partitions) {
    records += p.high_watermark - p.log_start_offset;
    bytes += p.size_bytes;
  }
  out_line("Topic " + d->name + ": " + std::to_string(d->partition_count) +
           (d->partition_count == 1 ? " partition, " : " partitions, ") + std::to_string(records) +
           " records, " + human_bytes(bytes));
  out_line("");
  Table parts({"PARTITION", "LOG-START", "HIGH-WATERMARK", "SEGMENTS", "BYTES"}, {true, true, true, true, true});
  for (const auto& p : d->partitions)
    parts.add({std::to_string(p.partition), std::to_string(p.log_start_offset), std::to_string(p.high_watermark),
               std::to_string(p.segment_count), std::to_string(p.size_bytes)});
  parts.print();
  out_line("");
  Table cfg({"CONFIG", "VALUE"});
  for (const auto& e : d->configs) cfg.add({e.key, e.value});
  cfg.print();
  return 0;
}

int run_delete(const NameArgs& a) {
  auto c = connect_or_report("topic delete", a.net);
  if (!c) return 1;
  if (auto st = c->delete_topic(a.name); !st) return fail_client("topic delete", st.error());
  if (a.net.json) print_json({{"deleted", a.name}});
  else out_line("deleted topic " + a.name);
  return 0;
}

}  // namespace

void register_ping_command(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<NetArgs>();
  CLI::App* ping = app.add_subcommand("ping", "Check that the broker answers (round trip time, version)");
  ping->group(kBrokerGroup);
  add_net_options(ping, *args);
  ping->footer(
      "Exit status 0 when the broker answered, 1 (with a message on stderr) when it did not.\n"
      "\n"
      "Examples:\n"
      "  rustlog ping\n"
      "  rustlog ping --broker 10.0.0.5:9092 --json");
  ping->callback([&ctx, args] { ctx.exit_code = run_ping(*args); });
}

void register_topic_commands(CLI::App& app, Context& ctx) {
  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe and delete topics");
  topic->group(kBrokerGroup);
  topic->require_subcommand(1);
  topic->footer(
      "Examples:\n"
      "  rustlog topic create orders --partitions 3 --config retention.ms=86400000\n"
      "  rustlog topic list\n"
      "  rustlog topic describe orders\n"
      "  rustlog topic delete orders");

  auto cargs = std::make_shared<CreateArgs>();
  CLI::App* create = topic->add_subcommand("create", "Create a topic");
  create->add_option("NAME", cargs->name, "Topic name: letters, digits, '.', '_', '-'")->required();
  create->add_option("--partitions,-p", cargs->partitions, "Number of partitions")
      ->default_val(1)
      ->check(CLI::Range(1u, 1000000u));
  create->add_option("--config,-c", cargs->configs,
                     "Topic setting key=value (repeatable): segment.bytes, segment.ms, retention.ms, "
                     "retention.bytes, cleanup.policy (delete, compact, compact,delete), "
                     "min.cleanable.dirty.ratio, min.compaction.lag.ms, max.compaction.lag.ms, "
                     "delete.retention.ms, index.interval.bytes, flush")
      ->type_name("KEY=VALUE");
  add_net_options(create, cargs->net);
  create->footer(
      "Unset settings take the broker's defaults (see 'rustlog topic describe NAME').\n"
      "\n"
      "Examples:\n"
      "  rustlog topic create orders --partitions 3\n"
      "  rustlog topic create users --config cleanup.policy=compact --config segment.bytes=1048576");
  create->callback([&ctx, cargs] { ctx.exit_code = run_create(*cargs); });

  auto largs = std::make_shared<NetArgs>();
  CLI::App* list = topic->add_subcommand("list", "List topics and their partition counts");
  add_net_options(list, *largs);
  list->footer(
      "Examples:\n"
      "  rustlog topic list\n"
      "  rustlog topic list --json");
  list->callback([&ctx, largs] { ctx.exit_code = run_list(*largs); });

  auto dargs = std::make_shared<NameArgs>();
  CLI::App* describe = topic->add_subcommand(
      "describe", "Per partition: log start, high watermark, segments, bytes; then the topic's config");
  describe->add_option("NAME", dargs->name, "Topic name")->required();
  add_net_options(describe, dargs->net);
  describe->footer(
      "The high watermark is the offset the next record will get; high watermark minus log\n"
      "start is the number of records the partition holds.\n"
      "\n"
      "Examples:\n"
      "  rustlog topic describe orders\n"
      "  rustlog topic describe orders --json");
  describe->callback([&ctx, dargs] { ctx.exit_code = run_describe(*dargs); });

  auto xargs = std::make_shared<NameArgs>();
  CLI::App* del = topic->add_subcommand("delete", "Delete a topic, its data and its groups' committed offsets");
  del->add_option("NAME", xargs->name, "Topic name")->required();
  add_net_options(del, xargs->net);
  del->footer(
      "Example:\n"
      "  rustlog topic delete orders");
  del->callback([&ctx, xargs] { ctx.exit_code = run_delete(*xargs); });
}

}  // namespace rustlog::cli
