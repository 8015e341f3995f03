// End to end: no client can exhaust the broker. Each hostile load of
// tests/support/hostile_load.h, scaled down for the default suite (the full
// sizes run under the `long` label: tests/long/broker_limits_long_test.cpp).
#include "support/hostile_load.h"

namespace rustlog::test {
namespace {

TEST(BrokerLimitsTest, PipelinedFetchFloodStaysWithinTheOutputBudget) { fetch_flood(4, 60, 16); }
TEST(BrokerLimitsTest, PipelinedFetchExFloodIsAnsweredInSlicesWhileOthersAreServed) { fetch_ex_flood(6, 60, 16); }
TEST(BrokerLimitsTest, ParallelDrainsShareEachTurnsSendsAndOthersAreServed) { parallel_drains(3, 24, 24); }
TEST(BrokerLimitsTest, LongPollFloodParksAtMostTheLimitAndStopsPromptly) { long_poll_flood(4, 500); }
TEST(BrokerLimitsTest, StalledPartialFramesAreBoundedAndTimedOut) { partial_frames(12, 32); }
TEST(BrokerLimitsTest, PipelinedProduceFloodDoesNotHoldUpOthers) { produce_flood(20000); }
TEST(BrokerLimitsTest, ClientsThatDoNotReadDoNotDelayTheStop) { non_readers_at_stop(8); }

}  // namespace
}  // namespace rustlog::test
