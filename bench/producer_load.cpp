// producer-load: drives one client::Producer with default options (unless
// told otherwise) and reports its throughput, for bench/producer_bench.sh.
//
//   producer-load --broker 127.0.0.1:PORT --topic T [--records N] [--value-bytes V]
//                 [--batch-bytes B] [--linger-us L] [--in-flight D] [--create-partitions P]
//
// Sends N unkeyed records of V bytes (default 5,000,000 x 100) as fast as
// send() takes them, then flush(); the clock runs from the first send to
// the end of the flush. Every record must be acknowledged (exit 1 otherwise).
// Prints a human line and one "RESULT key=value ..." line: records, seconds,
// rec_per_s, mb_per_s (values only), batches, records_per_batch,
// max_in_flight, records_in_flight (records_per_batch x max_in_flight: what
// a peer must have outstanding to compare like with like).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "client/client.h"
#include "client/producer.h"

using namespace rustlog;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "producer-load: %s\n", msg.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string broker = "127.0.0.1:9092", topic = "producer-load";
  uint64_t records = 5'000'000;
  size_t value_bytes = 100;
  uint32_t create_partitions = 1;
  client::ProducerOptions o;  // the defaults unless a flag says otherwise
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--broker") broker = next();
    else if (a == "--topic") topic = next();
    else if (a == "--records") records = std::stoull(next());
    else if (a == "--value-bytes") value_bytes = std::stoull(next());
    else if (a == "--batch-bytes") o.batch_bytes = std::stoull(next());
    else if (a == "--linger-us") o.linger = std::chrono::microseconds(std::stoll(next()));
    else if (a == "--in-flight") o.max_in_flight = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--create-partitions") create_partitions = static_cast<uint32_t>(std::stoul(next()));
    else die("unknown argument " + a + " (see the comment at the top of bench/producer_load.cpp)");
  }
  {
    auto admin = client::Client::connect(broker);
    if (!admin) die(admin.error().to_string());
    if (auto st = admin->create_topic(topic, create_partitions); !st && st.error().code() != ErrorCode::kTopicExists)
      die(st.error().to_string());
  }
  auto p = client::Producer::connect(broker, o);
  if (!p) die(p.error().to_string());
  if (auto n = p->partition_count(topic); !n) die(n.error().to_string());

  const std::string value(value_bytes, 'v');
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < records; ++i) {
    protocol::ProducerRecord r;
    r.value = value;
    p->send(topic, std::move(r));
  }
  if (auto st = p->flush(); !st) die(st.error().to_string());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const client::ProducerStats s = p->stats();
  p->close();
  if (s.records_acked != records || s.records_failed != 0)
    die(std::to_string(s.records_failed) + " of " + std::to_string(records) + " records failed");
  const double per_batch = s.batches_acked ? static_cast<double>(s.records_acked) / s.batches_acked : 0;
  const double rate = records / secs;
  std::printf("%llu records of %zu B in %.3f s: %.0f rec/s, %.1f MB/s, %llu batches (%.0f records each), "
              "%u in flight\n",
              static_cast<unsigned long long>(records), value_bytes, secs, rate, rate * value_bytes / 1e6,
              static_cast<unsigned long long>(s.batches_acked), per_batch, o.max_in_flight);
  std::printf("RESULT records=%llu seconds=%.4f rec_per_s=%.0f mb_per_s=%.2f batches=%llu records_per_batch=%.0f "
              "max_in_flight=%u records_in_flight=%.0f\n",
              static_cast<unsigned long long>(records), secs, rate, rate * value_bytes / 1e6,
              static_cast<unsigned long long>(s.batches_acked), per_batch, o.max_in_flight,
              per_batch * o.max_in_flight);
  return 0;
}
