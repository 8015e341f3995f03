// `rustlog mirror`: copies RustLog topics into Apache Kafka (docs/OUTGROWING.md).
// Present only when the build found librdkafka; otherwise the command says so.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#ifdef RUSTLOG_HAVE_KAFKA
#include "mirror/mirror.h"
#include "mirror/offset_map.h"
#endif

namespace rustlog::cli {
namespace {

struct MirrorArgs {
  NetArgs net;
  std::string to_kafka;
  std::vector<std::string> topics;
  bool all = false;
  std::string rename;
  std::string group = "rustlog-mirror";
  bool follow = false;
  bool until_caught_up = false;
  std::vector<std::string> kafka_config;
  std::string offsets_file = "rustlog-mirror-offsets.json";
  size_t max_in_flight = 10000;
  int replication_factor = -1;
  int64_t commit_interval_ms = 1000;
  int64_t kafka_timeout_ms = 30000;
};

#ifdef RUSTLOG_HAVE_KAFKA
std::atomic<bool> g_mirror_stop{false};
extern "C" void on_mirror_signal(int) { g_mirror_stop.store(true); }

std::string lag_text(const mirror::MirrorProgress& p) {
  std::string s;
  size_t shown = 0;
  for (const auto& part : p.partitions) {
    if (shown++ == 8) {
      s += " ...";
      break;
    }
    s += " " + part.topic + "/" + std::to_string(part.partition) + "=" + std::to_string(part.lag());
  }
  return s;
}

int run_mirror(const MirrorArgs& a) {
  if (a.follow && a.until_caught_up) return fail("mirror: --follow and --until-caught-up exclude each other");
  if (a.all == !a.topics.empty()) return fail("mirror: name the topics with --topics a,b or give --all (one of them)");
  mirror::MirrorOptions o;
  o.rustlog_broker = a.net.broker.empty() ? std::string(client::kDefaultBroker) : a.net.broker;
  o.kafka_bootstrap = a.to_kafka.rfind("kafka://", 0) == 0 ? a.to_kafka.substr(8) : a.to_kafka;
  o.topics = a.topics;
  o.all = a.all;
  o.rename_prefix = a.rename;
  o.group = a.group;
  o.follow = a.follow;
  o.offsets_file = a.offsets_file;
  o.max_in_flight = a.max_in_flight;
  o.replication_factor = a.replication_factor;
  o.commit_interval = std::chrono::milliseconds(a.commit_interval_ms);
  o.kafka_timeout = std::chrono::milliseconds(a.kafka_timeout_ms);
  for (const auto& kv : a.kafka_config) {
    std::string k, v;
    if (!split_pair(kv, &k, &v)) return fail("mirror: --kafka-config wants key=value, got '" + kv + "'");
    o.kafka_config.emplace_back(k, v);
  }
  auto m = mirror::Mirror::open(o);
  if (!m) return fail_client("mirror", m.error());

  struct sigaction sa{};
  sa.sa_handler = on_mirror_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const bool tty = ::isatty(2);
  uint64_t last_total = 0;
  double last_secs = 0;
  auto progress = [&](const mirror::MirrorProgress& p) {
    const double dt = p.seconds - last_secs;
    const double rate = dt > 0 ? static_cast<double>(p.mirrored - last_total) / dt : 0;
    last_total = p.mirrored;
    last_secs = p.seconds;
    std::fprintf(stderr, "%smirror: %.0f rec/s, %llu mirrored, %llu in flight, lag%s%s", tty ? "\r\033[K" : "", rate,
                 static_cast<unsigned long long>(p.mirrored), static_cast<unsigned long long>(p.in_flight),
                 lag_text(p).c_str(), tty ? "" : "\n");
  };
  client::ClientStatus st = (*m)->run(g_mirror_stop, progress);
  if (tty) std::fprintf(stderr, "\n");
  const mirror::MirrorProgress p = (*m)->progress();
  auto map = mirror::load_offset_map(o.offsets_file);
  if (a.net.json) {
    nlohmann::json j;
    j["records"] = p.mirrored;
    j["seconds"] = p.seconds;
    j["records_per_sec"] = p.seconds > 0 ? p.mirrored / p.seconds : 0;
    j["ok"] = st.ok();
    if (!st) j["error"] = st.error().to_string();
    j["offsets_file"] = o.offsets_file;
    j["partitions"] = nlohmann::json::array();
    for (const auto& part : p.partitions)
      j["partitions"].push_back({{"topic", part.topic}, {"partition", part.partition}, {"kafka_topic", part.kafka_topic},
                                 {"committed", part.committed}, {"high_watermark", part.high_watermark},
                                 {"lag", part.lag()}, {"mirrored", part.mirrored}});
    if (map) j["offset_map"] = nlohmann::json::parse(mirror::to_json(*map));
    print_json(j);
  } else {
    Table t({"TOPIC", "PARTITION", "KAFKA TOPIC", "MIRRORED", "COMMITTED", "LAG", "LAST OFFSET", "KAFKA PARTITION",
             "KAFKA OFFSET"},
            {false, true, false, true, true, true, true, true, true});
    for (const auto& part : p.partitions) {
      std::string last = "-", kp = "-", ko = "-";
      if (map)
        for (const auto& e : map->partitions)
          if (e.topic == part.topic && e.partition == part.partition) {
            last = std::to_string(e.last_offset);
            kp = std::to_string(e.kafka_partition);
            ko = std::to_string(e.kafka_offset);
          }
      t.add({part.topic, std::to_string(part.partition), part.kafka_topic, std::to_string(part.mirrored),
             std::to_string(part.committed), std::to_string(part.lag()), last, kp, ko});
    }
    t.print();
    out_line("mirrored " + std::to_string(p.mirrored) + " records in " + std::to_string(p.seconds).substr(0, 6) +
             " s; offset map in " + o.offsets_file);
  }
  if (!st) return fail_client("mirror", st.error());
  return 0;
}
#else
int run_mirror(const MirrorArgs&) {
  return fail("mirror: this rustlog was built without librdkafka (install librdkafka-dev and rebuild with "
              "-DRUSTLOG_WITH_KAFKA=ON)");
}
#endif

}  // namespace

void register_mirror_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<MirrorArgs>();
  CLI::App* cmd = app.add_subcommand("mirror", "Copy topics into Apache Kafka, resumably (needs librdkafka)");
  cmd->group(kBrokerGroup);
  cmd->add_option("--to-kafka", a->to_kafka, "Kafka bootstrap servers (host:port[,host:port]; kafka:// allowed)")
      ->required()
      ->type_name("BOOTSTRAP");
  cmd->add_option("--topics", a->topics, "RustLog topics to mirror")->delimiter(',')->type_name("A,B");
  cmd->add_flag("--all", a->all, "Mirror every topic");
  cmd->add_option("--rename", a->rename, "Prefix for the Kafka topic names (default: the same names)")
      ->type_name("PREFIX");
  cmd->add_option("--group", a->group, "RustLog consumer group whose offsets track the progress")
      ->default_val("rustlog-mirror");
  cmd->add_flag("--follow", a->follow, "Keep mirroring new records until SIGINT/SIGTERM");
  cmd->add_flag("--until-caught-up", a->until_caught_up, "Stop once every partition is mirrored (the default)");
  cmd->add_option("--kafka-config", a->kafka_config, "librdkafka setting, repeatable (e.g. compression.type=lz4)")
      ->type_name("KEY=VALUE");
  cmd->add_option("--offsets-file", a->offsets_file, "Where the offset map is written (atomically)")
      ->default_val("rustlog-mirror-offsets.json");
  cmd->add_option("--max-in-flight", a->max_in_flight, "Records sent to Kafka and not yet acknowledged, at most")
      ->default_val(10000)
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_option("--replication-factor", a->replication_factor,
                  "For Kafka topics the mirror creates (-1: the cluster's default)")
      ->default_val(-1);
  cmd->add_option("--commit-interval-ms", a->commit_interval_ms, "How often the group offsets and the map are written")
      ->default_val(1000)
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}));
  cmd->add_option("--kafka-timeout-ms", a->kafka_timeout_ms, "Longest wait for Kafka metadata and topic creation")
      ->default_val(30000)
      ->check(CLI::Range(int64_t{100}, int64_t{3600000}));
  add_net_options(cmd, a->net);
  cmd->footer(
      "Reads the topics as the consumer group --group and produces every record to Kafka with an\n"
      "idempotent producer (acks=all), keeping key, value (a null value stays a tombstone), headers and\n"
      "timestamp (microseconds cut to Kafka's milliseconds). RustLog partition p goes to Kafka partition\n"
      "p when the Kafka topic has at least as many (a missing topic is created with the same count);\n"
      "otherwise by FNV-1a(key) mod N, and keyless records to p mod N.\n"
      "\n"
      "At-least-once and resumable: the group's offsets are committed only up to the first record Kafka\n"
      "has not acknowledged, so after a crash or kill the mirror restarts there and repeats at most\n"
      "--max-in-flight records. After each commit the offset map (--offsets-file: per partition the last\n"
      "mirrored RustLog offset and its Kafka partition and offset) is replaced atomically; it is printed\n"
      "at the end. Progress goes to stderr once a second; transient Kafka errors are retried with\n"
      "backoff (librdkafka), a record Kafka refuses for good stops the mirror with exit status 1.\n"
      "\n"
      "Examples:\n"
      "  rustlog mirror --to-kafka kafka1:9092 --topics orders,payments\n"
      "  rustlog mirror --to-kafka kafka1:9092 --all --rename legacy. --follow\n"
      "  rustlog mirror --to-kafka kafka1:9092 --topics orders --kafka-config compression.type=zstd --json");
  cmd->callback([&ctx, a] { ctx.exit_code = run_mirror(*a); });
}

}  // namespace rustlog::cli
