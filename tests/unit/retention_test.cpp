// Retention (storage/retention_policy.h, PartitionLog::apply_retention):
// whole sealed segments, oldest first, by broker append time and by size;
// the log start checkpoint first, then `.deleted`, then unlink; a kill -9
// at every step leaves either the old log or the new one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "storage/retention_policy.h"
#include "support/log_helpers.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;
using test::kBaseTimestampUs;

constexpr int64_t kHourUs = 3600ll * 1000 * 1000;

TEST(RetentionPolicyTest, TimeDeletesOldestSealedSegmentsUpToTheFirstFreshOne) {
  LogConfig c;
  c.retention_ms = 1000;
  const int64_t now = 10'000'000;
  // ages: 9 s, 5 s, 0.5 s (fresh), 9 s (older again, but after a fresh one), active
  std::vector<RetainedSegment> s{{100, 1'000'000}, {100, 5'000'000}, {100, 9'500'000},
                                 {100, 1'000'000}, {100, 0}};
  EXPECT_EQ(segments_to_delete(s, now, c), 2u);
  c.retention_ms = -1;
  EXPECT_EQ(segments_to_delete(s, now, c), 0u);
}

TEST(RetentionPolicyTest, NeverTheActiveSegment) {
  LogConfig c;
  c.retention_ms = 0;
  c.retention_bytes = 0;
  EXPECT_EQ(segments_to_delete({{100, 0}}, INT64_MAX / 2, c), 0u);
  EXPECT_EQ(segments_to_delete({{100, 0}, {100, 0}, {100, 0}}, INT64_MAX / 2, c), 2u);
}

TEST(RetentionPolicyTest, SizeKeepsRetentionBytesPlusAtMostOneSegment) {
  LogConfig c;
  c.retention_bytes = 250;
  std::vector<RetainedSegment> s{{100, 0}, {100, 0}, {100, 0}, {100, 0}, {100, 0}};  // 500 bytes
  // Deleting two leaves 300 >= 250; a third would leave 200 < 250.
  EXPECT_EQ(segments_to_delete(s, 0, c), 2u);
  c.retention_bytes = 300;
  EXPECT_EQ(segments_to_delete(s, 0, c), 2u);
  c.retention_bytes = 301;
  EXPECT_EQ(segments_to_delete(s, 0, c), 1u);
}

// A log of `n` sealed segments plus an active one, each batch appended at
// broker time `append_us(i)` with producer timestamp `ts_us(i)`.
struct Filled {
  std::unique_ptr<PartitionLog> log;
  std::vector<uint64_t> bases;  // segment base offsets
};

std::string batch_of(uint64_t i, int64_t ts) {
  Record r;
  r.timestamp_us = ts;
  r.key = "k" + std::to_string(i);
  r.value = std::string(300, static_cast<char>('a' + i % 26));
  return test::build_batch({r});
}

Filled fill(const std::string& dir, LogConfig cfg, size_t batches,
            const std::function<int64_t(uint64_t)>& append_us,
            const std::function<int64_t(uint64_t)>& ts_us) {
  Filled f;
  f.log = test::open_log(dir, cfg, 0);
  for (uint64_t i = 0; i < batches; ++i) test::append_batch(*f.log, batch_of(i, ts_us(i)), nullptr, append_us(i));
  EXPECT_TRUE(f.log->flush().is_ok());
  for (const auto& s : f.log->segments()) f.bases.push_back(s->base_offset());
  return f;
}

LogConfig rolling_config() {
  LogConfig c = test::small_config(/*segment_bytes=*/1024);  // ~2 batches a segment
  return c;
}

TEST(RetentionTest, TimeRetentionUsesBrokerAppendTimeWithAnInjectedClock) {
  test::TempDir d;
  LogConfig c = rolling_config();
  c.retention_ms = 3600 * 1000;
  // Appended one hour apart; producer timestamps far in the future, so only
  // broker time can expire them.
  auto f = fill(d.path(), c, 12, [](uint64_t i) { return kBaseTimestampUs + static_cast<int64_t>(i) * kHourUs; },
                [](uint64_t) { return kBaseTimestampUs + 1000 * kHourUs; });
  ASSERT_GE(f.bases.size(), 5u);
  const int64_t last_append = kBaseTimestampUs + 11 * kHourUs;
  // Now = one hour after the last append: everything sealed is older than retention.
  auto r = f.log->apply_retention(last_append + kHourUs);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->segments_deleted, f.bases.size() - 1);
  EXPECT_EQ(f.log->segment_count(), 1u);
  EXPECT_EQ(f.log->log_start_offset(), f.bases.back());
  // The deleted files are renamed, then unlinked by purge_deleted.
  bool saw_deleted = false;
  for (const auto& e : fs::directory_iterator(d.path()))
    saw_deleted |= e.path().string().ends_with(".deleted");
  EXPECT_TRUE(saw_deleted);
  EXPECT_TRUE(f.log->purge_deleted().is_ok());
  for (const auto& e : fs::directory_iterator(d.path())) EXPECT_FALSE(e.path().string().ends_with(".deleted"));
  // Below the log start: out of range, naming the valid range.
  auto below = f.log->read(0, 4096);
  ASSERT_FALSE(below.is_ok());
  EXPECT_EQ(below.status().code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_NE(below.status().message().find(std::to_string(f.bases.back())), std::string::npos);
}

TEST(RetentionTest, AFreshSegmentIsKeptWhateverItsProducerTimestamps) {
  test::TempDir d;
  LogConfig c = rolling_config();
  c.retention_ms = 3600 * 1000;
  // Producer timestamps ten days in the past; broker time is now.
  auto f = fill(d.path(), c, 12, [](uint64_t i) { return kBaseTimestampUs + static_cast<int64_t>(i); },
                [](uint64_t) { return kBaseTimestampUs - 240 * kHourUs; });
  auto r = f.log->apply_retention(kBaseTimestampUs + 60ll * 1000 * 1000);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->segments_deleted, 0u);
  EXPECT_EQ(f.log->log_start_offset(), 0u);
}

TEST(RetentionTest, SizeRetentionAndTheActiveSegmentOfABusyLog) {
  test::TempDir d;
  LogConfig c = rolling_config();
  c.retention_bytes = 2048;
  auto f = fill(d.path(), c, 30, [](uint64_t) { return kBaseTimestampUs; }, [](uint64_t) { return kBaseTimestampUs; });
  auto r = f.log->apply_retention(kBaseTimestampUs);
  ASSERT_TRUE(r.is_ok());
  EXPECT_GT(r->segments_deleted, 0u);
  EXPECT_GE(f.log->size_bytes(), 2048u);
  EXPECT_LT(f.log->size_bytes() - f.log->segments().front()->size_bytes(), 2048u);
  // A retention of zero bytes still keeps the active segment.
  LogConfig zero = c;
  zero.retention_bytes = 0;
  f.log.reset();
  auto log = test::open_log(d.path(), zero, 0);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->apply_retention(kBaseTimestampUs).is_ok());
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_FALSE(log->segments().back()->empty());
  const uint64_t end = log->high_watermark();
  test::append_batch(*log, batch_of(99, kBaseTimestampUs), nullptr);
  EXPECT_EQ(log->high_watermark(), end + 1);
}

TEST(RetentionTest, TimeBasedRollOnATickWithoutAppends) {
  test::TempDir d;
  LogConfig c = test::small_config();
  c.segment_ms = 1000;
  auto log = test::open_log(d.path(), c, 0);
  test::append_batch(*log, batch_of(0, kBaseTimestampUs), nullptr, kBaseTimestampUs);
  auto r = log->roll_if_due(kBaseTimestampUs + 500'000);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(*r);
  r = log->roll_if_due(kBaseTimestampUs + 1'000'000);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(*r);
  EXPECT_EQ(log->segment_count(), 2u);
  // An empty active segment never rolls.
  r = log->roll_if_due(kBaseTimestampUs + 100'000'000);
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(*r);
}

TEST(RetentionTest, RestartKeepsTheLogStartAndBrokerTimeFromTheFiles) {
  test::TempDir d;
  LogConfig c = rolling_config();
  c.retention_ms = 3600 * 1000;
  auto f = fill(d.path(), c, 12, [](uint64_t) { return kBaseTimestampUs; }, [](uint64_t) { return kBaseTimestampUs; });
  ASSERT_TRUE(f.log->delete_oldest_segments(2).is_ok());
  const uint64_t start = f.log->log_start_offset();
  EXPECT_EQ(start, f.bases[2]);
  f.log.reset();  // not purged: .deleted files stay for the restart to remove
  auto log = test::open_log(d.path(), c, 0);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_start_offset(), start);
  for (const auto& e : fs::directory_iterator(d.path())) EXPECT_FALSE(e.path().string().ends_with(".deleted"));
  // After a restart a segment's append time is its file's mtime (real time
  // now), so an hour-old retention keeps everything.
  auto r = log->apply_retention(log->segments().front()->last_append_us() + kHourUs / 2);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->segments_deleted, 0u);
}

// Kill -9 at each step of a retention delete (a forked child): afterwards
// the log is the old one or the new one, every remaining record is intact
// and nothing below the log start comes back.
TEST(RetentionTest, KillNineAtEveryRetentionStep) {
  for (const char* point : {"retention.after_checkpoint", "retention.after_rename", "retention.after_dir_sync"}) {
    SCOPED_TRACE(point);
    test::TempDir d;
    LogConfig c = rolling_config();
    auto f = fill(d.path(), c, 12, [](uint64_t) { return kBaseTimestampUs; }, [](uint64_t) { return kBaseTimestampUs; });
    const uint64_t end = f.log->high_watermark();
    const uint64_t new_start = f.bases[3];
    f.log.reset();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setenv("RUSTLOG_CRASH_POINT", point, 1);
      auto r = PartitionLog::open(d.path(), c, end);
      if (!r) ::_exit(2);
      auto del = (*r)->delete_oldest_segments(3);
      ::_exit(del ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    auto log = test::open_log(d.path(), c, 0);
    ASSERT_TRUE(log);
    // The checkpoint was written before the first crash point: the new log.
    EXPECT_EQ(log->log_start_offset(), new_start);
    EXPECT_EQ(log->high_watermark(), end);
    const std::string all = test::read_to_end(*log, new_start);
    uint64_t expect = new_start;
    for (const auto& b : test::split_batches(all)) {
      BatchHeader h;
      ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h), BatchError::kOk);
      EXPECT_EQ(h.base_offset, expect);
      expect = h.next_offset();
    }
    EXPECT_EQ(expect, end);
    for (const auto& e : fs::directory_iterator(d.path())) {
      const std::string n = e.path().filename().string();
      EXPECT_FALSE(n.ends_with(".deleted")) << n;
      if (auto b = Segment::parse_log_file_name(n)) {
        EXPECT_GE(*b, new_start) << n;
      }
    }
  }
}

TEST(RetentionTest, ACrashBeforeTheCheckpointKeepsTheOldLog) {
  test::TempDir d;
  LogConfig c = rolling_config();
  auto f = fill(d.path(), c, 12, [](uint64_t) { return kBaseTimestampUs; }, [](uint64_t) { return kBaseTimestampUs; });
  const uint64_t end = f.log->high_watermark();
  f.log.reset();
  // The checkpoint's temp file written but not renamed: garbage.
  std::ofstream(d.sub(std::string(kLogStartFile) + ".tmp")) << f.bases[3] << "\n";
  auto log = test::open_log(d.path(), c, 0);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->log_start_offset(), 0u);
  EXPECT_EQ(log->high_watermark(), end);
}

}  // namespace
}  // namespace rustlog
