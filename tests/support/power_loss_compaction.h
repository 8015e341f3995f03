#pragma once
// The compaction swap as a power-loss workload (support/crash_explorer.h):
// one cleaner pass replacing a group of segments by their cleaned version
// (support/compaction_swap_fixture.h). Whatever a power loss keeps of the
// recorded changes, the reopened log is entirely the old or entirely the new
// version, with no swap leftovers, and `rustlog verify` passes.
#include <string>

#include "support/compaction_swap_fixture.h"
#include "support/crash_explorer.h"
#include "support/power_loss_workloads.h"

namespace rustlog::test {

class CompactionSwapWorkload : public PowerLossWorkload {
 public:
  std::string name() const override { return "compaction swap"; }
  void setup(const std::string& root) override {
    versions_ = swap_versions(scratch_.sub("ref"));
    std::filesystem::create_directory(root + "/t-0");
    write_swap_log(root + "/t-0");
  }
  void run(const std::string& root, const std::function<void()>& ack) override {
    auto log = open_log(root + "/t-0", swap_clean_config(), 0);
    ASSERT_TRUE(log);
    ASSERT_TRUE(clean_swap_log(*log));
    ASSERT_TRUE(log->purge_deleted().is_ok());
    ack();  // the pass finished: from here only the new version may be seen
  }
  void check(const std::string& root, size_t acked) override {
    const std::string got = which_version(root + "/t-0", versions_);
    if (acked > 0) {
      EXPECT_EQ(got, "new");
    } else {
      EXPECT_TRUE(got == "old" || got == "new") << got;
    }
    expect_verify_clean(root, kSwapIndexInterval);
  }

 private:
  TempDir scratch_;
  SwapVersions versions_;
};

}  // namespace rustlog::test
