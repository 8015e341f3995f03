// End to end: kill -9 during concurrent produce + commit load, 20 times on
// one data dir. After every restart each acknowledged record is present
// byte-identical at its acknowledged offset, and each acknowledged commit is
// present (>= the acknowledged value). See tests/support/crash_workload.h;
// tests/long/broker_crash_long_test.cpp runs 1,000 rounds.
#include <gtest/gtest.h>

#include "support/crash_workload.h"

namespace rustlog::test {
namespace {

TEST(BrokerCrashTest, AcknowledgedRecordsAndCommitsSurviveKill9) { run_crash_rounds(20, 20261126); }

}  // namespace
}  // namespace rustlog::test
