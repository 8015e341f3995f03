// The sparse indexes and IndexPolicy (segment_index.h): byte formats, parse
// sanity checks, lookups against a linear scan, and the entry rule that live
// appends and rebuilds share (including resuming it at any batch).
#include "storage/segment_index.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "support/record_gen.h"

namespace rustlog {
namespace {

using test::RecordGen;
using test::seed_trace;

OffsetIndex random_offset_index(RecordGen& g, size_t n) {
  OffsetIndex oi;
  uint32_t rel = 0, pos = 0;
  for (size_t i = 0; i < n; ++i) {
    rel += static_cast<uint32_t>(g.uniform(1, 50));
    pos += static_cast<uint32_t>(g.uniform(1, 5000));
    oi.add(rel, pos);
  }
  return oi;
}

TEST(SegmentIndexTest, OffsetIndexBytesAndRoundTrip) {
  OffsetIndex oi;
  oi.add(0x01020304, 0x0A0B0C0D);
  oi.add(0x01020305, 0x0A0B0C0E);
  const std::string b = oi.serialize();
  ASSERT_EQ(b.size(), 2 * kOffsetIndexEntrySize);
  EXPECT_EQ(b.substr(0, 8), std::string("\x01\x02\x03\x04\x0A\x0B\x0C\x0D", 8));
  auto parsed = OffsetIndex::parse(b);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, oi);
  std::string one;
  OffsetIndex::serialize_entry(0x01020304, 0x0A0B0C0D, one);
  EXPECT_EQ(one, b.substr(0, 8));

  RecordGen g(101);
  for (size_t n : {0, 1, 2, 100, 1000}) {
    OffsetIndex r = random_offset_index(g, n);
    auto p = OffsetIndex::parse(r.serialize());
    ASSERT_TRUE(p.is_ok());
    EXPECT_EQ(*p, r);
  }
}

TEST(SegmentIndexTest, TimeIndexBytesAndRoundTrip) {
  TimeIndex ti;
  ti.add(-5, 1);
  ti.add(0x0102030405060708ll, 0x0A0B0C0D);
  const std::string b = ti.serialize();
  ASSERT_EQ(b.size(), 2 * kTimeIndexEntrySize);
  EXPECT_EQ(b.substr(12, 12), std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x0A\x0B\x0C\x0D", 12));
  auto parsed = TimeIndex::parse(b);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, ti);
  EXPECT_EQ(parsed->ts_at(0), -5);
}

TEST(SegmentIndexTest, ParseRejectsPartialAndNonIncreasingEntries) {
  OffsetIndex oi;
  oi.add(5, 100);
  oi.add(9, 300);
  const std::string ob = oi.serialize();
  for (size_t n = 1; n < ob.size(); ++n)
    if (n % 8) {
      EXPECT_FALSE(OffsetIndex::parse(ob.substr(0, n)).is_ok()) << n;
    }
  EXPECT_TRUE(OffsetIndex::parse(ob.substr(0, 8)).is_ok());
  EXPECT_TRUE(OffsetIndex::parse("").is_ok());
  for (auto [r2, p2] : {std::pair<uint32_t, uint32_t>{5, 300}, {4, 300}, {9, 100}, {9, 50}}) {
    OffsetIndex bad;
    bad.add(5, 100);
    bad.add(r2, p2);
    auto st = OffsetIndex::parse(bad.serialize());
    ASSERT_FALSE(st.is_ok()) << r2 << "," << p2;
    EXPECT_EQ(st.status().code(), ErrorCode::kCorruptRecord);
  }
  TimeIndex ti;
  ti.add(10, 5);
  ti.add(20, 9);
  const std::string tb = ti.serialize();
  for (size_t n = 1; n < tb.size(); ++n)
    if (n % 12) {
      EXPECT_FALSE(TimeIndex::parse(tb.substr(0, n)).is_ok()) << n;
    }
  for (auto [t2, r2] : {std::pair<int64_t, uint32_t>{10, 9}, {5, 9}, {20, 5}, {20, 4}}) {
    TimeIndex bad;
    bad.add(10, 5);
    bad.add(t2, r2);
    EXPECT_FALSE(TimeIndex::parse(bad.serialize()).is_ok()) << t2 << "," << r2;
  }
}

TEST(SegmentIndexTest, LookupsAgreeWithALinearScan) {
  for (uint64_t seed = 110; seed < 130; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    const OffsetIndex oi = random_offset_index(g, g.uniform(0, 300));
    TimeIndex ti;
    int64_t t = g.uniform_i(-1000, 1000);
    uint32_t r = 0;
    const size_t tn = g.uniform(0, 300);
    for (size_t i = 0; i < tn; ++i) {
      t += g.uniform_i(1, 100);
      r += static_cast<uint32_t>(g.uniform(1, 30));
      ti.add(t, r);
    }
    const uint32_t max_rel = oi.empty() ? 100 : oi.rel_at(oi.size() - 1) + 100;
    for (int q = 0; q < 500; ++q) {
      const uint32_t target = static_cast<uint32_t>(g.uniform(0, max_rel));
      uint32_t want_pos = 0;
      size_t want_count = 0;
      for (size_t i = 0; i < oi.size(); ++i)
        if (oi.rel_at(i) <= target) want_pos = oi.pos_at(i), want_count = i + 1;
      ASSERT_EQ(oi.lookup(target), want_pos) << target;
      ASSERT_EQ(oi.count_at_or_below(target), want_count) << target;
      const uint64_t pos = g.uniform(0, 5000 * 301);
      size_t want_first = oi.size();
      for (size_t i = oi.size(); i-- > 0;)
        if (oi.pos_at(i) >= pos) want_first = i;
      ASSERT_EQ(oi.first_at_or_after_position(pos), want_first) << pos;

      const int64_t ts = g.uniform_i(-1100, t + 100);
      uint32_t want_rel = 0;
      for (size_t i = 0; i < ti.size(); ++i)
        if (ti.ts_at(i) < ts) want_rel = ti.rel_at(i);
      ASSERT_EQ(ti.scan_start(ts), want_rel) << ts;
      const uint32_t rel = static_cast<uint32_t>(g.uniform(0, r + 10));
      size_t want_t = ti.size();
      for (size_t i = ti.size(); i-- > 0;)
        if (ti.rel_at(i) >= rel) want_t = i;
      ASSERT_EQ(ti.first_at_or_after_offset(rel), want_t) << rel;
    }
  }
}

struct FakeBatch {
  uint32_t rel;
  uint32_t size;
  int64_t max_ts;
};

std::vector<FakeBatch> fake_batches(RecordGen& g, size_t n) {
  std::vector<FakeBatch> out;
  uint32_t rel = 0;
  for (size_t i = 0; i < n; ++i) {
    FakeBatch b;
    b.rel = rel;
    b.size = static_cast<uint32_t>(g.uniform(50, 900));
    b.max_ts = g.uniform_i(0, 100000);  // non-monotonic
    rel += static_cast<uint32_t>(g.uniform(1, 10));
    out.push_back(b);
  }
  return out;
}

void apply(OffsetIndex& oi, TimeIndex& ti, const IndexPolicy::Entry& e) {
  if (e.offset) oi.add(e.offset->first, e.offset->second);
  if (e.time) ti.add(e.time->first, e.time->second);
}

TEST(SegmentIndexTest, PolicyFollowsTheDocumentedRule) {
  for (uint64_t seed = 130; seed < 140; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    const uint32_t interval = static_cast<uint32_t>(g.uniform(1, 3000));
    const auto batches = fake_batches(g, 400);
    IndexPolicy pol(interval);
    uint64_t pos = 0, since = 0;
    int64_t max_before = INT64_MIN;
    std::optional<int64_t> last_t;
    for (const auto& b : batches) {
      const auto e = pol.on_batch(b.rel, static_cast<uint32_t>(pos), b.size, b.max_ts);
      const bool want_offset = since >= interval;
      ASSERT_EQ(e.offset.has_value(), want_offset) << "at " << pos;
      if (want_offset) {
        EXPECT_EQ(e.offset->first, b.rel);
        EXPECT_EQ(e.offset->second, pos);
        since = 0;
        const bool want_time = max_before != INT64_MIN && (!last_t || max_before > *last_t);
        ASSERT_EQ(e.time.has_value(), want_time);
        if (want_time) {
          EXPECT_EQ(e.time->first, max_before);
          EXPECT_EQ(e.time->second, b.rel);
          last_t = max_before;
        }
      } else {
        EXPECT_FALSE(e.time.has_value());
      }
      since += b.size;
      pos += b.size;
      max_before = std::max(max_before, b.max_ts);
      EXPECT_EQ(pol.max_timestamp(), max_before);
    }
  }
  // Interval 0 behaves as 1: every batch but the first (at position 0,
  // found without an entry) is indexed, so open()'s sanity checks hold.
  IndexPolicy every(0);
  EXPECT_FALSE(every.on_batch(0, 0, 100, 5).offset.has_value());
  EXPECT_TRUE(every.on_batch(1, 100, 100, 5).offset.has_value());
  EXPECT_TRUE(every.on_batch(2, 200, 100, 6).offset.has_value());
}

TEST(SegmentIndexTest, PolicyResumedAtAnyIndexEntryContinuesIdentically) {
  for (uint64_t seed = 140; seed < 150; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    const uint32_t interval = static_cast<uint32_t>(g.uniform(100, 2000));
    const auto batches = fake_batches(g, 300);
    OffsetIndex oi_full;
    TimeIndex ti_full;
    IndexPolicy pol(interval);
    std::vector<uint64_t> positions;
    uint64_t pos = 0;
    for (const auto& b : batches) {
      positions.push_back(pos);
      apply(oi_full, ti_full, pol.on_batch(b.rel, static_cast<uint32_t>(pos), b.size, b.max_ts));
      pos += b.size;
    }
    ASSERT_GT(oi_full.size(), 3u);
    // Resume at each batch k, given the entries before it and the max timestamp before it.
    for (size_t k = 0; k < batches.size(); ++k) {
      OffsetIndex oi;
      TimeIndex ti;
      for (size_t i = 0; i < oi_full.size() && oi_full.pos_at(i) < positions[k]; ++i)
        oi.add(oi_full.rel_at(i), oi_full.pos_at(i));
      for (size_t i = 0; i < ti_full.size() && ti_full.rel_at(i) < batches[k].rel; ++i)
        ti.add(ti_full.ts_at(i), ti_full.rel_at(i));
      int64_t max_before = INT64_MIN;
      for (size_t i = 0; i < k; ++i) max_before = std::max(max_before, batches[i].max_ts);
      IndexPolicy resumed(interval);
      resumed.resume(positions[k], oi, ti, max_before);
      for (size_t i = k; i < batches.size(); ++i)
        apply(oi, ti,
              resumed.on_batch(batches[i].rel, static_cast<uint32_t>(positions[i]), batches[i].size,
                               batches[i].max_ts));
      ASSERT_EQ(oi.serialize(), oi_full.serialize()) << "resumed at batch " << k;
      ASSERT_EQ(ti.serialize(), ti_full.serialize()) << "resumed at batch " << k;
    }
  }
}

}  // namespace
}  // namespace rustlog
