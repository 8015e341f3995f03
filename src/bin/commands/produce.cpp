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

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"

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
  CLI::Option* partition_opt = nullptr;
  CLI::Option* key_sep_opt = nullptr;
};

constexpr size_t kBatchBytes = 512 * 1024;  // a batch is sent at this many bytes or batch_records
constexpr size_t kMaxInFlight = 8;          // pipelined batches awaiting their answer

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

  auto c = connect_or_report("produce", a.net);
  if (!c) return 1;
  // Also checks that the topic exists before any input is read.
  auto n = c->partition_count(a.topic);
  if (!n) return fail_client("produce", n.error());
  if (a.partition && *a.partition >= *n)
    return fail("produce: partition " + std::to_string(*a.partition) + " does not exist: topic " + a.topic +
                " has " + std::to_string(*n) + (*n == 1 ? " partition" : " partitions") + " (0.." +
                std::to_string(*n - 1) + ")");

  uint64_t acked = 0, lines = 0;
  std::map<uint32_t, protocol::ProduceExRequest> batches;
  std::map<uint32_t, size_t> batch_bytes;

  auto receive_one = [&]() -> bool {
    auto r = c->receive_produce();
    if (!r) {
      fail_client("produce", r.error());
      std::fprintf(stderr, "rustlog: produce: %llu of %llu records were acknowledged before the failure\n",
                   static_cast<unsigned long long>(acked), static_cast<unsigned long long>(lines));
      return false;
    }
    acked += r->record_count;
    if (a.verbose)
      verbose_line("produced " + std::to_string(r->record_count) + " records to " + r->topic + "/" +
                   std::to_string(r->partition) + " at offsets " + std::to_string(r->base_offset) + ".." +
                   std::to_string(r->next_offset() - 1));
    return true;
  };
  auto send = [&](uint32_t partition) -> bool {
    auto it = batches.find(partition);
    if (it == batches.end() || it->second.records.empty()) return true;
    if (c->in_flight() >= kMaxInFlight && !receive_one()) return false;
    protocol::ProduceExRequest req = std::move(it->second);
    batches.erase(it);
    batch_bytes.erase(partition);
    if (auto st = c->send_produce(std::move(req)); !st) {
      fail_client("produce", st.error());
      return false;
    }
    return true;
  };

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
    const uint32_t partition = a.partition ? *a.partition : rec.key ? client::partition_for_key(*rec.key, *n) : 0;
    auto& batch = batches[partition];
    if (batch.records.empty()) {
      batch.topic = a.topic;
      batch.partition = partition;
    }
    size_t& bytes = batch_bytes[partition];
    bytes += (rec.value ? rec.value->size() : 0) + (rec.key ? rec.key->size() : 0) + 32;
    batch.records.push_back(std::move(rec));
    if (batch.records.size() >= a.batch_records || bytes >= kBatchBytes)
      if (!send(partition)) return 1;
  }
  if (in->bad()) return fail("produce: reading " + (a.file.empty() ? std::string("stdin") : a.file) + " failed");
  std::vector<uint32_t> left;
  for (const auto& [p, b] : batches) left.push_back(p);
  for (uint32_t p : left)
    if (!send(p)) return 1;
  while (c->in_flight() > 0)
    if (!receive_one()) return 1;
  if (a.verbose) verbose_line("produced " + std::to_string(acked) + " records to " + a.topic);
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
  cmd->add_flag("--verbose,-v", a->verbose, "Print each acknowledged batch and a total on stderr");
  cmd->add_flag("--null-empty,-Z", a->null_empty,
                "Send an empty value as a null value (a tombstone: compaction then removes the key)");
  add_net_options(cmd, a->net, /*with_json=*/false);
  cmd->footer(
      "Each line (without its newline) becomes one record, timestamped by the broker. Lines are\n"
      "sent in batches of up to --batch-size records or 512 KiB, several batches in flight at once;\n"
      "the command returns once every batch is acknowledged (written as the broker's flush policy\n"
      "says). It prints nothing but errors unless --verbose; exit status 1 on any failure.\n"
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
