// The Consumer's behaviour, written once and run on both systems it can
// read: a real kafka-lite ("host:port") and librdkafka's mock Kafka cluster
// ("kafka://host:port"). Records are written with the Producer (whose
// placement kafka_producer_test checks against each system's own tools).
// Kafka hands records over as they arrive, so every read polls until what
// is expected is there (generous deadlines, never a fixed wait for data).
// Built only with librdkafka.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "client/consumer.h"
#include "client/producer.h"
#include "support/client_backends.h"

namespace rustlog::test {
namespace {

using namespace std::chrono_literals;
using client::Consumer;
using client::ConsumerOptions;
using client::ConsumerRecord;
using client::ErrorSource;
using client::OffsetReset;
using client::Producer;
using protocol::ProducerRecord;

constexpr int64_t kBaseTimeUs = 1'700'000'000'000'000;
constexpr auto kPatience = 60s;  // for data that is there: generous on a loaded machine

// Record i: keys null / empty / "k<n>", values null / empty / "v<i>",
// headers on some, a ms-exact timestamp on each.
ProducerRecord nth_record(int i) {
  ProducerRecord r;
  if (i % 4 == 1) r.key = "";
  else if (i % 4 != 0) r.key = "k" + std::to_string(i);
  if (i % 10 == 1) r.value = "";
  else if (i % 10 != 0) r.value = "v" + std::to_string(i);
  if (i % 3 == 0) r.headers = {{"seq", std::to_string(i)}, {"empty", ""}};
  r.timestamp_us = kBaseTimeUs + static_cast<int64_t>(i) * 1000;
  return r;
}

template <typename System>
class ConsumerOnBothTest : public ::testing::Test {
 public:  // commit_then_resume below uses them too
  Consumer connect(ConsumerOptions o) {
    auto c = Consumer::connect(sys_.address(), std::move(o), System::client_options());
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(*c);
  }
  // Record i to partition i % partitions, as value "v<i>" unless `full`.
  void produce(const std::string& topic, uint32_t partitions, int from, int to, bool full = false) {
    auto p = Producer::connect(sys_.address());
    ASSERT_TRUE(p) << p.error().to_string();
    for (int i = from; i < to; ++i)
      p->send(topic, static_cast<uint32_t>(i % partitions), full ? nth_record(i) : client::record("v" + std::to_string(i)));
    ASSERT_TRUE(p->flush(kPatience));
    ASSERT_EQ(p->stats().records_acked, static_cast<uint64_t>(to - from));
  }
  // Polls until n records came (or the deadline); never more than n.
  static std::vector<ConsumerRecord> collect(Consumer& c, size_t n) {
    std::vector<ConsumerRecord> out;
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto recs = c.poll(500ms, n - out.size());
      if (!recs) {
        ADD_FAILURE() << recs.error().to_string();
        break;
      }
      for (auto& r : *recs) out.push_back(std::move(r));
    }
    return out;
  }
  static std::set<std::string> values(const std::vector<ConsumerRecord>& recs) {
    std::set<std::string> out;
    for (const auto& r : recs) out.insert(r.value.value_or("<null>"));
    return out;
  }
  System sys_;
};

using Systems = ::testing::Types<RustLogSystem, KafkaSystem>;
TYPED_TEST_SUITE(ConsumerOnBothTest, Systems, SystemName);

TYPED_TEST(ConsumerOnBothTest, ReadsEveryPartitionInOrderWithKeysHeadersTimestampsAndNullValues) {
  constexpr uint32_t kParts = 3;
  constexpr int kRecords = 150;
  this->sys_.create_topic("orders", kParts);
  this->produce("orders", kParts, 0, kRecords, true);
  ConsumerOptions o;
  o.auto_offset_reset = OffsetReset::kEarliest;
  Consumer c = this->connect(o);
  ASSERT_TRUE(c.subscribe("orders"));  // no group: every partition
  auto got = this->collect(c, kRecords);
  ASSERT_EQ(got.size(), static_cast<size_t>(kRecords));
  std::map<uint32_t, uint64_t> next;
  for (const auto& r : got) {
    EXPECT_EQ(r.topic, "orders");
    ASSERT_LT(r.partition, kParts);
    EXPECT_EQ(r.offset, next[r.partition]++) << "in order, without gaps";
    const int i = static_cast<int>(r.offset * kParts + r.partition);  // record i went to i % 3 at i / 3
    const ProducerRecord want = nth_record(i);
    EXPECT_EQ(r.key, want.key) << i;
    EXPECT_EQ(r.value, want.value) << i;  // null stays null, empty stays empty
    EXPECT_EQ(r.headers, want.headers) << i;
    EXPECT_EQ(r.timestamp_us, want.timestamp_us) << i;
  }
  for (uint32_t p = 0; p < kParts; ++p) EXPECT_EQ(c.position(p), std::optional<uint64_t>(kRecords / kParts));
  EXPECT_TRUE(c.poll(300ms)->empty());
  EXPECT_FALSE(c.commit());  // no group
}

// A commit stores the next offset to read; a new consumer of the group
// starts there. `subscribe` false: assign() (no rebalancing anywhere);
// true: subscribe(), which on Kafka joins the group protocol.
template <typename T>
void commit_then_resume(T& t, bool subscribe) {
  t.sys_.create_topic("t", 2);
  t.produce("t", 2, 0, 15);  // 8 records on partition 0, 7 on 1
  ConsumerOptions o;
  o.group_id = subscribe ? "subscribed" : "assigned";
  o.auto_offset_reset = OffsetReset::kEarliest;
  auto start = [&](Consumer& c) { ASSERT_TRUE(subscribe ? c.subscribe("t") : c.assign("t", {0, 1})); };
  std::vector<ConsumerRecord> first, more;
  {
    Consumer c = t.connect(o);
    start(c);
    first = t.collect(c, 4);
    ASSERT_EQ(first.size(), 4u);
    ASSERT_TRUE(c.commit());
    for (const auto& pp : c.positions()) EXPECT_EQ(pp.committed, pp.position) << pp.partition;
    more = t.collect(c, 2);  // read, never committed
    ASSERT_EQ(more.size(), 2u);
    EXPECT_EQ(c.uncommitted(), 2u);
    ASSERT_TRUE(c.close());  // auto_commit_every is 0: commits nothing
  }
  Consumer c = t.connect(o);
  start(c);
  auto rest = t.collect(c, 11);
  ASSERT_EQ(rest.size(), 11u);
  EXPECT_TRUE(c.poll(500ms)->empty());
  std::set<std::string> seen = t.values(first);
  for (const auto& r : rest) EXPECT_TRUE(seen.insert(*r.value).second) << *r.value << " read twice";
  EXPECT_EQ(seen.size(), 15u);  // the 2 uncommitted ones again, nothing lost
  for (const auto& r : more) EXPECT_EQ(t.values(rest).count(*r.value), 1u);
  EXPECT_EQ(c.position(0), std::optional<uint64_t>(8));
  EXPECT_EQ(c.position(1), std::optional<uint64_t>(7));
  ASSERT_TRUE(c.commit());
  ASSERT_TRUE(c.close());
  // A third one has nothing left and starts at the end.
  Consumer d = t.connect(o);
  start(d);
  EXPECT_TRUE(d.poll(500ms)->empty());
}

TYPED_TEST(ConsumerOnBothTest, ACommitIsWhereTheNextAssignedConsumerOfTheGroupStarts) {
  commit_then_resume(*this, false);
}

TYPED_TEST(ConsumerOnBothTest, ACommitIsWhereTheNextSubscribedConsumerOfTheGroupStarts) {
  commit_then_resume(*this, true);
}

TYPED_TEST(ConsumerOnBothTest, AutoCommitEveryNRecordsAndAtClose) {
  this->sys_.create_topic("t", 1);
  this->produce("t", 1, 0, 10);
  ConsumerOptions o;
  o.group_id = "auto";
  o.auto_offset_reset = OffsetReset::kEarliest;
  o.auto_commit_every = 3;
  auto committed_now = [&]() -> std::optional<uint64_t> {
    ConsumerOptions probe = o;
    probe.auto_offset_reset = OffsetReset::kNone;
    probe.auto_commit_every = 0;
    Consumer p = this->connect(probe);
    EXPECT_TRUE(p.assign("t", {0}));
    if (!p.resolve_positions()) return std::nullopt;  // 416: nothing committed
    return p.position(0);
  };
  Consumer c = this->connect(o);
  ASSERT_TRUE(c.assign("t", {0}));
  // (However the records come in polls, a poll commits only when 3 were
  // returned before it.)
  ASSERT_EQ(this->collect(c, 2).size(), 2u);
  ASSERT_EQ(this->collect(c, 1).size(), 1u);  // fewer than 3 before each of these polls
  EXPECT_EQ(committed_now(), std::nullopt);
  ASSERT_EQ(this->collect(c, 1).size(), 1u);  // 3 >= 3: commits 3 first
  EXPECT_EQ(committed_now(), std::optional<uint64_t>(3));
  ASSERT_TRUE(c.close());  // commits the rest
  EXPECT_EQ(committed_now(), std::optional<uint64_t>(4));
}

TYPED_TEST(ConsumerOnBothTest, OffsetResetPoliciesAndSeeks) {
  this->sys_.create_topic("t", 1);
  this->produce("t", 1, 0, 5);

  ConsumerOptions latest;
  latest.group_id = "fresh";
  Consumer c = this->connect(latest);  // default reset: latest
  ASSERT_TRUE(c.assign("t", {0}));
  auto none_yet = c.poll(300ms);
  ASSERT_TRUE(none_yet);
  EXPECT_TRUE(none_yet->empty());
  EXPECT_EQ(c.position(0), std::optional<uint64_t>(5));
  this->produce("t", 1, 5, 6);  // what comes after is read
  auto late = this->collect(c, 1);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].offset, 5u);

  ConsumerOptions strict;
  strict.group_id = "strict";
  strict.auto_offset_reset = OffsetReset::kNone;
  Consumer s = this->connect(strict);
  ASSERT_TRUE(s.assign("t", {0}));
  auto err = s.poll(300ms);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), ErrorCode::kOffsetOutOfRange);

  // A position past the end is reset per the policy.
  ConsumerOptions early;
  early.auto_offset_reset = OffsetReset::kEarliest;
  Consumer e = this->connect(early);
  ASSERT_TRUE(e.assign("t", {0}));
  ASSERT_TRUE(e.seek(0, 1000));
  auto from_start = this->collect(e, 1);
  ASSERT_EQ(from_start.size(), 1u);
  EXPECT_EQ(from_start[0].offset, 0u);
  EXPECT_FALSE(e.commit());     // no group
  EXPECT_FALSE(e.seek(3, 0));   // not assigned

  Consumer t = this->connect(early);
  EXPECT_FALSE(t.poll(10ms));   // nothing assigned
  auto missing = t.subscribe("missing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kTopicNotFound);
  ASSERT_TRUE(t.subscribe("t"));
  ASSERT_TRUE(t.seek_to_end());
  EXPECT_EQ(t.position(0), std::optional<uint64_t>(6));
  EXPECT_TRUE(t.poll(300ms)->empty());
  if (TypeParam::kOffsetsForTimes) {
    ASSERT_TRUE(t.seek_to_time(kBaseTimeUs));  // before every record: the first
    EXPECT_EQ(t.position(0), std::optional<uint64_t>(0));
    auto first = this->collect(t, 1);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].offset, 0u);
  }
  ASSERT_TRUE(t.seek(0, 3));
  auto third = this->collect(t, 1);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].offset, 3u);
  ASSERT_TRUE(t.seek_to_beginning());
  EXPECT_EQ(t.position(0), std::optional<uint64_t>(0));
}

TYPED_TEST(ConsumerOnBothTest, AnUnreachableAddressFailsAtConnectWithATransportError) {
  client::ClientOptions co;
  co.connect_timeout = 2000ms;
  auto c = Consumer::connect(TypeParam::unreachable_address(), ConsumerOptions{}, co);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().source(), ErrorSource::kTransport) << c.error().to_string();
  EXPECT_EQ(c.error().code(), ErrorCode::kTransport) << c.error().to_string();
}

// Where the systems differ: on Kafka, subscribe() with a group splits the
// partitions between the members, and a member that leaves hands its
// partitions to the others (docs/CLIENT.md, "RustLog or Kafka").
TEST(KafkaConsumerTest, SubscribedMembersOfAGroupSplitThePartitionsAndTakeOverOnLeave) {
  KafkaSystem kafka;
  constexpr uint32_t kParts = 4;
  kafka.create_topic("t", kParts);
  ConsumerOptions o;
  o.group_id = "split";
  o.auto_offset_reset = OffsetReset::kEarliest;
  auto a = Consumer::connect(kafka.address(), o, KafkaSystem::client_options());
  auto b = Consumer::connect(kafka.address(), o, KafkaSystem::client_options());
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->subscribe("t"));
  ASSERT_TRUE(b->subscribe("t"));
  // Both poll (the topic is empty) until the group has given each some.
  const auto joined = std::chrono::steady_clock::now() + 2 * kPatience;
  while ((a->positions().empty() || b->positions().empty() ||
          a->positions().size() + b->positions().size() != kParts) &&
         std::chrono::steady_clock::now() < joined) {
    ASSERT_TRUE(a->poll(200ms));
    ASSERT_TRUE(b->poll(200ms));
  }
  ASSERT_EQ(a->positions().size() + b->positions().size(), kParts);
  ASSERT_FALSE(a->positions().empty());
  ASSERT_FALSE(b->positions().empty());
  {
    auto p = Producer::connect(kafka.address());
    ASSERT_TRUE(p) << p.error().to_string();
    for (int i = 0; i < 40; ++i) p->send("t", static_cast<uint32_t>(i % kParts), client::record("v" + std::to_string(i)));
    ASSERT_TRUE(p->flush(kPatience));
  }
  std::map<uint32_t, std::set<int>> readers;  // partition -> which consumer read it
  size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 2 * kPatience;
  while (total < 40 && std::chrono::steady_clock::now() < deadline) {
    for (int who : {0, 1}) {
      auto recs = (who == 0 ? *a : *b).poll(200ms);
      ASSERT_TRUE(recs) << recs.error().to_string();
      for (const auto& r : *recs) readers[r.partition].insert(who);
      total += recs->size();
    }
  }
  ASSERT_EQ(total, 40u);  // each record once: no partition was read by both
  ASSERT_EQ(readers.size(), kParts);
  std::set<int> members;
  for (const auto& [part, who] : readers) {
    EXPECT_EQ(who.size(), 1u) << "partition " << part;
    members.insert(*who.begin());
  }
  EXPECT_EQ(members.size(), 2u);  // both got some
  ASSERT_TRUE(a->commit());
  ASSERT_TRUE(b->commit());

  // a leaves: b takes over its partitions, and records after the commit reach b.
  ASSERT_TRUE(a->close());
  auto p = Producer::connect(kafka.address());
  ASSERT_TRUE(p);
  for (uint32_t part = 0; part < kParts; ++part) p->send("t", part, client::record("late"));
  ASSERT_TRUE(p->flush(kPatience));
  std::set<uint32_t> late;
  const auto deadline2 = std::chrono::steady_clock::now() + 2 * kPatience;
  while (late.size() < kParts && std::chrono::steady_clock::now() < deadline2) {
    auto recs = b->poll(500ms);
    ASSERT_TRUE(recs) << recs.error().to_string();
    for (const auto& r : *recs) {
      EXPECT_EQ(r.value, "late") << "partition " << r.partition << " offset " << r.offset << " read again";
      late.insert(r.partition);
    }
  }
  EXPECT_EQ(late.size(), kParts);
  // seek on a partition the group gave it: back to the start of partition 0.
  ASSERT_TRUE(b->seek(0, 0));
  auto again = ConsumerOnBothTest<KafkaSystem>::collect(*b, 11);
  ASSERT_EQ(again.size(), 11u);
  for (const auto& r : again) EXPECT_EQ(r.partition, 0u);
  EXPECT_EQ(again.front().offset, 0u);
  EXPECT_TRUE(a->poll(10ms).error().code() == ErrorCode::kInvalidRequest);  // closed
}

TEST(KafkaConsumerTest, HasNoRustLogClient) {
  KafkaSystem kafka;
  auto c = Consumer::connect(kafka.address(), ConsumerOptions{});
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->on_kafka());
  EXPECT_THROW(c->client(), client::ClientException);
}

}  // namespace
}  // namespace rustlog::test
