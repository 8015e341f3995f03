// End to end: the legacy v0 request set (docs/PROTOCOL.md) against a real kafka-lite
// process over TCP. Every v0 request's happy path and error paths, the
// connection rules for malformed input and bad frames, and the docs/PROTOCOL.md
// worked example byte for byte.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
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

class BrokerLegacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    conn_.emplace(broker_.connect());
  }

  client::Connection& c() { return *conn_; }

  void create(const std::string& topic, uint32_t partitions) {
    EXPECT_TRUE(call<CreateTopicResponse>(c(), CreateTopicRequest{topic, partitions}, topic).success);
  }
  uint64_t produce(const std::string& topic, uint32_t partition, std::vector<std::string> values) {
    const auto n = static_cast<uint32_t>(values.size());
    auto r = call<ProduceResponse>(c(), ProduceRequest{topic, partition, std::move(values)});
    EXPECT_EQ(r.record_count, n);
    return r.base_offset;
  }
  // Produces v0..v(n-1) in batches of `batch` records.
  void produce_numbered(const std::string& topic, uint32_t partition, int n, int batch = 3) {
    for (int i = 0; i < n; i += batch) {
      std::vector<std::string> vals;
      for (int j = i; j < std::min(n, i + batch); ++j) vals.push_back("v" + std::to_string(j));
      EXPECT_EQ(produce(topic, partition, vals), static_cast<uint64_t>(i));
    }
  }
  FetchResponse fetch(const std::string& topic, uint32_t partition, uint64_t offset,
                      uint32_t max_bytes = 1 << 20, const std::string& group = "") {
    return call<FetchResponse>(c(), FetchRequest{group, topic, partition, offset, max_bytes});
  }
  static std::vector<std::string> numbered(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back("v" + std::to_string(i));
    return out;
  }

  BrokerProcess broker_;
  std::optional<client::Connection> conn_;
};

// ---------------------------------------------------------------- happy paths

TEST_F(BrokerLegacyTest, PingAnswersPong) {
  EXPECT_TRUE(pings(c()));
  EXPECT_TRUE(pings(c()));
}

TEST_F(BrokerLegacyTest, CreateTopicThenListDescribeAndDescribePartition) {
  create("orders", 3);
  create("audit.log-v2_x", 1);
  auto list = call<ListTopicsResponse>(c(), ListTopicsRequest{});
  std::vector<TopicSummary> want = {{"audit.log-v2_x", 1}, {"orders", 3}};
  EXPECT_EQ(list.topics, want);

  auto d = call<DescribeTopicResponse>(c(), DescribeTopicRequest{"orders"});
  EXPECT_EQ(d.topic, "orders");
  EXPECT_EQ(d.partition_count, 3u);
  std::vector<PartitionWatermark> hw0 = {{0, 0}, {1, 0}, {2, 0}};
  EXPECT_EQ(d.partitions, hw0);

  produce("orders", 1, {"a", "b"});
  d = call<DescribeTopicResponse>(c(), DescribeTopicRequest{"orders"});
  std::vector<PartitionWatermark> hw1 = {{0, 0}, {1, 2}, {2, 0}};
  EXPECT_EQ(d.partitions, hw1);
  auto p = call<DescribePartitionResponse>(c(), DescribePartitionRequest{"orders", 1});
  EXPECT_EQ(p, (DescribePartitionResponse{"orders", 1, 2}));
}

TEST_F(BrokerLegacyTest, ProduceAssignsConsecutiveOffsetsPerPartition) {
  create("t", 2);
  EXPECT_EQ(produce("t", 0, {"one"}), 0u);
  EXPECT_EQ(produce("t", 0, {"two", "three", "four"}), 1u);
  EXPECT_EQ(produce("t", 1, {"other"}), 0u);  // partitions are independent
  EXPECT_EQ(produce("t", 0, {"five"}), 4u);
  EXPECT_EQ(call<DescribePartitionResponse>(c(), DescribePartitionRequest{"t", 0}).high_watermark, 5u);
  EXPECT_EQ(call<DescribePartitionResponse>(c(), DescribePartitionRequest{"t", 1}).high_watermark, 1u);
}

TEST_F(BrokerLegacyTest, FetchReturnsValuesByteIdenticalWithNextOffset) {
  create("t", 1);
  const std::vector<std::string> values = {"", std::string("\0\x01\xff\0", 4), std::string(100 * 1024, 'x'),
                                           "last"};
  EXPECT_EQ(produce("t", 0, values), 0u);
  auto f = fetch("t", 0, 0);
  EXPECT_EQ(f.records, values);
  EXPECT_EQ(f.next_offset, 4u);
}

TEST_F(BrokerLegacyTest, FetchStartsAtTheRequestedOffsetEvenInsideABatch) {
  create("t", 1);
  produce_numbered("t", 0, 10, 3);  // batches 0-2, 3-5, 6-8, 9
  auto f = fetch("t", 0, 0);
  EXPECT_EQ(f.records, numbered(0, 10));
  EXPECT_EQ(f.next_offset, 10u);
  f = fetch("t", 0, 4);  // the middle of batch 3-5
  EXPECT_EQ(f.records, numbered(4, 10));
  EXPECT_EQ(f.next_offset, 10u);
  f = fetch("t", 0, 9);
  EXPECT_EQ(f.records, numbered(9, 10));
}

TEST_F(BrokerLegacyTest, FetchAtHighWatermarkIsEmptyWithNextOffsetUnchanged) {
  create("t", 1);
  auto f = fetch("t", 0, 0);  // empty partition
  EXPECT_TRUE(f.records.empty());
  EXPECT_EQ(f.next_offset, 0u);
  produce_numbered("t", 0, 5);
  f = fetch("t", 0, 5);
  EXPECT_TRUE(f.records.empty());
  EXPECT_EQ(f.next_offset, 5u);
}

TEST_F(BrokerLegacyTest, FetchMaxBytesIsSoftButLimits) {
  create("t", 1);
  produce("t", 0, {std::string(4000, 'a'), std::string(4000, 'b'), std::string(4000, 'c')});
  produce("t", 0, {std::string(4000, 'd')});
  // At least one record, however small max_bytes is.
  auto one = fetch("t", 0, 0, 1);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_EQ(one.records[0], std::string(4000, 'a'));
  EXPECT_EQ(one.next_offset, 1u);
  one = fetch("t", 0, 1, 0);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_EQ(one.records[0], std::string(4000, 'b'));
  // A limit for about two records returns a prefix, not everything.
  auto some = fetch("t", 0, 0, 8100);
  ASSERT_GE(some.records.size(), 1u);
  EXPECT_LT(some.records.size(), 4u);
  EXPECT_EQ(some.next_offset, some.records.size());
  // Reading on from next_offset yields the rest, in order.
  std::vector<std::string> all = some.records;
  uint64_t next = some.next_offset;
  for (int guard = 0; next < 4 && guard < 10; ++guard) {
    auto more = fetch("t", 0, next, 8100);
    ASSERT_FALSE(more.records.empty());
    all.insert(all.end(), more.records.begin(), more.records.end());
    next = more.next_offset;
  }
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3], std::string(4000, 'd'));
}

TEST_F(BrokerLegacyTest, OffsetCommitAndOffsetFetch) {
  create("t", 2);
  produce_numbered("t", 0, 10);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::nullopt);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 3}).success);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::optional<uint64_t>(3));
  // Other groups and partitions are separate keys.
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g2", "t", 0}).offset, std::nullopt);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 1}).offset, std::nullopt);
  // The latest commit wins, also when it moves back; the high watermark itself is valid.
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 10}).success);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::optional<uint64_t>(10));
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 2}).success);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::optional<uint64_t>(2));
  // An empty partition accepts offset 0.
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 1, 0}).success);
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 1}).offset, std::optional<uint64_t>(0));
}

TEST_F(BrokerLegacyTest, FetchWithGroupStartsAtCommittedOffsetElseAtRequestOffset) {
  create("t", 2);
  produce_numbered("t", 0, 10);
  produce_numbered("t", 1, 4);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 4}).success);

  auto f = fetch("t", 0, 0, 1 << 20, "g");  // committed 4 beats the request's 0
  EXPECT_EQ(f.records, numbered(4, 10));
  EXPECT_EQ(f.next_offset, 10u);
  f = fetch("t", 0, 8, 1 << 20, "g");  // ... and the request's 8
  EXPECT_EQ(f.records, numbered(4, 10));
  f = fetch("t", 0, 2, 1 << 20, "nobody");  // a group without a commit: request offset
  EXPECT_EQ(f.records, numbered(2, 10));
  f = fetch("t", 1, 1, 1 << 20, "g");  // g has no commit on partition 1
  EXPECT_EQ(f.records, numbered(1, 4));
  f = fetch("t", 0, 7, 1 << 20, "");  // no group: request offset
  EXPECT_EQ(f.records, numbered(7, 10));

  // Committed at the high watermark: nothing to read yet, next_offset = commit.
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 10}).success);
  f = fetch("t", 0, 0, 1 << 20, "g");
  EXPECT_TRUE(f.records.empty());
  EXPECT_EQ(f.next_offset, 10u);
}

TEST_F(BrokerLegacyTest, MetricsFetchReturnsText) {
  EXPECT_TRUE(pings(c()));
  auto m = call<MetricsResponse>(c(), MetricsFetchRequest{});
  EXPECT_TRUE(has_substr(m.text, "rustlog_requests_total"));
  EXPECT_TRUE(has_substr(m.text, "rustlog_connections_open"));
}

TEST_F(BrokerLegacyTest, ListTopicsHidesTheInternalOffsetsTopic) {
  create("t", 1);
  produce("t", 0, {"x"});
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 1}).success);
  auto list = call<ListTopicsResponse>(c(), ListTopicsRequest{});
  std::vector<TopicSummary> want = {{"t", 1}};
  EXPECT_EQ(list.topics, want);
  // Clients cannot create or write the internal topic either.
  EXPECT_EQ(call_error(c(), CreateTopicRequest{"__consumer_offsets", 1}).code, v0(V0Code::kMalformedRequest));
  EXPECT_EQ(call_error(c(), ProduceRequest{"__consumer_offsets", 0, {"x"}}).code, v0(V0Code::kMalformedRequest));
}

TEST_F(BrokerLegacyTest, TombstoneProducedByProduceExReadsAsEmptyValueInV0) {
  create("t", 1);
  auto r = call<ProduceExResponse>(
      c(), ProduceExRequest{"t", 0, -1, {ProducerRecord{-1, "k", std::nullopt, {}}, ProducerRecord{-1, "k", "v", {}}}});
  EXPECT_EQ(r.base_offset, 0u);
  auto f = fetch("t", 0, 0);
  EXPECT_EQ(f.records, (std::vector<std::string>{"", "v"}));
  EXPECT_EQ(f.next_offset, 2u);
}

// A large legacy fetch is served over several loop turns. If its topic is
// deleted and re-created meanwhile, the answer must not mix in the new
// topic's records.
TEST_F(BrokerLegacyTest, LargeFetchDoesNotMixInARecreatedTopicsRecords) {
  const std::string old_value(64 * 1024, 'o'), new_value(64 * 1024, 'n');
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    create("s", 1);
    for (int i = 0; i < 4; ++i) produce("s", 0, std::vector<std::string>(12, old_value));
    auto reader = broker_.connect();
    auto admin = broker_.connect();
    ASSERT_TRUE(reader.send(FetchRequest{"", "s", 0, 0, 8 << 20}));
    std::string wire;
    ASSERT_TRUE(encode_request(DeleteTopicRequest{"s"}, wire));
    ASSERT_TRUE(encode_request(CreateTopicRequest{"s", 1}, wire));
    ASSERT_TRUE(encode_request(ProduceRequest{"s", 0, std::vector<std::string>(48, new_value)}, wire));
    ASSERT_TRUE(admin.send_bytes(wire));
    auto r = reader.receive();
    ASSERT_TRUE(r) << r.status().to_string();
    if (auto* f = std::get_if<FetchResponse>(&*r)) {
      size_t mixed = 0;
      for (const auto& v : f->records) mixed += (v != old_value);
      EXPECT_EQ(mixed, 0u) << "of " << f->records.size() << " records, " << mixed
                           << " came from the re-created topic";
    }  // an Error (the topic went away) is fine too
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(admin.receive()) << "admin answer " << i;
    call<DeleteTopicResponse>(c(), DeleteTopicRequest{"s"});
  }
}

// ---------------------------------------------------------------- error paths

// The codes of the original broker (docs/PROTOCOL.md, "Error codes of legacy
// connections"): 10 on Produce and Fetch, 5 for a refused OffsetCommit, 13 on
// DescribeTopic, 14 on DescribePartition.
TEST_F(BrokerLegacyTest, UnknownTopicGetsItsV0CodeOnEveryRequestNamingIt) {
  const std::vector<std::pair<Request, V0Code>> reqs = {
      {ProduceRequest{"nope", 0, {"x"}}, V0Code::kNotFound},
      {FetchRequest{"", "nope", 0, 0, 100}, V0Code::kNotFound},
      {FetchRequest{"g", "nope", 0, 0, 100}, V0Code::kNotFound},
      {OffsetCommitRequest{"g", "nope", 0, 0}, V0Code::kOffsetCommitRefused},
      {OffsetFetchRequest{"g", "nope", 0}, V0Code::kNotFound},
      {DescribeTopicRequest{"nope"}, V0Code::kTopicNotFound},
      {DescribePartitionRequest{"nope", 0}, V0Code::kPartitionNotFound},
  };
  for (const auto& [req, code] : reqs) {
    auto e = call_error(c(), req, message_type_name(type_of(req)));
    EXPECT_EQ(e.code, v0(code)) << message_type_name(type_of(req)) << ": " << e.message;
    EXPECT_TRUE(has_substr(e.message, "nope")) << message_type_name(type_of(req));
  }
  EXPECT_TRUE(pings(c()));
}

TEST_F(BrokerLegacyTest, BadPartitionGetsItsV0CodeOnEveryRequestNamingTheValidRange) {
  create("t", 3);
  const std::vector<std::pair<Request, V0Code>> reqs = {
      {ProduceRequest{"t", 3, {"x"}}, V0Code::kNotFound},
      {FetchRequest{"", "t", 3, 0, 100}, V0Code::kNotFound},
      {OffsetCommitRequest{"g", "t", 3, 0}, V0Code::kOffsetCommitRefused},
      {OffsetFetchRequest{"g", "t", 3}, V0Code::kNotFound},
      {DescribePartitionRequest{"t", 3}, V0Code::kPartitionNotFound},
      {DescribePartitionRequest{"t", 0xFFFFFFFF}, V0Code::kPartitionNotFound},
  };
  for (const auto& [req, code] : reqs) {
    auto e = call_error(c(), req, message_type_name(type_of(req)));
    EXPECT_EQ(e.code, v0(code)) << message_type_name(type_of(req)) << ": " << e.message;
    EXPECT_TRUE(has_substr(e.message, "0..2")) << message_type_name(type_of(req));
  }
  EXPECT_TRUE(pings(c()));
}

TEST_F(BrokerLegacyTest, CreateExistingTopicIs11) {
  create("t", 2);
  auto e = call_error(c(), CreateTopicRequest{"t", 5});
  EXPECT_EQ(e.code, v0(V0Code::kTopicExists));
  EXPECT_TRUE(has_substr(e.message, "'t'"));
  // The original is unchanged.
  EXPECT_EQ(call<DescribeTopicResponse>(c(), DescribeTopicRequest{"t"}).partition_count, 2u);
}

TEST_F(BrokerLegacyTest, BadTopicNamesAre16AndBadPartitionCountsAre12) {
  const std::vector<std::string> bad_names = {"", ".", "..", "a/b", "has space", "tab\tname", "ümlaut",
                                              std::string(250, 'n'), "__internal"};
  for (const auto& name : bad_names) {
    auto e = call_error(c(), CreateTopicRequest{name, 1}, name);
    EXPECT_EQ(e.code, v0(V0Code::kMalformedRequest)) << "'" << name << "': " << e.message;
  }
  EXPECT_EQ(call_error(c(), CreateTopicRequest{"zero", 0}).code, v0(V0Code::kInvalidPartitionCount));
  EXPECT_EQ(call_error(c(), CreateTopicRequest{"many", 1001}).code,
            v0(V0Code::kInvalidPartitionCount));  // max_partitions 1000
  // A bad name is reported before a bad count.
  EXPECT_EQ(call_error(c(), CreateTopicRequest{"a/b", 0}).code, v0(V0Code::kMalformedRequest));
  // The longest legal name works; nothing else was created.
  create(std::string(249, 'n'), 1);
  auto list = call<ListTopicsResponse>(c(), ListTopicsRequest{});
  ASSERT_EQ(list.topics.size(), 1u);
  EXPECT_EQ(list.topics[0].name, std::string(249, 'n'));
}

TEST_F(BrokerLegacyTest, ProduceWithoutRecordsIs16) {
  create("t", 1);
  EXPECT_EQ(call_error(c(), ProduceRequest{"t", 0, {}}).code, v0(V0Code::kMalformedRequest));
  EXPECT_EQ(produce("t", 0, {"x"}), 0u);  // nothing was appended
}

TEST_F(BrokerLegacyTest, FetchOutOfRangeIs17WithTheValidRangeInTheMessage) {
  create("t", 1);
  produce_numbered("t", 0, 10);
  auto e = call_error(c(), FetchRequest{"", "t", 0, 11, 1024});
  EXPECT_EQ(e.code, v0(V0Code::kOffsetOutOfRange));
  EXPECT_TRUE(has_substr(e.message, "11"));
  EXPECT_TRUE(has_substr(e.message, "0..10"));
  e = call_error(c(), FetchRequest{"", "t", 0, ~0ull, 1024});
  EXPECT_EQ(e.code, v0(V0Code::kOffsetOutOfRange));
  EXPECT_TRUE(has_substr(e.message, "0..10"));
  EXPECT_TRUE(pings(c()));
}

TEST_F(BrokerLegacyTest, OffsetCommitRefusalsAre5) {
  create("t", 1);
  produce_numbered("t", 0, 5);
  auto e = call_error(c(), OffsetCommitRequest{"g", "t", 0, 6});  // beyond the high watermark
  EXPECT_EQ(e.code, v0(V0Code::kOffsetCommitRefused));
  EXPECT_TRUE(has_substr(e.message, "0..5"));
  EXPECT_EQ(call_error(c(), OffsetCommitRequest{"", "t", 0, 1}).code, v0(V0Code::kOffsetCommitRefused));  // no group
  EXPECT_EQ(call_error(c(), OffsetCommitRequest{std::string(256, 'g'), "t", 0, 1}).code,
            v0(V0Code::kOffsetCommitRefused));
  EXPECT_EQ(call<OffsetFetchResponse>(c(), OffsetFetchRequest{"g", "t", 0}).offset, std::nullopt);
}

// A connection that has sent Handshake is an extended client's: its v0
// requests are answered with the extended codes (docs/PROTOCOL.md, "Errors").
TEST_F(BrokerLegacyTest, AfterHandshakeV0RequestsGetTheExtendedCodes) {
  create("t", 1);
  produce_numbered("t", 0, 5);
  auto h = broker_.connect();
  EXPECT_EQ(call_error(h, DescribeTopicRequest{"nope"}).code, v0(V0Code::kTopicNotFound));  // before: v0
  call<HandshakeResponse>(h, HandshakeRequest{"test"});
  EXPECT_EQ(call_error(h, DescribeTopicRequest{"nope"}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(h, DescribePartitionRequest{"t", 1}).code, ErrorCode::kPartitionNotFound);
  EXPECT_EQ(call_error(h, ProduceRequest{"nope", 0, {"x"}}).code, ErrorCode::kTopicNotFound);
  EXPECT_EQ(call_error(h, FetchRequest{"", "t", 0, 6, 100}).code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(call_error(h, OffsetCommitRequest{"g", "t", 0, 6}).code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(call_error(h, CreateTopicRequest{"t", 1}).code, ErrorCode::kTopicExists);
  EXPECT_EQ(call_error(h, CreateTopicRequest{"z", 0}).code, ErrorCode::kInvalidRequest);
  // Extended requests get the extended codes on a legacy connection too.
  EXPECT_EQ(call_error(c(), FetchExRequest{"nope", 0, 0, 100, 0, 0}).code, ErrorCode::kTopicNotFound);
}

// --------------------------------------------------- malformed input handling

TEST_F(BrokerLegacyTest, MalformedFieldsAre16AndTheConnectionStaysUsable) {
  create("t", 1);
  const std::vector<std::pair<std::string, std::string>> payloads = {
      {"truncated Produce", from_hex("01 00 01 74 00 00")},
      {"Produce record_count past the end", from_hex("01 00 01 74 00 00 00 00 ff ff ff ff")},
      {"Produce record length past the end", from_hex("01 00 01 74 00 00 00 00 00 00 00 01 00 00 10 00 61")},
      {"Ping with a trailing byte", from_hex("ff 00")},
      {"ListTopics with a trailing byte", from_hex("06 01")},
      {"invalid UTF-8 topic", from_hex("05 00 02 c3 28 00 00 00 01")},
      {"NUL in topic", from_hex("07 00 01 00")},
      {"string length past the end", from_hex("07 00 09 74")},
      {"Fetch without fields", from_hex("02")},
      {"OffsetCommit truncated offset", from_hex("03 00 01 67 00 01 74 00 00 00 00 00 00 00")},
  };
  for (const auto& [what, payload] : payloads) {
    ASSERT_TRUE(c().send_bytes(raw_frame(payload))) << what;
    auto e = as<ErrorResponse>(c().receive(), what);
    // A malformed OffsetCommit is refused like any other commit.
    const V0Code want = payload[0] == 0x03 ? V0Code::kOffsetCommitRefused : V0Code::kMalformedRequest;
    EXPECT_EQ(e.code, v0(want)) << what << ": " << e.message;
    EXPECT_FALSE(e.message.empty()) << what;
    EXPECT_TRUE(pings(c())) << "after " << what;
  }
  // The message names the request and field.
  ASSERT_TRUE(c().send_bytes(raw_frame(from_hex("01 00 01 74 00 00"))));
  auto e = as<ErrorResponse>(c().receive());
  EXPECT_TRUE(has_substr(e.message, "Produce"));
  EXPECT_TRUE(has_substr(e.message, "partition"));
  // Nothing was appended by any of them.
  EXPECT_EQ(call<DescribePartitionResponse>(c(), DescribePartitionRequest{"t", 0}).high_watermark, 0u);
}

TEST_F(BrokerLegacyTest, UnknownTypeIs16AndTheConnectionStaysUsable) {
  for (uint8_t type : {0x00, 0x0A, 0x0F, 0x1F, 0x42, 0x80, 0xFE}) {
    const std::string payload = std::string(1, static_cast<char>(type)) + "junk";
    // Pipelined with a Ping: the Error comes first, then the Pong.
    ASSERT_TRUE(c().send_bytes(raw_frame(payload) + raw_frame(std::string(1, '\xff'))));
    auto e = as<ErrorResponse>(c().receive(), "type " + std::to_string(type));
    EXPECT_EQ(e.code, v0(V0Code::kMalformedRequest)) << int(type) << ": " << e.message;
    as<PongResponse>(c().receive(), "ping after type " + std::to_string(type));
  }
  EXPECT_TRUE(pings(c()));
}

TEST_F(BrokerLegacyTest, ZeroLengthFrameGetsError16ThenTheConnectionIsClosed) {
  // A Ping before it is answered; one after it in the same write is not.
  const std::string ping = raw_frame(std::string(1, '\xff'));
  ASSERT_TRUE(c().send_bytes(ping + from_hex("00 00 00 00") + ping));
  as<PongResponse>(c().receive());
  auto e = as<ErrorResponse>(c().receive());
  EXPECT_EQ(e.code, v0(V0Code::kMalformedRequest));
  EXPECT_TRUE(c().wait_for_close(scaled(5s))) << "the broker kept the connection open";
  // The broker still serves others.
  auto other = broker_.connect();
  EXPECT_TRUE(pings(other));
}

TEST_F(BrokerLegacyTest, FrameAboveTheDefaultMaximumGets15AsSoonAsItsLengthArrivesThenClose) {
  // Only the 4 length bytes (10 MiB + 1) are sent: the broker must not wait
  // for the payload.
  ASSERT_TRUE(c().send_bytes(from_hex("00 a0 00 01")));
  auto e = as<ErrorResponse>(c().receive());
  EXPECT_EQ(e.code, v0(V0Code::kFrameTooLarge));
  EXPECT_TRUE(c().wait_for_close(scaled(5s))) << "the broker kept the connection open";
  auto other = broker_.connect();
  EXPECT_TRUE(pings(other));
}

// After the Error the stream ends with FIN (end of stream), not RST.
::testing::AssertionResult ends_gracefully(client::Connection& c) {
  pollfd p{c.fd(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(scaled(5000ms).count())) != 1)
    return ::testing::AssertionFailure() << "still open";
  char b;
  const ssize_t n = ::recv(c.fd(), &b, 1, 0);
  if (n == 0) return ::testing::AssertionSuccess();
  if (n < 0) return ::testing::AssertionFailure() << "reset instead of an orderly close: " << std::strerror(errno);
  return ::testing::AssertionFailure() << "more bytes after the Error";
}

// The close after a framing Error must be orderly even when more of the
// client's input is on the way (a pipelined request after the bad frame, the
// payload of an oversized frame): closing with unread input sends RST, which
// may discard the Error before the client reads it.
TEST_F(BrokerLegacyTest, CloseAfterAFramingErrorIsOrderlyEvenWithUnreadInput) {
  ASSERT_TRUE(c().send_bytes(from_hex("00 00 00 00") + std::string(300 * 1024, 'j')));
  std::this_thread::sleep_for(200ms);  // the broker has closed before we read
  auto e = c().receive();
  ASSERT_TRUE(e) << "the 400 was lost: " << e.status().to_string();
  EXPECT_EQ(as<ErrorResponse>(std::move(e)).code, v0(V0Code::kMalformedRequest));
  EXPECT_TRUE(ends_gracefully(c()));

  auto big = broker_.connect();  // 10 MiB + 1 announced, 100 KiB of it sent
  ASSERT_TRUE(big.send_bytes(from_hex("00 a0 00 01 01") + std::string(100 * 1024, 'p')));
  std::this_thread::sleep_for(200ms);
  auto e2 = big.receive();
  ASSERT_TRUE(e2) << "the 413 was lost: " << e2.status().to_string();
  EXPECT_EQ(as<ErrorResponse>(std::move(e2)).code, v0(V0Code::kFrameTooLarge));
  EXPECT_TRUE(ends_gracefully(big));
}

TEST(BrokerLegacyFrameLimitTest, ConfiguredMaximumIsInclusiveAndAboveItIs15ThenClose) {
  BrokerProcess broker({"--max-frame-bytes", "1024"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  // A 42-byte topic name: a frame at the limit then carries a record whose
  // FetchEx answer fits it too (docs/PROTOCOL.md, "Record size limits").
  const std::string topic(42, 't');
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{topic, 1}).success);
  // Produce payload = type 1 + topic 2+42 + partition 4 + count 4 + len 4 + value.
  const std::string head = from_hex("01 00 2a") + topic + from_hex("00 00 00 00 00 00 00 01");
  const std::string at_limit = raw_frame(head + be32(967) + std::string(967, 'v'));
  ASSERT_EQ(at_limit.size(), 4u + 1024u);
  ASSERT_TRUE(c.send_bytes(at_limit));
  EXPECT_EQ(as<ProduceResponse>(c.receive()).base_offset, 0u);
  // One byte more.
  const std::string above = raw_frame(head + be32(968) + std::string(968, 'v'));
  ASSERT_TRUE(c.send_bytes(above));
  EXPECT_EQ(as<ErrorResponse>(c.receive()).code, v0(V0Code::kFrameTooLarge));
  EXPECT_TRUE(c.wait_for_close(scaled(5s)));
  auto c2 = broker.connect();
  EXPECT_EQ(call<DescribePartitionResponse>(c2, DescribePartitionRequest{topic, 0}).high_watermark, 1u);
  auto f = call<FetchExResponse>(c2, FetchExRequest{topic, 0, 0, 1, 0, 0});
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].value, std::string(967, 'v'));
}

// ------------------------------------------------------------ the v0 worked example

TEST_F(BrokerLegacyTest, WireV0WorkedExampleByteForByte) {
  create("t", 1);
  EXPECT_EQ(produce("t", 0, {"r0", "r1", "r2"}), 0u);
  EXPECT_EQ(produce("t", 0, {"r3", "r4", "r5", "r6"}), 3u);
  // Produce of the single record "hi" to topic "t", partition 0 ...
  ASSERT_TRUE(c().send_bytes(from_hex("00 00 00 12  01  00 01 74  00 00 00 00  00 00 00 01  00 00 00 02 68 69")));
  // ... is answered, at offset 7, with exactly these bytes.
  const std::string want = from_hex("00 00 00 0d  01  00 00 00 00 00 00 00 07  00 00 00 01");
  auto got = c().read_exact(want.size());
  ASSERT_TRUE(got) << got.status().to_string();
  EXPECT_EQ(to_hex(*got), to_hex(want));
  EXPECT_EQ(c().buffered_bytes(), 0u);
  auto f = fetch("t", 0, 7);
  EXPECT_EQ(f.records, (std::vector<std::string>{"hi"}));
  EXPECT_EQ(f.next_offset, 8u);
}

TEST_F(BrokerLegacyTest, V0ResponsesByteForByte) {
  create("t", 1);
  produce("t", 0, {"ab"});
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 1}).success);
  struct Case {
    const char* what;
    std::string request;   // payload
    std::string response;  // whole frame
  };
  const std::vector<Case> cases = {
      {"Fetch", from_hex("02 00 00 00 01 74 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04 00"),
       from_hex("00 00 00 13 02 00 00 00 01 00 00 00 02 61 62 00 00 00 00 00 00 00 01")},
      {"OffsetFetch (has offset)", from_hex("04 00 01 67 00 01 74 00 00 00 00"),
       from_hex("00 00 00 0a 04 01 00 00 00 00 00 00 00 01")},
      {"OffsetFetch (none)", from_hex("04 00 01 68 00 01 74 00 00 00 00"), from_hex("00 00 00 02 04 00")},
      {"OffsetCommit", from_hex("03 00 01 67 00 01 74 00 00 00 00 00 00 00 00 00 00 00 00"),
       from_hex("00 00 00 02 03 01")},
      {"CreateTopic", from_hex("05 00 01 75 00 00 00 02"), from_hex("00 00 00 02 05 01")},
      {"ListTopics", from_hex("06"),
       from_hex("00 00 00 13 06 00 00 00 02 00 01 74 00 00 00 01 00 01 75 00 00 00 02")},
      {"DescribeTopic", from_hex("07 00 01 74"),
       from_hex("00 00 00 18 07 00 01 74 00 00 00 01 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 01")},
      {"DescribePartition", from_hex("08 00 01 74 00 00 00 00"),
       from_hex("00 00 00 10 08 00 01 74 00 00 00 00 00 00 00 00 00 00 00 01")},
      {"Ping", from_hex("ff"), from_hex("00 00 00 01 ff")},
  };
  for (const auto& k : cases) {
    ASSERT_TRUE(c().send_bytes(raw_frame(k.request))) << k.what;
    auto got = c().read_exact(k.response.size());
    ASSERT_TRUE(got) << k.what << ": " << got.status().to_string();
    EXPECT_EQ(to_hex(*got), to_hex(k.response)) << k.what;
  }
  // An Error frame: u16 code, string message.
  ASSERT_TRUE(c().send_bytes(raw_frame(from_hex("07 00 01 78"))));  // DescribeTopic "x"
  auto frame = c().read_frame();
  ASSERT_TRUE(frame);
  ASSERT_GE(frame->size(), 5u);
  EXPECT_EQ(to_hex(frame->substr(0, 3)), "fe 00 0d");  // 0xFE, 13 (DescribeTopic of an unknown topic)
  EXPECT_EQ(frame->size(), 5u + get_u16(reinterpret_cast<const uint8_t*>(frame->data() + 3)));
}

}  // namespace
}  // namespace rustlog::test
