#pragma once
// Counter and Gauge: one relaxed atomic each. Recording costs one atomic
// read-modify-write (or store) and never locks or allocates, so it is safe
// on the request path and from any thread (the sync workers record fsyncs);
// a reader on another thread (the HTTP endpoint) sees whole values.
// Relaxed ordering: a metric orders nothing else, and readers only need
// each value to be eventually current.
#include <atomic>
#include <cstdint>

namespace rustlog::metrics {

// Monotonic: only ever increases (Prometheus type `counter`).
class Counter {
 public:
  void inc(uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A value that goes up and down (Prometheus type `gauge`).
class Gauge {
 public:
  void set(int64_t v) noexcept { v_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

}  // namespace rustlog::metrics
