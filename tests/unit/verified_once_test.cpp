// "Verified once" (docs/STORAGE.md): a batch's CRC is checked the first time
// this process reads it (or recovery scans it, or it is appended), the byte
// range is remembered per segment, and later reads of that range do not
// check it again. What must hold: damage present before the first read is a
// read error and never data; the remembered ranges live in memory only, so a
// restart checks again; the bytes served after a later flip are the stored
// batch, whose CRC the client checks.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "storage/partition_log.h"
#include "storage/verified_ranges.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::TempDir;
using test::ts_for;

// Flips one bit in place (same inode: a mapping of the file sees it).
void flip_in_place(const std::string& path, uint64_t pos) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(pos)), 1);
  c = static_cast<char>(c ^ 0x10);
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(pos)), 1);
  ::close(fd);
}

// A log of several segments, flushed; the model holds its batches.
void build(const std::string& dir, const LogConfig& cfg, LogModel* m, uint64_t seed) {
  test::GenOptions o;
  o.max_records = 4;
  o.max_value = 80;
  RecordGen g(seed, o);
  auto log = test::open_log(dir, cfg, 0);
  ASSERT_NE(log, nullptr);
  while (log->segment_count() < 4) test::append_batch(*log, test::build_batch(g.records(ts_for(*m))), m, ts_for(*m));
  ASSERT_TRUE(log->close().is_ok());
}

// Batch `i` of the model: the one in the middle of segment 1 (sealed, below
// the recovery point, not after its last index entry: open() does not scan it).
size_t middle_of_segment_1(const PartitionLog& log, const LogModel& m) {
  const Segment& s = *log.segments()[1];
  size_t first = m.size(), last = 0;
  for (size_t i = 0; i < m.size(); ++i)
    if (m[i].base >= s.base_offset() && m[i].base < s.next_offset()) first = std::min(first, i), last = i;
  return first + (last - first) / 2;
}

TEST(VerifiedRangesTest, MergesNeighboursAndForgetsACutTail) {
  VerifiedRanges v;
  v.add(100, 200);
  v.add(300, 400);
  EXPECT_TRUE(v.covers(100, 200));
  EXPECT_TRUE(v.covers(150, 160));
  EXPECT_FALSE(v.covers(150, 250));
  EXPECT_FALSE(v.covers(0, 10));
  EXPECT_EQ(v.ranges(), 2u);
  v.add(200, 300);  // touches both: one range
  EXPECT_EQ(v.ranges(), 1u);
  EXPECT_TRUE(v.covers(100, 400));
  v.add(50, 120);
  EXPECT_TRUE(v.covers(50, 400));
  EXPECT_EQ(v.bytes(), 350u);
  v.forget_from(250);
  EXPECT_TRUE(v.covers(50, 250));
  EXPECT_FALSE(v.covers(50, 251));
  v.forget_from(0);
  EXPECT_EQ(v.ranges(), 0u);
}

TEST(VerifiedOnceTest, AFlipBeforeTheFirstReadIsAReadErrorNeverData) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  build(tmp.path(), cfg, &m, 71);
  if (HasFatalFailure()) return;
  std::string path;
  size_t t = 0;
  uint64_t pos = 0;
  {
    auto log = test::open_log(tmp.path(), cfg, m.end_offset());
    ASSERT_NE(log, nullptr);
    t = middle_of_segment_1(*log, m);
    const auto place = test::place_of(*log, m, t);
    ASSERT_EQ(place.segment, 1u);
    pos = place.position;
    path = log->segments()[1]->log_path();
    // Opening checked only the tail after the last index entry.
    EXPECT_FALSE(log->segments()[1]->verified().covers(pos, pos + m[t].bytes.size()));
  }
  flip_in_place(path, pos + m[t].bytes.size() - 1);  // the last byte of a record
  auto log = test::open_log(tmp.path(), cfg, m.end_offset());
  ASSERT_NE(log, nullptr);
  for (int round = 0; round < 3; ++round) {  // a failed check is not remembered as good
    auto r = log->read(m[t].base, 1);
    ASSERT_FALSE(r.is_ok()) << "round " << round << ": served " << r->data.size() << " bytes";
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord);
    auto run = log->read(m[t - 2].base, 1 << 20);  // a run stops before it
    ASSERT_TRUE(run.is_ok()) << run.status().to_string();
    EXPECT_EQ(run->next_offset, m[t].base);
  }
  EXPECT_FALSE(log->segments()[1]->verified().covers(pos, pos + m[t].bytes.size()));
}

TEST(VerifiedOnceTest, AVerifiedRegionIsNotCheckedAgainAndTheClientsCrcCatchesALaterFlip) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  build(tmp.path(), cfg, &m, 72);
  if (HasFatalFailure()) return;
  auto log = test::open_log(tmp.path(), cfg, m.end_offset());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  // Every sealed segment read front to back is one known-good range.
  for (size_t s = 0; s + 1 < log->segment_count(); ++s) {
    const Segment& seg = *log->segments()[s];
    EXPECT_TRUE(seg.verified().covers(0, seg.size_bytes())) << "segment " << s;
    EXPECT_EQ(seg.verified().ranges(), 1u);
  }
  const size_t t = middle_of_segment_1(*log, m);
  const auto place = test::place_of(*log, m, t);
  flip_in_place(log->segments()[1]->log_path(), place.position + m[t].bytes.size() - 1);
  // The read does not recompute the CRC: it serves the stored bytes, and
  // the batch's own CRC, which a client checks, shows the damage.
  auto r = log->read(m[t].base, 1);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->data.size(), m[t].bytes.size());
  BatchHeader h;
  const auto* p = reinterpret_cast<const uint8_t*>(r->data.data());
  ASSERT_EQ(parse_batch_header(p, r->data.size(), &h), BatchError::kOk);
  EXPECT_FALSE(batch_crc_ok(p, h));
  EXPECT_NE(r->data, m[t].bytes);
}

TEST(VerifiedOnceTest, ARestartChecksAgainWhatThePreviousProcessVerified) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  build(tmp.path(), cfg, &m, 73);
  if (HasFatalFailure()) return;
  size_t t = 0;
  std::string path;
  uint64_t pos = 0;
  {
    auto log = test::open_log(tmp.path(), cfg, m.end_offset());
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
    t = middle_of_segment_1(*log, m);
    pos = test::place_of(*log, m, t).position;
    path = log->segments()[1]->log_path();
    ASSERT_TRUE(log->segments()[1]->verified().covers(pos, pos + m[t].bytes.size()));
    ASSERT_TRUE(log->close().is_ok());
  }
  flip_in_place(path, pos + m[t].bytes.size() - 1);
  auto log = test::open_log(tmp.path(), cfg, m.end_offset());
  ASSERT_NE(log, nullptr);
  auto r = log->read(m[t].base, 1);
  ASSERT_FALSE(r.is_ok()) << "served " << r->data.size() << " bytes after a restart";
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord);
}

TEST(VerifiedOnceTest, AppendedAndRecoveredBytesAreKnownGoodAndACutTailIsForgotten) {
  TempDir tmp;
  const LogConfig cfg = test::small_config(1 << 20, 256);
  LogModel m;
  RecordGen g(74);
  {
    auto log = test::open_log(tmp.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 40; ++i) test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
    const Segment& active = *log->segments().back();
    EXPECT_TRUE(active.verified().covers(0, active.size_bytes()));  // written by this process
    ASSERT_TRUE(log->flush().is_ok());
  }
  const std::string path = tmp.path() + "/" + Segment::file_name(0, ".log");
  const uint64_t size = m.bytes_between(0, m.size()).size();
  test::truncate_file(path, size - 3);  // a torn last batch
  // Recovery from offset 0 checks every batch, cuts the torn one, and knows
  // the rest is good; an append after the cut is known good too.
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  const Segment& active = *log->segments().back();
  const uint64_t kept = size - m[m.size() - 1].bytes.size();
  EXPECT_EQ(active.size_bytes(), kept);
  EXPECT_TRUE(active.verified().covers(0, kept));
  EXPECT_FALSE(active.verified().covers(0, kept + 1));
  test::append_batch(*log, test::build_batch(g.records(ts_for(m))), nullptr, ts_for(m));
  EXPECT_TRUE(active.verified().covers(0, active.size_bytes()));
  EXPECT_EQ(active.verified().ranges(), 1u);
}

}  // namespace
}  // namespace rustlog
