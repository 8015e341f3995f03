// compaction-load: the two halves of bench/compaction_bench.sh.
//
//   compaction-load fill  --broker B --topic T --mb M [--keys-percent K] [--value-bytes V]
//   compaction-load probe --broker B --topic T (--seconds S | --stop-file F)
//
// fill: writes M MB (10^6 bytes) of keyed records of V bytes (default 1,000)
// to partition 0 through a client::Producer; keys are drawn from K % (default
// 10) of the record count, seeded, so about 90 % of the log is superseded.
// probe: one connection sends one 100-byte record per ProduceEx and waits for
// each answer for S seconds, or until file F exists; prints the latency
// percentiles. Both print one
// "RESULT key=value ..." line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/producer.h"

using namespace rustlog;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "compaction-load: %s\n", msg.c_str());
  std::exit(1);
}

int fill(const std::string& broker, const std::string& topic, double mb, double keys_percent, size_t value_bytes) {
  auto p = client::Producer::connect(broker, {});
  if (!p) die(p.error().to_string());
  const uint64_t records = static_cast<uint64_t>(mb * 1e6 / static_cast<double>(value_bytes));
  const uint64_t keys = std::max<uint64_t>(1, static_cast<uint64_t>(records * keys_percent / 100));
  std::mt19937_64 rng(42);
  const std::string value(value_bytes, 'v');
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < records; ++i) {
    protocol::ProducerRecord r;
    r.key = "key-" + std::to_string(rng() % keys);
    r.value = value;
    p->send(topic, 0, std::move(r));
  }
  if (auto st = p->flush(); !st) die(st.error().to_string());
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto s = p->stats();
  if (s.records_acked != records) die("not every record was acknowledged");
  std::printf("RESULT mode=fill records=%llu keys=%llu seconds=%.3f\n", static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(keys), secs);
  return 0;
}

int probe(const std::string& broker, const std::string& topic, double seconds, const std::string& stop_file) {
  auto c = client::Client::connect(broker);
  if (!c) die(c.error().to_string());
  std::vector<double> us;
  const std::string value(100, 'p');
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (uint64_t n = 0; stop_file.empty() ? Clock::now() < end : !((n & 63) == 0 && std::filesystem::exists(stop_file)); ++n) {
    const auto t = Clock::now();
    auto r = c->produce(topic, 0, {client::record(value, "probe")});
    if (!r) die(r.error().to_string());
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double q) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))]; };
  std::printf("RESULT mode=probe records=%zu p50_us=%.0f p99_us=%.0f max_us=%.0f\n", us.size(), pct(0.5), pct(0.99),
              us.empty() ? 0.0 : us.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: see the comment at the top of bench/compaction_load.cpp");
  const std::string mode = argv[1];
  std::string broker = "127.0.0.1:9092", topic, stop_file;
  double mb = 256, keys_percent = 10, seconds = 5;
  size_t value_bytes = 1000;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--broker") broker = next();
    else if (a == "--topic") topic = next();
    else if (a == "--mb") mb = std::stod(next());
    else if (a == "--keys-percent") keys_percent = std::stod(next());
    else if (a == "--value-bytes") value_bytes = std::stoull(next());
    else if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--stop-file") stop_file = next();
    else die("unknown argument " + a);
  }
  if (topic.empty()) die("--topic is required");
  if (mode == "fill") return fill(broker, topic, mb, keys_percent, value_bytes);
  if (mode == "probe") return probe(broker, topic, seconds, stop_file);
  die("mode is fill or probe, not " + mode);
}
