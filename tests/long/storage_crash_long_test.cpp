// The kill -9 test of tests/unit/crash_test.cpp, 500 rounds (label `long`,
// not run by default in CI).
#include <gtest/gtest.h>

#include "support/crash_harness.h"

namespace rustlog {
namespace {

TEST(StorageCrashLongTest, FiveHundredKills) {
  test::run_crash_rounds(/*seed=*/700, /*rounds=*/500, /*max_sleep_ms=*/60);
}

}  // namespace
}  // namespace rustlog
