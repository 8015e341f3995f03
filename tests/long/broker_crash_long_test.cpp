// The long version of broker_crash_test: 1,000 rounds of kill -9 under
// concurrent produce + commit load on one data dir, every acknowledgement
// checked after every restart (label "long": not in the default suite).
#include <gtest/gtest.h>

#include "support/crash_workload.h"

namespace rustlog::test {
namespace {

TEST(BrokerCrashLongTest, AcknowledgedRecordsAndCommitsSurviveAThousandKill9s) { run_crash_rounds(1000, 4242); }

}  // namespace
}  // namespace rustlog::test
