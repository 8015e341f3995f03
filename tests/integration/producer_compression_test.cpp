// client::Producer with a codec against a real kafka-lite: the compressor
// threads (client/producer_impl.h) compress sealed batches while they wait,
// and every guarantee of client/producer.h still holds: per-partition order
// with many batches in flight, the failure rule after a kill -9 or a deleted
// topic, flush() and close() with batches inside the compressor, and
// delivery_timeout while the broker is down.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/producer.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/producer_fixture.h"

namespace rustlog::client {
namespace {

using namespace std::chrono_literals;
using test::expect_prefix_per_partition;

// A log line of about 200 bytes that compresses like real ones (deterministic).
std::string log_line(int i) {
  return "10.0." + std::to_string(i % 251) + "." + std::to_string(i % 13) +
         " - - [01/Dec/2026:10:00:" + std::to_string(i % 60) + " +0000] \"GET /api/v1/items/" +
         std::to_string(i) + "?page=" + std::to_string(i % 17) +
         " HTTP/1.1\" 200 " + std::to_string(1000 + i % 977) +
         " \"-\" \"Mozilla/5.0 (X11; Linux x86_64) rustlog-test/" + std::to_string(i % 7) + "\"";
}

class ProducerCompressionTest : public test::ProducerFixture {
 protected:
  static ProducerOptions zstd() {
    ProducerOptions o;
    o.compression = {Codec::kZstd, 3};
    return o;
  }
  void send_order_holds(const std::string& topic, uint32_t threads);
};

TEST_F(ProducerCompressionTest, EachPartitionKeepsSendOrderWithManyCompressedBatchesInFlight) {
  // One compressor thread, the default two, and four finishing batches out of order.
  for (uint32_t threads : {1u, 2u, 4u}) {
    SCOPED_TRACE("compression_threads " + std::to_string(threads));
    send_order_holds("t" + std::to_string(threads), threads);
    if (HasFatalFailure()) return;
  }
}

void ProducerCompressionTest::send_order_holds(const std::string& topic, uint32_t threads) {
  constexpr uint32_t kParts = 4;
  constexpr int kRecords = 60'000;
  create(topic, kParts);
  ProducerOptions o = zstd();
  o.batch_records = 64;  // many small batches: the compressors run ahead of the I/O thread
  o.max_in_flight = 16;
  o.linger = 0ms;
  o.compression_threads = threads;
  Producer p = producer(o);
  std::vector<SendFuture> fs;
  std::map<uint32_t, uint64_t> next_offset;
  std::vector<uint64_t> expected;
  for (int i = 0; i < kRecords; ++i) {
    const uint32_t part = static_cast<uint32_t>((i / 7) % kParts);  // runs of a partition, then the next
    ProducerRecord r = record(log_line(i), "k" + std::to_string(i % 5), {{"i", std::to_string(i)}});
    // Runs of records with their own timestamp start batches of their own (one rule per batch).
    if ((i / 1000) % 3 == 0) r.timestamp_us = 1'700'000'000'000'000 + i;
    fs.push_back(p.send(topic, part, std::move(r)));
    expected.push_back(next_offset[part]++);
  }
  ASSERT_TRUE(p.flush());
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(fs[i].ready()) << i;
    auto md = fs[i].get();
    ASSERT_TRUE(md) << i << ": " << md.error().to_string();
    ASSERT_EQ(md->offset, expected[i]) << "record " << i;
  }
  EXPECT_GT(p.stats().batches_acked, static_cast<uint64_t>(kRecords / 64));
  for (uint32_t part = 0; part < kParts; ++part) {
    auto recs = read_all(topic, part);
    ASSERT_EQ(recs.size(), next_offset[part]);
    int i = -1;
    for (const Record& r : recs) {
      ASSERT_EQ(r.headers.size(), 1u);
      const int sent = std::stoi(r.headers[0].value);
      ASSERT_GT(sent, i) << "partition " << part << " offset " << r.offset;
      i = sent;
      ASSERT_EQ(r.value, log_line(sent));
      if ((sent / 1000) % 3 == 0) {
        ASSERT_EQ(r.timestamp_us, 1'700'000'000'000'000 + sent);
      }
    }
  }
}

TEST_F(ProducerCompressionTest, AfterKill9NoCompressedRecordLandsAfterAFailedOneAndEveryAckedOneIsThere) {
  create("t", 3);
  ProducerOptions o = zstd();
  o.batch_records = 200;
  o.max_in_flight = 8;
  o.delivery_timeout = 500ms;
  o.client.connect_timeout = 200ms;
  Producer p = producer(o);
  std::vector<SendFuture> fs;
  std::vector<uint32_t> parts;
  for (int i = 0; i < 150'000; ++i) {
    const uint32_t part = static_cast<uint32_t>(i % 3);
    fs.push_back(p.send("t", part, record(std::to_string(i) + " " + log_line(i))));
    parts.push_back(part);
    if (i == 20'000) {
      // Answered batches, batches in flight, sealed ones in the compressor: the broker dies.
      ASSERT_TRUE(fs[0].wait_for(test::scaled(30s)));
      broker_.kill9();
    }
  }
  ASSERT_TRUE(p.flush(test::scaled(60s)));
  std::map<uint32_t, size_t> acked;
  expect_prefix_per_partition(fs, parts, &acked);
  EXPECT_GT(p.stats().records_failed, 0u);
  EXPECT_EQ(p.stats().buffered_bytes, 0u);

  ASSERT_TRUE(broker_.start());
  addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  for (uint32_t part = 0; part < 3; ++part) {
    auto recs = read_all("t", part);
    EXPECT_GE(recs.size(), acked[part]) << "partition " << part;
    for (size_t j = 0; j < recs.size(); ++j) {
      const int sent = static_cast<int>(j * 3 + part);
      ASSERT_EQ(recs[j].value, std::to_string(sent) + " " + log_line(sent)) << "partition " << part << " offset " << j;
    }
  }
}

TEST_F(ProducerCompressionTest, ADeletedTopicFailsTheLaterCompressedBatchesOfThePartition) {
  create("t", 1);
  ProducerOptions o = zstd();
  o.batch_records = 100;
  o.max_in_flight = 8;
  Producer p = producer(o);
  send_through_a_topic_delete(p, "t", 30'000, log_line);
  if (HasFatalFailure()) return;
  Client c = admin();
  ASSERT_TRUE(c.create_topic("t", 1));
  auto md = p.send("t", record("back")).get();
  ASSERT_TRUE(md) << md.error().to_string();
  EXPECT_EQ(md->offset, 0u);
  ASSERT_TRUE(p.flush());  // a future is ready just before its batch's space is released
  EXPECT_EQ(p.stats().buffered_bytes, 0u);
}

TEST_F(ProducerCompressionTest, FlushAndCloseWaitForTheBatchesInsideTheCompressor) {
  create("t", 2);
  ProducerOptions o = zstd();
  o.batch_bytes = 256 << 10;  // batches that take the compressor a while
  o.linger = 1h;              // only size, flush() and close() seal them
  o.compression = {Codec::kZstd, 9};
  std::vector<SendFuture> first, second;
  {
    Producer p = producer(o);
    for (int i = 0; i < 20'000; ++i) first.push_back(p.send("t", static_cast<uint32_t>(i % 2), record(log_line(i))));
    ASSERT_TRUE(p.flush());
    for (auto& f : first) {
      ASSERT_TRUE(f.ready());
      ASSERT_TRUE(f.get()) << f.get().error().to_string();
    }
    EXPECT_EQ(p.stats().buffered_bytes, 0u);
    for (int i = 20'000; i < 40'000; ++i)
      second.push_back(p.send("t", static_cast<uint32_t>(i % 2), record(log_line(i))));
    p.close();  // sends what is sealed, compressing or open, then stops both threads
    EXPECT_FALSE(p.send("t", 0, record("late")).get());
  }
  for (auto& f : second) {
    ASSERT_TRUE(f.ready());
    ASSERT_TRUE(f.get()) << f.get().error().to_string();
  }
  for (uint32_t part = 0; part < 2; ++part) {
    auto recs = read_all("t", part);
    ASSERT_EQ(recs.size(), 20'000u);
    for (size_t j = 0; j < recs.size(); ++j) ASSERT_EQ(recs[j].value, log_line(static_cast<int>(j * 2 + part)));
  }
}

TEST_F(ProducerCompressionTest, WhileTheBrokerIsDownCompressedBatchesFailAfterDeliveryTimeout) {
  create("t", 2);
  ProducerOptions o = zstd();
  o.batch_records = 50;
  o.delivery_timeout = 300ms;
  o.reconnect_backoff = 20ms;
  o.client.connect_timeout = 200ms;
  Producer p = producer(o);
  ASSERT_TRUE(p.send("t", 0, record("first")).get());
  broker_.kill9();
  // The Producer learns the connection is gone (this batch was written, or tried).
  ASSERT_FALSE(p.send("t", 0, record("probe")).get());
  std::vector<SendFuture> fs;
  for (int i = 0; i < 5000; ++i) fs.push_back(p.send("t", static_cast<uint32_t>(i % 2), record(log_line(i))));
  ASSERT_TRUE(p.flush(test::scaled(60s)));
  for (auto& f : fs) {
    ASSERT_TRUE(f.ready());
    auto md = f.get();
    ASSERT_FALSE(md);
    EXPECT_EQ(md.error().code(), ErrorCode::kTransport) << md.error().to_string();
    // Never written: each expired, or followed an expired batch of its partition.
    EXPECT_TRUE(test::has_substr(md.error().message(), "delivery_timeout")) << md.error().to_string();
  }
  EXPECT_EQ(p.stats().buffered_bytes, 0u);
  // close() with the broker still down ends at once: nothing is left to wait for.
  p.send("t", 0, record("never"));
  p.close(test::scaled(30s));
  EXPECT_EQ(p.stats().records_acked, 1u);
}

}  // namespace
}  // namespace rustlog::client
