// End to end: the bound on heavy admin operations. A CreateTopic asking for
// more than --max-partitions is refused with 400 naming the flag (v0: 12) and
// counted; one at the maximum (1000 partitions, created and deleted within a
// loop turn each: docs/PERFORMANCE.md, "Topic metadata") is served while
// another client keeps pinging, and every one of that client's pings is
// answered. No wall-clock assertion: the stall is measured by the benchmark.
#include <gtest/gtest.h>

#include <atomic>
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

TEST(BrokerAdminLimitsTest, AnotherClientsPingsAreAllAnsweredAroundAThousandPartitionCreateAndDelete) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  auto admin = broker.connect();
  auto other = broker.connect();
  for (bool create : {true, false}) {
    SCOPED_TRACE(create ? "create" : "delete");
    std::atomic<bool> done{false};
    std::string failure;
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
    int answered = 0;
    bool ok = true;
    while (!done && ok) {
      ok = pings(other);
      EXPECT_TRUE(ok) << "ping " << answered << " was not answered";
      ++answered;
    }
    heavy.join();
    EXPECT_EQ(failure, "");
    ASSERT_TRUE(pings(other));
  }
  call_error(admin, DescribeTopicConfigRequest{"wide"});  // deleted
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace rustlog::test
