// Crash safety of compaction's swap (storage/segment_swap.h): an injected
// failure at every rename and fsync the swap makes (through the I/O seam),
// and kill -9 at every named crash point. Afterwards the log reopens as
// entirely the old or entirely the new version and `rustlog verify` passes.
// The power-loss explorer runs the same swap in power_loss_test.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "storage/fault_injection.h"
#include "storage/segment_swap.h"
#include "support/compaction_swap_fixture.h"
#include "support/power_loss_workloads.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;

// After a failed pass: the running log still reads as one of the versions
// (before the commit the old one; after it the old segments stay readable
// until a restart, the log refusing writes), the reopened one too, without
// leftovers, and verify passes. Returns which version it reopened as.
std::string expect_old_or_new(std::unique_ptr<PartitionLog>& log, const std::string& root, const std::string& dir,
                              const test::SwapVersions& v) {
  const auto live = test::keys_of(test::read_records(*log));
  EXPECT_TRUE(live == v.old_records || live == v.new_records);
  log.reset();
  const std::string got = test::which_version(dir, v);
  EXPECT_TRUE(got == "old" || got == "new") << got;
  test::expect_verify_clean(root, test::kSwapIndexInterval);
  return got;
}

TEST(CompactionSwapTest, AnInjectedFailureAtEveryRenameAndFsyncLeavesTheOldOrTheNewLog) {
  test::TempDir scratch;
  const test::SwapVersions v = test::swap_versions(scratch.sub("ref"));
  ASSERT_FALSE(v.new_records.empty());
  for (fault::Op op : {fault::Op::kSync, fault::Op::kRename, fault::Op::kWrite}) {
    int fired = 0, old_seen = 0, new_seen = 0;
    for (int skip = 0; skip < 200; ++skip) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " fails after " + std::to_string(skip) + " calls");
      test::TempDir d;
      const std::string dir = d.sub("t-0");
      fs::create_directories(dir);
      test::write_swap_log(dir);
      auto log = test::open_log(dir, test::swap_clean_config(), 0);
      ASSERT_TRUE(log);
      fault::arm(op, EIO, skip);
      LogCleaner cleaner;
      ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
      cleaner.run_until_idle(test::kSwapCleanUs);
      fault::disarm();
      const bool failed = cleaner.counters().uncleanable_events > 0;
      if (!failed) {
        EXPECT_EQ(test::keys_of(test::read_records(*log)), v.new_records);
        break;  // the pass got past every call the fault could hit
      }
      ++fired;
      EXPECT_EQ(cleaner.info("t-0", test::kSwapCleanUs)->state, CleanerState::kUncleanable);
      const std::string got = expect_old_or_new(log, d.path(), dir, v);
      old_seen += got == "old";
      new_seen += got == "new";
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(fired, 0);
    if (op == fault::Op::kRename) {
      // Renames fail both before the commit (old log) and after it (new log).
      EXPECT_GT(old_seen, 0);
      EXPECT_GT(new_seen, 0);
    }
  }
}

// The broker's way (hand_out_disk_waits): each swap fsync is handed out and
// its result brought back later. Failing the k-th one (without running it)
// at every k: before the commit the old log, after it the new one; while a
// swap's commit fsync is out, retention leaves the group's segments alone.
TEST(CompactionSwapTest, AFailedHandedOutFsyncLeavesTheOldOrTheNewLog) {
  test::TempDir scratch;
  const test::SwapVersions v = test::swap_versions(scratch.sub("ref"));
  ASSERT_FALSE(v.new_records.empty());
  int old_seen = 0, new_seen = 0, retention_tried = 0;
  for (int fail_at = 0;; ++fail_at) {
    SCOPED_TRACE("handed-out fsync " + std::to_string(fail_at) + " fails");
    test::TempDir d;
    const std::string dir = d.sub("t-0");
    fs::create_directories(dir);
    test::write_swap_log(dir);
    LogConfig cfg = test::swap_clean_config();
    cfg.retention_ms = 1;  // applied only below, where it must not touch a swap under way
    auto log = test::open_log(dir, cfg, 0);
    ASSERT_TRUE(log);
    LogCleaner cleaner({.hand_out_disk_waits = true});
    ASSERT_TRUE(cleaner.add_log("t-0", log.get()).is_ok());
    int waits = 0;
    bool failed = false;
    for (int guard = 0; guard < 100000; ++guard) {
      CleanerStep s = cleaner.step(1 << 20, test::kSwapCleanUs);
      while (s.disk_wait) {
        ASSERT_TRUE(cleaner.waiting_for_disk());
        EXPECT_TRUE(cleaner.step(1 << 20, test::kSwapCleanUs).bytes == 0) << "no step while a wait is out";
        if (log->swap_base() == log->segments().front()->base_offset()) {
          ++retention_tried;
          const size_t before = log->segment_count();
          EXPECT_TRUE(log->apply_retention(test::kSwapCleanUs + (1ll << 50)).is_ok());
          EXPECT_EQ(log->segment_count(), before) << "retention took a segment of the swap under way";
        }
        const Status result = waits++ == fail_at ? Status(ErrorCode::kStorageError, "injected") : (*s.disk_wait)();
        failed = failed || !result;
        s = cleaner.disk_wait_done(result, test::kSwapCleanUs);
      }
      if (s.idle) break;
    }
    EXPECT_FALSE(cleaner.waiting_for_disk());
    if (!failed) {
      EXPECT_EQ(test::keys_of(test::read_records(*log)), v.new_records);
      EXPECT_GT(fail_at, 2) << "a pass hands out three fsyncs per group";
      break;
    }
    EXPECT_EQ(cleaner.counters().uncleanable_events, 1u);
    const std::string got = expect_old_or_new(log, d.path(), dir, v);
    old_seen += got == "old";
    new_seen += got == "new";
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(old_seen, 0);
  EXPECT_GT(new_seen, 0);
  EXPECT_GT(retention_tried, 0);
}

TEST(CompactionSwapTest, KillNineAtEverySwapStep) {
  test::TempDir scratch;
  const test::SwapVersions v = test::swap_versions(scratch.sub("ref"));
  const std::pair<const char*, const char*> points[] = {
      {"compaction.after_cleaned", "old"},          {"compaction.after_swap", "new"},
      {"compaction.after_originals_deleted", "new"}, {"compaction.after_rename", "new"},
      {"compaction.after_dir_sync", "new"}};
  for (const auto& [point, expected] : points) {
    SCOPED_TRACE(point);
    test::TempDir d;
    const std::string dir = d.sub("t-0");
    fs::create_directories(dir);
    test::write_swap_log(dir);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setenv("RUSTLOG_CRASH_POINT", point, 1);
      auto r = PartitionLog::open(dir, test::swap_clean_config(), 0);
      if (!r) ::_exit(2);
      ::_exit(test::clean_swap_log(**r) ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    EXPECT_EQ(test::which_version(dir, v), expected);
    test::expect_verify_clean(d.path(), test::kSwapIndexInterval);
  }
}

TEST(CompactionSwapTest, OpenFinishesACommittedSwapAndUndoesAnUncommittedOne) {
  test::TempDir d;
  const std::string dir = d.sub("t-0");
  fs::create_directories(dir);
  // Leftovers no swap commits: stray .cleaned files and index .swap files
  // without their log.
  test::write_bytes(dir + "/00000000000000000000.log.cleaned", "x");
  test::write_bytes(dir + "/00000000000000000000.index.swap", "y");
  SwapRecovery r;
  ASSERT_TRUE(finish_interrupted_swaps(dir, &r).is_ok());
  EXPECT_EQ(r.undone, 1);
  EXPECT_EQ(r.finished, 0);
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
}  // namespace rustlog
