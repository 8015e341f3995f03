// `rustlog produce`: one record per input line, batched and pipelined.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "client/producer.h"

namespace rustlog::cli {
namespace {

struct ProduceArgs {
  NetArgs net;
  std::string topic;
  std::optional<uint32_t> partition;
  std::string key_separator;
  std::vector<std::string> headers;
  std::string file;
  bool verbose = false;
  bool null_empty = false;
  uint32_t batch_records = 1000;
  size_t batch_bytes = 512 * 1024;
  uint32_t in_flight = 8;
  double linger_ms = 5;
  std::string compression = "none";
  CLI::Option* partition_opt = nullptr;
  CLI::Option* key_sep_opt = nullptr;
};

void verbose_line(const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); }

int run_produce(const ProduceArgs& a) {
  std::vector<RecordHeader> headers;
  for (const auto& h : a.headers) {
    RecordHeader rh;
    if (!split_pair(h, &rh.name, &rh.value)) return fail("produce: --header wants name=value, got '" + h + "'");
    headers.push_back(std::move(rh));
  }
  const bool keyed = a.key_sep_opt->count() > 0;
  if (keyed && a.key_separator.empty()) return fail("produce: --key-separator must not be empty");

  std::ios::sync_with_stdio(false);  // line-at-a-time reads of stdin, without per-character syncing
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!a.file.empty() && a.file != "-") {
    file.open(a.file, std::ios::binary);
    if (!file) return fail("produce: cannot open " + a.file + ": " + std::strerror(errno));
    in = &file;
  }

  auto compression = parse_compression(a.compression);
  if (!compression) return fail("produce: --compression: " + compression.status().message());
  client::ProducerOptions o;
  o.compression = *compression;
  o.client.client_id = "rustlog-cli/0.1.0";
  o.batch_bytes = a.batch_bytes;
  o.batch_records = a.batch_records;
  o.max_in_flight = a.in_flight;
  o.linger = std::chrono::microseconds(static_cast<int64_t>(a.linger_ms * 1000));
  o.buffer_bytes = std::max<size_t>(o.buffer_bytes, a.batch_bytes);
  // Unkeyed lines keep their order: all of them to partition 0 (the default).
  auto producer = client::Producer::connect(a.net.broker.empty() ? std::string(client::kDefaultBroker) : a.net.broker,
                                            o);
  if (!producer) return fail_client("produce", producer.error());
  // Also checks that the topic exists before any input is read.
  auto n = producer->partition_count(a.topic);
  if (!n) return fail_client("produce", n.error());
  if (a.partition && *a.partition >= *n)
    return fail("produce: partition " + std::to_string(*a.partition) + " does not exist: topic " + a.topic +
                " has " + std::to_string(*n) + (*n == 1 ? " partition" : " partitions") + " (0.." +
                std::to_string(*n - 1) + ")");

  // The callbacks run on the Producer's I/O thread.
  std::mutex mu;
  std::optional<client::ClientError> first_error;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;  // verbose: partition -> first, last offset
  auto on_done = [&](const client::ClientResult<client::RecordMetadata>& md) {
    std::lock_guard lock(mu);
    if (!md) {
      if (!first_error) first_error = md.error();
      return;
    }
    if (!a.verbose) return;
    auto [it, fresh] = ranges.try_emplace(md->partition, md->offset, md->offset);
    if (!fresh) it->second.second = md->offset;
  };

  uint64_t lines = 0;
  std::string line;
  while (std::getline(*in, line)) {
    ++lines;
    protocol::ProducerRecord rec;
    if (keyed) {
      const size_t at = line.find(a.key_separator);
      if (at != std::string::npos) {
        rec.key = line.substr(0, at);
        rec.value = line.substr(at + a.key_separator.size());
      } else {
        rec.value = std::move(line);
      }
    } else {
      rec.value = std::move(line);
    }
    if (a.null_empty && rec.value && rec.value->empty()) rec.value.reset();  // a tombstone
    rec.headers = headers;
    if (a.partition)
      producer->send(a.topic, *a.partition, std::move(rec), on_done);
    else
      producer->send(a.topic, std::move(rec), on_done);
    if ((lines & 1023) == 0) {
      std::lock_guard lock(mu);
      if (first_error) break;  // stop reading: the rest would not land in order
    }
  }
  const bool read_failed = in->bad();
  (void)producer->flush();
  const client::ProducerStats st = producer->stats();
  if (a.verbose) {
    std::lock_guard lock(mu);
    for (const auto& [p, r] : ranges)
      verbose_line("produced " + std::to_string(r.second - r.first + 1) + " records to " + a.topic + "/" +
                   std::to_string(p) + " at offsets " + std::to_string(r.first) + ".." + std::to_string(r.second));
  }
  if (first_error) {
    fail_client("produce", *first_error);
    std::fprintf(stderr, "rustlog: produce: %llu of %llu records were acknowledged before the failure\n",
                 static_cast<unsigned long long>(st.records_acked), static_cast<unsigned long long>(lines));
    return 1;
  }
  if (read_failed) return fail("produce: reading " + (a.file.empty() ? std::string("stdin") : a.file) + " failed");
  if (a.verbose) verbose_line("produced " + std::to_string(st.records_acked) + " records to " + a.topic);
  return 0;
}

}  // namespace

void register_produce_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ProduceArgs>();
  CLI::App* cmd = app.add_subcommand("produce", "Send one record per input line (stdin by default) to a topic");
  cmd->group(kBrokerGroup);
  cmd->add_option("TOPIC", a->topic, "Topic to write to")->required();
  a->partition_opt = cmd->add_option("--partition,-p", a->partition,
                                     "Partition to write every record to (default: see below)");
  a->key_sep_opt = cmd->add_option("--key-separator,-k", a->key_separator,
                                   "Split each line at the first S into key and value (a line without S has no "
                                   "key)")
                       ->type_name("S");
  cmd->add_option("--header,-H", a->headers, "Header added to every record (repeatable)")->type_name("NAME=VALUE");
  cmd->add_option("--file,-f", a->file, "Read lines from this file instead of stdin ('-' = stdin)")
      ->type_name("FILE");
  cmd->add_option("--batch-size", a->batch_records, "Most records per batch (one request)")
      ->default_val(1000)
      ->check(CLI::Range(1u, 1000000u));
  cmd->add_option("--batch-bytes", a->batch_bytes, "Most bytes per batch (one request)")
      ->default_val(512 * 1024)
      ->check(CLI::Range(size_t{1024}, size_t{10u << 20}));
  cmd->add_option("--linger-ms", a->linger_ms, "How long a partial batch waits for more lines")
      ->default_val(5)
      ->check(CLI::Range(0.0, 60000.0));
  cmd->add_option("--in-flight", a->in_flight, "Batches sent and not yet acknowledged, at most")
      ->default_val(8)
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--compression,-z", a->compression,
                  "Compress each batch's records as one block: none, lz4[:LEVEL 0-12] or zstd[:LEVEL -7-22, "
                  "default 3]; the broker stores the batch as sent, consumers decompress it")
      ->default_val("none")
      ->type_name("CODEC[:LEVEL]");
  cmd->add_flag("--verbose,-v", a->verbose, "Print each acknowledged batch and a total on stderr");
  cmd->add_flag("--null-empty,-Z", a->null_empty,
                "Send an empty value as a null value (a tombstone: compaction then removes the key)");
  add_net_options(cmd, a->net, /*with_json=*/false);
  cmd->footer(
      "Each line (without its newline) becomes one record, timestamped by the broker. Lines are\n"
      "sent through the client library's Producer in batches of up to --batch-size records or\n"
      "--batch-bytes, each waiting at most --linger-ms for more lines, --in-flight batches at once;\n"
      "the command returns once every batch is acknowledged (written as the broker's flush policy\n"
      "says). It prints nothing but errors unless --verbose; exit status 1 on any failure (reading\n"
      "stops at the first one, and the lines after it are not sent).\n"
      "\n"
      "Partition: --partition P when given; otherwise a record with a key goes to partition\n"
      "FNV-1a(key) mod partitions (the same key always lands on the same partition), and a record\n"
      "without a key goes to partition 0 (so unkeyed lines keep their order).\n"
      "\n"
      "Examples:\n"
      "  seq 1 10000 | rustlog produce orders\n"
      "  echo 'user-7:' | rustlog produce users -k : -Z      (a tombstone for key user-7)\n"
      "  rustlog produce orders --file orders.txt --key-separator ':' --header source=import\n"
      "  echo 'user-7:logged in' | rustlog produce events -k ':' --verbose");
  cmd->callback([&ctx, a] { ctx.exit_code = run_produce(*a); });
}

}  // namespace rustlog::cli
