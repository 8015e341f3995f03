#include "bin/commands/bench_runs.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "bin/commands/bench_values.h"
#include "client/consumer.h"
#include "client/producer.h"

namespace rustlog::cli {

using Clock = std::chrono::steady_clock;

std::vector<uint32_t> partitions_of(uint32_t i, uint32_t n, uint32_t partitions) {
  std::vector<uint32_t> out;
  if (partitions < n) return {i % partitions};
  for (uint32_t p = i; p < partitions; p += n) out.push_back(p);
  return out;
}

namespace {

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string broker_of(const BenchArgs& a) {
  return a.net.broker.empty() ? std::string(client::kDefaultBroker) : a.net.broker;
}

// The first error any client thread met; the others stop at their next check.
class FirstError {
 public:
  void set(const client::ClientError& e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = e;
    failed_.store(true, std::memory_order_relaxed);
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::optional<client::ClientError> get() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<client::ClientError> error_;
  std::atomic<bool> failed_{false};
};

client::ProducerOptions producer_options(const BenchArgs& a) {
  client::ProducerOptions o;
  o.client.client_id = "rustlog-bench";
  o.batch_bytes = a.batch_bytes;
  o.linger = std::chrono::microseconds(static_cast<int64_t>(a.linger_ms * 1000));
  o.max_in_flight = a.in_flight;
  o.buffer_bytes = std::max<size_t>(o.buffer_bytes, 2 * a.batch_bytes);
  o.compression = parse_compression(a.compression).value();  // checked by the command line
  o.compression_threads = a.compression_threads;
  return o;
}

client::ConsumerOptions consumer_options(const BenchArgs& a) {
  client::ConsumerOptions o;
  o.max_bytes = static_cast<uint32_t>(a.batch_bytes);
  o.max_poll_records = 100000;
  o.max_wait = std::chrono::milliseconds(100);
  return o;
}

}  // namespace

client::ClientResult<double> run_produce(const BenchArgs& a, uint32_t partitions, uint64_t records, double deadline_s,
                                         BenchMeter& meter, bool stamp) {
  const uint32_t n = a.connections;
  std::vector<client::Producer> producers;
  for (uint32_t i = 0; i < n; ++i) {
    auto p = client::Producer::connect(broker_of(a), producer_options(a));
    if (!p) return p.error();
    producers.push_back(std::move(*p));
  }
  FirstError error;
  std::vector<BenchValues> sources;  // made before the clock starts (bench_values.h)
  for (uint32_t i = 0; i < n; ++i) sources.emplace_back(a.values, a.value_bytes, a.seed + i);
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(deadline_s));
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      const std::vector<uint32_t> parts = partitions_of(i, n, partitions);
      const uint64_t quota = deadline_s > 0 ? UINT64_MAX : records / n + (i < records % n ? 1 : 0);
      BenchValues& values = sources[i];
      const double rate = a.rate > 0 ? static_cast<double>(a.rate) / n : 0;
      for (uint64_t k = 0; k < quota; ++k) {
        if ((k & 255) == 0 && (error.failed() || (deadline_s > 0 && Clock::now() >= end))) break;
        if (rate > 0) {
          const auto due = t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(k) * 1e9 / rate));
          if (due > Clock::now()) std::this_thread::sleep_until(due);
          if (deadline_s > 0 && Clock::now() >= end) break;
        }
        protocol::ProducerRecord rec;
        rec.value = values.next();
        const uint64_t vb = rec.value->size();
        const uint64_t sent = now_ns();
        if (stamp) std::memcpy(rec.value->data(), &sent, sizeof sent);
        (void)producers[i].send(a.topic, parts[k % parts.size()], std::move(rec),
                                [&meter, &error, sent, vb](const client::ClientResult<client::RecordMetadata>& md) {
                                  if (!md) return error.set(md.error());
                                  meter.add(1, vb);
                                  meter.latency_ns(now_ns() - sent);
                                });
      }
      if (client::ClientStatus st = producers[i].flush(); !st) error.set(st.error());
    });
  for (auto& t : threads) t.join();
  const double secs = seconds_since(t0);
  if (auto e = error.get()) return *e;
  return secs;
}

namespace {

// One consumer per connection over its partitions; `from_end` starts at the
// current end (e2e) instead of the log start. `done` says when to stop;
// `on_record` sees every record.
struct ConsumeLoop {
  const BenchArgs& a;
  uint32_t partitions;
  bool from_end;

  template <typename Done, typename OnBatch>
  client::ClientResult<double> run(FirstError& error, Done done, OnBatch on_batch,
                                   std::atomic<uint32_t>* ready = nullptr) {
    const uint32_t n = a.connections;
    std::vector<client::Consumer> consumers;
    std::vector<std::map<uint32_t, uint64_t>> ends(n);  // per consumer: partition -> end at the start
    for (uint32_t i = 0; i < n; ++i) {
      auto c = client::Consumer::connect(broker_of(a), consumer_options(a));
      if (!c) return c.error();
      if (client::ClientStatus st = c->assign(a.topic, partitions_of(i, n, partitions)); !st) return st.error();
      if (client::ClientStatus st = from_end ? c->seek_to_end() : c->seek_to_beginning(); !st) return st.error();
      for (uint32_t p : partitions_of(i, n, partitions)) {
        auto end = c->client().latest_offset(a.topic, p);
        if (!end) return end.error();
        ends[i][p] = *end;
      }
      consumers.push_back(std::move(*c));
    }
    if (ready) ready->store(n);
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (uint32_t i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        auto& c = consumers[i];
        while (!error.failed() && !done(c, ends[i])) {
          const uint64_t t = now_ns();
          auto recs = c.poll(std::chrono::milliseconds(100));
          if (!recs) return error.set(recs.error());
          if (recs->empty()) continue;
          on_batch(*recs, t);
        }
      });
    for (auto& t : threads) t.join();
    const double secs = seconds_since(t0);
    if (auto e = error.get()) return *e;
    return secs;
  }
};

bool caught_up(const client::Consumer& c, const std::map<uint32_t, uint64_t>& ends) {
  for (const auto& [p, end] : ends) {
    auto pos = c.position(p);
    if (!pos || *pos < end) return false;
  }
  return true;
}

}  // namespace

client::ClientResult<double> run_consume(const BenchArgs& a, uint32_t partitions, uint64_t records, double deadline_s,
                                         BenchMeter& meter) {
  FirstError error;
  const auto t0 = Clock::now();
  ConsumeLoop loop{a, partitions, /*from_end=*/false};
  auto done = [&](const client::Consumer& c, const std::map<uint32_t, uint64_t>& ends) {
    if (deadline_s > 0 && seconds_since(t0) >= deadline_s) return true;
    if (records > 0 && meter.records() >= records) return true;
    return caught_up(c, ends);
  };
  auto on_batch = [&](const std::vector<client::ConsumerRecord>& recs, uint64_t polled_at) {
    uint64_t bytes = 0;
    for (const auto& r : recs) bytes += r.value ? r.value->size() : 0;
    meter.add(recs.size(), bytes);
    meter.latency_ns(now_ns() - polled_at);
  };
  return loop.run(error, done, on_batch);
}

client::ClientResult<double> run_e2e(const BenchArgs& a, uint32_t partitions, BenchMeter& meter) {
  if (a.value_bytes < sizeof(uint64_t))
    return client::ClientError::invalid_argument("e2e needs --value-bytes of at least 8 (each value carries its send time)");
  FirstError error;
  std::atomic<bool> producing_done{false};
  std::atomic<uint64_t> produced{0};
  std::atomic<uint32_t> ready{0};
  Clock::time_point drain_deadline{};
  std::mutex drain_mu;
  ConsumeLoop loop{a, partitions, /*from_end=*/true};
  auto done = [&](const client::Consumer&, const std::map<uint32_t, uint64_t>&) {
    if (!producing_done.load()) return false;
    if (meter.records() >= produced.load()) return true;
    std::lock_guard lock(drain_mu);
    if (Clock::now() > drain_deadline) {
      error.set(client::ClientError::invalid_argument(
          std::to_string(produced.load() - meter.records()) +
          " acknowledged records did not reach a consumer within 10 s of the last acknowledgement"));
      return true;
    }
    return false;
  };
  auto on_batch = [&](const std::vector<client::ConsumerRecord>& recs, uint64_t) {
    const uint64_t now = now_ns();
    uint64_t bytes = 0;
    for (const auto& r : recs) {
      if (!r.value || r.value->size() < sizeof(uint64_t)) continue;  // not one of ours
      uint64_t sent = 0;
      std::memcpy(&sent, r.value->data(), sizeof sent);
      meter.latency_ns(now > sent ? now - sent : 0);
      bytes += r.value->size();
    }
    meter.add(recs.size(), bytes);
  };
  std::optional<client::ClientResult<double>> consumed;
  std::thread consumers([&] {
    consumed = loop.run(error, done, on_batch, &ready);
    if (!*consumed) error.set(consumed->error());
  });
  while (ready.load() == 0 && !error.failed()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  BenchMeter produce_meter;
  auto p = run_produce(a, partitions, a.records, a.duration_s, produce_meter, /*stamp=*/true);
  if (!p) error.set(p.error());
  {
    std::lock_guard lock(drain_mu);
    drain_deadline = Clock::now() + std::chrono::seconds(10);
  }
  produced.store(produce_meter.records());
  producing_done.store(true);
  consumers.join();
  if (auto e = error.get()) return *e;
  return *consumed;
}

}  // namespace rustlog::cli
