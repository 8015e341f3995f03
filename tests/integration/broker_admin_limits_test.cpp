// End to end: the bound on heavy admin operations. A CreateTopic asking for
// more than --max-partitions is refused with 400 naming the flag (v0: 12) and
// counted. One at the maximum (1000 partitions) is done in bounded steps, one
// per loop turn (broker_admin_jobs.cpp): another client pinging meanwhile is
// answered many times before the create's or the delete's answer arrives
// (done in one turn, as before the steps, it would get one answer at most),
// and the test prints how long each took and the longest ping. A connection
// that pipelines a request behind a create sees the topic; a stop during a
// create finishes it first.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

TEST(BrokerAdminLimitsTest, MorePartitionsThanTheMaximumAreRefusedNamingTheFlagAndCounted) {
  BrokerProcess broker({"--metrics-listen", "off", "--max-partitions", "64"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  auto e = call_error(c, CreateTopicExRequest{"wide", 65, {}});
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(has_substr(e.message, "partition count 65 is out of range: use 1..64 (the broker's --max-partitions)"));
  call_error(c, DescribeTopicConfigRequest{"wide"});  // nothing was created
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"edge", 64, {}});
  EXPECT_EQ(metric(c, "rustlog_topic_partition_limit_refusals_total"), 1);
  EXPECT_EQ(broker.stop(), 0);
}

TEST(BrokerAdminLimitsTest, AnotherClientsPingsAreAnsweredBetweenTheStepsOfAThousandPartitionCreateAndDelete) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  auto admin = broker.connect(scaled(std::chrono::seconds(120)));
  auto other = broker.connect();
  for (bool create : {true, false}) {
    SCOPED_TRACE(create ? "create" : "delete");
    std::atomic<bool> done{false};
    std::string failure;
    const auto t0 = std::chrono::steady_clock::now();
    std::thread heavy([&] {
      try {
        if (create)
          call<CreateTopicExResponse>(admin, CreateTopicExRequest{"wide", 1000, {}});
        else
          call<DeleteTopicResponse>(admin, DeleteTopicRequest{"wide"});
      } catch (const std::exception& ex) {
        failure = ex.what();
      }
      done = true;
    });
    int answered = 0;  // while the create or delete was under way
    std::chrono::steady_clock::duration longest{};
    bool ok = true;
    while (!done && ok) {
      const auto p0 = std::chrono::steady_clock::now();
      ok = pings(other);
      EXPECT_TRUE(ok) << "ping " << answered << " was not answered";
      if (!done) {
        ++answered;
        longest = std::max(longest, std::chrono::steady_clock::now() - p0);
      }
    }
    heavy.join();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(failure, "");
    ASSERT_TRUE(pings(other));
    std::printf("1000-partition %s: %lld ms; %d pings answered meanwhile, the longest %.2f ms\n",
                create ? "create" : "delete",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()), answered,
                std::chrono::duration<double, std::milli>(longest).count());
    // Thousands of fsyncs in steps of --max-turn-us (100 µs, at least one
    // unit): hundreds of turns, each serving the pinging connection.
    EXPECT_GE(answered, 20) << "the other client was not served between the steps";
  }
  EXPECT_GE(metric(other, "rustlog_admin_steps_total"), 1000.0);
  call_error(admin, DescribeTopicConfigRequest{"wide"});  // deleted
  EXPECT_EQ(broker.stop(), 0);
}

TEST(BrokerAdminLimitsTest, ARequestPipelinedBehindACreateOnItsConnectionSeesTheTopic) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  ASSERT_TRUE(c.send(CreateTopicExRequest{"piped", 200, {}}).is_ok());
  ASSERT_TRUE(c.send(ProduceExRequest{"piped", 199, kBrokerTimestamp, {ProducerRecord{kBrokerTimestamp, "k", "v", {}}}}).is_ok());
  ASSERT_TRUE(c.send(DeleteTopicRequest{"piped"}).is_ok());
  ASSERT_TRUE(c.send(DescribeTopicConfigRequest{"piped"}).is_ok());
  as<CreateTopicExResponse>(c.receive(), "create");
  EXPECT_EQ(as<ProduceExResponse>(c.receive(), "produce").base_offset, 0u);
  as<DeleteTopicResponse>(c.receive(), "delete");
  auto gone = c.receive();
  ASSERT_TRUE(gone.is_ok());
  ASSERT_TRUE(std::holds_alternative<ErrorResponse>(*gone)) << describe(*gone);
  EXPECT_EQ(std::get<ErrorResponse>(*gone).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(broker.stop(), 0);
}

TEST(BrokerAdminLimitsTest, AStopDuringACreateFinishesItAnswersItAndTheTopicIsThereAfterARestart) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  auto admin = broker.connect(scaled(std::chrono::seconds(120)));
  auto other = broker.connect();
  ASSERT_TRUE(admin.send(CreateTopicExRequest{"wide", 1000, {}}).is_ok());
  while (metric(other, "rustlog_admin_steps_total") < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(broker.stop(scaled(std::chrono::seconds(120))), 0);
  as<CreateTopicExResponse>(admin.receive(), "the create under way at the stop");
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_EQ(call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"wide"}).partition_count, 1000u);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace rustlog::test
