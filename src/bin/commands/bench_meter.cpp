#include "bin/commands/bench_meter.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "bin/commands/net_common.h"

namespace rustlog::cli {

void BenchMeter::latency_ns(uint64_t ns) noexcept {
  latency_.record(ns);
  uint64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

namespace {

std::string micros(double ns) {
  const double us = ns / 1000.0;
  if (us >= 100000) return fmt::format("{:.0f} ms", us / 1000);
  if (us >= 10000) return fmt::format("{:.1f} ms", us / 1000);
  if (us >= 100) return fmt::format("{:.0f} µs", us);
  return fmt::format("{:.1f} µs", us);
}

std::string grouped(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

ProgressLine::ProgressLine(const BenchMeter& meter, std::string label)
    : meter_(meter), label_(std::move(label)), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), thread_([this] { run(); }) {}

ProgressLine::~ProgressLine() {
  stop_.store(true);
  thread_.join();
  if (tty_) std::fputs("\n", stderr);
}

void ProgressLine::run() {
  uint64_t last_records = 0;
  uint64_t last_bytes = 0;
  auto last = start_;
  while (!stop_.load()) {
    // Wake often, so the destructor never waits long; print once a second.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1)) continue;
    const double dt = std::chrono::duration<double>(now - last).count();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const uint64_t records = meter_.records();
    const uint64_t bytes = meter_.bytes();
    const double p99 = meter_.latencies().quantile(0.99);
    const std::string line = fmt::format("{}: {:.0f} s, {} records, {} rec/s, {:.1f} MB/s, p99 {}", label_, elapsed,
                                         grouped(records), grouped(static_cast<uint64_t>((records - last_records) / dt)),
                                         static_cast<double>(bytes - last_bytes) / dt / 1e6, micros(p99));
    std::fprintf(stderr, tty_ ? "\r\033[K%s" : "%s\n", line.c_str());
    std::fflush(stderr);
    last = now;
    last_records = records;
    last_bytes = bytes;
  }
}

void print_summary(const BenchSummary& s, bool json) {
  const double secs = s.seconds > 0 ? s.seconds : 1e-9;
  const double rate = static_cast<double>(s.records) / secs;
  const double mbps = static_cast<double>(s.bytes) / secs / 1e6;
  // A quantile is interpolated inside its bucket (~3% wide): never above the exact maximum.
  const double max = static_cast<double>(s.max_ns);
  const double p50 = std::min(s.latency.quantile(0.50), max), p99 = std::min(s.latency.quantile(0.99), max),
               p999 = std::min(s.latency.quantile(0.999), max);
  if (json) {
    nlohmann::json j = {{"mode", s.mode},
                        {"topic", s.topic},
                        {"partitions", s.partitions},
                        {"connections", s.connections},
                        {"value_bytes", s.value_bytes},
                        {"latency_of", s.latency_of},
                        {"records", s.records},
                        {"seconds", s.seconds},
                        {"records_per_sec", rate},
                        {"mb_per_sec", mbps},
                        {"p50_us", p50 / 1000},
                        {"p99_us", p99 / 1000},
                        {"p999_us", p999 / 1000},
                        {"max_us", max / 1000}};
    print_json(j);
    return;
  }
  out_line(fmt::format("rustlog bench {}: topic {}, {} partition{}, {} connection{}, {}-byte values", s.mode, s.topic,
                       s.partitions, s.partitions == 1 ? "" : "s", s.connections, s.connections == 1 ? "" : "s",
                       s.value_bytes));
  Table t({"RECORDS", "SECONDS", "RECORDS/S", "MB/S", "P50", "P99", "P999", "MAX"},
          {true, true, true, true, true, true, true, true});
  t.add({grouped(s.records), fmt::format("{:.3f}", s.seconds), grouped(static_cast<uint64_t>(rate)),
         fmt::format("{:.1f}", mbps), micros(p50), micros(p99), micros(p999),
         micros(max)});
  t.print();
  out_line("latency: " + s.latency_of + "; MB/s counts record values only");
}

}  // namespace rustlog::cli
