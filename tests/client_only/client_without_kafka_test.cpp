// A program linked with the RustLog client alone (rustlog_client, no
// rustlog_client_kafka, no librdkafka): kafka:// addresses fail with a 400
// that says how to get Kafka support, and RustLog addresses are unaffected.
#include <gtest/gtest.h>

#include "client/backend.h"
#include "client/consumer.h"
#include "client/producer.h"

namespace rustlog::client {
namespace {

TEST(ClientWithoutKafkaTest, KafkaAddressesSayHowToRebuild) {
  EXPECT_FALSE(kafka_supported());
  auto p = Producer::connect("kafka://127.0.0.1:9092");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().source(), ErrorSource::kClient);
  EXPECT_EQ(p.error().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(p.error().message().find("this build has no Kafka support; rebuild with -DRUSTLOG_WITH_KAFKA=ON"),
            std::string::npos)
      << p.error().message();
  auto c = Consumer::connect("kafka://127.0.0.1:9092", ConsumerOptions{});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(c.error().message().find("-DRUSTLOG_WITH_KAFKA=ON"), std::string::npos) << c.error().message();
  // A RustLog address still means RustLog (nothing listens on port 1: 503).
  auto r = Producer::connect("127.0.0.1:1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source(), ErrorSource::kTransport);
}

}  // namespace
}  // namespace rustlog::client
