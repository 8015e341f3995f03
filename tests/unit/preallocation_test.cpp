// Preallocation of the active segment (storage/preallocation.h,
// docs/STORAGE.md section 8 "Preallocation" and rule Z of section 2): appends
// overwrite written zeros ahead of the data; the zero tail is never data, never
// torn and never counted as truncated; sealed segments are trimmed to their
// data; sizes, reads and rolls use the data's size, not the file's.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "admin/dump.h"
#include "admin/verify.h"
#include "storage/fault_injection.h"
#include "storage/partition_log.h"
#include "storage/preallocation.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"
#include "topics/topic_registry.h"

namespace rustlog {
namespace {

using test::RecordGen;
using test::TempDir;

LogConfig prealloc_config(uint64_t segment_bytes = 1 << 20, uint64_t step = 256 << 10) {
  LogConfig c = test::small_config(segment_bytes, 4096);
  c.preallocate_bytes = step;
  return c;
}

std::string value_batch(RecordGen& g, size_t value_bytes) {
  return test::build_batch({Record{0, test::kBaseTimestampUs, std::nullopt, g.bytes(value_bytes), {}}});
}

bool zeros_from(const std::string& b, uint64_t from) {
  return b.find_first_not_of('\0', from) == std::string::npos;
}

uint64_t allocated_bytes(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

void expect_verify_clean(const std::string& dir) {
  admin::VerifyOptions opt;
  opt.index_interval_bytes = 4096;
  auto r = admin::verify_data_dir(dir, opt);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  for (const auto& p : r->partitions)
    for (const auto& problem : p.all_problems()) ADD_FAILURE() << "verify: " << problem;
}

TEST(PreallocationTest, PolicyStepsAreBoundedAndNeverPassTheSegment) {
  const uint64_t seg = 1 << 30, max = 4 << 20;
  // Off, or room left for the bytes and a zero tail: nothing to do.
  EXPECT_EQ(preallocation_target(0, 100, 0, 0, seg, kMinZeroTail), 0u);
  EXPECT_EQ(preallocation_target(1000, 100, 1100 + kMinZeroTail, max, seg, kMinZeroTail), 0u);
  // A fresh segment: the minimum step, aligned.
  EXPECT_EQ(preallocation_target(0, 100, 0, max, seg, kMinZeroTail), kPreallocateMinStep + 4096);
  // Less than a zero tail left after the bytes: extend.
  EXPECT_GT(preallocation_target(1000, 100, 1100 + kMinZeroTail - 1, max, seg, kMinZeroTail), 0u);
  // The step follows the data, up to the maximum.
  EXPECT_EQ(preallocation_target(1 << 20, 100, 1 << 20, max, seg, kMinZeroTail), (2u << 20) + 4096);
  EXPECT_EQ(preallocation_target(64 << 20, 100, 64 << 20, max, seg, kMinZeroTail), (68u << 20) + 4096);
  // Never past segment.bytes (plus the zero tail's minimum).
  EXPECT_EQ(preallocation_target(3000, 100, 3000, max, 4096, kMinZeroTail), 4096 + kMinZeroTail);
  EXPECT_EQ(preallocation_target(4096, 100, 4096, max, 4096, kMinZeroTail), 0u);
  // A maximum below the minimum step is the step.
  EXPECT_EQ(preallocation_target(0, 100, 0, 8192, seg, kMinZeroTail), 12288u);
}

TEST(PreallocationTest, AppendsOverwriteWrittenZerosAheadOfTheData) {
  TempDir tmp;
  const std::string dir = tmp.sub("p-0");
  RecordGen g(11);
  auto log = test::open_log(dir, prealloc_config(), 0);
  ASSERT_NE(log, nullptr);
  std::string all;
  uint64_t extends = 0, last_end = 0;
  for (int i = 0; i < 400; ++i) {
    std::string b = value_batch(g, 1000);
    ASSERT_TRUE(log->append(b, 1).is_ok());
    ASSERT_TRUE(log->flush().is_ok());
    all += b;
    const Segment& s = *log->segments().back();
    ASSERT_GE(s.file_bytes(), s.size_bytes() + kMinZeroTail);
    if (s.file_bytes() != last_end) ++extends;
    last_end = s.file_bytes();
  }
  const Segment& s = *log->segments().back();
  // About 410 KB of data in a handful of steps, never more zeros than data
  // plus the minimum step.
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_LE(extends, 6u);
  EXPECT_LE(s.file_bytes() - s.size_bytes(), s.size_bytes() + kPreallocateMinStep + 4096);
  // On disk: the data, then written zeros (blocks allocated, not a hole).
  const std::string file = test::read_bytes(s.log_path());
  ASSERT_EQ(file.size(), s.file_bytes());
  EXPECT_EQ(file.substr(0, s.size_bytes()), all);
  EXPECT_TRUE(zeros_from(file, s.size_bytes()));
  EXPECT_GE(allocated_bytes(s.log_path()), s.file_bytes() / 4096 * 4096);
  // Sizes, reads and the high watermark are the data's.
  EXPECT_EQ(log->size_bytes(), all.size());
  EXPECT_EQ(log->high_watermark(), 400u);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), all));
}

TEST(PreallocationTest, ARestartAfterKillNineReportsNoTruncationAndVerifyAndDumpAcceptTheTail) {
  TempDir tmp;
  const std::string dir = tmp.sub("p-0");
  RecordGen g(12);
  std::string all;
  uint64_t hw = 0;
  {
    auto log = test::open_log(dir, prealloc_config(), 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 50; ++i) {
      std::string b = value_batch(g, 300);
      ASSERT_TRUE(log->append(b, 1).is_ok());
      all += b;
    }
    ASSERT_TRUE(log->flush().is_ok());
    hw = log->high_watermark();
    // Destroyed without close(): what kill -9 leaves (the page cache keeps
    // every write, no trim).
  }
  const std::string path = dir + "/" + Segment::file_name(0, ".log");
  ASSERT_GT(test::file_size(path), all.size() + kMinZeroTail);
  expect_verify_clean(tmp.path());
  auto d = admin::dump_segment(path);
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(d->summary.batches, 50u);
  EXPECT_EQ(d->summary.problems, 0u);
  EXPECT_EQ(d->summary.zero_tail_bytes, test::file_size(path) - all.size());
  for (uint64_t rp : {uint64_t{0}, hw}) {
    SCOPED_TRACE("recovery point " + std::to_string(rp));
    auto log = test::open_log(dir, prealloc_config(), rp);
    ASSERT_NE(log, nullptr);
    const RecoveryReport& rep = log->recovery_report();
    EXPECT_EQ(rep.bytes_truncated, 0u);
    EXPECT_TRUE(rep.corruptions.empty());
    EXPECT_EQ(log->high_watermark(), hw);
    EXPECT_EQ(log->size_bytes(), all.size());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), all));
    // The active segment keeps its zeros and appends over them.
    EXPECT_GT(log->segments().back()->file_bytes(), all.size());
    std::string b = value_batch(g, 300);
    ASSERT_TRUE(log->append(b, 1).is_ok());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), all + b));
    log.reset();
    std::string f = test::read_bytes(path);
    f.resize(all.size());  // back to the 50 batches for the next round
    test::write_bytes(path, f + std::string(70000, '\0'));
  }
}

TEST(PreallocationTest, SealedSegmentsAreTrimmedOnRollOnCloseAndAtRecovery) {
  TempDir tmp;
  const std::string dir = tmp.sub("p-0");
  RecordGen g(13);
  const LogConfig cfg = prealloc_config(64 << 10, 16 << 10);
  std::vector<uint64_t> bases_with, bases_without;
  std::string all;
  {
    auto log = test::open_log(dir, cfg, 0);
    ASSERT_NE(log, nullptr);
    LogConfig off = cfg;
    off.preallocate_bytes = 0;
    auto plain = test::open_log(tmp.sub("plain-0"), off, 0);
    ASSERT_NE(plain, nullptr);
    for (int i = 0; i < 300; ++i) {
      std::string b = value_batch(g, 700), c = b;
      ASSERT_TRUE(log->append(b, 1).is_ok());
      ASSERT_TRUE(plain->append(c, 1).is_ok());
      all += b;
    }
    // segment.bytes counts the data: the same rolls as without preallocation.
    for (const auto& s : log->segments()) bases_with.push_back(s->base_offset());
    for (const auto& s : plain->segments()) bases_without.push_back(s->base_offset());
    EXPECT_EQ(bases_with, bases_without);
    ASSERT_GE(log->segment_count(), 3u);
    EXPECT_EQ(log->size_bytes(), plain->size_bytes());
    for (size_t i = 0; i + 1 < log->segment_count(); ++i) {
      const Segment& s = *log->segments()[i];
      EXPECT_EQ(test::file_size(s.log_path()), s.size_bytes()) << s.log_path();
    }
    EXPECT_GT(log->segments().back()->file_bytes(), log->segments().back()->size_bytes());
    ASSERT_TRUE(log->close().is_ok());
    const Segment& active = *log->segments().back();
    EXPECT_EQ(test::file_size(active.log_path()), active.size_bytes());
  }
  // A sealed segment that still has zeros (a crash before its trim was
  // durable): recovery trims it and reports nothing.
  const std::string first = dir + "/" + Segment::file_name(0, ".log");
  const uint64_t first_size = test::file_size(first);
  test::write_bytes(first, test::read_bytes(first) + std::string(5000, '\0'));
  auto log = test::open_log(dir, cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  EXPECT_TRUE(log->recovery_report().corruptions.empty());
  EXPECT_EQ(test::file_size(first), first_size);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0, 64 << 20), all));
}

TEST(PreallocationTest, ZerosBeforeDataAreATornTailNotTheEnd) {
  // Data after a zero region (a write that landed past a hole): the first
  // invalid batch ends the log at or above the recovery point, as in Kafka.
  TempDir tmp;
  const std::string dir = tmp.sub("p-0");
  RecordGen g(14);
  std::string all;
  {
    auto log = test::open_log(dir, prealloc_config(), 0);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 5; ++i) {
      std::string b = value_batch(g, 200);
      ASSERT_TRUE(log->append(b, 1).is_ok());
      all += b;
    }
    ASSERT_TRUE(log->flush().is_ok());
  }
  const std::string path = dir + "/" + Segment::file_name(0, ".log");
  std::string f = test::read_bytes(path);
  const std::string stray = value_batch(g, 200);
  f.replace(all.size() + 1000, stray.size(), stray);
  test::write_bytes(path, f);
  auto log = test::open_log(dir, prealloc_config(), 5);
  ASSERT_NE(log, nullptr);
  // Counted up to the stray batch's last non-zero byte (zeros it ends with
  // cannot be told from the zero tail after it).
  EXPECT_EQ(log->recovery_report().bytes_truncated, 1000 + stray.find_last_not_of('\0') + 1);
  EXPECT_EQ(log->high_watermark(), 5u);
  EXPECT_EQ(test::file_size(path), all.size());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), all));
}

TEST(PreallocationTest, AFailedPreallocationFallsBackOnAFullDiskAndIsFatalOtherwise) {
  TempDir tmp;
  RecordGen g(15);
  {
    auto log = test::open_log(tmp.sub("a-0"), prealloc_config(), 0);
    ASSERT_NE(log, nullptr);
    fault::arm(fault::Op::kPreallocate, ENOSPC);
    std::string b = value_batch(g, 100);
    ASSERT_TRUE(log->append(b, 1).is_ok());
    fault::disarm();
    const Segment& s = *log->segments().back();
    EXPECT_EQ(s.file_bytes(), s.size_bytes());  // grown as without preallocation
    EXPECT_EQ(test::file_size(s.log_path()), b.size());
    std::string c = value_batch(g, 100);
    ASSERT_TRUE(log->append(c, 1).is_ok());  // preallocates again
    EXPECT_GT(log->segments().back()->file_bytes(), b.size() + c.size());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), b + c));
  }
  {
    auto log = test::open_log(tmp.sub("b-0"), prealloc_config(), 0);
    ASSERT_NE(log, nullptr);
    fault::arm(fault::Op::kPreallocate, EIO);
    std::string b = value_batch(g, 100);
    auto r = log->append(b, 1);
    fault::disarm();
    ASSERT_FALSE(r.is_ok());
    EXPECT_TRUE(log->read_only());
    EXPECT_EQ(test::file_size(log->segments().back()->log_path()), 0u);
  }
}

// The power-loss explorer replays what the seam records: the zero writes,
// the trim and its fsync must be among them (PowerLossTest.AppendAndRoll
// then explores every state they can leave).
TEST(PreallocationTest, ZeroWritesAndTrimsGoThroughTheIoSeam) {
  struct Recorder final : fault::IoRecorder {
    void record(fault::IoEvent e) override { events.push_back(std::move(e)); }
    std::vector<fault::IoEvent> events;
  } rec;
  TempDir tmp;
  RecordGen g(17);
  auto log = test::open_log(tmp.sub("p-0"), prealloc_config(), 0);
  ASSERT_NE(log, nullptr);
  fault::set_recorder(&rec);
  std::string b = value_batch(g, 100);
  ASSERT_TRUE(log->append(b, 1).is_ok());
  ASSERT_TRUE(log->flush().is_ok());
  ASSERT_TRUE(log->close().is_ok());
  fault::set_recorder(nullptr);
  using K = fault::IoEvent::Kind;
  size_t zero_write = SIZE_MAX, data_write = SIZE_MAX, trim = SIZE_MAX, trim_sync = SIZE_MAX;
  for (size_t i = 0; i < rec.events.size(); ++i) {
    const fault::IoEvent& e = rec.events[i];
    if (e.path.find(".log") == std::string::npos) continue;
    if (e.kind == K::kWrite && zero_write == SIZE_MAX && zeros_from(e.data, 0)) zero_write = i;
    if (e.kind == K::kWrite && e.data == b) data_write = i;
    if (e.kind == K::kTruncate && e.offset == b.size()) trim = i;
    if (e.kind == K::kSync && trim != SIZE_MAX && trim_sync == SIZE_MAX) trim_sync = i;
  }
  ASSERT_NE(zero_write, SIZE_MAX);
  EXPECT_LT(zero_write, data_write);  // the zeros first, the batch over them
  ASSERT_NE(trim, SIZE_MAX);
  EXPECT_LT(data_write, trim);
  EXPECT_NE(trim_sync, SIZE_MAX);
}

TEST(PreallocationTest, AShutdownFlushLeavesNoZeroTail) {
  TempDir tmp;
  RecordGen g(16);
  TopicRegistry reg(tmp.path(), 16, 100, 64 << 10);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  TopicConfig tc;
  tc.partitions = 1;
  ASSERT_TRUE(reg.create("t", tc).is_ok());
  auto log = reg.partition("t", 0);
  ASSERT_TRUE(log.is_ok());
  std::string b = value_batch(g, 100);
  ASSERT_TRUE((*log)->append(b, 1).is_ok());
  const std::string path = (*log)->segments().back()->log_path();
  EXPECT_GT(test::file_size(path), b.size());
  ASSERT_TRUE(reg.flush_all().is_ok());
  EXPECT_EQ(test::file_size(path), b.size());
}

}  // namespace
}  // namespace rustlog
