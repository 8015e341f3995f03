// client::Producer against a real kafka-lite: offsets and order, the
// partitioner, linger, the bounded buffer, the failure rule (a failed batch
// takes the later batches of its partition), thread-safe send.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/client.h"
#include "client/producer.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/producer_fixture.h"

namespace rustlog::client {
namespace {

using namespace std::chrono_literals;
using test::expect_prefix_per_partition;

class ProducerTest : public test::ProducerFixture {};

TEST_F(ProducerTest, OffsetsFollowSendOrderAndTheRecordsRoundTrip) {
  create("t", 1);
  Producer p = producer();
  std::vector<SendFuture> fs;
  for (int i = 0; i < 20000; ++i) {
    ProducerRecord r = record("value-" + std::to_string(i), i % 3 == 0 ? std::nullopt : std::optional<std::string>("k"),
                              {{"i", std::to_string(i)}});
    if (i % 5 == 0) r.timestamp_us = 1'700'000'000'000'000 + i;
    fs.push_back(p.send("t", 0, std::move(r)));
  }
  ASSERT_TRUE(p.flush());
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(fs[i].ready());
    auto md = fs[i].get();
    ASSERT_TRUE(md) << md.error().to_string();
    EXPECT_EQ(md->offset, static_cast<uint64_t>(i));
    EXPECT_EQ(md->partition, 0u);
    EXPECT_EQ(md->topic, "t");
    if (i % 5 == 0) {
      EXPECT_EQ(md->timestamp_us, 1'700'000'000'000'000 + i);
    }
  }
  auto recs = read_all("t", 0);
  ASSERT_EQ(recs.size(), 20000u);
  for (int i = 0; i < 20000; ++i) {
    EXPECT_EQ(recs[i].value, "value-" + std::to_string(i));
    EXPECT_EQ(recs[i].key.has_value(), i % 3 != 0);
    ASSERT_EQ(recs[i].headers.size(), 1u);
    EXPECT_EQ(recs[i].headers[0].value, std::to_string(i));
  }
  const ProducerStats s = p.stats();
  EXPECT_EQ(s.records_acked, 20000u);
  EXPECT_EQ(s.records_failed, 0u);
  EXPECT_LT(s.batches_acked, 20000u);  // batched
  EXPECT_EQ(s.buffered_bytes, 0u);
}

TEST_F(ProducerTest, CallbacksRunOncePerRecordInSendOrder) {
  create("t", 2);
  Producer p = producer();
  std::mutex mu;
  std::map<uint32_t, std::vector<uint64_t>> offsets;
  std::atomic<int> calls{0};
  for (int i = 0; i < 5000; ++i)
    p.send("t", static_cast<uint32_t>(i % 2), record("v"), [&](const ClientResult<RecordMetadata>& md) {
      ASSERT_TRUE(md) << md.error().to_string();
      std::lock_guard lock(mu);
      offsets[md->partition].push_back(md->offset);
      ++calls;
    });
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(calls.load(), 5000);
  for (uint32_t part : {0u, 1u}) {
    ASSERT_EQ(offsets[part].size(), 2500u);
    for (size_t i = 0; i < 2500; ++i) EXPECT_EQ(offsets[part][i], i);
  }
}

TEST_F(ProducerTest, KeysGoWhereTheDocumentedHashSaysAndAnExplicitPartitionWins) {
  create("t", 5);
  Producer p = producer();
  std::vector<std::pair<std::string, SendFuture>> keyed;
  for (int i = 0; i < 200; ++i) {
    std::string key = "customer-" + std::to_string(i);
    keyed.emplace_back(key, p.send("t", record("v", key)));
  }
  SendFuture forced = p.send("t", 3, record("v", "customer-0"));  // hashes elsewhere
  ASSERT_TRUE(p.flush());
  std::set<uint32_t> used;
  for (auto& [key, f] : keyed) {
    auto md = f.get();
    ASSERT_TRUE(md) << md.error().to_string();
    EXPECT_EQ(md->partition, fnv1a_32(key) % 5) << key;
    used.insert(md->partition);
  }
  EXPECT_EQ(used.size(), 5u);
  ASSERT_NE(partition_for_key("customer-0", 5), 3u);
  EXPECT_EQ(forced.get()->partition, 3u);
}

TEST_F(ProducerTest, UnkeyedRecordsFillOneBatchPerPartitionInTurn) {
  create("t", 3);
  ProducerOptions o;
  o.batch_records = 100;
  o.linger = 1h;  // only full batches go out before flush()
  o.unkeyed = UnkeyedPartitioning::kSticky;
  Producer p = producer(o);
  std::vector<SendFuture> fs;
  for (int i = 0; i < 600; ++i) fs.push_back(p.send("t", record("v" + std::to_string(i))));
  ASSERT_TRUE(p.flush());
  std::map<uint32_t, int> per_partition;
  for (int b = 0; b < 6; ++b) {
    const uint32_t first = fs[b * 100].get()->partition;
    for (int i = b * 100; i < (b + 1) * 100; ++i) EXPECT_EQ(fs[i].get()->partition, first) << i;
    per_partition[first] += 100;
    if (b > 0) {
      EXPECT_EQ(first, (fs[(b - 1) * 100].get()->partition + 1) % 3);
    }
  }
  EXPECT_EQ(per_partition.size(), 3u);

  // The default, kFirstPartition: every unkeyed record to partition 0, in order.
  Producer q = producer();
  SendFuture a = q.send("t", record("x")), b = q.send("t", record("y", "k"));
  ASSERT_TRUE(q.flush());
  EXPECT_EQ(a.get()->partition, 0u);
  EXPECT_EQ(b.get()->partition, partition_for_key("k", 3));
}

TEST_F(ProducerTest, LingerHoldsAPartialBatchUntilItExpiresOrFlush) {
  create("t", 1);
  ProducerOptions o;
  o.linger = 1h;
  Producer p = producer(o);
  std::vector<SendFuture> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(p.send("t", record("v")));
  // Nothing goes out while the linger runs (an hour): no answer can come.
  std::this_thread::sleep_for(300ms);
  for (auto& f : fs) EXPECT_FALSE(f.ready());
  EXPECT_EQ(p.stats().batches_acked, 0u);
  ASSERT_TRUE(p.flush());
  for (auto& f : fs) EXPECT_TRUE(f.ready());
  EXPECT_EQ(p.stats().batches_acked, 1u);  // the ten records were one request

  // A short linger sends the batch by itself, without flush().
  ProducerOptions s;
  s.linger = 50ms;
  Producer q = producer(s);
  std::vector<SendFuture> gs;
  for (int i = 0; i < 10; ++i) gs.push_back(q.send("t", record("w")));
  ASSERT_TRUE(gs.back().wait_for(test::scaled(30s)));
  for (auto& g : gs) ASSERT_TRUE(g.get());
  EXPECT_EQ(q.stats().batches_acked, 1u);
  EXPECT_EQ(gs.back().get()->offset, gs.front().get()->offset + 9);
}

TEST_F(ProducerTest, AFullBufferFailsAtOnceOrBlocksUntilSpaceIsFreed) {
  create("t", 1);
  ProducerOptions o;
  o.linger = 1h;
  o.batch_bytes = 64 * 1024;
  o.buffer_bytes = 64 * 1024;
  o.block_when_full = false;
  Producer p = producer(o);
  const std::string value(1000, 'x');
  int accepted = 0;
  SendFuture refused;
  for (int i = 0; i < 100; ++i) {
    SendFuture f = p.send("t", record(value));
    if (f.ready() && !f.get()) {
      refused = f;
      break;
    }
    ++accepted;
  }
  ASSERT_TRUE(refused.valid()) << "the buffer never filled";
  EXPECT_GT(accepted, 50);
  EXPECT_EQ(refused.get().error().code(), ErrorCode::kBufferFull);
  EXPECT_EQ(refused.get().error().source(), ErrorSource::kClient);
  EXPECT_TRUE(test::has_substr(refused.get().error().message(), "buffer full"));
  ASSERT_TRUE(p.flush());  // sends the held batch and frees the space
  EXPECT_TRUE(p.send("t", record(value)).valid());
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(read_all("t", 0).size(), static_cast<size_t>(accepted + 1));

  // Blocking: a send waits for space up to max_block, then fails with 429 ...
  o.block_when_full = true;
  o.max_block = 200ms;
  Producer b = producer(o);
  for (int i = 0; i < accepted; ++i) ASSERT_FALSE(b.send("t", record(value)).ready());
  SendFuture timed_out = b.send("t", record(value));
  ASSERT_TRUE(timed_out.ready());
  EXPECT_EQ(timed_out.get().error().code(), ErrorCode::kBufferFull);
  // ... and goes through once a flush frees it.
  o.max_block = test::scaled(60s);
  Producer c = producer(o);
  for (int i = 0; i < accepted; ++i) ASSERT_FALSE(c.send("t", record(value)).ready());
  std::atomic<bool> sent{false};
  SendFuture late;
  std::thread blocked([&] {
    late = c.send("t", record(value));
    sent = true;
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(sent.load());  // still waiting for space (the linger is an hour)
  ASSERT_TRUE(c.flush());
  blocked.join();
  ASSERT_TRUE(c.flush());
  auto md = late.get();
  ASSERT_TRUE(md) << md.error().to_string();
}

TEST_F(ProducerTest, RefusedSendsFailAtOnceWithTheirReason) {
  create("t", 2);
  Producer p = producer();
  auto unknown = p.send("nope", record("v")).get();
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), ErrorCode::kTopicNotFound);
  EXPECT_TRUE(unknown.error().from_broker());
  auto range = p.send("t", 2, record("v")).get();
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().code(), ErrorCode::kPartitionNotFound);
  EXPECT_TRUE(test::has_substr(range.error().message(), "has 2 partitions"));
  auto big = p.send("t", 0, record(std::string(11 << 20, 'x'))).get();
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ErrorCode::kTooLarge);
  ProducerRecord bad = record("v");
  bad.timestamp_us = -7;
  bool called = false;
  auto invalid = p.send("t", 0, bad, [&](const ClientResult<RecordMetadata>& r) { called = !r; }).get();
  EXPECT_EQ(invalid.error().code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(called);
  p.close();
  auto closed = p.send("t", 0, record("v")).get();
  EXPECT_EQ(closed.error().code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(test::has_substr(closed.error().message(), "closed"));
  EXPECT_EQ(p.stats().records_failed, 5u);
}

// The failure rule: per partition, the records that succeed are a prefix of
// the send order; no record lands after one that failed.
TEST_F(ProducerTest, AfterKill9NoRecordLandsAfterAFailedOneAndEveryAckedOneIsThere) {
  create("t", 2);
  ProducerOptions o;
  o.batch_records = 200;  // many small batches, several in flight
  o.delivery_timeout = 500ms;
  o.client.connect_timeout = 200ms;
  Producer p = producer(o);
  std::vector<SendFuture> fs;
  std::vector<uint32_t> parts;
  for (int i = 0; i < 400'000; ++i) {
    const uint32_t part = static_cast<uint32_t>(i % 2);
    fs.push_back(p.send("t", part, record(std::to_string(i))));
    parts.push_back(part);
    if (i == 20'000) {
      // The first batches are answered: the broker dies with more in flight.
      ASSERT_TRUE(fs[0].wait_for(test::scaled(30s)));
      broker_.kill9();
    }
  }
  ASSERT_EQ(p.flush(test::scaled(60s)).ok(), true);
  std::map<uint32_t, size_t> acked;
  expect_prefix_per_partition(fs, parts, &acked);
  EXPECT_GT(p.stats().records_failed, 0u);
  auto later = p.send("t", 0, record("after")).get();  // broker still down: fails after delivery_timeout
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code(), ErrorCode::kTransport);
  EXPECT_TRUE(test::has_substr(later.error().message(), "delivery_timeout"));

  ASSERT_TRUE(broker_.start());
  addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  for (uint32_t part : {0u, 1u}) {
    // flush always: every acknowledged record survived; the log holds a
    // prefix of the send order (in-flight records may have landed too).
    auto recs = read_all("t", part);
    EXPECT_GE(recs.size(), acked[part]) << "partition " << part;
    for (size_t j = 0; j < recs.size(); ++j)
      ASSERT_EQ(recs[j].value, std::to_string(j * 2 + part)) << "partition " << part << " offset " << j;
  }
}

TEST_F(ProducerTest, ABrokerErrorFailsTheLaterBatchesOfThePartitionAndTheTopicIsLookedUpAgain) {
  create("t", 1);
  ProducerOptions o;
  o.batch_records = 100;
  Producer p = producer(o);
  send_through_a_topic_delete(p, "t", 30'000, [](int i) { return std::to_string(i); });
  if (HasFatalFailure()) return;
  Client c = admin();
  // Recreated: the Producer looks the topic up again and carries on.
  ASSERT_TRUE(c.create_topic("t", 2));
  SendFuture again = p.send("t", 1, record("back"));
  auto md = again.get();
  ASSERT_TRUE(md) << md.error().to_string();
  EXPECT_EQ(md->partition, 1u);
  EXPECT_EQ(md->offset, 0u);
}

TEST_F(ProducerTest, SendIsThreadSafeAndKeepsEachThreadsOrder) {
  create("t", 1);
  Producer p = producer();
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) p.send("t", record(std::to_string(i), "thread-" + std::to_string(t)));
    });
  for (auto& t : ts) t.join();
  ASSERT_TRUE(p.flush());
  EXPECT_EQ(p.stats().records_acked, static_cast<uint64_t>(kThreads * kEach));
  std::map<std::string, int> next;
  for (const Record& r : read_all("t", 0)) {
    int& n = next[*r.key];
    ASSERT_EQ(*r.value, std::to_string(n)) << *r.key;
    ++n;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(next["thread-" + std::to_string(t)], kEach);
}

TEST_F(ProducerTest, CloseSendsWhatIsBufferedAndConnectFailsClearly) {
  create("t", 1);
  ProducerOptions o;
  o.linger = 1h;
  {
    Producer p = producer(o);
    for (int i = 0; i < 100; ++i) p.send("t", record("v"));
  }  // the destructor closes: the held batch is sent first
  EXPECT_EQ(read_all("t", 0).size(), 100u);
  auto bad = Producer::connect("127.0.0.1:1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().source(), ErrorSource::kTransport);
  EXPECT_TRUE(test::has_substr(bad.error().message(), "is the broker running there?"));
  ProducerOptions wrong;
  wrong.max_in_flight = 0;
  EXPECT_EQ(Producer::connect(addr_, wrong).error().code(), ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace rustlog::client
