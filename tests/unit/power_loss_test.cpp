// Every crash point of the storage write paths under a power-loss model
// (support/crash_explorer.h, support/fs_model.h): at each prefix of the
// recorded file-system changes, the states a power loss could leave are
// rebuilt, reopened and checked (support/power_loss_workloads.h). Here a
// seeded sample of the states at each crash point;
// tests/long/power_loss_long_test.cpp checks all of them.
#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "storage/file.h"
#include "support/power_loss_retention.h"
#include "support/power_loss_compaction.h"
#include "support/power_loss_compaction_appends.h"
#include "support/power_loss_workloads.h"

namespace rustlog::test {
namespace {

constexpr ExploreOptions kSampled{false, 0.2, 15};

// A write path that skips the data fsync before its rename: the explorer
// must find the crash state where the new name holds lost data.
class RenameWithoutFsyncWorkload : public PowerLossWorkload {
 public:
  std::string name() const override { return "rename without fsync (broken on purpose)"; }
  void setup(const std::string& root) override { write_bytes(root + "/meta", "old contents\n"); }
  void run(const std::string& root, const std::function<void()>& ack) override {
    auto f = File::open(root + "/meta.tmp", O_WRONLY | O_CREAT | O_TRUNC);
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(f->write_all("new contents\n").is_ok());
    f->close();
    ASSERT_TRUE(rename_path(root + "/meta.tmp", root + "/meta").is_ok());
    ASSERT_TRUE(fsync_dir(root).is_ok());
    ack();
  }
  void check(const std::string& root, size_t acked) override {
    const std::string got = read_bytes(root + "/meta");
    EXPECT_TRUE(got == "new contents\n" || (acked == 0 && got == "old contents\n")) << "meta holds '" << got << "'";
  }
};

TEST(PowerLossTest, TheModelCatchesARenameWhoseDataWasNeverSynced) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter capture(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    RenameWithoutFsyncWorkload w;
    explore(w, ExploreOptions{true, 1.0, 1});
  }
  ASSERT_GT(failures.size(), 0) << "the explorer missed a lost write behind a durable rename";
  EXPECT_NE(std::string(failures.GetTestPartResult(0).message()).find("meta holds"), std::string::npos)
      << failures.GetTestPartResult(0).message();
}

TEST(PowerLossTest, AppendAndRoll) {
  AppendRollWorkload w(12);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 150u);
}

TEST(PowerLossTest, RecoveryPointCheckpoint) {
  CheckpointWorkload w(9);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 150u);
}

TEST(PowerLossTest, TopicCreateAndDelete) {
  TopicLifecycleWorkload w;
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 60u);
}

// topics.log compacted into topics.json every second record: crashes inside
// compactions (snapshot renamed, log not yet replaced) and between them.
TEST(PowerLossTest, TopicCreateAndDeleteAcrossMetadataCompactions) {
  TopicLifecycleWorkload w(2);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 60u);
}

// The first start on a topics.json written before topics.log existed.
TEST(PowerLossTest, TopicCreateAndDeleteFromAnOldTopicsJson) {
  TopicLifecycleWorkload w(TopicMetadataLog::kMinCompactRecords, /*from_old_snapshot=*/true);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 60u);
}

TEST(PowerLossTest, OffsetCommit) {
  OffsetCommitWorkload w(10);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 40u);
}

TEST(PowerLossTest, RetentionDeletion) {
  RetentionDeleteWorkload w(6);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 60u);
}

TEST(PowerLossTest, CompactionSwap) {
  CompactionSwapWorkload w;
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 40u);
}

TEST(PowerLossTest, CompactionPassesWithAppends) {
  CompactionWithAppendsWorkload w(3);
  auto s = explore(w, kSampled);
  EXPECT_GT(s.checked, 60u);
}

}  // namespace
}  // namespace rustlog::test
