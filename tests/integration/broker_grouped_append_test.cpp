// End to end: the produces a connection pipelines are written per partition
// in one write (Broker::write_group). Answers stay in request order with
// each partition's offsets consecutive; a write that fails in the middle of
// a group fails exactly the produces of that write (none of their bytes
// stay in the log, the partial write is cut back, a restart recovers
// nothing torn); under flush = always nothing of a group is acknowledged
// before its fsync returned. Real broker processes, real files; the storage
// I/O seam (RUSTLOG_FAULT) fails or holds the segment file's writes.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "protocol/codec.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

constexpr int kGroup = 10;  // produces pipelined in one send, so handled in one turn

::testing::AssertionResult start_with_fault(BrokerProcess& broker, const std::string& spec) {
  ::setenv("RUSTLOG_FAULT", spec.c_str(), 1);
  auto started = broker.start();
  ::unsetenv("RUSTLOG_FAULT");
  return started;
}

std::string pipelined_produces(const std::string& topic, int n, int first) {
  std::string wire;
  for (int i = 0; i < n; ++i)
    EXPECT_TRUE(encode_request(ProduceRequest{topic, 0, {"r" + std::to_string(first + i)}}, wire).is_ok());
  return wire;
}

std::vector<std::string> values(client::Connection& c, const std::string& topic) {
  auto r = call<FetchExResponse>(c, FetchExRequest{topic, 0, 0, 1 << 20, 0, 0});
  std::vector<std::string> out;
  for (const auto& rec : r.records) out.push_back(rec.value.value_or(""));
  return out;
}

TEST(BrokerGroupedAppendTest, PipelinedProducesToTwoPartitionsAreAnsweredInOrderAndSurviveKill9) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  std::vector<std::string> acked[2];
  {
    auto c = broker.connect();
    call<CreateTopicResponse>(c, CreateTopicRequest{"t", 2});
    // Interleaved: partition 0, partition 1, a produce that fails at once,
    // a ProduceEx; all in one send.
    constexpr int kRequests = 400;
    std::string wire;
    for (int i = 0; i < kRequests; ++i) {
      const std::string v = "v" + std::to_string(i);
      Request req;
      switch (i % 4) {
        case 0: req = ProduceRequest{"t", 0, {v, v + "b"}}; break;
        case 1: req = ProduceRequest{"t", 1, {v}}; break;
        case 2: req = ProduceRequest{"missing", 0, {v}}; break;
        default: req = ProduceExRequest{"t", 1, kBrokerTimestamp, {ProducerRecord{-1, std::nullopt, v, {}}}}; break;
      }
      ASSERT_TRUE(encode_request(req, wire).is_ok());
    }
    ASSERT_TRUE(c.send_bytes(wire).is_ok());
    uint64_t next[2] = {0, 0};
    for (int i = 0; i < kRequests; ++i) {
      auto r = c.receive();
      ASSERT_TRUE(r) << i << ": " << r.status().to_string();
      const std::string v = "v" + std::to_string(i);
      const std::string what = "response " + std::to_string(i) + " is " + describe(*r);
      switch (i % 4) {
        case 0: {
          auto* p = std::get_if<ProduceResponse>(&*r);
          ASSERT_NE(p, nullptr) << what;
          EXPECT_EQ(p->base_offset, next[0]) << what;
          next[0] += 2;
          acked[0].push_back(v);
          acked[0].push_back(v + "b");
          break;
        }
        case 1: {
          auto* p = std::get_if<ProduceResponse>(&*r);
          ASSERT_NE(p, nullptr) << what;
          EXPECT_EQ(p->base_offset, next[1]++) << what;
          acked[1].push_back(v);
          break;
        }
        case 2: ASSERT_TRUE(std::holds_alternative<ErrorResponse>(*r)) << what; break;
        default: {
          auto* p = std::get_if<ProduceExResponse>(&*r);
          ASSERT_NE(p, nullptr) << what;
          EXPECT_EQ(p->base_offset, next[1]++) << what;
          acked[1].push_back(v);
        }
      }
    }
  }
  broker.kill9();
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  for (uint32_t p = 0; p < 2; ++p) {
    auto r = call<FetchExResponse>(c, FetchExRequest{"t", p, 0, 1 << 20, 0, 0});
    std::vector<std::string> got;
    for (const auto& rec : r.records) got.push_back(rec.value.value_or(""));
    EXPECT_EQ(got, acked[p]) << "partition " << p;
  }
}

// The first write to the topic's segment file fails after 150 bytes (a
// disk filling up): that write held the whole group.
TEST(BrokerGroupedAppendTest, AGroupWhoseWriteFailsFailsWholeAndLeavesNothingBehind) {
  BrokerProcess broker;
  ASSERT_TRUE(start_with_fault(broker, "write:ENOSPC:times=1:partial=150:path=/full-0/00000000000000000000.log"));
  {
    auto c = broker.connect();
    call<HandshakeResponse>(c, HandshakeRequest{"grouped-append-test"});  // errors with their ErrorCode
    call<CreateTopicResponse>(c, CreateTopicRequest{"full", 1});
    ASSERT_TRUE(c.send_bytes(pipelined_produces("full", kGroup, 0)).is_ok());
    for (int i = 0; i < kGroup; ++i) {
      auto e = as<ErrorResponse>(c.receive(), "produce " + std::to_string(i));
      EXPECT_EQ(e.code, ErrorCode::kInsufficientSpace) << i << ": " << e.message;
    }
    EXPECT_EQ(call<DescribePartitionResponse>(c, DescribePartitionRequest{"full", 0}).high_watermark, 0u);
    // The disk has room again: the next group lands at offset 0, in order.
    ASSERT_TRUE(c.send_bytes(pipelined_produces("full", kGroup, 100)).is_ok());
    for (int i = 0; i < kGroup; ++i)
      EXPECT_EQ(as<ProduceResponse>(c.receive()).base_offset, static_cast<uint64_t>(i));
    std::vector<std::string> want;
    for (int i = 0; i < kGroup; ++i) want.push_back("r" + std::to_string(100 + i));
    EXPECT_EQ(values(c, "full"), want);
  }
  broker.kill9();
  ASSERT_TRUE(broker.start());
  EXPECT_TRUE(has_substr(broker.log(), "0 bytes truncated"));  // the cut-back partial write left no torn tail
  auto c = broker.connect();
  EXPECT_EQ(values(c, "full").size(), static_cast<size_t>(kGroup));
}

// An I/O error on the group's write: the group fails, the partition turns
// read-only (later produces fail too, nothing lands out of order), and a
// restart recovers a clean, writable partition holding what was acked.
TEST(BrokerGroupedAppendTest, AGroupWhoseWriteHitsAnIoErrorFailsAndARestartRecoversCleanly) {
  BrokerProcess broker;
  ASSERT_TRUE(start_with_fault(broker, "write:EIO:skip=1:times=1:partial=90:path=/eio-0/00000000000000000000.log"));
  {
    auto c = broker.connect();
    call<HandshakeResponse>(c, HandshakeRequest{"grouped-append-test"});
    call<CreateTopicResponse>(c, CreateTopicRequest{"eio", 1});
    EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"eio", 0, {"first"}}).base_offset, 0u);  // write 1
    ASSERT_TRUE(c.send_bytes(pipelined_produces("eio", kGroup, 0) + pipelined_produces("eio", 1, 50)).is_ok());
    for (int i = 0; i <= kGroup; ++i) {
      auto e = as<ErrorResponse>(c.receive(), "produce " + std::to_string(i));
      EXPECT_EQ(e.code, ErrorCode::kStorageError) << i << ": " << e.message;
    }
    EXPECT_EQ(values(c, "eio"), std::vector<std::string>{"first"});
  }
  EXPECT_EQ(broker.stop(), 1);  // the read-only partition's final flush reports the failure
  ASSERT_TRUE(broker.start());
  EXPECT_TRUE(has_substr(broker.log(), "0 bytes truncated"));
  auto c = broker.connect();
  EXPECT_EQ(values(c, "eio"), std::vector<std::string>{"first"});
  EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"eio", 0, {"again"}}).base_offset, 1u);
}

// flush = always (the default): a group's answers leave only once its
// fsync returned. The fsync is held until a file exists; meanwhile nothing
// is answered.
TEST(BrokerGroupedAppendTest, AGroupIsAcknowledgedOnlyAfterItsFsync) {
  BrokerProcess broker;
  const std::string go = broker.data_dir() + "/../fsync-go";
  ASSERT_TRUE(start_with_fault(broker, "sync:HOLD:until=" + go + ":path=/held-0/00000000000000000000.log"));
  auto c = broker.connect();
  call<CreateTopicResponse>(c, CreateTopicRequest{"held", 1});
  ASSERT_TRUE(c.send_bytes(pipelined_produces("held", kGroup, 0)).is_ok());
  // No answer while the fsync waits (the broker's loop waits with it).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  char byte;
  EXPECT_EQ(::recv(c.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT), -1) << "an answer left before its fsync returned";
  std::ofstream(go).put('\n');
  for (int i = 0; i < kGroup; ++i) EXPECT_EQ(as<ProduceResponse>(c.receive()).base_offset, static_cast<uint64_t>(i));
  EXPECT_EQ(values(c, "held").size(), static_cast<size_t>(kGroup));
}

}  // namespace
}  // namespace rustlog::test
