#pragma once
// Fixed log-linear histograms.
//
// A BucketLayout splits the values into buckets whose bounds are integers in
// the metric's base unit (nanoseconds, bytes, counts):
//   bucket 0             values 0 .. min
//   buckets 1 ..         every power of two above min is split into 2^sub_bits
//                        equal sub-buckets: (min*2^k*(S+j)/S, min*2^k*(S+j+1)/S]
//                        for k = 0 .. powers-1, j = 0 .. S-1 (S = 2^sub_bits)
//   the last bucket      values above min * 2^powers (+Inf)
// so a bucket is at most 1/S of its lower bound wide: a quantile read from
// the buckets is within that relative error. Upper bounds are inclusive, as
// Prometheus' `le` label wants.
//
// Histogram<Layout> holds one relaxed atomic count per bucket plus the sum:
// record() is a bucket computation (one division, one count-leading-zeros)
// and two atomic adds — no lock, no allocation, safe from any thread.
// Histograms of one layout merge by adding counts (merge_from, or
// HistogramSnapshot::merge), which is what makes per-thread or per-type
// histograms combinable into one.
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rustlog::metrics {

struct BucketLayout {
  uint64_t min = 1;       // upper bound of bucket 0
  unsigned sub_bits = 0;  // 2^sub_bits sub-buckets per power of two
  unsigned powers = 1;    // powers of two above min; the largest finite bound is min << powers

  constexpr uint64_t sub() const { return uint64_t{1} << sub_bits; }
  constexpr size_t finite_buckets() const { return 1 + (size_t{powers} << sub_bits); }
  // Including the overflow (+Inf) bucket.
  constexpr size_t buckets() const { return finite_buckets() + 1; }
  constexpr uint64_t max() const { return min << powers; }
  // Bounds are integers and (v - 1) * sub() cannot overflow.
  constexpr bool valid() const {
    return min > 0 && sub_bits <= 8 && powers >= 1 && powers <= 40 && min % sub() == 0 &&
           max() / min == (uint64_t{1} << powers) && max() <= (~uint64_t{0} >> (sub_bits + 1));
  }

  // Inclusive upper bound of bucket i (i < finite_buckets()).
  constexpr uint64_t upper_bound(size_t i) const {
    if (i == 0) return min;
    const size_t k = (i - 1) >> sub_bits;
    const uint64_t j = (i - 1) & (sub() - 1);
    return ((min / sub()) * (sub() + j + 1)) << k;
  }
  // Exclusive lower bound of bucket i (0 for bucket 0; max() for overflow).
  constexpr uint64_t lower_bound(size_t i) const { return i == 0 ? 0 : upper_bound(i - 1); }

  // The bucket holding v.
  constexpr size_t index(uint64_t v) const {
    if (v <= min) return 0;
    if (v > max()) return finite_buckets();
    // r = floor((v-1) * S / min) lies in [S * 2^k, S * 2^(k+1)) for the power
    // k holding v; its top sub_bits+1 bits are S + j.
    const uint64_t r = (v - 1) * sub() / min;
    const unsigned k = static_cast<unsigned>(63 - std::countl_zero(r)) - sub_bits;
    return 1 + (size_t{k} << sub_bits) + static_cast<size_t>((r >> k) - sub());
  }

  constexpr bool operator==(const BucketLayout&) const = default;
};

// Request and fsync latency in nanoseconds: bucket 0 is <= 1 µs, 4 sub-buckets
// per power of two (<= 25% wide), the largest finite bound 1 µs * 2^26 = 67.1 s
// (so 1 µs .. 60 s is covered): 105 finite buckets.
inline constexpr BucketLayout kLatencyLayout{1000, 2, 26};
// Small counts (records per batch, requests per flush): 1, 2, 4, ... 2^20.
inline constexpr BucketLayout kCountLayout{1, 0, 20};
// Sizes in bytes: <= 64 B, then 2 sub-buckets per power of two up to 64 MiB.
inline constexpr BucketLayout kBytesLayout{64, 1, 20};

// A plain (non-atomic) copy of a histogram: what is rendered, merged and
// asked for quantiles.
struct HistogramSnapshot {
  BucketLayout layout;
  std::vector<uint64_t> counts;  // per bucket, not cumulative; layout.buckets() entries
  uint64_t sum = 0;              // of the recorded values, in base units

  HistogramSnapshot() = default;
  explicit HistogramSnapshot(BucketLayout l) : layout(l), counts(l.buckets(), 0) {}

  uint64_t count() const;
  // Running totals: entry i counts the values <= upper_bound(i); the last
  // entry (+Inf) equals count().
  std::vector<uint64_t> cumulative() const;
  void record(uint64_t v, uint64_t times = 1);
  // Adds other's counts; false (and nothing changes) when layouts differ.
  bool merge(const HistogramSnapshot& other);
  // What was recorded after `earlier` (an older snapshot of the same
  // histogram): counts and sum minus earlier's. A layout mismatch or an
  // empty `earlier` gives *this.
  HistogramSnapshot since(const HistogramSnapshot& earlier) const;
  // The q-quantile (0 <= q <= 1) in base units, interpolated linearly inside
  // the bucket holding the ceil(q * count)-th smallest value, so within that
  // bucket's width of the true value. Values in the overflow bucket report
  // layout.max(). 0 when empty.
  double quantile(double q) const;
};

template <BucketLayout L>
class Histogram {
  static_assert(L.valid(), "bucket bounds must be integers and must not overflow");

 public:
  static constexpr BucketLayout kLayout = L;

  void record(uint64_t v) noexcept {
    counts_[L.index(v)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  // Adds every count of `other` (relaxed; concurrent records stay counted).
  void merge_from(const Histogram& other) noexcept {
    for (size_t i = 0; i < counts_.size(); ++i) {
      const uint64_t n = other.counts_[i].load(std::memory_order_relaxed);
      if (n) counts_[i].fetch_add(n, std::memory_order_relaxed);
    }
    sum_.fetch_add(other.sum_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }

  // A copy of the counts (each read atomically; a record racing with the copy
  // may show in the buckets but not yet in the sum, or the other way round).
  HistogramSnapshot snapshot() const {
    HistogramSnapshot s(L);
    for (size_t i = 0; i < counts_.size(); ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

  uint64_t count() const noexcept {
    uint64_t n = 0;
    for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
    return n;
  }

 private:
  std::array<std::atomic<uint64_t>, L.buckets()> counts_{};
  std::atomic<uint64_t> sum_{0};
};

using LatencyHistogram = Histogram<kLatencyLayout>;
using CountHistogram = Histogram<kCountLayout>;
using BytesHistogram = Histogram<kBytesLayout>;

}  // namespace rustlog::metrics
