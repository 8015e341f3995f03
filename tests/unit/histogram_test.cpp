// Histogram buckets (layout, cumulative and monotonic counts, quantiles within
// one bucket of the truth, merging, concurrent recording).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "metrics/counter.h"
#include "metrics/histogram.h"

namespace rustlog::metrics {
namespace {

constexpr BucketLayout kLayouts[] = {kLatencyLayout, kCountLayout, kBytesLayout, BucketLayout{1000, 3, 10},
                                     BucketLayout{8, 3, 12}};

TEST(BucketLayout, LatencyLayoutCoversOneMicrosecondToSixtySeconds) {
  EXPECT_EQ(kLatencyLayout.upper_bound(0), 1000u);  // 1 µs in ns
  EXPECT_GE(kLatencyLayout.max(), 60'000'000'000u);
  EXPECT_EQ(kLatencyLayout.upper_bound(kLatencyLayout.finite_buckets() - 1), kLatencyLayout.max());
  EXPECT_EQ(kLatencyLayout.sub(), 4u);
  EXPECT_EQ(kLatencyLayout.finite_buckets(), 105u);
  EXPECT_EQ(kLatencyLayout.upper_bound(1), 1250u);
  EXPECT_EQ(kLatencyLayout.upper_bound(4), 2000u);
  EXPECT_EQ(kLatencyLayout.upper_bound(5), 2500u);
}

TEST(BucketLayout, BoundsIncreaseAndEachBucketIsAtMostOneSubBucketWide) {
  for (const BucketLayout& l : kLayouts) {
    ASSERT_TRUE(l.valid());
    for (size_t i = 1; i < l.finite_buckets(); ++i) {
      const uint64_t lo = l.upper_bound(i - 1), hi = l.upper_bound(i);
      ASSERT_LT(lo, hi) << "bucket " << i;
      // Width <= lower bound / S (the log-linear promise).
      EXPECT_LE((hi - lo) * l.sub(), lo) << "bucket " << i;
    }
  }
}

TEST(BucketLayout, IndexPutsEveryValueInTheBucketWhoseBoundsHoldIt) {
  std::mt19937_64 rng(42);
  for (const BucketLayout& l : kLayouts) {
    // Each bound, its neighbours, and random values of every magnitude.
    std::vector<uint64_t> values = {0, 1, l.min, l.min + 1, l.max(), l.max() + 1, ~uint64_t{0}};
    for (size_t i = 0; i < l.finite_buckets(); ++i) {
      const uint64_t b = l.upper_bound(i);
      values.insert(values.end(), {b - 1, b, b + 1});
    }
    for (int n = 0; n < 20000; ++n) values.push_back(rng() >> (rng() % 64));
    for (uint64_t v : values) {
      const size_t i = l.index(v);
      ASSERT_LT(i, l.buckets());
      if (i + 1 == l.buckets()) {
        EXPECT_GT(v, l.max()) << v;
      } else {
        EXPECT_LE(v, l.upper_bound(i)) << v;
        if (i > 0) {
          EXPECT_GT(v, l.lower_bound(i)) << v;
        }
      }
    }
  }
}

TEST(Histogram, BucketsAreCumulativeAndMonotonicAndEndAtTheCount) {
  LatencyHistogram h;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> d(std::log(200'000.0), 1.5);  // ~200 µs median
  for (int i = 0; i < 50000; ++i) h.record(static_cast<uint64_t>(d(rng)));
  h.record(0);
  h.record(~uint64_t{0} / 2);  // overflow bucket
  const HistogramSnapshot s = h.snapshot();
  const auto cum = s.cumulative();
  ASSERT_EQ(cum.size(), kLatencyLayout.buckets());
  for (size_t i = 1; i < cum.size(); ++i) EXPECT_GE(cum[i], cum[i - 1]);
  EXPECT_EQ(cum.back(), 50002u);
  EXPECT_EQ(s.count(), 50002u);
  EXPECT_EQ(h.count(), 50002u);
  EXPECT_EQ(cum.front(), s.counts.front());
}

TEST(Histogram, QuantilesAreWithinTheirBucketOfTheExactValue) {
  std::mt19937_64 rng(1234);
  for (const BucketLayout& l : kLayouts) {
    for (int dist = 0; dist < 3; ++dist) {
      HistogramSnapshot h(l);
      std::vector<uint64_t> values;
      const double scale = static_cast<double>(l.min) * 40;
      std::lognormal_distribution<double> logn(std::log(scale), 2.0);
      std::uniform_real_distribution<double> uni(0, scale * 100);
      std::exponential_distribution<double> expo(1.0 / scale);
      for (int i = 0; i < 20000; ++i) {
        const double x = dist == 0 ? logn(rng) : dist == 1 ? uni(rng) : expo(rng);
        const uint64_t v = std::min<uint64_t>(static_cast<uint64_t>(x), l.max());
        values.push_back(v);
        h.record(v);
      }
      std::sort(values.begin(), values.end());
      for (double q : {0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0}) {
        size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
        if (rank == 0) rank = 1;
        const uint64_t exact = values[rank - 1];
        const size_t b = l.index(exact);
        const double est = h.quantile(q);
        // Same bucket: the estimate lies in (lower, upper] of the exact value's bucket.
        EXPECT_GT(est, static_cast<double>(l.lower_bound(b)) - (b == 0 ? 1 : 0)) << "q=" << q;
        EXPECT_LE(est, static_cast<double>(l.upper_bound(b))) << "q=" << q;
        // So the relative error is at most one sub-bucket (above bucket 0).
        if (exact > l.min) {
          EXPECT_LE(std::abs(est - static_cast<double>(exact)), static_cast<double>(exact) / static_cast<double>(l.sub()) + 1)
              << "q=" << q << " exact=" << exact << " est=" << est;
        }
      }
    }
  }
}

TEST(Histogram, KnownQuantiles) {
  HistogramSnapshot h(kLatencyLayout);
  EXPECT_EQ(h.quantile(0.5), 0);  // empty
  for (int i = 0; i < 99; ++i) h.record(1'100);  // (1000, 1250]
  h.record(5'000'000);                           // 5 ms
  EXPECT_GT(h.quantile(0.5), 1000);
  EXPECT_LE(h.quantile(0.5), 1250);
  EXPECT_LE(h.quantile(0.99), 1250);
  EXPECT_GT(h.quantile(0.999), 4'000'000);
  EXPECT_LE(h.quantile(0.999), 5'000'000 * 1.25);
  h.record(kLatencyLayout.max() + 5, 10'000);
  EXPECT_EQ(h.quantile(0.999), static_cast<double>(kLatencyLayout.max()));
}

TEST(Histogram, MergingEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  std::mt19937_64 rng(99);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng() % 10'000'000'000ull;
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  HistogramSnapshot merged = a.snapshot();
  ASSERT_TRUE(merged.merge(b.snapshot()));
  EXPECT_EQ(merged.counts, all.snapshot().counts);
  EXPECT_EQ(merged.sum, all.snapshot().sum);

  a.merge_from(b);
  EXPECT_EQ(a.snapshot().counts, all.snapshot().counts);

  HistogramSnapshot other(kBytesLayout);
  other.record(10);
  EXPECT_FALSE(merged.merge(other));  // different layouts do not merge
  HistogramSnapshot empty;
  ASSERT_TRUE(empty.merge(all.snapshot()));
  EXPECT_EQ(empty.count(), 10000u);
}

TEST(Histogram, ConcurrentRecordsAreAllCounted) {
  LatencyHistogram h;
  Counter c;
  constexpr int kThreads = 4, kPer = 100000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        h.record(static_cast<uint64_t>(1000 + i * (t + 1)));
        c.inc();
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(h.count(), uint64_t{kThreads} * kPer);
  EXPECT_EQ(c.value(), uint64_t{kThreads} * kPer);
}

}  // namespace
}  // namespace rustlog::metrics
