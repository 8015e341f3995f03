// `rustlog ping` and `rustlog topic create|list|describe|delete`.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "client/metrics_text.h"

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

// The cleaner's view of a compacted topic's partitions, from the broker's
// metrics (MetricsFetch): rustlog_partition_dirty_ratio, _cleaner_lag_bytes
// and _cleaner_state. Empty when the broker does not report them.
struct CleanerView {
  double dirty_ratio = 0;
  uint64_t lag_bytes = 0;
  std::string state = "-";
};

std::map<uint32_t, CleanerView> cleaner_view(client::Client& c, const std::string& topic) {
  std::map<uint32_t, CleanerView> out;
  auto text = c.metrics_text();
  if (!text) return out;
  auto families = client::parse_prometheus_text(*text);
  if (!families) return out;
  for (const auto& f : *families)
    for (const auto& s : f.samples) {
      if (s.label("topic") != topic) continue;
      const auto part = s.label("partition");
      if (!part) continue;
      CleanerView& v = out[static_cast<uint32_t>(std::stoul(*part))];
      if (s.name == "rustlog_partition_dirty_ratio") v.dirty_ratio = s.value;
      else if (s.name == "rustlog_partition_cleaner_lag_bytes") v.lag_bytes = static_cast<uint64_t>(s.value);
      else if (s.name == "rustlog_partition_cleaner_state" && s.value == 1) v.state = s.label("state").value_or("-");
    }
  return out;
}

int run_describe(const NameArgs& a) {
  auto c = connect_or_report("topic describe", a.net);
  if (!c) return 1;
  auto d = c->describe_topic(a.name);
  if (!d) return fail_client("topic describe", d.error());
  bool compacted = false;
  for (const auto& e : d->configs)
    if (e.key == "cleanup.policy") compacted = e.value.find("compact") != std::string::npos;
  const std::map<uint32_t, CleanerView> cleaner = compacted ? cleaner_view(*c, a.name) : std::map<uint32_t, CleanerView>{};
  auto view = [&](uint32_t p) {
    auto it = cleaner.find(p);
    return it == cleaner.end() ? CleanerView{} : it->second;
  };
  if (a.net.json) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& p : d->partitions) {
      nlohmann::json j = {{"partition", p.partition},
                          {"log_start_offset", p.log_start_offset},
                          {"high_watermark", p.high_watermark},
                          {"segments", p.segment_count},
                          {"size_bytes", p.size_bytes}};
      if (compacted) {
        const CleanerView v = view(p.partition);
        j["dirty_ratio"] = v.dirty_ratio;
        j["cleaner_lag_bytes"] = v.lag_bytes;
        j["cleaner_state"] = v.state;
      }
      parts.push_back(std::move(j));
    }
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
  std::vector<std::string> head = {"PARTITION", "LOG-START", "HIGH-WATERMARK", "SEGMENTS", "BYTES"};
  std::vector<bool> right(5, true);
  if (compacted) {
    head.insert(head.end(), {"DIRTY-RATIO", "CLEANER-LAG", "CLEANER"});
    right.insert(right.end(), {true, true, false});
  }
  Table parts(head, right);
  for (const auto& p : d->partitions) {
    std::vector<std::string> row = {std::to_string(p.partition), std::to_string(p.log_start_offset),
                                    std::to_string(p.high_watermark), std::to_string(p.segment_count),
                                    std::to_string(p.size_bytes)};
    if (compacted) {
      const CleanerView v = view(p.partition);
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.2f", v.dirty_ratio);
      row.insert(row.end(), {ratio, human_bytes(v.lag_bytes), v.state});
    }
    parts.add(row);
  }
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
      "describe", "Per partition: log start, high watermark, segments, bytes (and the cleaner's state when compacted); then the topic's config");
  describe->add_option("NAME", dargs->name, "Topic name")->required();
  add_net_options(describe, dargs->net);
  describe->footer(
      "The high watermark is the offset the next record will get; high watermark minus log\n"
      "start is the number of offsets the partition spans (a compacted partition holds fewer\n"
      "records: compaction keeps offsets and leaves gaps).\n"
      "\n"
      "For a topic whose cleanup.policy includes compact, three more columns show the cleaner's\n"
      "view of each partition (from the broker's metrics): DIRTY-RATIO, the share of sealed bytes\n"
      "not cleaned yet (cleaned once it reaches min.cleanable.dirty.ratio); CLEANER-LAG, the bytes\n"
      "no pass has covered yet; CLEANER, idle, cleaning or uncleanable (the broker log says why).\n"
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
