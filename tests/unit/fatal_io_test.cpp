// Fatal and non-fatal I/O failures (partition_log.h durability contract):
// a full disk (a real 1 MiB tmpfs, and an injected short write with ENOSPC)
// is reported as kInsufficientSpace with the file cut back to the last whole
// batch; a failed fsync makes the log read-only until restart, never
// retried into a silent success.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "storage/fault_injection.h"
#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"
#include "support/tmpfs_mount.h"

namespace rustlog {
namespace {

using test::LogModel;
using test::RecordGen;
using test::seed_trace;
using test::TempDir;
using test::TmpfsMount;
using test::ts_for;

class FatalIoTest : public ::testing::Test {
 protected:
  void TearDown() override { fault::disarm(); }
};

// The active segment's .log holds exactly its whole batches (no partial tail).
void expect_no_partial_tail(PartitionLog& log) {
  const Segment& active = *log.segments().back();
  EXPECT_EQ(test::file_size(active.log_path()), active.size_bytes());
}

TEST_F(FatalIoTest, FullTmpfsRejectsAppendsUntilSpaceIsFreed) {
  const uint64_t seed = 800;
  SCOPED_TRACE(seed_trace(seed));
  TempDir tmp;
  const std::string mnt = tmp.sub("mnt");
  std::filesystem::create_directories(mnt);
  TmpfsMount tmpfs(mnt, "1m");
  if (!tmpfs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs on " << mnt << ": " << tmpfs.error();
  // Space we can give back later.
  const std::string filler = mnt + "/filler";
  test::write_bytes(filler, std::string(256 * 1024, 'f'));
  const std::string dir = mnt + "/partition";
  const LogConfig cfg = test::small_config(64 * 1024, 1024);
  test::GenOptions opt;
  opt.max_records = 4;
  opt.max_value = 600;
  RecordGen g(seed, opt);
  LogModel m;
  {
    auto log = test::open_log(dir, cfg, 0);
    ASSERT_NE(log, nullptr);
    Status failure;
    std::string rejected;
    for (int i = 0; i < 100000 && failure.is_ok(); ++i) {
      std::string b = test::build_batch(g.records(ts_for(m)));
      auto r = log->append(b, ts_for(m));
      if (r) {
        m.add(b);
      } else {
        failure = r.status();
        rejected = b;
      }
    }
    ASSERT_FALSE(failure.is_ok()) << "the 1 MiB tmpfs never filled up";
    EXPECT_EQ(failure.code(), ErrorCode::kInsufficientSpace) << failure.to_string();
    EXPECT_FALSE(log->read_only()) << "a full disk is not a fatal error";
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    expect_no_partial_tail(*log);
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
    // Still full: retrying the batch fails the same way and leaves nothing behind.
    for (int i = 0; i < 3; ++i) {
      std::string b = rejected;
      auto r = log->append(b, ts_for(m));
      ASSERT_FALSE(r.is_ok());
      EXPECT_EQ(r.status().code(), ErrorCode::kInsufficientSpace);
      expect_no_partial_tail(*log);
    }
    EXPECT_TRUE(log->flush().is_ok());
  }
  // A restart finds whole batches only: no torn tail to truncate.
  {
    auto log = test::open_log(dir, cfg, 0);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
    // Free space: appends succeed again, and everything reads back.
    std::filesystem::remove(filler);
    for (int i = 0; i < 50; ++i) {
      std::string b = test::build_batch(g.records(ts_for(m)));
      auto r = log->append(b, ts_for(m));
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      EXPECT_EQ(r->base_offset, m.end_offset());
      m.add(b);
    }
    ASSERT_TRUE(log->flush().is_ok());
    EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  }
  auto log = test::open_log(dir, cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

TEST_F(FatalIoTest, InjectedShortWriteWithEnospcIsCutBack) {
  const uint64_t seed = 810;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 5; ++i)
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  for (int i = 0; i < 40; ++i) {
    std::string b = test::build_batch(g.records(ts_for(m)));
    const size_t partial = i % 4 == 0   ? 1
                           : i % 4 == 1 ? kBatchHeaderSize
                                        : g.uniform(1, b.size() - 1);
    SCOPED_TRACE("short write of " + std::to_string(partial) + "/" + std::to_string(b.size()));
    const uint64_t size_before = log->segments().back()->size_bytes();
    fault::arm(fault::Op::kWrite, ENOSPC, 0, 1, partial);
    auto r = log->append(b, ts_for(m));
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInsufficientSpace) << r.status().to_string();
    EXPECT_NE(r.status().message().find(".log"), std::string::npos) << r.status().message();
    EXPECT_FALSE(log->read_only());
    EXPECT_EQ(log->high_watermark(), m.end_offset());
    // The segment may have rolled before the write; either way no partial bytes remain.
    expect_no_partial_tail(*log);
    if (log->segments().back()->base_offset() < m.end_offset()) {
      EXPECT_EQ(log->segments().back()->size_bytes(), size_before);
    }
    // The same batch goes through once the space is back.
    auto again = log->append(b, ts_for(m));
    ASSERT_TRUE(again.is_ok()) << again.status().to_string();
    EXPECT_EQ(again->base_offset, m.end_offset());
    m.add(b);
  }
  ASSERT_TRUE(log->flush().is_ok());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  const auto index_files = [&] {
    std::string all;
    for (const auto& f : test::list_files(tmp.path()))
      if (f.find("index") != std::string::npos) all += f + "=" + test::read_bytes(tmp.sub(f)) + ";";
    return all;
  };
  const std::string live = index_files();
  log.reset();
  auto reopened = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->recovery_report().bytes_truncated, 0u);
  EXPECT_EQ(reopened->recovery_report().indexes_rebuilt, 0u)
      << "live indexes differ from a rebuild";
  EXPECT_EQ(index_files(), live);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*reopened, 0), m.bytes_between(0, m.size())));
}

TEST_F(FatalIoTest, FailedIndexWriteDoesNotFailTheAppend) {
  // The index is derived data: a failed index write is repaired on seal or
  // by recovery, the append itself succeeds.
  const uint64_t seed = 820;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  TempDir tmp;
  const std::string live_dir = tmp.sub("live"), ref_dir = tmp.sub("ref");
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  auto log = test::open_log(live_dir, cfg, 0);
  ASSERT_NE(log, nullptr);
  while (log->segment_count() < 5) {
    std::string b = test::build_batch(g.records(ts_for(m)));
    // Fail the second write of some appends: the index entry, when one is due.
    if (g.chance(30)) fault::arm(fault::Op::kWrite, g.chance(50) ? ENOSPC : EIO, 1, 1);
    auto r = log->append(b, ts_for(m));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    m.add(b);
    fault::disarm();
  }
  ASSERT_TRUE(log->close().is_ok());
  EXPECT_FALSE(log->read_only());
  // Sealed segments got their index files rewritten on seal; a restart
  // repairs the active one. Compare with a log built without failures.
  log.reset();
  log = test::open_log(live_dir, cfg, m.end_offset());
  ASSERT_NE(log, nullptr);
  {
    auto ref = test::open_log(ref_dir, cfg, 0);
    ASSERT_NE(ref, nullptr);
    for (size_t i = 0; i < m.size(); ++i) test::append_batch(*ref, m[i].bytes, nullptr);
    ASSERT_TRUE(ref->close().is_ok());
  }
  EXPECT_EQ(test::list_files(live_dir), test::list_files(ref_dir));
  for (const auto& f : test::list_files(ref_dir))
    EXPECT_TRUE(
        test::same_bytes(test::read_bytes(live_dir + "/" + f), test::read_bytes(ref_dir + "/" + f)))
        << f;
}

TEST_F(FatalIoTest, FailedFsyncMakesTheLogReadOnlyUntilRestart) {
  const uint64_t seed = 830;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 10; ++i)
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  ASSERT_TRUE(log->flush().is_ok());
  const uint64_t rp = log->recovery_point();
  test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));

  fault::arm(fault::Op::kSync, EIO);
  const Status st = log->flush();
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), ErrorCode::kStorageError);
  EXPECT_EQ(static_cast<int>(st.code()), 503);
  EXPECT_NE(st.message().find("fdatasync"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(std::strerror(EIO)), std::string::npos) << st.message();
  EXPECT_TRUE(log->read_only());
  EXPECT_EQ(log->fatal_error().code(), ErrorCode::kStorageError);
  EXPECT_EQ(log->recovery_point(), rp) << "a failed fsync must not advance the recovery point";
  fault::disarm();

  // No retry succeeds silently, though the disk would now accept it.
  for (int i = 0; i < 3; ++i) {
    const Status again = log->flush();
    ASSERT_FALSE(again.is_ok());
    EXPECT_EQ(again.code(), ErrorCode::kStorageError);
    EXPECT_NE(again.message().find("fdatasync"), std::string::npos) << again.message();
    std::string b = test::build_batch(g.records(ts_for(m)));
    auto r = log->append(b, ts_for(m));
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kStorageError);
    EXPECT_NE(r.status().message().find("fdatasync"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(log->high_watermark(), m.end_offset());
  EXPECT_FALSE(log->flush_due(INT64_MAX / 2));
  // Reads still work, including the batch whose fsync failed (page cache).
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  auto t = log->offset_for_time(m[3].records[0].timestamp_us);
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(*t, m.offset_for_time(m[3].records[0].timestamp_us));

  // Restart: recovery from what is on disk, and the log accepts writes again.
  log.reset();
  log = test::open_log(tmp.path(), cfg, rp);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->read_only());
  EXPECT_EQ(log->high_watermark(), m.end_offset());
  for (int i = 0; i < 5; ++i)
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  ASSERT_TRUE(log->flush().is_ok());
  EXPECT_EQ(log->recovery_point(), m.end_offset());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

TEST_F(FatalIoTest, FailedFsyncOfAnEarlierSegmentAfterARoll) {
  // Appends that roll leave two dirty segments; the first fsync fails.
  RecordGen g(840);
  TempDir tmp;
  const LogConfig cfg = test::small_config(2048, 256);
  LogModel m;
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  const size_t segs = log->segment_count();
  while (log->segment_count() < segs + 2)
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  fault::arm(fault::Op::kSync, EIO);
  ASSERT_FALSE(log->flush().is_ok());
  fault::disarm();
  EXPECT_TRUE(log->read_only());
  EXPECT_EQ(log->recovery_point(), 0u);
  EXPECT_FALSE(log->flush().is_ok());
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
}

TEST_F(FatalIoTest, FailedWriteOtherThanEnospcIsFatal) {
  RecordGen g(850);
  TempDir tmp;
  const LogConfig cfg = test::small_config(4096, 256);
  LogModel m;
  auto log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 5; ++i)
    test::append_batch(*log, test::build_batch(g.records(ts_for(m))), &m, ts_for(m));
  std::string b = test::build_batch(g.records(ts_for(m)));
  fault::arm(fault::Op::kWrite, EIO, 0, 1, 7);
  auto r = log->append(b, ts_for(m));
  fault::disarm();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kStorageError);
  EXPECT_NE(r.status().message().find(std::strerror(EIO)), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(log->read_only());
  expect_no_partial_tail(*log);
  std::string b2 = test::build_batch(g.records(ts_for(m)));
  EXPECT_EQ(log->append(b2, ts_for(m)).status().code(), ErrorCode::kStorageError);
  EXPECT_EQ(log->flush().code(), ErrorCode::kStorageError);
  EXPECT_TRUE(test::same_bytes(test::read_to_end(*log, 0), m.bytes_between(0, m.size())));
  log.reset();
  log = test::open_log(tmp.path(), cfg, 0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  std::string b3 = test::build_batch(g.records(ts_for(m)));
  auto ok = log->append(b3, ts_for(m));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->base_offset, m.end_offset());
}

}  // namespace
}  // namespace rustlog
