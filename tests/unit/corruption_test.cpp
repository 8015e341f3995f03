// Bit flips in stored batches. Below the recovery point every batch was
// durable: a damaged batch there — in a sealed segment nothing rescans, or in
// the segment recovery rescans — is never truncated; it must be caught when
// read: kCorruptRecord naming its offset range, never wrong bytes, and its
// neighbours stay readable. At or above the recovery point recovery
// truncates at the damaged batch (a torn tail).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::seed_trace;
using test::TempDir;
using test::ts_for;

struct Golden {
  std::string dir;
  LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  std::vector<uint64_t> seg_bases;
  std::vector<std::string> seg_logs;  // "/<name>.log"
};

// Fills until there are `segments` segments and the active one holds a few
// index entries.
void build(Golden& gd, uint64_t seed, size_t segments) {
  test::GenOptions o;
  o.max_records = 3;
  o.max_value = 60;
  RecordGen g(seed, o);
  auto log = test::open_log(gd.dir, gd.cfg, 0);
  ASSERT_NE(log, nullptr);
  while (log->segment_count() < segments || log->segments().back()->offset_index().size() < 4)
    test::append_batch(*log, test::build_batch(g.records(ts_for(gd.m))), &gd.m, ts_for(gd.m));
  ASSERT_TRUE(log->flush().is_ok());
  for (const auto& s : log->segments()) {
    gd.seg_bases.push_back(s->base_offset());
    gd.seg_logs.push_back(s->log_path().substr(gd.dir.size()));
  }
}

struct Target {
  const char* what;
  size_t batch;       // index in the model
  size_t segment;     // index of its segment
  uint64_t position;  // in the segment's .log
};

// Picks batches of segment `s` at interesting places: first, indexed,
// between index entries, last (after the last index entry).
std::vector<Target> pick_targets(const std::string& dir, const Golden& gd, size_t s) {
  auto log = test::open_log(dir, gd.cfg, gd.m.end_offset());
  std::vector<Target> out;
  if (!log) return out;
  const Segment& seg = *log->segments()[s];
  std::vector<size_t> in_seg;
  for (size_t i = 0; i < gd.m.size(); ++i)
    if (gd.m[i].base >= seg.base_offset() && gd.m[i].base < seg.next_offset()) in_seg.push_back(i);
  auto pos_of = [&](size_t i) { return test::place_of(*log, gd.m, i).position; };
  const OffsetIndex& oi = seg.offset_index();
  EXPECT_GE(oi.size(), 3u);
  out.push_back({"first batch of the segment", in_seg.front(), s, 0});
  size_t indexed = 0, between = 0;
  for (size_t i : in_seg) {
    const uint64_t p = pos_of(i);
    bool is_entry = false;
    for (size_t e = 0; e < oi.size(); ++e) is_entry |= oi.pos_at(e) == p;
    if (is_entry && !indexed && i != in_seg.front()) indexed = i;
    if (!is_entry && !between && i > in_seg.front() + 1 && p < oi.pos_at(oi.size() - 1))
      between = i;
  }
  out.push_back({"indexed batch", indexed, s, pos_of(indexed)});
  out.push_back({"batch between index entries", between, s, pos_of(between)});
  out.push_back({"last batch of the segment", in_seg.back(), s, pos_of(in_seg.back())});
  return out;
}

std::string range_text(const test::ModelBatch& b) {
  return std::to_string(b.base) + ".." + std::to_string(b.last);
}

// The last batch a flip of `byte` in batch t of segment s makes unreadable.
// A flip of the length field leaves no proof of where the next batch starts
// (the damaged batch's length is what is wrong): the damage reaches the next
// offset-index entry, or the end of the segment. Any other flip loses the
// batch alone (its length, confirmed by the batches after it, is the proof).
size_t last_unreadable(const std::string& dir, const Golden& gd, size_t s, size_t t, size_t byte) {
  if (byte < 8 || byte >= 12) return t;
  auto log = test::open_log(dir, gd.cfg, gd.m.end_offset());
  EXPECT_NE(log, nullptr);
  if (!log) return t;
  const Segment& seg = *log->segments()[s];
  const OffsetIndex& oi = seg.offset_index();
  size_t j = t + 1;
  for (; j < gd.m.size() && gd.m[j].base < seg.next_offset(); ++j) {
    const uint64_t p = test::place_of(*log, gd.m, j).position;
    for (size_t e = 0; e < oi.size(); ++e)
      if (oi.pos_at(e) == p) return j - 1;
  }
  return j - 1;
}

// Reads around damaged batch `t`: every offset from it to batch `last` (the
// next proven batch start, last_unreadable) fails naming that range, every
// other batch reads back byte-identical.
void check_damage_is_contained(PartitionLog& log, const LogModel& m, size_t t, size_t last) {
  const test::ModelBatch bad{m[t].base, m[last].last, {}, {}};
  EXPECT_EQ(log.high_watermark(), m.end_offset());
  for (uint64_t o = bad.base; o <= bad.last; ++o) {
    for (size_t max_bytes : {size_t{1}, size_t{100000}}) {
      auto r = log.read(o, max_bytes);
      ASSERT_FALSE(r.is_ok()) << "read of offset " << o << " returned " << r->data.size()
                              << " bytes";
      EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << r.status().to_string();
      EXPECT_NE(r.status().message().find(range_text(bad)), std::string::npos)
          << r.status().message();
    }
  }
  for (size_t j = 0; j < m.size(); ++j) {
    if (j >= t && j <= last) continue;
    for (uint64_t o : {m[j].base, m[j].last}) {
      auto r = log.read(o, 1);
      ASSERT_TRUE(r.is_ok()) << "offset " << o << ": " << r.status().to_string();
      ASSERT_TRUE(test::same_bytes(r->data, m[j].bytes)) << "offset " << o;
    }
    if (j < t && j + 3 >= t) {  // a run stops right before the damage
      auto r = log.read(m[j].base, 1 << 20);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ASSERT_TRUE(test::same_bytes(r->data, m.bytes_between(j, t))) << "run from batch " << j;
      EXPECT_EQ(r->next_offset, bad.base);
    }
  }
}

TEST(CorruptionTest, BitFlipInASealedSegmentBelowTheRecoveryPoint) {
  const uint64_t seed = 400;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed, 4);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  const LogModel& m = gd.m;
  RecordGen flips(seed + 1);
  int damaged = 0;
  for (const Target& t : pick_targets(gd.dir, gd, 1)) {
    SCOPED_TRACE(t.what);
    const test::ModelBatch& bad = m[t.batch];
    // Every byte; in the base offset field every bit.
    for (size_t byte = 0; byte < bad.bytes.size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        if (byte >= 8 && bit != static_cast<int>(flips.uniform(0, 7))) continue;
        SCOPED_TRACE("flip of byte " + std::to_string(byte) + " bit " + std::to_string(bit) +
                     " in batch " + range_text(bad));
        ++damaged;
        test::restore_dir(gd.dir, work);
        test::flip_bit(work + gd.seg_logs[t.segment], t.position + byte, bit);
        auto log = test::open_log(work, gd.cfg, m.end_offset());
        ASSERT_NE(log, nullptr);
        check_damage_is_contained(*log, m, t.batch, last_unreadable(gd.dir, gd, t.segment, t.batch, byte));
        if (HasFatalFailure()) return;
      }
    }
  }
  std::printf("checked %d damaged copies\n", damaged);
}

// The segment holding the recovery point is rescanned from its index entry
// at or below it; a flip anywhere below the recovery point there is reported
// and contained, never cut: the high watermark stays, appends go on after it.
TEST(CorruptionTest, BitFlipBelowTheRecoveryPointInTheRescannedSegmentIsNeverTruncated) {
  const uint64_t seed = 420;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed, 3);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  const LogModel& m = gd.m;
  RecordGen flips(seed + 1);
  int damaged = 0;
  for (const Target& t : pick_targets(gd.dir, gd, 2)) {  // the active segment
    SCOPED_TRACE(t.what);
    const test::ModelBatch& bad = m[t.batch];
    const bool every_byte = std::string(t.what) == "batch between index entries";
    for (size_t byte = 0; byte < bad.bytes.size(); ++byte) {
      if (!every_byte && !flips.chance(10)) continue;
      const int bit = static_cast<int>(flips.uniform(0, 7));
      SCOPED_TRACE("flip of byte " + std::to_string(byte) + " bit " + std::to_string(bit) +
                   " in batch " + range_text(bad));
      ++damaged;
      test::restore_dir(gd.dir, work);
      test::flip_bit(work + gd.seg_logs[t.segment], t.position + byte, bit);
      auto log = test::open_log(work, gd.cfg, m.end_offset());
      ASSERT_NE(log, nullptr);
      EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
      // Reported when the rescan (from the index entry at or below the
      // recovery point) passes it; caught by reads in any case.
      const size_t last = last_unreadable(gd.dir, gd, t.segment, t.batch, byte);
      for (const auto& c : log->recovery_report().corruptions)
        EXPECT_NE(c.find(std::to_string(bad.base) + ".." + std::to_string(m[last].last)), std::string::npos) << c;
      check_damage_is_contained(*log, m, t.batch, last);
      if (HasFatalFailure()) return;
      std::string next = test::build_batch({Record{0, 5, std::nullopt, std::string("after"), {}}});
      auto info = log->append(next, 5);
      ASSERT_TRUE(info.is_ok()) << info.status().to_string();
      EXPECT_EQ(info->base_offset, m.end_offset());
    }
  }
  std::printf("checked %d damaged copies\n", damaged);
}

// The reported case: 30 acknowledged records in an active segment too small
// for index entries, a clean stop (recovery point 30), one flipped bit inside
// batch 5. Nothing is lost but batch 5, and offset 5 is never handed out again.
TEST(CorruptionTest, OneFlipBelowTheRecoveryPointLosesOnlyItsBatchAndNoOffsetIsReused) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(1 << 20, 4096);
  LogModel m;
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 30; ++i)
      test::append_batch(*log, test::build_batch({Record{0, ts_for(m), std::nullopt, std::string(20, 'x'), {}}}),
                         &m, ts_for(m));
    ASSERT_TRUE(log->close().is_ok());
    ASSERT_EQ(log->recovery_point(), 30u);
  }
  uint64_t pos5 = 0;
  for (size_t i = 0; i < 5; ++i) pos5 += m[i].bytes.size();
  for (uint64_t at : {pos5 + 3, pos5 + kBatchHeaderSize + 6}) {  // the length field, a value byte
    SCOPED_TRACE(at);
    test::TempDir copy;
    test::copy_dir(tmp.path(), copy.path());
    test::flip_bit(copy.path() + "/" + Segment::file_name(0, ".log"), at, 1);
    auto log = test::open_log(copy.path(), cfg, 30);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->high_watermark(), 30u);
    EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
    check_damage_is_contained(*log, m, 5, 5);
    std::string next = test::build_batch({Record{0, 5, std::nullopt, std::string("after"), {}}});
    auto info = log->append(next, 5);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->base_offset, 30u);
  }
  // The last acknowledged batch cut short (the disk lost what it had
  // synced): corruption below the recovery point, reported and not cut.
  const uint64_t end = test::file_size(tmp.path() + "/" + Segment::file_name(0, ".log"));
  test::TempDir copy;
  test::copy_dir(tmp.path(), copy.path());
  test::truncate_file(copy.path() + "/" + Segment::file_name(0, ".log"), end - 5);
  auto log = test::open_log(copy.path(), cfg, 30);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  ASSERT_EQ(log->recovery_report().corruptions.size(), 1u);
  EXPECT_NE(log->recovery_report().corruptions[0].find("offsets 29..29"), std::string::npos)
      << log->recovery_report().corruptions[0];
  EXPECT_EQ(log->high_watermark(), 30u);
  auto bad = log->read(29, 1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruptRecord);
  auto ok = log->read(28, 1);
  ASSERT_TRUE(ok.is_ok());
  EXPECT_TRUE(test::same_bytes(ok->data, m[28].bytes));
  std::string next = test::build_batch({Record{0, 5, std::nullopt, std::string("after"), {}}});
  auto info = log->append(next, 5);
  ASSERT_TRUE(info.is_ok()) << info.status().to_string();
  EXPECT_EQ(info->base_offset, 30u);
  auto after = log->read(30, 1);
  ASSERT_TRUE(after.is_ok()) << after.status().to_string();
  EXPECT_TRUE(test::same_bytes(after->data, next));
}

TEST(CorruptionTest, BitFlipInTheRescannedRegionTruncatesThere) {
  const uint64_t seed = 410;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed, 3);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  const LogModel& m = gd.m;
  RecordGen flips(seed + 1);
  int damaged = 0;
  // Damage in sealed segment 1 with the recovery point at its start (so it and
  // segment 2 are rescanned), and in the active segment 2.
  for (size_t s : {size_t{1}, size_t{2}}) {
    for (const Target& t : pick_targets(gd.dir, gd, s)) {
      SCOPED_TRACE(std::string(t.what) + " of segment " + std::to_string(s));
      const test::ModelBatch& bad = m[t.batch];
      uint64_t lost = 0;  // bytes from the damaged batch to the end of the log
      for (size_t j = t.batch; j < m.size(); ++j) lost += m[j].bytes.size();
      const uint64_t rps[] = {0, gd.seg_bases[s], bad.base};
      // Every byte of one batch per segment, a sample of the others (each
      // iteration rewrites and syncs files: the budget is the suite's runtime).
      const bool every_byte = s == 1 && std::string(t.what) == "batch between index entries";
      for (size_t byte = 0; byte < bad.bytes.size(); ++byte) {
        if (!every_byte && !flips.chance(8)) continue;
        const int bit = static_cast<int>(flips.uniform(0, 7));
        const uint64_t rp = rps[byte % 3];
        SCOPED_TRACE("flip of byte " + std::to_string(byte) + " bit " + std::to_string(bit) +
                     " in batch " + range_text(bad) + ", recovery point " + std::to_string(rp));
        ++damaged;
        test::restore_dir(gd.dir, work);
        test::flip_bit(work + gd.seg_logs[t.segment], t.position + byte, bit);
        auto log = test::open_log(work, gd.cfg, rp);
        ASSERT_NE(log, nullptr);
        EXPECT_EQ(log->recovery_report().bytes_truncated, lost);
        ASSERT_EQ(log->high_watermark(), bad.base);
        EXPECT_EQ(log->segment_count(), s + 1);
        ASSERT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, t.batch)));
        std::string next =
            test::build_batch({Record{0, 5, std::nullopt, std::string("after"), {}}});
        auto info = log->append(next, 5);
        ASSERT_TRUE(info.is_ok()) << info.status().to_string();
        EXPECT_EQ(info->base_offset, bad.base);
      }
    }
  }
  std::printf("checked %d damaged copies\n", damaged);
}

TEST(CorruptionTest, TruncatedSealedSegmentBelowTheRecoveryPoint) {
  // Bytes lost at the end of a segment that is not rescanned: its missing
  // offsets are reported as corrupt, not skipped over to the next segment.
  const uint64_t seed = 420;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed, 4);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  const LogModel& m = gd.m;
  auto targets = pick_targets(gd.dir, gd, 1);
  ASSERT_FALSE(targets.empty());
  const Target last = targets.back();  // the last batch of segment 1
  const uint64_t seg_size = last.position + m[last.batch].bytes.size();
  for (uint64_t cut : {last.position + 1, last.position + 20, seg_size - 1}) {
    SCOPED_TRACE("segment 1 cut to " + std::to_string(cut) + " bytes");
    test::restore_dir(gd.dir, work);
    test::truncate_file(work + gd.seg_logs[1], cut);
    auto log = test::open_log(work, gd.cfg, m.end_offset());
    ASSERT_NE(log, nullptr);
    EXPECT_FALSE(log->recovery_report().corruptions.empty());
    check_damage_is_contained(*log, m, last.batch, last.batch);
    if (HasFatalFailure()) return;
  }
}

// A record whose value is a well-formed batch claiming the record's own
// offsets (any client can send such bytes). Whatever byte of the real batch
// is damaged, in the active segment (rescanned from the index entry at or
// below the recovery point) or in a sealed one, with or without an index
// entry after it: every read returns whole batches of this log or fails
// naming the damaged range, and never the embedded batch's records.
TEST(CorruptionTest, AnEmbeddedBatchIsNeverServedWhateverByteOfItsRecordIsDamaged) {
  for (const bool sealed : {false, true}) {
    for (const uint32_t interval : {64u, 1u << 20}) {
      SCOPED_TRACE(std::string(sealed ? "sealed" : "active") + " segment, index interval " +
                   std::to_string(interval));
      TempDir tmp("rustlog-embedded", test::fast_temp_base());
      const std::string golden = tmp.sub("golden");
      const LogConfig cfg = test::small_config(sealed ? 1024 : 1 << 20, interval);
      LogModel m;
      size_t outer = 0;
      {
        auto log = test::open_log(golden, cfg, 0);
        ASSERT_NE(log, nullptr);
        for (int i = 0; i < 24; ++i) {
          std::string value = std::string(30, static_cast<char>('a' + i));
          if (i == 10) {  // offset 10 embeds a batch of offsets 10..12
            BatchBuilder inner(10);
            for (int k = 0; k < 3; ++k) inner.add(ts_for(m), std::nullopt, std::string("EMBEDDED"), {});
            value = "pre" + inner.finish() + "post";
            outer = m.size();
          }
          test::append_batch(*log, test::build_batch({Record{0, ts_for(m), std::nullopt, value, {}}}), &m, ts_for(m));
        }
        ASSERT_TRUE(log->close().is_ok());
        ASSERT_EQ(sealed, log->segment_count() > 1 && log->segments().back()->base_offset() > m[outer].base);
      }
      const std::string work = tmp.sub("work");
      std::string log_name;
      uint64_t pos = 0;
      {
        auto log = test::open_log(golden, cfg, m.end_offset());
        ASSERT_NE(log, nullptr);
        pos = test::place_of(*log, m, outer).position;
        for (const auto& seg : log->segments())
          if (seg->base_offset() <= m[outer].base) log_name = seg->log_path().substr(golden.size());
      }
      for (size_t byte = 0; byte < m[outer].bytes.size(); ++byte) {
        SCOPED_TRACE("byte " + std::to_string(byte));
        test::restore_dir(golden, work);
        test::flip_bit(work + log_name, pos + byte, static_cast<int>(byte % 8));
        auto log = test::open_log(work, cfg, m.end_offset());
        ASSERT_NE(log, nullptr);
        EXPECT_EQ(log->high_watermark(), m.end_offset());
        EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
        for (uint64_t o = 0; o < m.end_offset(); ++o) {
          for (size_t max_bytes : {size_t{1}, size_t{1} << 20}) {
            auto r = log->read(o, max_bytes);
            if (!r) {
              ASSERT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << r.status().to_string();
              continue;
            }
            // Whole batches of the log, in order, from the one holding o.
            ASSERT_EQ(r->data.find("EMBEDDED"), std::string::npos) << "offset " << o;
            size_t at = 0;
            for (size_t j = 0; j < m.size() && at < r->data.size(); ++j) {
              if (m[j].last < o) continue;
              ASSERT_TRUE(test::same_bytes(r->data.substr(at, m[j].bytes.size()), m[j].bytes))
                  << "offset " << o << ", batch " << j;
              at += m[j].bytes.size();
            }
            ASSERT_EQ(at, r->data.size());
          }
        }
      }
    }
  }
}

TEST(CorruptionTest, RandomDamageNeverReturnsWrongData) {
  const uint64_t seed = 430;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  Golden gd;
  gd.dir = tmp.sub("golden");
  build(gd, seed, 4);
  if (HasFatalFailure()) return;
  const std::string work = tmp.sub("work");
  const LogModel& m = gd.m;
  RecordGen g(seed + 1);
  int reads_ok = 0, reads_corrupt = 0;
  for (int iter = 0; iter < 120; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    test::restore_dir(gd.dir, work);
    const int damages = static_cast<int>(g.uniform(1, 3));
    for (int d = 0; d < damages; ++d) {
      const size_t s = g.uniform(0, gd.seg_bases.size() - 1);
      const std::string path = work + gd.seg_logs[s];
      std::string bytes = test::read_bytes(path);
      if (bytes.empty()) continue;
      switch (g.uniform(0, 2)) {
        case 0: {  // overwrite a range with random bytes
          const uint64_t n = g.uniform(1, 64);
          const uint64_t pos = g.uniform(0, bytes.size() - 1);
          for (uint64_t k = pos; k < pos + n && k < bytes.size(); ++k)
            bytes[k] = static_cast<char>(g.rng()());
          break;
        }
        case 1:  // lose the end
          bytes.resize(g.uniform(0, bytes.size() - 1));
          break;
        case 2:  // garbage appended
          bytes += g.bytes(g.uniform(1, 200));
          break;
      }
      test::write_bytes(path, bytes);
    }
    const uint64_t rps[] = {0, g.uniform(0, m.end_offset()), m.end_offset()};
    auto log = test::open_log(work, gd.cfg, rps[g.uniform(0, 2)]);
    ASSERT_NE(log, nullptr);
    // Whatever a read returns is what was appended at those offsets.
    uint64_t off = log->log_start_offset();
    while (off < log->high_watermark()) {
      auto r = log->read(off, g.uniform(1, 3 * gd.cfg.segment_bytes));
      if (!r) {
        ASSERT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << r.status().to_string();
        ++reads_corrupt;
        ++off;
        continue;
      }
      ++reads_ok;
      ASSERT_FALSE(r->data.empty()) << off;
      for (const auto& b : test::split_batches(r->data)) {
        BatchHeader h;
        ASSERT_TRUE(decode_batch(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h, nullptr)
                        .is_ok());
        const size_t i = m.batch_index_of(h.base_offset);
        ASSERT_LT(i, m.size());
        ASSERT_TRUE(test::same_bytes(b, m[i].bytes)) << "batch at " << h.base_offset;
        ASSERT_GE(h.last_offset(), off);
      }
      ASSERT_GT(r->next_offset, off);
      off = r->next_offset;
    }
    for (int q = 0; q < 10; ++q) (void)log->offset_for_time(g.uniform_i(0, INT64_MAX));
  }
  std::printf("%d good reads, %d reads reporting corruption\n", reads_ok, reads_corrupt);
}

}  // namespace
}  // namespace rustlog
