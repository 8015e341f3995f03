// `rustlog group list|describe|reset|delete`: consumer groups' committed offsets.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"

namespace rustlog::cli {
namespace {

nlohmann::json offsets_json(const std::vector<client::GroupOffset>& v) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& o : v)
    j.push_back({{"topic", o.topic},
                 {"partition", o.partition},
                 {"committed", o.committed},
                 {"high_watermark", o.high_watermark},
                 {"lag", o.lag}});
  return j;
}

int run_list(const NetArgs& a) {
  auto c = connect_or_report("group list", a);
  if (!c) return 1;
  auto groups = c->list_groups();
  if (!groups) return fail_client("group list", groups.error());
  struct Row {
    std::string group;
    size_t partitions = 0;
    uint64_t lag = 0;
  };
  std::vector<Row> rows;
  for (const auto& g : *groups) {
    Row r{g, 0, 0};
    auto d = c->describe_group(g);
    if (d) {
      r.partitions = d->size();
      for (const auto& o : *d) r.lag += o.lag;
    } else if (d.error().code() != ErrorCode::kGroupNotFound) {  // deleted in between: skip it
      return fail_client("group list", d.error());
    } else {
      continue;
    }
    rows.push_back(std::move(r));
  }
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows) j.push_back({{"group", r.group}, {"partitions", r.partitions}, {"lag", r.lag}});
    print_json(j);
    return 0;
  }
  if (rows.empty()) {
    out_line("no consumer groups (a group appears at its first commit)");
    return 0;
  }
  Table t({"GROUP", "PARTITIONS", "LAG"}, {false, true, true});
  for (const auto& r : rows) t.add({r.group, std::to_string(r.partitions), std::to_string(r.lag)});
  t.print();
  return 0;
}

struct GroupArgs {
  NetArgs net;
  std::string group;
};

void print_offsets(const std::vector<client::GroupOffset>& v) {
  Table t({"TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG"}, {false, true, true, true, true});
  for (const auto& o : v)
    t.add({o.topic, std::to_string(o.partition), std::to_string(o.committed), std::to_string(o.high_watermark),
           std::to_string(o.lag)});
  t.print();
}

int run_describe(const GroupArgs& a) {
  auto c = connect_or_report("group describe", a.net);
  if (!c) return 1;
  auto d = c->describe_group(a.group);
  if (!d) return fail_client("group describe", d.error());
  if (a.net.json) {
    print_json({{"group", a.group}, {"offsets", offsets_json(*d)}});
    return 0;
  }
  print_offsets(*d);
  return 0;
}

struct ResetArgs {
  NetArgs net;
  std::string group;
  std::string topic;
  std::optional<uint32_t> partition;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<uint64_t> to_offset;
};

int run_reset(const ResetArgs& a) {
  if (!a.to_earliest && !a.to_latest && !a.to_offset)
    return fail("group reset: say where to: --to-earliest, --to-latest or --to-offset N");
  auto c = connect_or_report("group reset", a.net);
  if (!c) return 1;
  auto n = c->partition_count(a.topic);
  if (!n) return fail_client("group reset", n.error());
  std::vector<uint32_t> parts;
  if (a.partition) {
    if (*a.partition >= *n)
      return fail("group reset: partition " + std::to_string(*a.partition) + " does not exist: topic " + a.topic +
                  " has " + std::to_string(*n) + (*n == 1 ? " partition" : " partitions"));
    parts.push_back(*a.partition);
  } else {
    for (uint32_t i = 0; i < *n; ++i) parts.push_back(i);
  }
  struct Row {
    uint32_t partition;
    std::optional<uint64_t> before;
    uint64_t after;
  };
  std::vector<Row> rows;
  for (uint32_t p : parts) {
    auto before = c->committed_offset(a.group, a.topic, p);
    if (!before) return fail_client("group reset", before.error());
    uint64_t target = 0;
    if (a.to_offset) {
      target = *a.to_offset;
    } else {
      auto o = a.to_earliest ? c->earliest_offset(a.topic, p) : c->latest_offset(a.topic, p);
      if (!o) return fail_client("group reset", o.error());
      target = *o;
    }
    if (auto st = c->commit_offset(a.group, a.topic, p, target); !st) return fail_client("group reset", st.error());
    rows.push_back({p, *before, target});
  }
  if (a.net.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows)
      j.push_back({{"topic", a.topic},
                   {"partition", r.partition},
                   {"previous", r.before ? nlohmann::json(*r.before) : nlohmann::json(nullptr)},
                   {"committed", r.after}});
    print_json({{"group", a.group}, {"reset", j}});
    return 0;
  }
  Table t({"TOPIC", "PARTITION", "PREVIOUS", "COMMITTED"}, {false, true, true, true});
  for (const auto& r : rows)
    t.add({a.topic, std::to_string(r.partition), r.before ? std::to_string(*r.before) : "-", std::to_string(r.after)});
  t.print();
  return 0;
}

int run_delete(const GroupArgs& a) {
  auto c = connect_or_report("group delete", a.net);
  if (!c) return 1;
  if (auto st = c->delete_group(a.group); !st) return fail_client("group delete", st.error());
  if (a.net.json) print_json({{"deleted", a.group}});
  else out_line("deleted group " + a.group);
  return 0;
}

}  // namespace

void register_group_commands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("group", "Consumer groups: list, describe (lag), reset, delete");
  group->group(kBrokerGroup);
  group->require_subcommand(1);
  group->footer(
      "A group exists while it has at least one committed offset (rustlog consume --group G\n"
      "commits as it goes).\n"
      "\n"
      "Examples:\n"
      "  rustlog group list\n"
      "  rustlog group describe billing\n"
      "  rustlog group reset billing --topic orders --to-earliest\n"
      "  rustlog group delete billing");

  auto largs = std::make_shared<NetArgs>();
  CLI::App* list = group->add_subcommand("list", "List consumer groups with their total lag");
  add_net_options(list, *largs);
  list->footer(
      "Examples:\n"
      "  rustlog group list\n"
      "  rustlog group list --json");
  list->callback([&ctx, largs] { ctx.exit_code = run_list(*largs); });

  auto dargs = std::make_shared<GroupArgs>();
  CLI::App* describe =
      group->add_subcommand("describe", "Per partition: committed offset, high watermark and lag of a group");
  describe->add_option("GROUP", dargs->group, "Group id")->required();
  add_net_options(describe, dargs->net);
  describe->footer(
      "Lag is the high watermark minus the committed offset: records the group has yet to read.\n"
      "\n"
      "Examples:\n"
      "  rustlog group describe billing\n"
      "  rustlog group describe billing --json");
  describe->callback([&ctx, dargs] { ctx.exit_code = run_describe(*dargs); });

  auto rargs = std::make_shared<ResetArgs>();
  CLI::App* reset = group->add_subcommand("reset", "Move a group's committed offsets on a topic");
  reset->add_option("GROUP", rargs->group, "Group id")->required();
  reset->add_option("--topic,-t", rargs->topic, "Topic whose offsets move")->required();
  reset->add_option("--partition,-p", rargs->partition, "Only this partition (default: all)");
  auto* e = reset->add_flag("--to-earliest", rargs->to_earliest, "To the log start offset (read everything again)");
  auto* l = reset->add_flag("--to-latest", rargs->to_latest, "To the high watermark (skip everything there is)");
  auto* o = reset->add_option("--to-offset", rargs->to_offset, "To offset N (at most the high watermark)")
                ->type_name("N");
  e->excludes(l)->excludes(o);
  l->excludes(o);
  add_net_options(reset, rargs->net);
  reset->footer(
      "Stop the group's consumers first: a running consumer commits its own position over it.\n"
      "\n"
      "Examples:\n"
      "  rustlog group reset billing --topic orders --to-earliest\n"
      "  rustlog group reset billing --topic orders --partition 0 --to-offset 1500");
  reset->callback([&ctx, rargs] { ctx.exit_code = run_reset(*rargs); });

  auto xargs = std::make_shared<GroupArgs>();
  CLI::App* del = group->add_subcommand("delete", "Delete a group's committed offsets");
  del->add_option("GROUP", xargs->group, "Group id")->required();
  add_net_options(del, xargs->net);
  del->footer(
      "Example:\n"
      "  rustlog group delete billing");
  del->callback([&ctx, xargs] { ctx.exit_code = run_delete(*xargs); });
}

}  // namespace rustlog::cli
