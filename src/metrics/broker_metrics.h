#pragma once
// The broker's counters. Written only by the event-loop thread; relaxed
// atomics so a reader on another thread (the HTTP endpoint) sees whole
// values without locks. Rendered in the Prometheus text format.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace rustlog {

struct Counter {
  std::atomic<uint64_t> v{0};
  void inc(uint64_t n = 1) { v.fetch_add(n, std::memory_order_relaxed); }
  void set(uint64_t n) { v.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct BrokerMetrics {
  std::array<Counter, 256> requests{};          // by request type byte
  std::array<Counter, 256> request_errors{};    // by request type byte
  Counter connections_open, connections_accepted, connections_rejected, connections_protocol_closed;
  Counter records_in, bytes_in, records_out, bytes_out;
  Counter flushes, flush_errors, group_commit_requests;
  Counter fetch_waits;
  Counter recovery_bytes_truncated, recovery_indexes_rebuilt, recovery_corruptions;
  Counter recovery_duration_us;

  // Prometheus text exposition of the counters above.
  std::string render() const;
};

}  // namespace rustlog
