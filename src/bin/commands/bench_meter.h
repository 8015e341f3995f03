#pragma once
// What `rustlog bench` measures while it runs, and how it shows it: a
// lock-free meter that every client thread feeds (records, value bytes, one
// latency per record or per poll), a progress line on stderr once a second,
// and the final summary (a table on stdout, or one JSON object).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "metrics/histogram.h"

namespace rustlog::cli {

// Latency in ns: bucket 0 is <= 1.024 µs, then 32 sub-buckets per power of
// two (each at most ~3% wide) up to 1.024 µs * 2^26 = 68.7 s.
inline constexpr metrics::BucketLayout kBenchLatencyLayout{1024, 5, 26};

class BenchMeter {
 public:
  void add(uint64_t records, uint64_t bytes) noexcept {
    records_.fetch_add(records, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void latency_ns(uint64_t ns) noexcept;
  uint64_t records() const noexcept { return records_.load(std::memory_order_relaxed); }
  uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  uint64_t max_ns() const noexcept { return max_ns_.load(std::memory_order_relaxed); }
  metrics::HistogramSnapshot latencies() const { return latency_.snapshot(); }

 private:
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> max_ns_{0};
  metrics::Histogram<kBenchLatencyLayout> latency_;
};

// Prints "<label>  elapsed  records  rate  MB/s  p99 so far" on stderr once a
// second until destroyed (rewriting one line on a terminal, a line each
// otherwise). The rate is over the last second.
class ProgressLine {
 public:
  ProgressLine(const BenchMeter& meter, std::string label);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  void run();
  const BenchMeter& meter_;
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One run's outcome, as printed.
struct BenchSummary {
  std::string mode;            // produce | consume | e2e
  std::string topic;
  uint32_t partitions = 0;
  uint32_t connections = 0;
  uint32_t value_bytes = 0;
  std::string latency_of;      // what one latency sample is
  uint64_t records = 0;
  uint64_t bytes = 0;          // value bytes
  double seconds = 0;
  metrics::HistogramSnapshot latency;
  uint64_t max_ns = 0;
};

// A table on stdout, or with json one object with records, seconds,
// records_per_sec, mb_per_sec, p50_us, p99_us, p999_us, max_us and the settings.
void print_summary(const BenchSummary& s, bool json);

}  // namespace rustlog::cli
