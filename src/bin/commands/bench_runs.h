#pragma once
// The three `rustlog bench` workloads over the client library (Producer and
// Consumer), one client per --connections, each fed into a BenchMeter.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bin/commands/bench_meter.h"
#include "bin/commands/net_common.h"
#include "client/errors.h"

namespace rustlog::cli {

struct BenchArgs {
  NetArgs net;
  std::string mode;  // produce | consume | e2e
  uint64_t records = 1'000'000;
  bool records_given = false;
  double duration_s = 0;  // > 0: run this long instead of --records
  uint32_t value_bytes = 100;
  size_t batch_bytes = 1 << 20;
  double linger_ms = 5;
  uint32_t in_flight = 5;
  uint32_t connections = 1;
  uint32_t partitions = 1;
  bool partitions_given = false;
  uint64_t rate = 0;  // records per second in total, 0 = as fast as possible
  std::string topic = "rustlog-bench";
  bool keep = false;
  uint64_t seed = 1;
  std::string values = "letters";     // letters | access-log (bench_values.h)
  std::string compression = "none";   // the Producer's, CODEC[:LEVEL]
  uint32_t compression_threads = 2;   // the Producer's compressor threads
};

// The partitions connection `i` of `n` works on: p % n == i, or i % P when
// there are fewer partitions than connections.
std::vector<uint32_t> partitions_of(uint32_t i, uint32_t n, uint32_t partitions);

// Produces through one Producer per connection. With `deadline_s` > 0 it stops
// sending then; else after `records` in total. Latency: send() to the
// record's acknowledgement. With `stamp`, each value starts with the send
// time (steady clock, ns) for e2e. Returns the seconds from the first send
// to the last acknowledgement.
client::ClientResult<double> run_produce(const BenchArgs& a, uint32_t partitions, uint64_t records, double deadline_s,
                                         BenchMeter& meter, bool stamp);

// Reads each partition from its log start up to the end it had when the run
// began (or until `records` or the deadline). Latency: one poll().
client::ClientResult<double> run_consume(const BenchArgs& a, uint32_t partitions, uint64_t records, double deadline_s,
                                         BenchMeter& meter);

// Consumers from the current end, then producers; latency: a record's send
// time to its arrival at a consumer.
client::ClientResult<double> run_e2e(const BenchArgs& a, uint32_t partitions, BenchMeter& meter);

}  // namespace rustlog::cli
