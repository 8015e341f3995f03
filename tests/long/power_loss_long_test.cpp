// tests/unit/power_loss_test.cpp exhaustively: every crash state the model
// lists at every crash point of each workload, on longer runs (label `long`).
#include <gtest/gtest.h>

#include "support/power_loss_retention.h"
#include "support/power_loss_compaction.h"
#include "support/power_loss_compaction_appends.h"
#include "support/power_loss_workloads.h"

namespace rustlog::test {
namespace {

constexpr ExploreOptions kExhaustive{true, 1.0, 15};

TEST(PowerLossLongTest, AppendAndRoll) {
  AppendRollWorkload w(24);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, RecoveryPointCheckpoint) {
  CheckpointWorkload w(18);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, TopicCreateAndDelete) {
  TopicLifecycleWorkload w;
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, TopicCreateAndDeleteAcrossMetadataCompactions) {
  TopicLifecycleWorkload w(2);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, TopicCreateAndDeleteFromAnOldTopicsJson) {
  TopicLifecycleWorkload w(TopicMetadataLog::kMinCompactRecords, /*from_old_snapshot=*/true);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, OffsetCommit) {
  OffsetCommitWorkload w(20);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, RetentionDeletion) {
  RetentionDeleteWorkload w(14);
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, CompactionSwap) {
  CompactionSwapWorkload w;
  explore(w, kExhaustive);
}

TEST(PowerLossLongTest, CompactionPassesWithAppends) {
  CompactionWithAppendsWorkload w(6);
  explore(w, kExhaustive);
}

}  // namespace
}  // namespace rustlog::test
