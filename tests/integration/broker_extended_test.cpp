// End to end: the extended request set (0x10 and up, docs/PROTOCOL.md) against
// a real kafka-lite process: Handshake, ProduceEx/FetchEx with keys, null
// values, headers and timestamps, long-poll fetches, ListOffsets, topic admin
// with configs, and consumer-group admin.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

class BrokerExtendedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    conn_.emplace(broker_.connect());
  }

  client::Connection& c() { return *conn_; }

  void create(const std::string& topic, uint32_t partitions, std::vector<ConfigEntry> configs = {}) {
    call<CreateTopicExResponse>(c(), CreateTopicExRequest{topic, partitions, std::move(configs)}, topic);
  }
  ProduceExResponse produce(const std::string& topic, uint32_t partition, std::vector<ProducerRecord> recs,
                            int64_t batch_ts = kBrokerTimestamp) {
    return call<ProduceExResponse>(c(), ProduceExRequest{topic, partition, batch_ts, std::move(recs)});
  }
  uint64_t produce_values(const std::string& topic, uint32_t partition, int n) {
    std::vector<ProducerRecord> recs;
    for (int i = 0; i < n; ++i) recs.push_back(ProducerRecord{-1, std::nullopt, "v" + std::to_string(i), {}});
    return produce(topic, partition, std::move(recs)).base_offset;
  }
  FetchExResponse fetch(const std::string& topic, uint32_t partition, uint64_t offset, uint32_t max_bytes = 1 << 20) {
    return call<FetchExResponse>(c(), FetchExRequest{topic, partition, offset, max_bytes, 0, 0});
  }
  void commit(const std::string& group, const std::string& topic, uint32_t partition, uint64_t offset) {
    EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{group, topic, partition, offset}).success);
  }

  BrokerProcess broker_;
  std::optional<client::Connection> conn_;
};

// ------------------------------------------------------------------ Handshake

TEST_F(BrokerExtendedTest, HandshakeReportsVersionFrameLimitAndEveryRequestType) {
  auto h = call<HandshakeResponse>(c(), HandshakeRequest{"it-test/1"});
  EXPECT_FALSE(h.server_version.empty());
  EXPECT_EQ(h.max_frame_bytes, kDefaultMaxFrameBytes);
  auto types = supported_request_types();
  EXPECT_EQ(h.supported_types, std::vector<MessageType>(types.begin(), types.end()));
  EXPECT_EQ(h.supported_types.size(), 21u);  // 0x01-0x09, 0x10-0x1A, 0xFF
  EXPECT_TRUE(pings(c()));  // v0 and extended requests mix on one connection
}

TEST(BrokerExtendedHandshakeTest, HandshakeReportsTheConfiguredFrameLimit) {
  BrokerProcess broker({"--max-frame-bytes", "65536"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_EQ(call<HandshakeResponse>(c, HandshakeRequest{""}).max_frame_bytes, 65536u);
}

// A consumer asking for "as much as you have" (max_bytes far above the
// frame limit) gets data, not 413: the broker caps the read to what fits.
TEST(BrokerExtendedHandshakeTest, FetchesAskingForMoreThanAFrameAreAnsweredWithWhatFits) {
  BrokerProcess broker({"--max-frame-bytes", "65536"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicResponse>(c, CreateTopicRequest{"big", 1});
  for (int i = 0; i < 20; ++i) {  // 20 x 10 KiB: three frames' worth
    std::vector<ProducerRecord> recs;
    for (int k = 0; k < 10; ++k) recs.push_back({-1, std::nullopt, std::string(1000, 'a' + k), {}});
    call<ProduceExResponse>(c, ProduceExRequest{"big", 0, -1, std::move(recs)});
    call<ProduceResponse>(c, ProduceRequest{"big", 0, {std::string(900, 'v')}});
  }
  auto f = call<FetchExResponse>(c, FetchExRequest{"big", 0, 0, 0xFFFFFFFFu, 0, 0});
  ASSERT_FALSE(f.records.empty());
  EXPECT_EQ(f.records.front().offset, 0u);
  EXPECT_LT(f.records.size(), 220u);
  auto v0 = call<FetchResponse>(c, FetchRequest{"", "big", 0, 0, 0xFFFFFFFFu});
  ASSERT_FALSE(v0.records.empty());
  EXPECT_LT(v0.records.size(), 220u);
  EXPECT_EQ(v0.next_offset, v0.records.size());
}

// --------------------------------------------------------- ProduceEx/FetchEx

TEST_F(BrokerExtendedTest, ProduceExAndFetchExRoundTripKeysNullsHeadersAndTimestamps) {
  create("t", 2);
  const std::string bin("\0\xff\x01", 3);
  std::vector<ProducerRecord> recs = {
      {-1, "k1", "v1", {{"trace", "abc"}, {"empty", ""}, {"bin", bin}}},  // batch timestamp
      {1'000'000, std::nullopt, "no key", {}},                          // own timestamp
      {-1, "k3", std::nullopt, {}},                                     // tombstone
      {-1, "", "", {}},                                                 // empty, not null
      {0, bin, std::string(70'000, 'z'), {{"h", std::string(300, 'x')}}},
  };
  const int64_t batch_ts = 1'600'000'000'000'000;
  const int64_t before = wall_us();
  auto p = produce("t", 1, recs, batch_ts);
  const int64_t after = wall_us();
  EXPECT_EQ(p.base_offset, 0u);
  EXPECT_EQ(p.record_count, 5u);
  EXPECT_GE(p.append_time_us, before - 1'000'000);
  EXPECT_LE(p.append_time_us, after + 1'000'000);

  auto f = fetch("t", 1, 0);
  EXPECT_EQ(f.high_watermark, 5u);
  EXPECT_EQ(f.log_start_offset, 0u);
  EXPECT_EQ(f.next_offset, 5u);
  ASSERT_EQ(f.records.size(), 5u);
  for (size_t i = 0; i < recs.size(); ++i) {
    const Record want{i, recs[i].timestamp_us >= 0 ? recs[i].timestamp_us : batch_ts, recs[i].key, recs[i].value,
                      recs[i].headers};
    EXPECT_EQ(f.records[i], want) << "record " << i;
  }
  // The other partition is untouched.
  auto other = fetch("t", 0, 0);
  EXPECT_TRUE(other.records.empty());
  EXPECT_EQ(other.high_watermark, 0u);
}

TEST_F(BrokerExtendedTest, ProduceExWithoutTimestampsGetsTheBrokerAppendTime) {
  create("t", 1);
  auto p = produce("t", 0, {{-1, "a", "1", {}}, {-1, "b", "2", {}}});
  auto p2 = produce("t", 0, {{-1, "c", "3", {}}});
  EXPECT_EQ(p2.base_offset, 2u);
  EXPECT_GE(p2.append_time_us, p.append_time_us);
  auto f = fetch("t", 0, 0);
  ASSERT_EQ(f.records.size(), 3u);
  EXPECT_EQ(f.records[0].timestamp_us, p.append_time_us);
  EXPECT_EQ(f.records[1].timestamp_us, p.append_time_us);
  EXPECT_EQ(f.records[2].timestamp_us, p2.append_time_us);
}

TEST_F(BrokerExtendedTest, FetchExFromTheMiddleAndAtTheEnd) {
  create("t", 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(produce_values("t", 0, 3), uint64_t(3 * i));
  auto f = fetch("t", 0, 4);  // inside the batch 3..5
  ASSERT_FALSE(f.records.empty());
  EXPECT_EQ(f.records.front().offset, 4u);
  EXPECT_EQ(f.records.back().offset, 11u);
  for (size_t i = 1; i < f.records.size(); ++i) EXPECT_EQ(f.records[i].offset, f.records[i - 1].offset + 1);
  EXPECT_EQ(f.next_offset, 12u);
  f = fetch("t", 0, 12);
  EXPECT_TRUE(f.records.empty());
  EXPECT_EQ(f.next_offset, 12u);
  EXPECT_EQ(f.high_watermark, 12u);
  // max_bytes is soft: at least one record.
  f = fetch("t", 0, 5, 1);
  ASSERT_GE(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].offset, 5u);
  EXPECT_EQ(f.next_offset, f.records.back().offset + 1);
}

TEST_F(BrokerExtendedTest, ProduceExAndFetchExErrors) {
  create("t", 2);
  produce_values("t", 0, 3);
  EXPECT_EQ(call_error(c(), ProduceExRequest{"nope", 0, -1, {{}}}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(c(), ProduceExRequest{"t", 2, -1, {{}}}).code, ErrorCode::kPartitionNotFound);
  EXPECT_EQ(call_error(c(), ProduceExRequest{"t", 0, -1, {}}).code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(call_error(c(), ProduceExRequest{"__consumer_offsets", 0, -1, {{}}}).code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(call_error(c(), FetchExRequest{"nope", 0, 0, 100, 0, 0}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(c(), FetchExRequest{"t", 9, 0, 100, 0, 0}).code, ErrorCode::kPartitionNotFound);
  auto e = call_error(c(), FetchExRequest{"t", 0, 4, 100, 0, 0});
  EXPECT_EQ(e.code, ErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(has_substr(e.message, "0..3"));
  // Out of range is answered at once even with a long wait.
  const auto t0 = Clock::now();
  EXPECT_EQ(call_error(c(), FetchExRequest{"t", 0, 4, 100, 10'000, 1}).code, ErrorCode::kOffsetOutOfRange);
  EXPECT_LT(ms_since(t0), 5000);
  // A producer timestamp below -1 is malformed (raw bytes: the encoder refuses it).
  const std::string bad_ts = from_hex("11 00 01 74 00 00 00 00 ff ff ff ff ff ff ff fe 00 00 00 00");
  ASSERT_TRUE(c().send_bytes(raw_frame(bad_ts)));
  EXPECT_EQ(as<ErrorResponse>(c().receive()).code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(pings(c()));
  EXPECT_EQ(fetch("t", 0, 0).high_watermark, 3u);  // nothing was appended by the failures
}

// ------------------------------------------------------------------ long-poll

TEST_F(BrokerExtendedTest, LongPollIsAnsweredAsSoonAsAnotherConnectionProduces) {
  create("t", 1);
  auto waiter = broker_.connect();
  auto producer = broker_.connect();
  auto bystander = broker_.connect();
  ASSERT_TRUE(waiter.send(FetchExRequest{"t", 0, 0, 1 << 20, 20'000, 1}));

  // Not answered while nothing is there ...
  ASSERT_TRUE(waiter.set_io_timeout(300ms));
  auto early = waiter.receive();
  ASSERT_FALSE(early) << "answered before any data: " << describe(*early);
  EXPECT_EQ(waiter.last_failure(), client::Failure::kTimeout);
  ASSERT_TRUE(waiter.is_open());

  // ... while other connections are served without delay.
  int64_t slowest = 0;
  for (int i = 0; i < 20; ++i) {
    const auto t = Clock::now();
    EXPECT_TRUE(pings(bystander));
    slowest = std::max(slowest, ms_since(t));
  }
  EXPECT_LT(slowest, scaled(500ms).count()) << "a parked fetch delayed another connection";
  EXPECT_EQ(call<DescribePartitionResponse>(bystander, DescribePartitionRequest{"t", 0}).high_watermark, 0u);

  // A produce on another connection releases it at once.
  call<ProduceExResponse>(producer, ProduceExRequest{"t", 0, -1, {{-1, "k", "hello", {}}}});
  const auto acked = Clock::now();
  ASSERT_TRUE(waiter.set_io_timeout(scaled(10s)));
  auto f = as<FetchExResponse>(waiter.receive());
  const int64_t delay = ms_since(acked);
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].value, std::optional<std::string>("hello"));
  EXPECT_EQ(f.high_watermark, 1u);
  EXPECT_EQ(f.next_offset, 1u);
  EXPECT_LT(delay, scaled(1000ms).count()) << "the parked fetch waited " << delay << " ms after the produce";
}

TEST_F(BrokerExtendedTest, LongPollAnswersEmptyAfterMaxWait) {
  create("t", 1);
  produce_values("t", 0, 2);
  const auto t0 = Clock::now();
  auto f = call<FetchExResponse>(c(), FetchExRequest{"t", 0, 2, 1 << 20, 400, 1});
  const int64_t waited = ms_since(t0);
  EXPECT_TRUE(f.records.empty());
  EXPECT_EQ(f.next_offset, 2u);
  EXPECT_EQ(f.high_watermark, 2u);
  EXPECT_GE(waited, 380);
  EXPECT_LT(waited, scaled(3000ms).count());
  // max_wait_ms = 0 answers at once.
  const auto t1 = Clock::now();
  f = call<FetchExResponse>(c(), FetchExRequest{"t", 0, 2, 1 << 20, 0, 1});
  EXPECT_TRUE(f.records.empty());
  EXPECT_LT(ms_since(t1), 300);
}

TEST_F(BrokerExtendedTest, LongPollWaitsForMinBytesThenAnswersWithWhatThereIs) {
  create("t", 1);
  produce_values("t", 0, 2);  // far less than 1 MiB
  const auto t0 = Clock::now();
  auto f = call<FetchExResponse>(c(), FetchExRequest{"t", 0, 0, 1 << 20, 400, 1 << 20});
  EXPECT_GE(ms_since(t0), 380);
  ASSERT_EQ(f.records.size(), 2u);
  // With the data already there, min_bytes 1 answers at once.
  const auto t1 = Clock::now();
  f = call<FetchExResponse>(c(), FetchExRequest{"t", 0, 0, 1 << 20, 10'000, 1});
  EXPECT_EQ(f.records.size(), 2u);
  EXPECT_LT(ms_since(t1), 1000);
}

TEST_F(BrokerExtendedTest, ResponsesAfterAParkedFetchKeepRequestOrder) {
  create("t", 1);
  ASSERT_TRUE(c().send(FetchExRequest{"t", 0, 0, 1 << 20, 400, 1}));
  ASSERT_TRUE(c().send(PingRequest{}));
  ASSERT_TRUE(c().send(DescribePartitionRequest{"t", 0}));
  const auto t0 = Clock::now();
  auto f = as<FetchExResponse>(c().receive(), "first answer");
  EXPECT_GE(ms_since(t0), 300);
  EXPECT_TRUE(f.records.empty());
  as<PongResponse>(c().receive(), "second answer");
  as<DescribePartitionResponse>(c().receive(), "third answer");
}

TEST_F(BrokerExtendedTest, ManyParkedFetchesAreAllReleasedByOneProduce) {
  create("t", 1);
  std::vector<client::Connection> waiters;
  for (int i = 0; i < 20; ++i) {
    waiters.push_back(broker_.connect());
    ASSERT_TRUE(waiters.back().send(FetchExRequest{"t", 0, 0, 1 << 20, 20'000, 1}));
  }
  std::this_thread::sleep_for(100ms);
  produce_values("t", 0, 1);
  const auto t0 = Clock::now();
  for (auto& w : waiters) EXPECT_EQ(as<FetchExResponse>(w.receive()).records.size(), 1u);
  EXPECT_LT(ms_since(t0), scaled(2000ms).count());
}

// ---------------------------------------------------------------- ListOffsets

TEST_F(BrokerExtendedTest, ListOffsetsEarliestLatestAndByTime) {
  create("t", 2);
  produce("t", 0, {{1000, std::nullopt, "a", {}}, {2000, std::nullopt, "b", {}}});  // offsets 0, 1
  produce("t", 0, {{3000, std::nullopt, "c", {}}, {3000, std::nullopt, "d", {}}});  // 2, 3
  produce("t", 0, {{5000, std::nullopt, "e", {}}});                                 // 4
  auto lo = [&](int64_t spec) { return call<ListOffsetsResponse>(c(), ListOffsetsRequest{"t", 0, spec}); };
  EXPECT_EQ(lo(kListOffsetsEarliest), (ListOffsetsResponse{0, true}));
  EXPECT_EQ(lo(kListOffsetsLatest), (ListOffsetsResponse{5, true}));
  EXPECT_EQ(lo(0), (ListOffsetsResponse{0, true}));
  EXPECT_EQ(lo(1000), (ListOffsetsResponse{0, true}));
  EXPECT_EQ(lo(1001), (ListOffsetsResponse{1, true}));
  EXPECT_EQ(lo(2000), (ListOffsetsResponse{1, true}));
  EXPECT_EQ(lo(2500), (ListOffsetsResponse{2, true}));
  EXPECT_EQ(lo(3000), (ListOffsetsResponse{2, true}));
  EXPECT_EQ(lo(3001), (ListOffsetsResponse{4, true}));
  EXPECT_EQ(lo(5000), (ListOffsetsResponse{4, true}));
  EXPECT_EQ(lo(5001), (ListOffsetsResponse{5, false}));  // past every record: the high watermark
  // An empty partition.
  EXPECT_EQ(call<ListOffsetsResponse>(c(), ListOffsetsRequest{"t", 1, kListOffsetsEarliest}),
            (ListOffsetsResponse{0, true}));
  EXPECT_EQ(call<ListOffsetsResponse>(c(), ListOffsetsRequest{"t", 1, kListOffsetsLatest}),
            (ListOffsetsResponse{0, true}));
  EXPECT_EQ(call<ListOffsetsResponse>(c(), ListOffsetsRequest{"t", 1, 0}), (ListOffsetsResponse{0, false}));
  // Errors.
  EXPECT_EQ(call_error(c(), ListOffsetsRequest{"nope", 0, -1}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(c(), ListOffsetsRequest{"t", 2, -1}).code, ErrorCode::kPartitionNotFound);
  ASSERT_TRUE(c().send_bytes(raw_frame(from_hex("13 00 01 74 00 00 00 00 ff ff ff ff ff ff ff fd"))));  // spec -3
  EXPECT_EQ(as<ErrorResponse>(c().receive()).code, ErrorCode::kInvalidRequest);
  EXPECT_TRUE(pings(c()));
}

// ------------------------------------------------------------- topic admin

std::optional<std::string> config_value(const DescribeTopicConfigResponse& d, const std::string& key) {
  for (const auto& e : d.configs)
    if (e.key == key) return e.value;
  return std::nullopt;
}

TEST_F(BrokerExtendedTest, CreateTopicExAppliesConfigsAndDescribeTopicConfigShowsThemWithDefaults) {
  create("c", 3,
         {{"segment.bytes", "1048576"},
          {"retention.ms", "-1"},
          {"cleanup.policy", "compact"},
          {"flush", "interval:100"},
          {"index.interval.bytes", "1024"}});
  auto d = call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"c"});
  EXPECT_EQ(d.partition_count, 3u);
  EXPECT_EQ(config_value(d, "segment.bytes"), "1048576");
  EXPECT_EQ(config_value(d, "retention.ms"), "-1");
  EXPECT_EQ(config_value(d, "cleanup.policy"), "compact");
  EXPECT_EQ(config_value(d, "flush"), "interval:100");
  EXPECT_EQ(config_value(d, "index.interval.bytes"), "1024");
  // Defaults for the keys not given.
  EXPECT_EQ(config_value(d, "retention.bytes"), "-1");
  EXPECT_TRUE(config_value(d, "segment.ms").has_value());
  EXPECT_EQ(config_value(d, "compression.type"), "producer");
  EXPECT_EQ(d.configs.size(), 12u);
  ASSERT_EQ(d.partitions.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d.partitions[i].partition, i);
    EXPECT_EQ(d.partitions[i].log_start_offset, 0u);
    EXPECT_EQ(d.partitions[i].high_watermark, 0u);
    EXPECT_GE(d.partitions[i].segment_count, 1u);
  }
  // A topic created without configs gets the broker defaults (flush always).
  create("plain", 1);
  auto p = call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"plain"});
  EXPECT_EQ(config_value(p, "flush"), "always");
  EXPECT_EQ(config_value(p, "cleanup.policy"), "delete");
  // Both show in ListTopics.
  auto list = call<ListTopicsResponse>(c(), ListTopicsRequest{});
  EXPECT_EQ(list.topics, (std::vector<TopicSummary>{{"c", 3}, {"plain", 1}}));
}

TEST_F(BrokerExtendedTest, DescribeTopicConfigShowsPartitionStatsAndRolledSegments) {
  create("s", 2, {{"segment.bytes", "4096"}});
  for (int i = 0; i < 20; ++i)
    produce("s", 1, {{-1, std::nullopt, std::string(1000, static_cast<char>('a' + i)), {}}});
  auto d = call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"s"});
  ASSERT_EQ(d.partitions.size(), 2u);
  EXPECT_EQ(d.partitions[0].high_watermark, 0u);
  EXPECT_EQ(d.partitions[1].high_watermark, 20u);
  EXPECT_EQ(d.partitions[1].log_start_offset, 0u);
  EXPECT_GT(d.partitions[1].segment_count, 1u) << "4 KiB segments must have rolled";
  EXPECT_GE(d.partitions[1].size_bytes, 20'000u);
  // Reads span the segments.
  uint64_t next = 0;
  int seen = 0;
  while (next < 20) {
    auto f = fetch("s", 1, next, 3000);
    ASSERT_FALSE(f.records.empty());
    for (const auto& r : f.records) {
      EXPECT_EQ(r.offset, static_cast<uint64_t>(seen));
      EXPECT_EQ(r.value, std::string(1000, static_cast<char>('a' + seen)));
      ++seen;
    }
    next = f.next_offset;
  }
  EXPECT_EQ(seen, 20);
  EXPECT_EQ(call_error(c(), DescribeTopicConfigRequest{"nope"}).code, ErrorCode::kTopicNotFound);
}

TEST_F(BrokerExtendedTest, CreateTopicExWithoutConfigsAnswersWithCreateTopicExResponse) {
  // The response type must match the request type, configs or not.
  auto r = c().call(CreateTopicExRequest{"noconf", 2, {}});
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(type_of(*r), MessageType::kCreateTopicEx) << describe(*r);
  EXPECT_EQ(call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"noconf"}).partition_count, 2u);
  // And v0 CreateTopic still gets the v0 response.
  EXPECT_TRUE(call<CreateTopicResponse>(c(), CreateTopicRequest{"v0", 1}).success);
}

TEST_F(BrokerExtendedTest, CreateTopicExWithBadConfigsIs400NamingTheKeyAndCreatesNothing) {
  struct Bad {
    std::string key, value;
  };
  const std::vector<Bad> bad = {
      {"segment.size", "1048576"},    // unknown key
      {"Segment.Bytes", "1048576"},   // keys are case-sensitive
      {"segment.bytes", "abc"},       // not a number
      {"segment.bytes", "100"},       // below the 1 KiB minimum
      {"segment.bytes", "-5"},
      {"segment.ms", "0"},
      {"retention.ms", "-2"},
      {"retention.bytes", "lots"},
      {"cleanup.policy", "sometimes"},
      {"flush", "interval:"},
      {"flush", "often"},
      {"index.interval.bytes", "1.5"},
  };
  for (const auto& b : bad) {
    auto e = call_error(c(), CreateTopicExRequest{"bad", 1, {{"retention.ms", "1000"}, {b.key, b.value}}},
                        b.key + "=" + b.value);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << b.key << "=" << b.value << ": " << e.message;
    EXPECT_TRUE(has_substr(e.message, b.key))
        << b.key << "=" << b.value;
  }
  EXPECT_EQ(call_error(c(), CreateTopicExRequest{"bad", 0, {}}).code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(call_error(c(), CreateTopicExRequest{"bad name", 1, {}}).code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(call_error(c(), DescribeTopicConfigRequest{"bad"}).code, ErrorCode::kTopicNotFound);
  EXPECT_TRUE(call<ListTopicsResponse>(c(), ListTopicsRequest{}).topics.empty());
  EXPECT_FALSE(std::filesystem::exists(broker_.data_dir() + "/bad-0"));
  // The name is still free.
  create("bad", 1, {{"segment.bytes", "2048"}});
  EXPECT_EQ(call_error(c(), CreateTopicExRequest{"bad", 1, {{"segment.bytes", "4096"}}}).code, ErrorCode::kTopicExists);
  EXPECT_EQ(config_value(call<DescribeTopicConfigResponse>(c(), DescribeTopicConfigRequest{"bad"}), "segment.bytes"),
            "2048");
}

TEST_F(BrokerExtendedTest, DeleteTopicFreesItsFilesAndRemovesItsCommittedOffsets) {
  create("d", 2);
  create("keep", 1);
  produce_values("d", 0, 5);
  produce_values("d", 1, 5);
  produce_values("keep", 0, 5);
  commit("g", "d", 0, 3);
  commit("g", "d", 1, 5);
  commit("g", "keep", 0, 2);
  commit("only-d", "d", 0, 1);
  const std::string dir0 = broker_.data_dir() + "/d-0";
  const std::string dir1 = broker_.data_dir() + "/d-1";
  ASSERT_TRUE(std::filesystem::is_directory(dir0));
  ASSERT_TRUE(std::filesystem::is_directory(dir1));

  call<DeleteTopicResponse>(c(), DeleteTopicRequest{"d"});
  // Files gone (no leftover "*.deleted" either).
  EXPECT_FALSE(std::filesystem::exists(dir0));
  EXPECT_FALSE(std::filesystem::exists(dir1));
  for (const auto& e : std::filesystem::directory_iterator(broker_.data_dir()))
    EXPECT_EQ(e.path().filename().string().rfind("d-", 0), std::string::npos) << e.path();
  // The topic is gone everywhere.
  EXPECT_EQ(call<ListTopicsResponse>(c(), ListTopicsRequest{}).topics, (std::vector<TopicSummary>{{"keep", 1}}));
  EXPECT_EQ(call_error(c(), FetchExRequest{"d", 0, 0, 100, 0, 0}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(c(), DescribeTopicConfigRequest{"d"}).code, ErrorCode::kTopicNotFound);
  // Its committed offsets are gone; other topics' stay.
  auto g = call<DescribeGroupResponse>(c(), DescribeGroupRequest{"g"});
  ASSERT_EQ(g.partitions.size(), 1u);
  EXPECT_EQ(g.partitions[0].topic, "keep");
  EXPECT_EQ(call_error(c(), DescribeGroupRequest{"only-d"}).code, ErrorCode::kGroupNotFound);
  EXPECT_EQ(call<ListGroupsResponse>(c(), ListGroupsRequest{}).groups, (std::vector<std::string>{"g"}));
  // Re-created under the same name: empty, and no offsets come back.
  create("d", 1);
  EXPECT_EQ(fetch("d", 0, 0).high_watermark, 0u);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "d", 0}).offset, std::nullopt);
  // Errors.
  EXPECT_EQ(call_error(c(), DeleteTopicRequest{"nope"}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(c(), DeleteTopicRequest{"__consumer_offsets"}).code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(call<ListGroupsResponse>(c(), ListGroupsRequest{}).groups, (std::vector<std::string>{"g"}));
}

// A delete while the topic's logs still wait for a flush (the produce's group
// commit in the same loop turn, or an interval flush due later) must not
// leave the loop flushing freed logs.
TEST_F(BrokerExtendedTest, DeleteTopicInTheSamePipelineAsAProduceToIt) {
  create("d", 2);
  std::string wire;
  ASSERT_TRUE(encode_request(ProduceRequest{"d", 0, {"x", "y"}}, wire));
  ASSERT_TRUE(encode_request(ProduceExRequest{"d", 1, -1, {{-1, "k", "v", {}}}}, wire));
  ASSERT_TRUE(encode_request(DeleteTopicRequest{"d"}, wire));
  ASSERT_TRUE(encode_request(PingRequest{}, wire));
  ASSERT_TRUE(c().send_bytes(wire));  // one write: handled in one loop turn
  for (const char* what : {"produce", "produce ex", "delete"}) {
    auto r = c().receive();
    ASSERT_TRUE(r) << what << ": " << r.status().to_string() << "\n" << broker_.log_tail();
  }
  as<PongResponse>(c().receive(), "ping after the delete");
  EXPECT_EQ(call_error(c(), DescribeTopicRequest{"d"}).code, v0(V0Code::kTopicNotFound));
  // The broker goes on: a new topic of the same name works and is empty.
  create("d", 1);
  EXPECT_EQ(call<ProduceResponse>(c(), ProduceRequest{"d", 0, {"z"}}).base_offset, 0u);
  EXPECT_TRUE(broker_.running());
}

TEST_F(BrokerExtendedTest, DeleteTopicWhileItsIntervalFlushIsPending) {
  create("lazy", 1, {{"flush", "interval:300"}});
  create("lazy2", 1, {{"flush", "interval:60000"}});
  produce_values("lazy", 0, 3);   // acknowledged before any fsync
  produce_values("lazy2", 0, 3);
  call<DeleteTopicResponse>(c(), DeleteTopicRequest{"lazy"});
  call<DeleteTopicResponse>(c(), DeleteTopicRequest{"lazy2"});
  // Let the interval pass and the loop turn a few times.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(60ms);
    ASSERT_TRUE(pings(c())) << broker_.log_tail();
  }
  create("lazy", 1, {{"flush", "interval:50"}});
  produce_values("lazy", 0, 1);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fetch("lazy", 0, 0).records.size(), 1u);
  EXPECT_TRUE(broker_.running());
}

// ------------------------------------------------------------- group admin

TEST_F(BrokerExtendedTest, ListGroupsDescribeGroupWithLagAndDeleteGroup) {
  EXPECT_TRUE(call<ListGroupsResponse>(c(), ListGroupsRequest{}).groups.empty());
  create("a", 2);
  create("b", 1);
  produce_values("a", 0, 5);
  produce_values("a", 1, 4);
  produce_values("b", 0, 7);
  commit("g1", "a", 0, 2);
  commit("g1", "a", 1, 0);
  commit("g1", "b", 0, 7);
  commit("g2", "b", 0, 3);
  EXPECT_EQ(call<ListGroupsResponse>(c(), ListGroupsRequest{}).groups, (std::vector<std::string>{"g1", "g2"}));

  auto d = call<DescribeGroupResponse>(c(), DescribeGroupRequest{"g1"});
  std::vector<GroupPartitionOffset> want = {
      {"a", 0, 2, 5, 3},
      {"a", 1, 0, 4, 4},
      {"b", 0, 7, 7, 0},
  };
  EXPECT_EQ(d.partitions, want);
  // Lag follows new records.
  produce_values("a", 0, 2);
  d = call<DescribeGroupResponse>(c(), DescribeGroupRequest{"g1"});
  ASSERT_EQ(d.partitions.size(), 3u);
  EXPECT_EQ(d.partitions[0], (GroupPartitionOffset{"a", 0, 2, 7, 5}));

  call<DeleteGroupResponse>(c(), DeleteGroupRequest{"g1"});
  EXPECT_EQ(call<ListGroupsResponse>(c(), ListGroupsRequest{}).groups, (std::vector<std::string>{"g2"}));
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g1", "a", 0}).offset, std::nullopt);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g2", "b", 0}).offset, std::optional<uint64_t>(3));
  EXPECT_EQ(call_error(c(), DescribeGroupRequest{"g1"}).code, ErrorCode::kGroupNotFound);
  EXPECT_EQ(call_error(c(), DeleteGroupRequest{"g1"}).code, ErrorCode::kGroupNotFound);
  EXPECT_EQ(call_error(c(), DescribeGroupRequest{"never"}).code, ErrorCode::kGroupNotFound);
  // The group can commit again afterwards.
  commit("g1", "a", 0, 1);
  EXPECT_EQ(call<DescribeGroupResponse>(c(), DescribeGroupRequest{"g1"}).partitions.size(), 1u);
}

TEST_F(BrokerExtendedTest, CommitBeyondTheHighWatermarkIsRefused) {
  create("t", 1);
  produce_values("t", 0, 3);
  commit("g", "t", 0, 3);  // the high watermark itself is fine
  auto e = call_error(c(), OffsetCommitRequest{"g", "t", 0, 4});
  EXPECT_EQ(e.code, v0(V0Code::kOffsetCommitRefused));  // 416 after a Handshake
  EXPECT_TRUE(has_substr(e.message, "0..3"));
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::optional<uint64_t>(3));
  auto d = call<DescribeGroupResponse>(c(), DescribeGroupRequest{"g"});
  EXPECT_EQ(d.partitions, (std::vector<GroupPartitionOffset>{{"t", 0, 3, 3, 0}}));
}

}  // namespace
}  // namespace rustlog::test
