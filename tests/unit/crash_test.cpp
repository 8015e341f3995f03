// kill -9 while appending with flush `always`: every acknowledged batch
// survives byte-identical (see support/crash_harness.h). A few rounds here;
// tests/long/storage_crash_long_test.cpp runs hundreds.
#include <gtest/gtest.h>

#include "support/crash_harness.h"

namespace rustlog {
namespace {

TEST(CrashTest, KillNineNeverLosesAnAcknowledgedBatch) {
  test::run_crash_rounds(/*seed=*/600, /*rounds=*/20, /*max_sleep_ms=*/100);
}

TEST(CrashTest, KillNineDuringStartupAndRecovery) {
  // Short lives: many kills land while the child opens and recovers the log.
  test::run_crash_rounds(/*seed=*/601, /*rounds=*/20, /*max_sleep_ms=*/4);
}

}  // namespace
}  // namespace rustlog
