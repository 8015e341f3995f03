// PartitionLog::append_batches (partition_log.h): batches laid end to end
// are written in one write with consecutive offsets (re-based, CRC
// rewritten, as append() does), rolled as one run, and a write that fails in
// the middle of the run leaves the log exactly as it was: nothing of the
// run in the file, the same offsets for what comes next, nothing torn for a
// restart to cut back. Real files; the storage I/O seam fails the write.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "storage/fault_injection.h"
#include "storage/partition_log.h"
#include "storage/record_batch.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::TempDir;
using test::ts_for;

class AppendBatchesTest : public ::testing::Test {
 protected:
  void TearDown() override { fault::disarm(); }
};

// Counts the data writes one file (by inode) takes; the zero writes that
// preallocate the segment ahead of its appends are not data.
struct WriteCounter : fault::IoRecorder {
  uint64_t inode = 0;
  int writes = 0;
  void record(fault::IoEvent e) override {
    const bool zeros = std::all_of(e.data.begin(), e.data.end(), [](char c) { return c == 0; });
    if (e.kind == fault::IoEvent::Kind::kWrite && e.inode == inode && !zeros) ++writes;
  }
};

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

// `n` batches built at a wrong base offset, end to end.
std::string run_of(RecordGen& g, const LogModel& m, int n) {
  std::string run;
  for (int i = 0; i < n; ++i) run += test::build_batch(g.records(ts_for(m) + i), 777777);
  return run;
}

TEST_F(AppendBatchesTest, ARunTakesConsecutiveOffsetsInOneWrite) {
  TempDir dir;
  // Index entries every 1 KiB: the run's index entries are placed as if
  // its batches had been appended one by one.
  const LogConfig cfg = test::small_config(1 << 20, 1024);
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(900);
  LogModel m;
  WriteCounter counter;
  for (int round = 0; round < 20; ++round) {
    std::string run = run_of(g, m, 1 + round % 7);
    counter.inode = inode_of(log->segments().back()->log_path());
    counter.writes = 0;
    fault::set_recorder(&counter);
    auto info = log->append_batches(run, ts_for(m));
    fault::set_recorder(nullptr);
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    EXPECT_EQ(info->base_offset, m.end_offset());
    EXPECT_EQ(counter.writes, 1) << "one write of the segment file for the whole run";
    const auto batches = test::split_batches(run);
    for (const auto& b : batches) m.add(b);  // re-based in the caller's buffer
    EXPECT_EQ(info->last_offset + 1, m.end_offset());
    EXPECT_EQ(log->high_watermark(), m.end_offset());
  }
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  ASSERT_TRUE(log->flush().is_ok());
  log.reset();
  auto again = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->recovery_report().bytes_truncated, 0u);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*again, 0), m.bytes_between(0, m.size())));
  // Every offset is found through the index the run's entries built.
  for (uint64_t o = 0; o < m.end_offset(); o += 7) {
    auto r = again->read(o, 1);
    ASSERT_TRUE(r.is_ok()) << o;
    BatchHeader h;
    ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(r->data.data()), r->data.size(), &h),
              BatchError::kOk);
    EXPECT_LE(h.base_offset, o);
    EXPECT_GE(h.last_offset(), o);
  }
}

TEST_F(AppendBatchesTest, ARunThatDoesNotFitRollsFirstAndOneLargerThanASegmentIsRefused) {
  TempDir dir;
  const LogConfig cfg = test::small_config(4096, 512);
  auto log = test::open_log(dir.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  RecordGen g(901);
  LogModel m;
  size_t rolls = 0;
  for (int round = 0; round < 30; ++round) {
    std::string run = run_of(g, m, 3);
    if (run.size() > cfg.segment_bytes) continue;
    const size_t before = log->segment_count();
    auto info = log->append_batches(run, ts_for(m));
    ASSERT_TRUE(info.is_ok()) << info.status().to_string();
    for (const auto& b : test::split_batches(run)) m.add(b);
    rolls += log->segment_count() - before;
    // A run never straddles two segments.
    EXPECT_LE(log->segments().back()->size_bytes(), cfg.segment_bytes);
  }
  EXPECT_GT(rolls, 0u);
  std::string huge;
  while (huge.size() <= cfg.segment_bytes) huge += run_of(g, m, 4);
  auto r = log->append_batches(huge, ts_for(m));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kTooLarge) << r.status().to_string();
  EXPECT_FALSE(log->read_only());
  EXPECT_EQ(log->high_watermark(), m.end_offset());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

// A short write in the middle of the run (the first batch whole, the second
// cut): ENOSPC leaves the log writable, EIO read-only; either way none of
// the run is in the file and a reopen finds nothing to cut back.
TEST_F(AppendBatchesTest, AWriteFailingInTheMiddleOfARunLeavesTheLogAsItWas) {
  for (int err : {ENOSPC, EIO}) {
    SCOPED_TRACE(err == ENOSPC ? "ENOSPC" : "EIO");
    TempDir dir;
    const LogConfig cfg = test::small_config(1 << 20, 1024);
    auto log = test::open_log(dir.path(), cfg, 0);
    ASSERT_NE(log, nullptr);
    RecordGen g(902);
    LogModel m;
    std::string before = run_of(g, m, 3);
    ASSERT_TRUE(log->append_batches(before, ts_for(m)).is_ok());
    for (const auto& b : test::split_batches(before)) m.add(b);
    std::string run = run_of(g, m, 5);
    const size_t first = test::split_batches(run)[0].size();
    fault::arm(fault::Op::kWrite, err, 0, 1, first + 10, ".log");
    auto r = log->append_batches(run, ts_for(m));
    fault::disarm();
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), err == ENOSPC ? ErrorCode::kInsufficientSpace : ErrorCode::kStorageError)
        << r.status().to_string();
    EXPECT_EQ(log->read_only(), err == EIO);
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    EXPECT_EQ(test::file_size(log->segments().back()->log_path()), log->segments().back()->size_bytes());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
    if (err == ENOSPC) {
      // Room again: the same run lands at the same offsets.
      auto again = log->append_batches(run, ts_for(m));
      ASSERT_TRUE(again.is_ok()) << again.status().to_string();
      EXPECT_EQ(again->base_offset, m.end_offset());
      for (const auto& b : test::split_batches(run)) m.add(b);
      ASSERT_TRUE(log->flush().is_ok());
    }
    log.reset();
    auto reopened = test::open_log(dir.path(), cfg, 0);
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->recovery_report().bytes_truncated, 0u);
    EXPECT_EQ(reopened->high_watermark(), m.end_offset());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*reopened, 0), m.bytes_between(0, m.size())));
  }
}

}  // namespace
}  // namespace rustlog
