// `rustlog bench produce | consume | e2e`: load from the client library
// against a running broker, with a live progress line and a summary
// (bench_meter.h); the workloads are in bench_runs.cpp.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "bin/commands/bench_meter.h"
#include "bin/commands/bench_runs.h"
#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "common/compression.h"

namespace rustlog::cli {
namespace {

// The topic: an existing one is used as it is (and never deleted); a missing
// one is created with --partitions and deleted afterwards unless --keep.
struct BenchTopic {
  uint32_t partitions = 0;
  bool created = false;
};

client::ClientResult<BenchTopic> prepare_topic(client::Client& c, const BenchArgs& a) {
  auto n = c.partition_count(a.topic);
  if (n) {
    if (a.partitions_given && *n != a.partitions)
      return client::ClientError::invalid_argument(fmt::format(
          "topic {} exists with {} partition(s), not the {} --partitions asks for; drop --partitions or name "
          "another --topic",
          a.topic, *n, a.partitions));
    return BenchTopic{*n, false};
  }
  if (n.error().code() != ErrorCode::kTopicNotFound) return n.error();
  if (client::ClientStatus st = c.create_topic(a.topic, a.partitions); !st) return st.error();
  return BenchTopic{a.partitions, true};
}

int run_bench(const BenchArgs& a) {
  const std::string cmd = "bench " + a.mode;
  auto c = connect_or_report(cmd, a.net);
  if (!c) return 1;
  auto topic = prepare_topic(*c, a);
  if (!topic) return fail_client(cmd, topic.error());
  const uint64_t records = a.duration_s > 0 && !a.records_given ? 0 : a.records;

  // consume reads what is there; a topic it created is filled first (not measured).
  if (a.mode == "consume" && topic->created) {
    BenchMeter fill;
    client::ClientResult<double> r = 0.0;
    {
      ProgressLine progress(fill, "bench consume: filling " + a.topic);
      r = run_produce(a, topic->partitions, a.records, 0, fill, false);
    }
    if (!r) return fail_client(cmd, r.error());
  }

  BenchMeter meter;
  client::ClientResult<double> secs = 0.0;
  {
    ProgressLine progress(meter, cmd);
    if (a.mode == "produce")
      secs = run_produce(a, topic->partitions, records, a.duration_s, meter, false);
    else if (a.mode == "consume")
      secs = run_consume(a, topic->partitions, a.records_given ? a.records : 0, a.duration_s, meter);
    else
      secs = run_e2e(a, topic->partitions, meter);
  }
  int status = 0;
  if (!secs) {
    status = fail_client(cmd, secs.error());
  } else {
    BenchSummary s;
    s.mode = a.mode;
    s.topic = a.topic;
    s.partitions = topic->partitions;
    s.connections = a.connections;
    s.value_bytes = a.value_bytes;
    s.latency_of = a.mode == "produce"   ? "send() to the record's acknowledgement"
                   : a.mode == "consume" ? "one poll() of a consumer"
                                         : "send() to the record's arrival at a consumer";
    s.records = meter.records();
    s.bytes = meter.bytes();
    s.seconds = *secs;
    s.latency = meter.latencies();
    s.max_ns = meter.max_ns();
    print_summary(s, a.net.json);
  }
  if (topic->created && !a.keep)
    if (client::ClientStatus st = c->delete_topic(a.topic); !st) {
      fail_client(cmd + ": deleting the benchmark topic " + a.topic, st.error());
      status = 1;
    }
  return status;
}

void add_bench_mode(CLI::App* bench, const std::string& mode, const std::string& what, Context& ctx) {
  auto a = std::make_shared<BenchArgs>();
  a->mode = mode;
  CLI::App* cmd = bench->add_subcommand(mode, what);
  auto* records = cmd->add_option("--records,-n", a->records, "Records in total (produce, e2e; consume: at most)")
                      ->default_val(1000000)
                      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  auto* duration = cmd->add_option("--duration,-d", a->duration_s, "Run this many seconds instead of --records")
                       ->check(CLI::Range(0.1, 86400.0));
  records->excludes(duration);
  cmd->add_option("--value-bytes", a->value_bytes, "Bytes of each record's value")
      ->default_val(100)
      ->check(CLI::Range(1u, 8u << 20));
  cmd->add_option("--batch-bytes", a->batch_bytes,
                  "Producer: most bytes per batch; consumer: most bytes per fetch")
      ->default_val(1 << 20)
      ->check(CLI::Range(size_t{1024}, size_t{10u << 20}));
  cmd->add_option("--linger", a->linger_ms, "Producer: ms a partial batch waits for more records")
      ->default_val(5)
      ->check(CLI::Range(0.0, 60000.0));
  cmd->add_option("--in-flight", a->in_flight, "Producer: batches sent and not yet acknowledged, per connection")
      ->default_val(5)
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--connections,-c", a->connections, "Clients, each with its own connection and thread")
      ->default_val(1)
      ->check(CLI::Range(1u, 256u));
  auto* parts = cmd->add_option("--partitions,-p", a->partitions, "Partitions of a topic the benchmark creates")
                    ->default_val(1)
                    ->check(CLI::Range(1u, 10000u));
  cmd->add_option("--rate", a->rate, "Records per second in total, 0 = as fast as the broker takes them")
      ->default_val(0);
  cmd->add_option("--topic,-t", a->topic, "Topic to use; created if missing")->default_val("rustlog-bench");
  cmd->add_flag("--keep", a->keep, "Keep a topic the benchmark created (default: delete it afterwards)");
  cmd->add_option("--seed", a->seed, "Seed of the generated values")->default_val(1);
  cmd->add_option("--values", a->values,
                  "letters: --value-bytes random lowercase letters, the same value each time; access-log: "
                  "generated web access-log lines of about 200 bytes: 65,536 different ones, made before the "
                  "run is timed and sent in turn, so no batch repeats a line (--value-bytes unused)")
      ->default_val("letters")
      ->check(CLI::IsMember({"letters", "access-log"}));
  cmd->add_option("--compression,-z", a->compression,
                  "Producer: none, lz4[:LEVEL] or zstd[:LEVEL] (each batch compressed as one block)")
      ->default_val("none")
      ->check([](const std::string& v) {
        auto c = parse_compression(v);
        return c ? std::string() : c.status().message();
      })
      ->type_name("CODEC[:LEVEL]");
  cmd->add_option("--compression-threads", a->compression_threads,
                  "Producer: threads compressing sealed batches (with a codec); batches still leave in order")
      ->default_val(2)
      ->check(CLI::Range(1u, 64u));
  add_net_options(cmd, a->net);
  cmd->footer("How the modes, the topic and the output work: rustlog bench --help");
  cmd->callback([&ctx, a, records, duration, parts] {
    a->records_given = records->count() > 0;
    a->partitions_given = parts->count() > 0;
    (void)duration;
    ctx.exit_code = run_bench(*a);
  });
}

}  // namespace

void register_bench_commands(CLI::App& app, Context& ctx) {
  CLI::App* bench = app.add_subcommand("bench", "Measure a broker with the client library: produce, consume, e2e");
  bench->group(kBrokerGroup);
  bench->require_subcommand(1);
  add_bench_mode(bench, "produce", "Records through the Producer, as fast as acknowledged (or at --rate)", ctx);
  add_bench_mode(bench, "consume", "Read a topic from its start with the Consumer (fills a topic it creates first)",
                 ctx);
  add_bench_mode(bench, "e2e", "Produce and consume at once; latency from send() to a consumer", ctx);
  bench->footer(
      "Each --connections client has its own connection and thread; connection i works on the\n"
      "partitions p with p % connections == i. The Producer batches up to --batch-bytes, waits at\n"
      "most --linger ms for more, and keeps --in-flight batches unacknowledged per connection; it is\n"
      "acknowledged as the broker's flush policy says (--flush always: after fdatasync).\n"
      "\n"
      "The topic (--topic, default rustlog-bench): used as it is when it exists (never deleted);\n"
      "else created with --partitions and deleted at the end unless --keep. `consume` reads each\n"
      "partition from its log start to the end it had when the run began, filling a topic it\n"
      "created with --records records first (not measured). `e2e` starts its consumers at the end,\n"
      "then produces; each value carries its send time.\n"
      "\n"
      "While running: a progress line on stderr each second (elapsed, records, rate over the last\n"
      "second, MB/s, p99 so far). At the end: a table on stdout (records, seconds, records/s, MB/s\n"
      "of record values, latency p50/p99/p999/max), or with --json one object with records, seconds,\n"
      "records_per_sec, mb_per_sec, p50_us, p99_us, p999_us, max_us. Exit status 1 on any error.\n"
      "\n"
      "Examples:\n"
      "  rustlog bench produce --records 5000000\n"
      "  rustlog bench produce --duration 30 --connections 4 --partitions 4 --value-bytes 1000\n"
      "  rustlog bench consume --topic orders --json\n"
      "  rustlog bench e2e --rate 10000 --duration 10");
}

}  // namespace rustlog::cli
