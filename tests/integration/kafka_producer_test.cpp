// The Producer's behaviour, written once and run on both systems it can
// talk to: a real kafka-lite ("host:port") and librdkafka's mock Kafka
// cluster ("kafka://host:port"). What is read back is read with each
// system's own tools. Built only with librdkafka.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "client/backend.h"
#include "client/partitioner.h"
#include "client/producer.h"
#include "support/client_backends.h"

namespace rustlog::test {
namespace {

using namespace std::chrono_literals;
using client::ErrorSource;
using client::Producer;
using client::ProducerOptions;
using client::RecordMetadata;
using protocol::ProducerRecord;

constexpr uint32_t kPartitions = 3;
constexpr int64_t kBaseTimeUs = 1'700'000'000'000'000;

// Record i: keys null / empty / "k<n>"; values null (a tombstone) / empty /
// "v<i>"; headers on some (one of them empty); a ms-exact timestamp on
// most, the producer's clock on every 5th.
ProducerRecord nth_record(int i) {
  ProducerRecord r;
  if (i % 4 == 1) r.key = "";
  else if (i % 4 != 0) r.key = "k" + std::to_string(i % 11);
  if (i % 10 == 1) r.value = "";
  else if (i % 10 != 0) r.value = "v" + std::to_string(i);
  if (i % 3 == 0) r.headers = {{"seq", std::to_string(i)}, {"empty", ""}};
  if (i % 5 != 0) r.timestamp_us = kBaseTimeUs + static_cast<int64_t>(i) * 1000;
  return r;
}

template <typename System>
class ProducerOnBothTest : public ::testing::Test {
 protected:
  Producer connect(ProducerOptions o = {}) {
    auto p = Producer::connect(sys_.address(), std::move(o));
    if (!p) throw std::runtime_error(p.error().to_string());
    return std::move(*p);
  }
  System sys_;
};

using Systems = ::testing::Types<RustLogSystem, KafkaSystem>;
TYPED_TEST_SUITE(ProducerOnBothTest, Systems, SystemName);

TYPED_TEST(ProducerOnBothTest, RecordsLandInSendOrderWithKeysHeadersTimestampsAndNullValues) {
  this->sys_.create_topic("orders", kPartitions);
  Producer p = this->connect();
  constexpr int kRecords = 300;
  std::vector<client::SendFuture> futures;
  for (int i = 0; i < kRecords; ++i) {
    ProducerRecord r = nth_record(i);
    // Unkeyed records name their partition; keyed ones go by the key hash.
    if (r.key) futures.push_back(p.send("orders", std::move(r)));
    else futures.push_back(p.send("orders", static_cast<uint32_t>(i % kPartitions), std::move(r)));
  }
  ASSERT_TRUE(p.flush(60s));
  std::map<uint32_t, std::vector<std::pair<int, RecordMetadata>>> sent;
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(futures[i].ready()) << i;
    auto md = futures[i].get();
    ASSERT_TRUE(md) << md.error().to_string();
    EXPECT_EQ(md->topic, "orders");
    const ProducerRecord want = nth_record(i);
    if (want.key) {
      EXPECT_EQ(md->partition, client::partition_for_key(*want.key, kPartitions)) << i;
    }
    if (want.timestamp_us >= 0) {
      EXPECT_EQ(md->timestamp_us, want.timestamp_us) << i;
    } else {
      EXPECT_GT(md->timestamp_us, kBaseTimeUs) << i;  // the clock's now
    }
    sent[md->partition].push_back({i, *md});
  }
  EXPECT_EQ(p.stats().records_acked, static_cast<uint64_t>(kRecords));
  EXPECT_EQ(p.stats().records_failed, 0u);

  PartitionRecords got = this->sys_.read_all("orders", kPartitions);
  for (uint32_t part = 0; part < kPartitions; ++part) {
    const auto& s = sent[part];
    const auto& g = got[part];
    ASSERT_EQ(g.size(), s.size()) << "partition " << part;
    for (size_t j = 0; j < s.size(); ++j) {
      const auto& [i, md] = s[j];
      const ProducerRecord want = nth_record(i);
      const std::string where = "record " + std::to_string(i) + " on partition " + std::to_string(part);
      EXPECT_EQ(g[j].offset, md.offset) << where;  // in send order, at the offset the future said
      EXPECT_EQ(g[j].key, want.key) << where;
      EXPECT_EQ(g[j].value, want.value) << where;  // null stays null, empty stays empty
      EXPECT_EQ(g[j].headers, want.headers) << where;
      // Kafka keeps ms: a producer-stamped time comes back at ms precision.
      EXPECT_EQ(g[j].timestamp_us / 1000, md.timestamp_us / 1000) << where;
    }
  }
}

TYPED_TEST(ProducerOnBothTest, CallbacksRunOncePerRecordInSendOrderPerPartition) {
  this->sys_.create_topic("t", kPartitions);
  ProducerOptions o;
  o.linger = 20ms;
  Producer p = this->connect(o);
  std::mutex mu;
  std::map<uint32_t, std::vector<uint64_t>> offsets;
  std::map<uint32_t, std::vector<int>> order;
  int failures = 0;
  for (int i = 0; i < 90; ++i)
    p.send("t", static_cast<uint32_t>(i % kPartitions), client::record("v" + std::to_string(i)),
           [&, i](const client::ClientResult<RecordMetadata>& md) {
             std::lock_guard lock(mu);
             if (!md) return void(++failures);
             offsets[md->partition].push_back(md->offset);
             order[md->partition].push_back(i);
           });
  ASSERT_TRUE(p.flush(60s));
  std::lock_guard lock(mu);
  EXPECT_EQ(failures, 0);
  for (uint32_t part = 0; part < kPartitions; ++part) {
    ASSERT_EQ(order[part].size(), 30u);
    for (size_t j = 0; j < 30; ++j) {
      EXPECT_EQ(order[part][j], static_cast<int>(j * kPartitions + part));
      EXPECT_EQ(offsets[part][j], j);
    }
  }
}

TYPED_TEST(ProducerOnBothTest, UnkeyedRecordsGoToPartitionZeroUnlessSticky) {
  this->sys_.create_topic("t", kPartitions);
  {
    Producer p = this->connect();
    for (int i = 0; i < 10; ++i) EXPECT_EQ(p.send("t", client::record("x")).get()->partition, 0u);
  }
  ProducerOptions o;
  o.unkeyed = client::UnkeyedPartitioning::kSticky;
  o.batch_bytes = 64;
  Producer p = this->connect(o);
  std::set<uint32_t> used;
  for (int i = 0; i < 60; ++i) used.insert(p.send("t", client::record(std::string(40, 'x'))).get()->partition);
  EXPECT_EQ(used.size(), kPartitions);  // spread over every partition
}

TYPED_TEST(ProducerOnBothTest, RefusedSendsFailAtOnceWithTheirReason) {
  this->sys_.create_topic("t", kPartitions);
  Producer p = this->connect();
  auto missing = p.send("missing", client::record("x"));
  ASSERT_TRUE(missing.ready());
  EXPECT_EQ(missing.get().error().code(), ErrorCode::kTopicNotFound);
  auto beyond = p.send("t", 7, client::record("x"));
  ASSERT_TRUE(beyond.ready());
  EXPECT_EQ(beyond.get().error().code(), ErrorCode::kPartitionNotFound);
  EXPECT_NE(beyond.get().error().message().find("3 partitions"), std::string::npos) << beyond.get().error().message();
  ASSERT_EQ(*p.partition_count("t"), kPartitions);
  EXPECT_FALSE(p.partition_count("missing"));

  ProducerOptions small;
  small.buffer_bytes = small.batch_bytes = 1024;
  Producer q = this->connect(small);
  auto big = q.send("t", 0, client::record(std::string(4096, 'x')));
  ASSERT_TRUE(big.ready());
  EXPECT_EQ(big.get().error().code(), ErrorCode::kTooLarge);

  p.close();
  auto closed = p.send("t", 0, client::record("x"));
  ASSERT_TRUE(closed.ready());
  EXPECT_EQ(closed.get().error().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(p.stats().records_failed, 3u);
}

TYPED_TEST(ProducerOnBothTest, FlushSendsWhatLingersAndCloseAnswersEverything) {
  this->sys_.create_topic("t", 1);
  ProducerOptions o;
  o.linger = 100s;  // flush and close must not wait for it
  Producer p = this->connect(o);
  auto first = p.send("t", 0, client::record("a"));
  ASSERT_TRUE(p.flush(120s));
  ASSERT_TRUE(first.ready());
  EXPECT_EQ(first.get()->offset, 0u);
  std::vector<client::SendFuture> rest;
  for (int i = 0; i < 20; ++i) rest.push_back(p.send("t", 0, client::record("b")));
  p.close(120s);
  for (size_t i = 0; i < rest.size(); ++i) {
    ASSERT_TRUE(rest[i].ready());
    EXPECT_EQ(rest[i].get()->offset, i + 1);
  }
  EXPECT_EQ(this->sys_.read_all("t", 1)[0].size(), 21u);
}

TYPED_TEST(ProducerOnBothTest, AnUnreachableAddressFailsAtConnectWithATransportError) {
  ProducerOptions o;
  o.client.connect_timeout = 2000ms;
  auto p = Producer::connect(TypeParam::unreachable_address(), o);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().source(), ErrorSource::kTransport) << p.error().to_string();
  EXPECT_EQ(p.error().code(), ErrorCode::kTransport) << p.error().to_string();
}

TYPED_TEST(ProducerOnBothTest, WhileTheSystemIsDownARecordFailsAfterDeliveryTimeout) {
  this->sys_.create_topic("t", 1);
  ProducerOptions o;
  o.delivery_timeout = 2000ms;
  o.client.connect_timeout = 1000ms;
  Producer p = this->connect(o);
  ASSERT_TRUE(p.send("t", 0, client::record("before")).get());
  this->sys_.go_down();
  auto later = p.send("t", 0, client::record("after"));
  ASSERT_TRUE(later.wait_for(120s));
  auto md = later.get();
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code(), ErrorCode::kTransport) << md.error().to_string();
  EXPECT_EQ(p.stats().records_failed, 1u);
  EXPECT_TRUE(p.flush(120s));  // nothing left unanswered
}

TEST(KafkaAddressTest, KafkaAddressesAreCheckedBeforeConnecting) {
  EXPECT_TRUE(client::is_kafka_address("kafka://k1:9092"));
  EXPECT_FALSE(client::is_kafka_address("127.0.0.1:9092"));
  EXPECT_EQ(*client::kafka_bootstrap_servers("kafka://k1:9093,k2,[::1]:9000"), "k1:9093,k2:9092,[::1]:9000");
  for (const char* bad : {"kafka://", "kafka://k1:9092,", "kafka://k1:x", "kafka://,k1"}) {
    auto b = client::kafka_bootstrap_servers(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code(), ErrorCode::kInvalidRequest);
    auto p = Producer::connect(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidRequest);
  }
  EXPECT_TRUE(client::kafka_supported());  // this test is linked with rustlog_client_kafka
}

}  // namespace
}  // namespace rustlog::test
