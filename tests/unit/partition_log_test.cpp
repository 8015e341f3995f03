// PartitionLog (partition_log.h) against an in-memory model: offsets,
// rolling by size and time, index lookups and reads across many small
// segments, offset_for_time with non-monotonic timestamps, out-of-range
// reads, flush bookkeeping, and the bounded mmap cache.
#include "storage/partition_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "storage/roll_policy.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::seed_trace;
using test::TempDir;

// Appends random batches until the log holds about `bytes`.
void fill(PartitionLog& log, LogModel& m, RecordGen& g, uint64_t bytes) {
  while (log.size_bytes() < bytes) {
    const int64_t ts = test::ts_for(m);
    test::append_batch(log, test::build_batch(g.records(ts)), &m, ts);
  }
}

test::GenOptions varied_sizes(uint64_t seed) {
  test::GenOptions o;
  o.max_records = 1 + seed % 20;
  o.max_value = 40 + (seed * 37) % 400;
  o.ts_jitter_us = 5'000'000;  // timestamps go back and forth between batches
  return o;
}

TEST(PartitionLogTest, NewLogIsEmpty) {
  TempDir dir;
  auto log = test::open_log(dir.sub("p"), test::small_config(), 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->high_watermark(), 0u);
  EXPECT_EQ(log->log_start_offset(), 0u);
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_FALSE(log->has_unflushed());
  auto r = log->read(0, 1000);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->data.empty());
  EXPECT_EQ(r->next_offset, 0u);
  auto t = log->offset_for_time(0);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(*t, 0u);
  for (const char* ext : {".log", ".index", ".timeindex"})
    EXPECT_TRUE(test::exists(dir.sub("p/00000000000000000000") + ext)) << ext;
}

TEST(PartitionLogTest, AppendAssignsOffsetsAndRewritesTheBaseOffset) {
  TempDir dir;
  auto log = test::open_log(dir.path(), test::small_config(), 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(200);
  uint64_t expect = 0;
  for (int i = 0; i < 50; ++i) {
    auto recs = g.records(1000 + i);
    std::string b = test::build_batch(recs, 999999);  // the builder's base offset is ignored
    auto info = log->append(b, 0);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->base_offset, expect);
    EXPECT_EQ(info->last_offset, expect + recs.size() - 1);
    BatchHeader h;
    ASSERT_TRUE(
        decode_batch(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h, nullptr).is_ok());
    EXPECT_EQ(h.base_offset, expect);  // rewritten in the caller's buffer too
    EXPECT_EQ(info->max_timestamp, h.max_timestamp);
    expect += recs.size();
    EXPECT_EQ(log->high_watermark(), expect);
  }
}

TEST(PartitionLogTest, AppendRejectsWhatIsNotOneWholeBatch) {
  TempDir dir;
  auto log = test::open_log(dir.path(), test::small_config(4096), 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(201);
  const std::string good = test::build_batch(g.records(1));
  std::vector<std::string> bad = {"", good.substr(0, good.size() - 1), good + "x", good + good,
                                  BatchBuilder(0).finish()};
  for (auto& b : bad) {
    auto r = log->append(b, 0);
    ASSERT_FALSE(r.is_ok()) << b.size();
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest) << r.status().to_string();
  }
  test::GenOptions big;
  big.max_records = 1;
  big.large_value_pct = 100;
  big.large_value_bytes = 5000;
  RecordGen gb(202, big);
  std::string too_large = test::build_batch(gb.records(1));
  auto r = log->append(too_large, 0);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(log->high_watermark(), 0u);
  EXPECT_FALSE(log->read_only());
  std::string ok = good;
  EXPECT_TRUE(log->append(ok, 0).is_ok());
}

// Checks every structural invariant of the log against the model: segment
// boundaries, sizes, index entries pointing at batch starts, and locate().
void check_structure(PartitionLog& log, const LogModel& m, const LogConfig& cfg) {
  const auto& segs = log.segments();
  size_t bi = 0;
  for (size_t s = 0; s < segs.size(); ++s) {
    Segment& seg = *segs[s];
    SCOPED_TRACE("segment " + std::to_string(seg.base_offset()));
    EXPECT_LE(seg.size_bytes(), cfg.segment_bytes);
    std::map<uint64_t, size_t> by_pos;  // position -> batch index
    uint64_t pos = 0;
    ASSERT_LT(bi, m.size() + (s + 1 == segs.size() ? 1 : 0));
    if (bi < m.size()) {
      EXPECT_EQ(seg.base_offset(), m[bi].base);
    }
    while (bi < m.size() && (s + 1 == segs.size() || m[bi].base < segs[s + 1]->base_offset())) {
      by_pos[pos] = bi;
      pos += m[bi].bytes.size();
      ++bi;
    }
    EXPECT_EQ(seg.size_bytes(), pos);
    if (s + 1 < segs.size()) {
      EXPECT_GT(pos + m[bi].bytes.size(), cfg.segment_bytes)
          << "rolled although the next batch fit";
      EXPECT_EQ(seg.next_offset(), segs[s + 1]->base_offset());
    }
    const OffsetIndex& oi = seg.offset_index();
    for (size_t i = 0; i < oi.size(); ++i) {
      auto it = by_pos.find(oi.pos_at(i));
      ASSERT_NE(it, by_pos.end()) << "index entry " << i << " is not at a batch start";
      EXPECT_EQ(m[it->second].base, seg.base_offset() + oi.rel_at(i));
    }
    for (const auto& [p, idx] : by_pos) {
      for (uint64_t o : {m[idx].base, m[idx].last}) {
        auto loc = seg.locate(o);
        ASSERT_TRUE(loc.is_ok()) << o << ": " << loc.status().to_string();
        EXPECT_EQ(loc->position, p);
        EXPECT_EQ(loc->header.base_offset, m[idx].base);
      }
    }
    auto past = seg.locate(seg.next_offset());
    EXPECT_EQ(past.status().code(), ErrorCode::kOffsetOutOfRange);
  }
  EXPECT_EQ(bi, m.size());
}

TEST(PartitionLogTest, IndexLookupsAgreeWithALinearScanOverManySegments) {
  for (uint64_t seed = 210; seed < 216; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed, varied_sizes(seed));
    TempDir dir;
    const LogConfig cfg = test::small_config(g.uniform(4 * 1024, 16 * 1024),
                                             static_cast<uint32_t>(g.uniform(64, 1024)));
    auto log = test::open_log(dir.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    LogModel m;
    fill(*log, m, g, 200 * 1024);
    ASSERT_GT(log->segment_count(), 10u);
    for (int pass = 0; pass < 2; ++pass) {
      SCOPED_TRACE(pass == 0 ? "live" : "reopened");
      check_structure(*log, m, cfg);
      for (int q = 0; q < 1500; ++q) {
        const uint64_t o = g.uniform(0, m.end_offset() - 1);
        const size_t i = m.batch_index_of(o);
        auto r = log->read(o, 1);
        ASSERT_TRUE(r.is_ok()) << o << ": " << r.status().to_string();
        ASSERT_TRUE(test::same_bytes(r->data, m[i].bytes)) << "offset " << o;
        EXPECT_EQ(r->next_offset, m[i].last + 1);
        EXPECT_EQ(r->high_watermark, m.end_offset());
      }
      ASSERT_TRUE(log->close().is_ok());
      log = test::open_log(dir.path(), cfg, log->high_watermark());
      ASSERT_NE(log, nullptr);
    }
  }
}

TEST(PartitionLogTest, RollsBySize) {
  const uint64_t seed = 220;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed, varied_sizes(seed));
  TempDir dir;
  const LogConfig cfg = test::small_config(4096, 256);
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  LogModel m;
  fill(*log, m, g, 64 * 1024);
  check_structure(*log, m, cfg);
  // A batch of exactly segment_bytes fits into a fresh segment only.
  size_t value_len = cfg.segment_bytes;
  std::string exact;
  do {  // the length varints shrink with the value: converge on the exact size
    exact = test::build_batch({Record{0, 5, std::nullopt, std::string(--value_len, 'x'), {}}});
  } while (exact.size() > cfg.segment_bytes);
  ASSERT_EQ(exact.size(), cfg.segment_bytes);
  const size_t before = log->segment_count();
  test::append_batch(*log, exact, &m);
  EXPECT_EQ(log->segment_count(), before + 1);
  EXPECT_EQ(log->segments().back()->size_bytes(), cfg.segment_bytes);
  test::append_batch(*log, test::build_batch(g.records(1)), &m);
  EXPECT_EQ(log->segment_count(), before + 2);
  check_structure(*log, m, cfg);
}

TEST(PartitionLogTest, RollsByTime) {
  const uint64_t seed = 221;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  TempDir dir;
  LogConfig cfg = test::small_config(1 << 20, 4096);
  cfg.segment_ms = 1000;
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  int64_t now = test::kBaseTimestampUs;
  int64_t seg_first_ts = INT64_MIN;
  std::vector<uint64_t> want_bases = {0};
  for (int i = 0; i < 300; ++i) {
    now += g.uniform_i(0, 300'000);
    // Producer timestamps are arbitrary (here: far in the past); the age of
    // a segment counts on the broker's clock from its first append.
    auto recs = g.records(g.uniform_i(0, now - 1'000'000'000'000));
    const uint64_t base = log->high_watermark();
    if (seg_first_ts != INT64_MIN && now - seg_first_ts >= cfg.segment_ms * 1000) {
      want_bases.push_back(base);
      seg_first_ts = INT64_MIN;
    }
    if (seg_first_ts == INT64_MIN) seg_first_ts = now;
    test::append_batch(*log, test::build_batch(recs), nullptr, now);
  }
  std::vector<uint64_t> bases;
  for (const auto& s : log->segments()) bases.push_back(s->base_offset());
  EXPECT_EQ(bases, want_bases);
  EXPECT_GT(bases.size(), 10u);
  // Nothing happens while no batch arrives: an empty segment never rolls.
  EXPECT_FALSE(should_roll({5, 0, INT64_MIN}, 100, 5, now + 1'000'000'000, cfg));
}

TEST(PartitionLogTest, ReadsSpanSegmentBoundariesAndReturnWholeBatches) {
  for (uint64_t seed = 230; seed < 234; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed, varied_sizes(seed));
    TempDir dir;
    const LogConfig cfg = test::small_config(4096, 512);
    auto log = test::open_log(dir.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    LogModel m;
    fill(*log, m, g, 100 * 1024);
    for (int q = 0; q < 800; ++q) {
      const uint64_t o = g.uniform(0, m.end_offset() - 1);
      const size_t max_bytes = q % 4 == 0 ? g.uniform(0, 64) : g.uniform(1, 4 * cfg.segment_bytes);
      auto r = log->read(o, max_bytes);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      const size_t i = m.batch_index_of(o);
      size_t j = i + 1, taken = m[i].bytes.size();  // the first batch always
      while (j < m.size() && taken + m[j].bytes.size() <= max_bytes) taken += m[j++].bytes.size();
      ASSERT_EQ(r->data.size(), taken) << "offset " << o << " max_bytes " << max_bytes;
      ASSERT_TRUE(test::same_bytes(r->data, m.bytes_between(i, j)));
      EXPECT_EQ(r->next_offset, m[j - 1].last + 1);
    }
    // The whole log read back in one go equals what was appended.
    auto all = log->read(0, SIZE_MAX / 2);
    ASSERT_TRUE(all.is_ok());
    EXPECT_TRUE(test::same_bytes(all->data, m.bytes_between(0, m.size())));
    std::vector<Record> recs;
    ASSERT_TRUE(decode_batches(all->data, 0, &recs).is_ok());
    EXPECT_EQ(recs, m.all_records());
  }
}

TEST(PartitionLogTest, OffsetForTimeMatchesALinearScan) {
  for (uint64_t seed = 240; seed < 244; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    test::GenOptions opt = varied_sizes(seed);
    opt.ts_jitter_us = 50'000'000;  // records far out of order, within and across batches
    RecordGen g(seed, opt);
    TempDir dir;
    const LogConfig cfg = test::small_config(4096, static_cast<uint32_t>(g.uniform(100, 700)));
    auto log = test::open_log(dir.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    LogModel m;
    fill(*log, m, g, 80 * 1024);
    std::set<int64_t> targets;
    for (const auto& r : m.all_records()) {
      if (g.chance(30)) {
        targets.insert(r.timestamp_us);
        targets.insert(r.timestamp_us + 1);
        targets.insert(r.timestamp_us - 1);
      }
    }
    targets.insert(INT64_MIN);
    targets.insert(INT64_MAX);
    for (int i = 0; i < 300; ++i)
      targets.insert(
          g.uniform_i(test::kBaseTimestampUs - 60'000'000, test::kBaseTimestampUs + 200'000'000));
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t ts : targets) {
        auto r = log->offset_for_time(ts);
        ASSERT_TRUE(r.is_ok()) << r.status().to_string();
        ASSERT_EQ(*r, m.offset_for_time(ts)) << "ts " << ts << (pass ? " after reopen" : "");
      }
      const uint64_t hw = log->high_watermark();
      log.reset();
      log = test::open_log(dir.path(), cfg, hw);
      ASSERT_NE(log, nullptr);
    }
  }
}

TEST(PartitionLogTest, ReadOutOfRangeNamesTheValidRange) {
  TempDir dir;
  const LogConfig cfg = test::small_config(4096, 512);
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(250);
  LogModel m;
  fill(*log, m, g, 20 * 1024);
  const uint64_t hw = log->high_watermark();
  for (uint64_t o : {hw + 1, hw + 1000, uint64_t{UINT64_MAX}}) {
    auto r = log->read(o, 1000);
    ASSERT_FALSE(r.is_ok()) << o;
    EXPECT_EQ(r.status().code(), ErrorCode::kOffsetOutOfRange);
    EXPECT_NE(r.status().message().find("0.." + std::to_string(hw)), std::string::npos)
        << r.status().message();
  }
  auto at_hw = log->read(hw, 1000);
  ASSERT_TRUE(at_hw.is_ok());
  EXPECT_TRUE(at_hw->data.empty());
  EXPECT_EQ(at_hw->next_offset, hw);
  EXPECT_EQ(at_hw->high_watermark, hw);

  // Retention removed the oldest segment: offsets below the new start are out of range.
  const uint64_t start = log->segments()[1]->base_offset();
  const std::string first_base = dir.sub("00000000000000000000");
  log.reset();
  for (const char* ext : {".log", ".index", ".timeindex"})
    std::filesystem::remove(first_base + ext);
  log = test::open_log(dir.path(), cfg, hw);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_start_offset(), start);
  for (uint64_t o : {uint64_t{0}, start - 1}) {
    auto r = log->read(o, 1000);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kOffsetOutOfRange);
    EXPECT_NE(r.status().message().find(std::to_string(start) + ".." + std::to_string(hw)),
              std::string::npos)
        << r.status().message();
  }
  auto r = log->read(start, 1);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(test::same_bytes(r->data, m[m.batch_index_of(start)].bytes));
  EXPECT_EQ(r->log_start_offset, start);
}

TEST(PartitionLogTest, FlushMovesTheRecoveryPoint) {
  TempDir dir;
  LogConfig cfg = test::small_config(4096, 512);
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(260);
  LogModel m;
  EXPECT_FALSE(log->flush_due(0));
  test::append_batch(*log, test::build_batch(g.records(1)), &m, 5'000'000);
  EXPECT_TRUE(log->has_unflushed());
  EXPECT_EQ(log->recovery_point(), 0u);
  EXPECT_TRUE(log->flush_due(5000));  // `always`
  ASSERT_TRUE(log->flush().is_ok());
  EXPECT_EQ(log->recovery_point(), log->high_watermark());
  EXPECT_FALSE(log->has_unflushed());
  EXPECT_FALSE(log->flush_due(5000));
  ASSERT_TRUE(log->flush().is_ok());  // nothing to do

  fill(*log, m, g, 12 * 1024);  // across rolls: every dirty segment is synced
  ASSERT_TRUE(log->flush().is_ok());
  EXPECT_EQ(log->recovery_point(), log->high_watermark());
  for (const auto& s : log->segments()) EXPECT_FALSE(s->dirty());

  cfg.flush = *FlushPolicy::parse("interval:100");
  TempDir dir2;
  auto log2 = test::open_log(dir2.path(), cfg, 0);
  ASSERT_NE(log2, nullptr);
  test::append_batch(*log2, test::build_batch(g.records(1)), nullptr, 1'000'000);  // at 1000 ms
  EXPECT_FALSE(log2->flush_due(1099));
  EXPECT_TRUE(log2->flush_due(1100));
  cfg.flush = *FlushPolicy::parse("never");
  TempDir dir3;
  auto log3 = test::open_log(dir3.path(), cfg, 0);
  ASSERT_NE(log3, nullptr);
  test::append_batch(*log3, test::build_batch(g.records(1)), nullptr, 0);
  EXPECT_FALSE(log3->flush_due(INT64_MAX / 2));
  EXPECT_TRUE(log3->close().is_ok());  // close flushes anyway
  EXPECT_EQ(log3->recovery_point(), log3->high_watermark());
}

TEST(PartitionLogTest, ClosedLogStaysReadable) {
  TempDir dir;
  auto log = test::open_log(dir.path(), test::small_config(4096, 256), 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(270);
  LogModel m;
  fill(*log, m, g, 10 * 1024);
  ASSERT_TRUE(log->close().is_ok());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

TEST(PartitionLogTest, ManySegmentsWithABoundedSegmentCache) {
  TempDir dir;
  SegmentCache cache(2);
  auto opened = PartitionLog::open(dir.path(), test::small_config(4096, 256), 0, &cache);
  ASSERT_TRUE(opened.is_ok());
  auto log = std::move(*opened);
  RecordGen g(280);
  LogModel m;
  fill(*log, m, g, 100 * 1024);
  ASSERT_GT(log->segment_count(), 20u);
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0, 300), m.bytes_between(0, m.size())));
    EXPECT_LE(cache.mapped(), 2u);
  }
  for (int q = 0; q < 500; ++q) {
    const uint64_t o = g.uniform(0, m.end_offset() - 1);
    auto r = log->read(o, 1);
    ASSERT_TRUE(r.is_ok());
    ASSERT_TRUE(test::same_bytes(r->data, m[m.batch_index_of(o)].bytes));
    ASSERT_LE(cache.mapped(), 2u);
  }
  log.reset();
  EXPECT_EQ(cache.mapped(), 0u);
}

}  // namespace
}  // namespace rustlog
