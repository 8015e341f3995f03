// End to end: retention in a real kafka-lite (size and time, applied by the
// loop's tick), reading below the log start in both protocols, the client
// Consumer's auto_offset_reset, and produce refusals of compacted topics.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "client/consumer.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

class BrokerRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    conn_.emplace(broker_.connect());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  client::Connection& c() { return *conn_; }
  void create(const std::string& topic, std::vector<ConfigEntry> configs) {
    call<CreateTopicExResponse>(c(), CreateTopicExRequest{topic, 1, std::move(configs)}, topic);
  }
  void produce(const std::string& topic, int n) {
    for (int i = 0; i < n; ++i)
      call<ProduceExResponse>(c(), ProduceExRequest{topic, 0, kBrokerTimestamp,
                                                     {ProducerRecord{-1, "k" + std::to_string(i),
                                                                     std::string(300, 'v'), {}}}});
  }
  uint64_t earliest(const std::string& topic) {
    return call<ListOffsetsResponse>(c(), ListOffsetsRequest{topic, 0, kListOffsetsEarliest}).offset;
  }
  // Polls until the log start moves past 0 (retention ran).
  uint64_t wait_for_log_start(const std::string& topic) {
    const auto deadline = std::chrono::steady_clock::now() + scaled(30s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (uint64_t s = earliest(topic); s > 0) return s;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "retention never moved the log start of " << topic;
    return 0;
  }

  BrokerProcess broker_{{"--metrics-listen", "off", "--retention-check-interval-ms", "50"}};
  std::optional<client::Connection> conn_;
  std::string addr_;
};

TEST_F(BrokerRetentionTest, SizeRetentionAndReadsBelowTheLogStart) {
  create("t", {{"segment.bytes", "1024"}, {"retention.bytes", "2048"}});
  produce("t", 40);
  // Retention may have run while the produces went on: wait for the pass
  // after the last one (the log within retention.bytes plus one segment).
  // Settled = the same log start over four looks 500 ms apart: 40 check
  // intervals, so a loop slowed by a loaded machine has run its pass too.
  DescribeTopicConfigResponse cfg;
  uint64_t seen = UINT64_MAX;
  int same = 0;
  const auto deadline = std::chrono::steady_clock::now() + scaled(30s);
  do {
    cfg = call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"t"});
    ASSERT_EQ(cfg.partitions.size(), 1u);
    same = cfg.partitions[0].log_start_offset == seen ? same + 1 : 0;
    if (cfg.partitions[0].size_bytes < 2048u + 1024u && same >= 3) break;
    seen = cfg.partitions[0].log_start_offset;
    std::this_thread::sleep_for(500ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_LT(cfg.partitions[0].size_bytes, 2048u + 1024u);
  EXPECT_GE(cfg.partitions[0].size_bytes, 2048u);
  const uint64_t start = cfg.partitions[0].log_start_offset;
  ASSERT_GT(start, 0u);
  EXPECT_EQ(earliest("t"), start);

  // FetchEx below the log start: 416 naming the valid range.
  auto e = call_error(c(), FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  EXPECT_EQ(e.code, ErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(has_substr(e.message, std::to_string(start) + ".."));
  // v0 Fetch below the log start: no records, next_offset = the log start.
  auto v0 = call<FetchResponse>(c(), FetchRequest{"", "t", 0, 0, 1 << 20});
  EXPECT_TRUE(v0.records.empty());
  EXPECT_EQ(v0.next_offset, start);
  // ... and from there on it reads.
  auto next = call<FetchResponse>(c(), FetchRequest{"", "t", 0, v0.next_offset, 1 << 20});
  EXPECT_FALSE(next.records.empty());
  auto ex = call<FetchExResponse>(c(), FetchExRequest{"t", 0, start, 1 << 20, 0, 0});
  ASSERT_FALSE(ex.records.empty());
  EXPECT_EQ(ex.records.front().offset, start);
  EXPECT_EQ(ex.log_start_offset, start);

  // The client Consumer positioned below the log start, with each reset policy.
  for (auto reset : {client::OffsetReset::kEarliest, client::OffsetReset::kLatest, client::OffsetReset::kNone}) {
    SCOPED_TRACE(client::offset_reset_name(reset));
    client::ConsumerOptions o;
    o.auto_offset_reset = reset;
    o.max_wait = 10ms;
    auto consumer = client::Consumer::connect(addr_, o);
    ASSERT_TRUE(consumer);
    ASSERT_TRUE(consumer->assign("t", {0}));
    ASSERT_TRUE(consumer->seek(0, 0));
    auto recs = consumer->poll(500ms);
    // Under load a poll may end before the records arrive: poll again.
    const auto until = std::chrono::steady_clock::now() + scaled(20s);
    while (reset == client::OffsetReset::kEarliest && recs && recs->empty() &&
           std::chrono::steady_clock::now() < until)
      recs = consumer->poll(500ms);
    if (reset == client::OffsetReset::kNone) {
      ASSERT_FALSE(recs);
      EXPECT_EQ(recs.error().code(), ErrorCode::kOffsetOutOfRange);
    } else if (reset == client::OffsetReset::kEarliest) {
      ASSERT_TRUE(recs) << recs.error().to_string();
      ASSERT_FALSE(recs->empty());
      EXPECT_EQ(recs->front().offset, start);
    } else {
      ASSERT_TRUE(recs) << recs.error().to_string();
      EXPECT_TRUE(recs->empty());
      EXPECT_EQ(consumer->position(0), std::optional<uint64_t>(40));
    }
  }
}

TEST_F(BrokerRetentionTest, TimeRetentionExpiresAQuietTopicThroughTimeBasedRolls) {
  // No append after the first ones: the loop's tick rolls (segment.ms) and
  // then expires (retention.ms) the whole log.
  create("quiet", {{"segment.ms", "200"}, {"retention.ms", "300"}});
  produce("quiet", 5);
  const uint64_t start = wait_for_log_start("quiet");
  EXPECT_EQ(start, 5u);
  auto ex = call<FetchExResponse>(c(), FetchExRequest{"quiet", 0, 5, 1 << 20, 0, 0});
  EXPECT_TRUE(ex.records.empty());
  EXPECT_EQ(ex.high_watermark, 5u);
  // It survives a restart: the log start is checkpointed.
  conn_.reset();
  EXPECT_EQ(broker_.stop(), 0);
  ASSERT_TRUE(broker_.start());
  conn_.emplace(broker_.connect());
  EXPECT_EQ(earliest("quiet"), 5u);
}

TEST_F(BrokerRetentionTest, CompactedTopicsRefuseKeylessRecords) {
  create("c", {{"cleanup.policy", "compact"}});
  auto e = call_error(c(), ProduceExRequest{"c", 0, kBrokerTimestamp, {ProducerRecord{-1, std::nullopt, "v", {}}}});
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(has_substr(e.message, "needs a key"));
  auto legacy = call_error(c(), ProduceRequest{"c", 0, {"v"}});
  EXPECT_EQ(legacy.code, v0(V0Code::kMalformedRequest));
  // Keyed records and tombstones are accepted.
  call<ProduceExResponse>(c(), ProduceExRequest{"c", 0, kBrokerTimestamp,
                                                 {ProducerRecord{-1, "k", "v", {}}, ProducerRecord{-1, "k", std::nullopt, {}}}});
  // The compaction keys are accepted, shown, and checked.
  create("c2", {{"cleanup.policy", "compact,delete"}, {"min.cleanable.dirty.ratio", "0.25"},
                {"delete.retention.ms", "1000"}, {"min.compaction.lag.ms", "5"}, {"max.compaction.lag.ms", "60000"}});
  const auto cfg = call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"c2"});
  auto value = [&](const std::string& k) {
    for (const auto& entry : cfg.configs)
      if (entry.key == k) return entry.value;
    return std::string("<missing>");
  };
  EXPECT_EQ(value("min.cleanable.dirty.ratio"), "0.25");
  EXPECT_EQ(value("delete.retention.ms"), "1000");
  EXPECT_EQ(value("min.compaction.lag.ms"), "5");
  EXPECT_EQ(value("max.compaction.lag.ms"), "60000");
  auto bad = call_error(c(), CreateTopicExRequest{"c3", 1, {{"min.cleanable.dirty.ratio", "2"}}});
  EXPECT_EQ(bad.code, ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace rustlog::test
