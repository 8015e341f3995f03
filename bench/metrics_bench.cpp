// What recording a metric costs on the request path, and what a scrape
// costs the thread that renders it.
//
//   build/release/bench/metrics_bench                     # all
//   build/release/bench/metrics_bench --benchmark_filter=Record
//
// The per-request cost of the broker's metrics is BM_PerRequest: a request
// counter, a latency histogram record, and the steady-clock read the loop adds
// to time the request (the produce path adds one counter pair per partition
// and two batch-size histogram records: BM_PerProduce).
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "metrics/broker_metrics.h"
#include "metrics/counter.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "metrics/snapshot.h"

namespace {

using namespace rustlog;
using namespace rustlog::metrics;

void BM_CounterInc(benchmark::State& state) {
  static Counter c;  // shared by the benchmark's threads
  for (auto _ : state) c.inc();
  benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->Threads(4);

void BM_GaugeSet(benchmark::State& state) {
  Gauge g;
  int64_t i = 0;
  for (auto _ : state) g.set(++i);
  benchmark::DoNotOptimize(g.value());
}
BENCHMARK(BM_GaugeSet);

// Latencies spread over 1 µs .. 10 ms (precomputed so the RNG is not measured).
std::vector<uint64_t> latency_values() {
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> d(std::log(50'000.0), 1.5);
  std::vector<uint64_t> v(4096);
  for (auto& x : v) x = static_cast<uint64_t>(d(rng));
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  static LatencyHistogram h;
  const auto values = latency_values();
  size_t i = static_cast<size_t>(state.thread_index()) * 97;
  for (auto _ : state) h.record(values[i++ & 4095]);
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord)->Threads(1)->Threads(2)->Threads(4);

void BM_BucketIndex(benchmark::State& state) {
  const auto values = latency_values();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(kLatencyLayout.index(values[i++ & 4095]));
}
BENCHMARK(BM_BucketIndex);

void BM_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
}
BENCHMARK(BM_SteadyClockNow);

// What the event loop adds to every request: count it, read the clock once
// after it (the previous read is the start), record its latency.
void BM_PerRequest(benchmark::State& state) {
  static BrokerMetrics m;
  int64_t t = std::chrono::steady_clock::now().time_since_epoch().count();
  for (auto _ : state) {
    m.on_request(0x01);
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    m.on_response(0x01, static_cast<uint64_t>(now - t));
    t = now;
  }
}
BENCHMARK(BM_PerRequest);

// Plus what a produce adds: partition records/bytes in, two batch-size records.
void BM_PerProduce(benchmark::State& state) {
  static BrokerMetrics m;
  static PartitionCounters pc;
  int64_t t = std::chrono::steady_clock::now().time_since_epoch().count();
  for (auto _ : state) {
    m.on_request(0x01);
    pc.records_in.inc(10);
    pc.bytes_in.inc(1100);
    m.produce_batch_records.record(10);
    m.produce_batch_bytes.record(1100);
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    m.on_response(0x01, static_cast<uint64_t>(now - t));
    t = now;
  }
}
BENCHMARK(BM_PerProduce);

void BM_HistogramQuantiles(benchmark::State& state) {
  LatencyHistogram h;
  for (uint64_t v : latency_values()) h.record(v);
  for (auto _ : state) {
    const HistogramSnapshot s = h.snapshot();
    benchmark::DoNotOptimize(s.quantile(0.5) + s.quantile(0.99) + s.quantile(0.999));
  }
}
BENCHMARK(BM_HistogramQuantiles);

// A full scrape: every fixed metric (all request types with traffic) plus a
// snapshot of `partitions` partitions and as many group offsets.
void BM_Render(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  BrokerMetrics m;
  for (uint8_t t = 1; t <= 0x19; ++t) {
    m.on_request(t);
    m.on_response(t, 100'000);
  }
  auto snap = std::make_unique<MetricsSnapshot>();
  for (uint32_t i = 0; i < n; ++i) {
    snap->partitions.push_back({"topic-" + std::to_string(i / 8), i % 8, 1000, 100000, 900, 90000, 1000, 0, 100000, 1, false});
    snap->groups.push_back({"group-" + std::to_string(i % 4), "topic-" + std::to_string(i / 8), i % 8, 900, 1000, 100});
  }
  m.snapshots().publish(std::move(snap));
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = m.render();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["text_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// Handing a new snapshot over (the loop's side; building it is the broker's).
void BM_SnapshotPublish(benchmark::State& state) {
  SnapshotCell<MetricsSnapshot> cell;
  for (auto _ : state) cell.publish(std::make_unique<MetricsSnapshot>());
}
BENCHMARK(BM_SnapshotPublish);

}  // namespace

BENCHMARK_MAIN();
