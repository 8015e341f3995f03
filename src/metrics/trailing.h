#pragma once
// Trailing<T>: the last few samples of a cumulative value (counters, a
// histogram), kept at most one per `step_ms`, so that "now minus the oldest
// sample" covers the last few seconds. That difference is what turns
// counters that only grow into recent rates, and a histogram since start
// into the latencies of the last seconds. Not thread-safe: the event loop
// owns it and writes the results into the published snapshot.
#include <array>
#include <cstddef>
#include <cstdint>

namespace rustlog::metrics {

template <typename T, size_t K = 6>
class Trailing {
  static_assert(K >= 2);

 public:
  struct Sample {
    int64_t at_ms = 0;
    T value{};
  };
  static constexpr int64_t kStepMs = 1000;
  // The window then spans (K-1) to K steps.
  static constexpr int64_t kWindowMs = (K - 1) * kStepMs;

  // Keeps `value` as of `now_ms` unless the newest sample is less than about
  // a step old (then it is dropped: the window moves in whole steps). A tenth
  // of a step of slack: offers that come once a step, a little early, must
  // not be dropped every other time.
  void offer(int64_t now_ms, const T& value) {
    if (n_ > 0 && now_ms - newest().at_ms < kStepMs - kStepMs / 10) return;
    if (n_ == K) {
      head_ = (head_ + 1) % K;
      --n_;
    }
    ring_[(head_ + n_) % K] = Sample{now_ms, value};
    ++n_;
  }
  // The oldest sample kept, nullptr before the first offer().
  const Sample* oldest() const { return n_ ? &ring_[head_] : nullptr; }

 private:
  const Sample& newest() const { return ring_[(head_ + n_ - 1) % K]; }
  std::array<Sample, K> ring_{};
  size_t head_ = 0;
  size_t n_ = 0;
};

}  // namespace rustlog::metrics
