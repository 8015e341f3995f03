// One Segment (storage/segment.h) on its own: append and the index files it
// writes, locate and read_batches within ReadLimits (max_bytes, the first
// batch's allowance, max_offset) the same through pread (active) and the
// mapping (sealed), offset_for_time, reopening, a torn tail cut by
// recover_from, a damaged batch reported by reads and by the rebuild, and
// scans that never write the index files.
#include "storage/segment.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/atomic_file.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::RecordGen;
using test::TempDir;

constexpr uint64_t kBase = 1000;
constexpr uint32_t kInterval = 256;

struct Appended {
  uint64_t position;
  uint64_t base;
  uint64_t last;
  int64_t max_ts;
  std::string bytes;
};

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Segment::create(dir_.path(), kBase, kInterval, &cache_);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    seg_ = std::move(*s);
  }

  void append_batches(size_t n, uint64_t seed = 1) {
    RecordGen g(seed);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t base = seg_->next_offset();
      auto recs = g.records(test::kBaseTimestampUs + static_cast<int64_t>(base) * 10);
      std::string b = test::build_batch(recs, base);
      BatchHeader h;
      ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h),
                BatchError::kOk);
      const uint64_t pos = seg_->size_bytes();
      ASSERT_TRUE(seg_->append(b, h).is_ok());
      batches_.push_back({pos, h.base_offset, h.last_offset(), h.max_timestamp, std::move(b)});
    }
  }

  std::string all_bytes(size_t from = 0, size_t to = SIZE_MAX) const {
    std::string s;
    for (size_t i = from; i < std::min(to, batches_.size()); ++i) s += batches_[i].bytes;
    return s;
  }

  Result<std::string> read(uint64_t offset, const ReadLimits& limits, uint64_t* next) {
    auto loc = seg_->locate(offset);
    if (!loc) return loc.status();
    std::string out;
    *next = offset;
    RUSTLOG_RETURN_IF_ERROR(seg_->read_batches(*loc, limits, out, next));
    return out;
  }

  std::unique_ptr<Segment> reopen(SegmentScanReport* report) {
    seg_.reset();
    auto s = Segment::open(dir_.path(), kBase, kInterval, &cache_, report);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    return s ? std::move(*s) : nullptr;
  }

  // The checks a read path must pass, active or sealed.
  void check_reads() {
    for (size_t i = 0; i < batches_.size(); ++i) {
      for (uint64_t o : {batches_[i].base, batches_[i].last}) {
        auto loc = seg_->locate(o);
        ASSERT_TRUE(loc.is_ok()) << o << ": " << loc.status().to_string();
        EXPECT_EQ(loc->position, batches_[i].position);
        EXPECT_EQ(loc->header.base_offset, batches_[i].base);
      }
    }
    EXPECT_EQ(seg_->locate(seg_->next_offset()).status().code(), ErrorCode::kOffsetOutOfRange);
    uint64_t next = 0;
    // Everything.
    auto r = read(kBase, {}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(test::same_bytes(*r, all_bytes()));
    EXPECT_EQ(next, seg_->next_offset());
    // max_bytes: the first batch always, then whole batches while they fit.
    const size_t two = batches_[0].bytes.size() + batches_[1].bytes.size();
    r = read(kBase, {.max_bytes = two + batches_[2].bytes.size() - 1}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(test::same_bytes(*r, all_bytes(0, 2)));
    EXPECT_EQ(next, batches_[2].base);
    r = read(kBase, {.max_bytes = 1}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(test::same_bytes(*r, all_bytes(0, 1)));
    // first_batch_max: a first batch above it is not returned at all.
    r = read(kBase, {.max_bytes = 1 << 20, .first_batch_max = batches_[0].bytes.size() - 1}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(r->empty());
    EXPECT_EQ(next, kBase);
    // max_offset: nothing at or past it, even when the bytes would fit.
    r = read(batches_[1].last, {.max_offset = batches_[3].base}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(test::same_bytes(*r, all_bytes(1, 3)));
    EXPECT_EQ(next, batches_[3].base);
    r = read(batches_[3].base, {.max_offset = batches_[3].base}, &next);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(r->empty());
    // offset_for_time: the first batch whose max timestamp reaches ts.
    auto t = seg_->offset_for_time(batches_[4].max_ts);
    ASSERT_TRUE(t.is_ok());
    ASSERT_TRUE(t->has_value());
    EXPECT_LE(**t, batches_[4].last);
    auto none = seg_->offset_for_time(batches_.back().max_ts + 1);
    ASSERT_TRUE(none.is_ok());
    EXPECT_FALSE(none->has_value());
  }

  TempDir dir_{"rustlog-segment", test::fast_temp_base()};
  SegmentCache cache_{8};
  std::unique_ptr<Segment> seg_;
  std::vector<Appended> batches_;
};

TEST_F(SegmentTest, ReadsAreTheSameActiveAndSealed) {
  append_batches(40);
  EXPECT_EQ(seg_->size_bytes(), all_bytes().size());
  EXPECT_EQ(seg_->next_offset(), batches_.back().last + 1);
  {
    SCOPED_TRACE("active (pread)");
    check_reads();
  }
  ASSERT_TRUE(seg_->seal().is_ok());
  {
    SCOPED_TRACE("sealed (mmap)");
    check_reads();
  }
}

TEST_F(SegmentTest, AppendWritesTheLogAndItsIndexFilesAsItGoes) {
  append_batches(40);
  ASSERT_GT(seg_->offset_index().size(), 2u);
  EXPECT_TRUE(test::same_bytes(test::read_bytes(seg_->log_path()), all_bytes()));
  EXPECT_EQ(test::read_bytes(seg_->index_path()), seg_->offset_index().serialize());
  EXPECT_EQ(test::read_bytes(seg_->time_index_path()), seg_->time_index().serialize());
}

TEST_F(SegmentTest, ReopenFindsTheEndAndTheIndexes) {
  append_batches(30);
  ASSERT_TRUE(seg_->seal().is_ok());
  const OffsetIndex oi = seg_->offset_index();
  const uint64_t end = seg_->next_offset();
  SegmentScanReport report;
  seg_ = reopen(&report);
  ASSERT_NE(seg_, nullptr);
  EXPECT_FALSE(seg_->indexes_need_rebuild());
  EXPECT_TRUE(report.corruptions.empty());
  EXPECT_EQ(seg_->next_offset(), end);
  EXPECT_EQ(seg_->offset_index(), oi);
  check_reads();
}

TEST_F(SegmentTest, RecoverFromCutsATornTailAtTheLastWholeBatch) {
  append_batches(20);
  ASSERT_TRUE(seg_->seal().is_ok());
  const Appended last = batches_.back();
  test::truncate_file(seg_->log_path(), last.position + last.bytes.size() / 2);
  SegmentScanReport report;
  seg_ = reopen(&report);
  ASSERT_NE(seg_, nullptr);
  SegmentScanReport rec;
  ASSERT_TRUE(seg_->recover_from(kBase, &rec).is_ok());
  EXPECT_EQ(rec.bytes_truncated, last.bytes.size() / 2);
  EXPECT_TRUE(rec.corruptions.empty());
  EXPECT_EQ(seg_->size_bytes(), last.position);
  EXPECT_EQ(seg_->next_offset(), last.base);
  EXPECT_EQ(test::file_size(seg_->log_path()), last.position);
}

TEST_F(SegmentTest, ADamagedBatchIsReportedAndTheRestStaysReadable) {
  append_batches(12);
  ASSERT_TRUE(seg_->seal().is_ok());
  const Appended& bad = batches_[5];
  test::flip_bit(seg_->log_path(), bad.position + kBatchHeaderSize + 1, 2);
  SegmentScanReport report;
  seg_ = reopen(&report);
  ASSERT_NE(seg_, nullptr);
  auto loc = seg_->locate(bad.base);
  ASSERT_FALSE(loc.is_ok());
  EXPECT_EQ(loc.status().code(), ErrorCode::kCorruptRecord);
  const std::string range = std::to_string(bad.base) + ".." + std::to_string(bad.last);
  EXPECT_NE(loc.status().message().find("offsets " + range + " are unreadable"), std::string::npos)
      << loc.status().message();
  // A read from before stops at the damage; one after it is whole.
  uint64_t next = 0;
  auto r = read(batches_[4].base, {}, &next);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(test::same_bytes(*r, batches_[4].bytes));
  r = read(batches_[6].base, {}, &next);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(test::same_bytes(*r, all_bytes(6)));
  // verify names it, and so does the rebuild (which cuts nothing).
  uint64_t nb = 0, nr = 0;
  SegmentScanReport v;
  ASSERT_TRUE(seg_->verify(&v, &nb, &nr).is_ok());
  ASSERT_GE(v.corruptions.size(), 1u);  // then the index files, which still list the batch
  EXPECT_NE(v.corruptions[0].find(range), std::string::npos) << v.corruptions[0];
  EXPECT_EQ(nb, batches_.size() - 1);
  EXPECT_EQ(v.bytes_truncated, 0u);
  EXPECT_EQ(test::file_size(seg_->log_path()), all_bytes().size());
}

TEST_F(SegmentTest, ScansNeverWriteTheIndexFiles) {
  append_batches(30);
  ASSERT_TRUE(seg_->seal().is_ok());
  // Index files that differ from the log (truncated to one entry): verify
  // reports them and leaves them as they are.
  const std::string oi = test::read_bytes(seg_->index_path());
  ASSERT_GT(oi.size(), 8u);
  test::write_bytes(seg_->index_path(), oi.substr(0, 8));
  SegmentScanReport report;
  seg_ = reopen(&report);
  ASSERT_NE(seg_, nullptr);
  uint64_t nb = 0, nr = 0;
  SegmentScanReport v;
  ASSERT_TRUE(seg_->verify(&v, &nb, &nr).is_ok());
  EXPECT_EQ(nb, batches_.size());
  EXPECT_EQ(test::read_bytes(seg_->index_path()), oi.substr(0, 8));
  // The rebuild is the one scan that writes them, atomically and whole.
  SegmentScanReport rb;
  ASSERT_TRUE(seg_->rebuild_indexes_if_needed(&rb).is_ok());
  EXPECT_TRUE(rb.index_rebuilt);
  EXPECT_EQ(test::read_bytes(seg_->index_path()), oi);
}

// One flipped bit in either field of any offset-index entry: every offset
// still reads from the right batch, the log is never blamed, and an entry
// that passed the open-time checks is rebuilt when it is first used.
TEST_F(SegmentTest, ADamagedIndexEntryIsRebuiltWhenUsedNotBlamedOnTheLog) {
  append_batches(60);
  ASSERT_TRUE(seg_->seal().is_ok());
  const std::string index = test::read_bytes(seg_->index_path());
  const size_t entries = index.size() / 8;
  ASSERT_GE(entries, 4u);
  const std::string index_path = seg_->index_path();
  int rebuilt_on_use = 0;
  for (size_t e = 0; e < entries; ++e) {
    for (size_t byte = 0; byte < 8; ++byte) {
      const int bit = static_cast<int>((e + byte) % 8);
      SCOPED_TRACE("entry " + std::to_string(e) + (byte < 4 ? " offset" : " position") + " byte " +
                   std::to_string(byte % 4) + " bit " + std::to_string(bit));
      std::string bad = index;
      bad[e * 8 + byte] = static_cast<char>(bad[e * 8 + byte] ^ (1 << bit));
      test::write_bytes(index_path, bad);
      SegmentScanReport report;
      seg_ = reopen(&report);
      ASSERT_NE(seg_, nullptr);
      const bool caught_at_open = seg_->indexes_need_rebuild();
      if (caught_at_open) {
        ASSERT_TRUE(seg_->rebuild_indexes_if_needed(&report).is_ok());
      }
      for (const Appended& b : batches_) {
        for (uint64_t o : {b.base, b.last}) {
          auto loc = seg_->locate(o);
          ASSERT_TRUE(loc.is_ok()) << o << ": " << loc.status().to_string();
          EXPECT_EQ(loc->position, b.position) << o;
        }
      }
      uint64_t next = 0;
      auto all = read(kBase, {}, &next);
      ASSERT_TRUE(all.is_ok()) << all.status().to_string();
      EXPECT_TRUE(test::same_bytes(*all, all_bytes()));
      if (!caught_at_open) {
        EXPECT_EQ(test::read_bytes(index_path), index) << "the damaged entry was not rebuilt";
        ++rebuilt_on_use;
      }
      test::write_bytes(index_path, index);
    }
  }
  EXPECT_GT(rebuilt_on_use, 0);  // the case the open-time checks let through
}

// One flipped bit in either field of any time-index entry: every lookup by
// time still gives the first record at or after the timestamp (a linear scan
// of the records says which), and an entry the open-time checks let through
// is found wrong when a lookup first starts from it and the indexes are
// rebuilt from the log.
TEST_F(SegmentTest, ADamagedTimeIndexEntryIsRebuiltWhenUsed) {
  append_batches(60);
  ASSERT_TRUE(seg_->seal().is_ok());
  std::vector<std::pair<uint64_t, int64_t>> records;  // (offset, timestamp) in log order
  std::vector<int64_t> targets;
  for (const Appended& b : batches_) {
    std::vector<Record> recs;
    ASSERT_TRUE(decode_batch(reinterpret_cast<const uint8_t*>(b.bytes.data()), b.bytes.size(), nullptr, &recs)
                    .is_ok());
    for (const Record& r : recs) {
      records.emplace_back(r.offset, r.timestamp_us);
      for (int64_t d : {-1, 0, 1}) targets.push_back(r.timestamp_us + d);
    }
  }
  auto oracle = [&](int64_t ts) -> std::optional<uint64_t> {
    for (const auto& [o, t] : records)
      if (t >= ts) return o;
    return std::nullopt;
  };
  const std::string tindex = test::read_bytes(seg_->time_index_path());
  const size_t entries = tindex.size() / kTimeIndexEntrySize;
  ASSERT_GE(entries, 4u);
  const std::string path = seg_->time_index_path();
  int caught_on_use = 0;
  for (size_t e = 0; e < entries; ++e) {
    for (size_t byte = 0; byte < kTimeIndexEntrySize; ++byte) {
      const int bit = static_cast<int>((e + byte) % 8);
      SCOPED_TRACE("entry " + std::to_string(e) + (byte < 8 ? " timestamp" : " offset") + " byte " +
                   std::to_string(byte) + " bit " + std::to_string(bit));
      std::string bad = tindex;
      bad[e * kTimeIndexEntrySize + byte] = static_cast<char>(bad[e * kTimeIndexEntrySize + byte] ^ (1 << bit));
      test::write_bytes(path, bad);
      SegmentScanReport report;
      seg_ = reopen(&report);
      ASSERT_NE(seg_, nullptr);
      const bool caught_at_open = seg_->indexes_need_rebuild();
      if (caught_at_open) {
        ASSERT_TRUE(seg_->rebuild_indexes_if_needed(&report).is_ok());
      }
      for (int64_t ts : targets) {
        auto got = seg_->offset_for_time(ts);
        ASSERT_TRUE(got.is_ok()) << ts << ": " << got.status().to_string();
        ASSERT_EQ(*got, oracle(ts)) << "timestamp " << ts;
      }
      // Whatever let the open through was found when used, and repaired.
      EXPECT_EQ(test::read_bytes(path), tindex);
      if (!caught_at_open) ++caught_on_use;
      test::write_bytes(path, tindex);
    }
  }
  EXPECT_GT(caught_on_use, 0);  // the case the open-time checks let through
}

TEST(SegmentFileNameTest, TwentyDigitsRoundTrip) {
  EXPECT_EQ(Segment::file_name(42, ".log"), "00000000000000000042.log");
  EXPECT_EQ(Segment::parse_log_file_name("00000000000000000042.log"), 42u);
  EXPECT_EQ(Segment::parse_log_file_name(Segment::file_name(UINT64_MAX, ".log")), UINT64_MAX);
  for (const char* bad : {"0000000000000000042.log", "00000000000000000042.index", "0000000000000000004x.log",
                          "99999999999999999999.log"})
    EXPECT_FALSE(Segment::parse_log_file_name(bad).has_value()) << bad;
}

}  // namespace
}  // namespace rustlog
