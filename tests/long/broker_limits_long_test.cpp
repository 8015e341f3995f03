// The hostile loads of tests/support/hostile_load.h at the sizes that used
// to exhaust the broker (the default suite runs them scaled down:
// tests/integration/broker_limits_test.cpp).
#include "support/hostile_load.h"

namespace rustlog::test {
namespace {

TEST(BrokerLimitsLongTest, PipelinedFetchFloodStaysWithinTheOutputBudget) { fetch_flood(30, 500, 64); }
TEST(BrokerLimitsLongTest, PipelinedFetchExFloodIsAnsweredInSlicesWhileOthersAreServed) {
  fetch_ex_flood(30, 2000, 64);
}
TEST(BrokerLimitsLongTest, LongPollFloodParksAtMostTheLimitAndStopsPromptly) { long_poll_flood(10, 5000); }
TEST(BrokerLimitsLongTest, StalledPartialFramesAreBoundedAndTimedOut) { partial_frames(150, 128); }
TEST(BrokerLimitsLongTest, PipelinedProduceFloodDoesNotHoldUpOthers) { produce_flood(139810); }
TEST(BrokerLimitsLongTest, ClientsThatDoNotReadDoNotDelayTheStop) { non_readers_at_stop(30); }

}  // namespace
}  // namespace rustlog::test
