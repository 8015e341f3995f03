// Sealed segments' descriptors are a budget (storage/segment_cache.h): a log
// of many segments keeps at most the cap of .log files open, while
// appending, reading and reopening; a descriptor that cannot be reopened is
// a read error that names the file and leaves the log whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;
using test::LogModel;
using test::RecordGen;
using test::TempDir;

size_t open_descriptors() {
  size_t n = 0;
  for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

void fill(PartitionLog& log, LogModel& m, RecordGen& g, size_t segments) {
  while (log.segment_count() < segments) {
    const int64_t ts = test::ts_for(m);
    test::append_batch(log, test::build_batch(g.records(ts)), &m, ts);
  }
}

std::unique_ptr<PartitionLog> open_with(const std::string& dir, SegmentCache& cache) {
  auto r = PartitionLog::open(dir, test::small_config(2048, 256), 0, &cache);
  if (!r) {
    ADD_FAILURE() << r.status().to_string();
    return nullptr;
  }
  return std::move(*r);
}

TEST(SegmentDescriptorsTest, ManySegmentsKeepAtMostTheCapOfLogFilesOpen) {
  constexpr size_t kCap = 4;
  constexpr size_t kSegments = 200;
  TempDir dir;
  SegmentCache cache(1000, kCap);
  const size_t baseline = open_descriptors();
  // Active segment: .log, .index, .timeindex stay open beside the cap.
  const size_t bound = baseline + kCap + 3;
  auto log = open_with(dir.path(), cache);
  ASSERT_NE(log, nullptr);
  RecordGen g(911);
  LogModel m;
  fill(*log, m, g, kSegments);
  EXPECT_LE(cache.open_files(), kCap);
  EXPECT_LE(open_descriptors(), bound);
  EXPECT_GT(cache.file_evictions(), kSegments - kCap - 10);
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0, 300), m.bytes_between(0, m.size())));
    EXPECT_LE(cache.open_files(), kCap);
    EXPECT_LE(open_descriptors(), bound);
  }
  EXPECT_GE(cache.file_opens(), kSegments - kCap - 10);  // every old segment was reopened to be read
  for (int q = 0; q < 300; ++q) {
    const uint64_t o = g.uniform(0, m.end_offset() - 1);
    auto r = log->read(o, 1);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(test::same_bytes(r->data, m[m.batch_index_of(o)].bytes));
    ASSERT_LE(open_descriptors(), bound);
  }
  // Opening (and recovering from offset 0) a log of many segments keeps the
  // bound too, and everything is still there.
  ASSERT_TRUE(log->close().is_ok());
  log.reset();
  EXPECT_EQ(cache.open_files(), 0u);
  EXPECT_EQ(open_descriptors(), baseline);
  log = open_with(dir.path(), cache);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->segment_count(), kSegments);
  EXPECT_LE(open_descriptors(), bound);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  EXPECT_LE(open_descriptors(), bound);
}

TEST(SegmentDescriptorsTest, AFailedReopenIsAReadErrorAndLosesNothing) {
  TempDir dir;
  SegmentCache cache(1, 1);
  auto log = open_with(dir.path(), cache);
  ASSERT_NE(log, nullptr);
  RecordGen g(912);
  LogModel m;
  fill(*log, m, g, 6);
  const Segment& first = *log->segments().front();
  const Segment& later = *log->segments()[3];
  ASSERT_TRUE(log->read(later.base_offset(), 1).is_ok());  // maps and opens it; the first is closed
  ASSERT_FALSE(first.file_open());
  const std::string path = first.log_path();
  fs::rename(path, path + ".away");
  auto r = log->read(0, 1);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kStorageError);
  EXPECT_NE(r.status().message().find("cannot reopen sealed segment file"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("--max-open-segment-files"), std::string::npos);
  // Only that read failed: the log stays writable and the rest readable.
  EXPECT_FALSE(log->read_only());
  fill(*log, m, g, 7);
  EXPECT_TRUE(log->read(later.base_offset(), 1).is_ok());
  // Once the file is back, so is every byte.
  fs::rename(path + ".away", path);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  ASSERT_TRUE(log->flush().is_ok());
}

}  // namespace
}  // namespace rustlog
