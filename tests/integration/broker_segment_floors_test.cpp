// End to end: the floors on segment.bytes and segment.ms. A real kafka-lite
// with its default floors refuses a topic below them (through the protocol
// and through `rustlog topic create`), with a message naming the key, the
// value, the floor and the flag that lowers it; accepts one exactly at the
// floor; refuses to start with broker defaults below the floors; and
// --min-segment-bytes / --min-segment-ms lower them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(BrokerSegmentFloorsTest, BelowTheDefaultFloorsCreateTopicIsRefusedWith400NamingTheFloor) {
  BrokerProcess broker({"--metrics-listen", "off"});
  broker.use_production_segment_floors();
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  auto e = call_error(c, CreateTopicExRequest{"tiny", 1, {{"segment.bytes", "1024"}}});
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(has(e.message, "segment.bytes 1024 is below the broker's floor of 1048576")) << e.message;
  EXPECT_TRUE(has(e.message, "--min-segment-bytes 1024")) << e.message;
  e = call_error(c, CreateTopicExRequest{"fast", 1, {{"segment.ms", "1"}}});
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(has(e.message, "segment.ms 1 is below the broker's floor of 60000")) << e.message;
  EXPECT_TRUE(has(e.message, "--min-segment-ms 1")) << e.message;
  // Nothing was created.
  call_error(c, DescribeTopicConfigRequest{"tiny"});
  call_error(c, DescribeTopicConfigRequest{"fast"});
  // Exactly at the floors is fine.
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"edge", 1, {{"segment.bytes", "1048576"}, {"segment.ms", "60000"}}});

  // The CLI says the same, on one line, and exits 1.
  RunResult r = run_program({bin("rustlog"), "topic", "create", "tiny", "--config", "segment.bytes=4096"},
                            {.env = {{"RUSTLOG_BROKER", "127.0.0.1:" + std::to_string(broker.port())}}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(has(r.err, "segment.bytes 4096 is below the broker's floor of 1048576")) << r.err;
  EXPECT_TRUE(has(r.err, "--min-segment-bytes 4096")) << r.err;
  EXPECT_TRUE(has(r.err, "400")) << r.err;
  // Each refusal is counted.
  EXPECT_EQ(metric(c, "rustlog_topic_segment_floor_refusals_total"), 3);
  EXPECT_EQ(broker.stop(), 0);
}

TEST(BrokerSegmentFloorsTest, LoweredFloorsAcceptTinySegments) {
  BrokerProcess broker({"--metrics-listen", "off", "--min-segment-bytes", "2048", "--min-segment-ms", "10"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"small", 1, {{"segment.bytes", "2048"}, {"segment.ms", "10"}}});
  auto e = call_error(c, CreateTopicExRequest{"smaller", 1, {{"segment.bytes", "2047"}}});
  EXPECT_TRUE(has(e.message, "floor of 2048")) << e.message;
  EXPECT_EQ(broker.stop(), 0);
}

TEST(BrokerSegmentFloorsTest, BrokerDefaultsBelowTheFloorsAreRefusedAtStart) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--segment-bytes", "4096"}, std::vector<std::string>{"--segment-ms", "500"}}) {
    BrokerProcess broker(args);
    broker.use_production_segment_floors();
    EXPECT_FALSE(broker.start());
    ASSERT_TRUE(broker.exit_code().has_value());
    EXPECT_EQ(*broker.exit_code(), 2);  // a bad configuration
    EXPECT_TRUE(has(broker.log(), args[0] == "--segment-bytes" ? "--segment-bytes 4096 is below --min-segment-bytes 1048576"
                                                               : "--segment-ms 500 is below --min-segment-ms 60000"))
        << broker.log_tail();
  }
}

}  // namespace
}  // namespace rustlog::test
