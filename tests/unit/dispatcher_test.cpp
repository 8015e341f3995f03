// The broker's request scheduling without sockets: a real Broker over a
// temporary data directory, driven through the Dispatcher the way the event
// loop drives it (feed bytes, serve, end the turn, collect the answers).
// Pipelined requests on one connection read their own writes under every
// flush policy; long polls wake on appends to their partition and at their
// deadline; legacy fetches are read a slice per turn; DeleteTopic with
// requests for it queued; the output, parked and partial-frame limits.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "support/dispatcher_harness.h"

namespace rustlog {
namespace {

using namespace protocol;

class ReadYourWrites : public ::testing::TestWithParam<std::string> {};

// One write carrying Produce and then every kind of read: each read is
// answered after the Produce's acknowledgement, so it must include it.
TEST_P(ReadYourWrites, RequestsBehindAProduceOnOneConnectionSeeIt) {
  Harness h(GetParam());
  h.create("t");
  h.send(1, ProduceRequest{"t", 0, {"a"}});
  h.send(1, FetchRequest{"", "t", 0, 0, 1 << 20});
  h.send(1, DescribePartitionRequest{"t", 0});
  h.send(1, DescribeTopicRequest{"t"});
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  h.send(1, ListOffsetsRequest{"t", 0, kListOffsetsLatest});
  h.send(1, OffsetCommitRequest{"g", "t", 0, 1});
  h.send(1, OffsetFetchRequest{"g", "t", 0});
  h.send(1, ProduceRequest{"t", 0, {"b"}});
  h.send(1, DescribePartitionRequest{"t", 0});
  h.turns(4);
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 10u);
  EXPECT_EQ(as<ProduceResponse>(a[0]).base_offset, 0u);
  EXPECT_EQ(as<FetchResponse>(a[1]).records, std::vector<std::string>{"a"});
  EXPECT_EQ(as<DescribePartitionResponse>(a[2]).high_watermark, 1u);
  ASSERT_EQ(as<DescribeTopicResponse>(a[3]).partitions.size(), 1u);
  EXPECT_EQ(as<DescribeTopicResponse>(a[3]).partitions[0].high_watermark, 1u);
  EXPECT_EQ(as<FetchExResponse>(a[4]).records.size(), 1u);
  EXPECT_EQ(as<FetchExResponse>(a[4]).high_watermark, 1u);
  EXPECT_EQ(as<ListOffsetsResponse>(a[5]).offset, 1u);
  EXPECT_TRUE(as<OffsetCommitResponse>(a[6]).success);
  EXPECT_EQ(as<OffsetFetchResponse>(a[7]).offset, std::optional<uint64_t>(1));
  EXPECT_EQ(as<ProduceResponse>(a[8]).base_offset, 1u);
  EXPECT_EQ(as<DescribePartitionResponse>(a[9]).high_watermark, 2u);
}

INSTANTIATE_TEST_SUITE_P(FlushPolicies, ReadYourWrites, ::testing::Values("always", "interval:50", "never"),
                         [](const auto& p) {
                           std::string n = p.param;
                           n.erase(std::remove(n.begin(), n.end(), ':'), n.end());
                           return n;
                         });

TEST(DispatcherTest, PipelinedProducesShareOneGroupCommit) {
  Harness h("always");
  h.create("t");
  for (int i = 0; i < 10; ++i) h.send(1, ProduceRequest{"t", 0, {"v" + std::to_string(i)}});
  const uint64_t rounds = h.broker().metrics().group_commit_partitions.snapshot().count();
  h.turn();
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(as<ProduceResponse>(a[i]).base_offset, static_cast<uint64_t>(i));
  EXPECT_EQ(h.broker().metrics().group_commit_partitions.snapshot().count(), rounds + 1);
}

// Under flush = always another connection sees only durable data, so an
// append of this turn is invisible to it until the group commit.
TEST(DispatcherTest, OtherConnectionsSeeOnlyDurableDataUnderFlushAlways) {
  Harness h("always");
  h.create("t");
  h.send(1, ProduceRequest{"t", 0, {"a"}});
  h.send(2, DescribePartitionRequest{"t", 0});
  h.turn();
  EXPECT_EQ(as<DescribePartitionResponse>(h.answers(2).at(0)).high_watermark, 0u);
  h.send(2, DescribePartitionRequest{"t", 0});
  h.turn();
  EXPECT_EQ(as<DescribePartitionResponse>(h.answers(2).at(0)).high_watermark, 1u);
}

TEST(DispatcherTest, CommitBeyondWhatReadsSeeIsRefused) {
  Harness h("always");
  h.create("t");
  h.send(1, ProduceRequest{"t", 0, {"a"}});
  h.send(2, OffsetCommitRequest{"g", "t", 0, 1});  // other connection, same turn: not durable yet
  h.turn();
  auto a = h.answers(2);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<ErrorResponse>(a[0]));
  // 416 OffsetOutOfRange, answered as the v0 code 5 (OffsetCommit refused):
  // the connection has not sent Handshake.
  EXPECT_EQ(static_cast<uint16_t>(std::get<ErrorResponse>(a[0]).code),
            static_cast<uint16_t>(protocol::V0Code::kOffsetCommitRefused));
  EXPECT_NE(std::get<ErrorResponse>(a[0]).message.find("valid offsets are 0..0"), std::string::npos);
}

TEST(DispatcherTest, LongPollIsWokenByAProduceToItsPartitionOnly) {
  Harness h("always");
  h.create("t", 2);
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 60000, 1});
  h.send(2, FetchExRequest{"t", 1, 0, 1 << 20, 60000, 1});
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());
  EXPECT_EQ(h.dispatcher().parked(), 2u);
  h.send(3, ProduceRequest{"t", 0, {"x"}});
  h.turn();
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(as<FetchExResponse>(a[0]).records.size(), 1u);
  EXPECT_EQ(as<FetchExResponse>(a[0]).records[0].value, std::optional<std::string>("x"));
  EXPECT_TRUE(h.answers(2).empty());
  EXPECT_EQ(h.dispatcher().parked(), 1u);
}

TEST(DispatcherTest, LongPollIsAnsweredAtItsDeadline) {
  Harness h("always");
  h.create("t");
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 500, 1});
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());
  EXPECT_EQ(h.dispatcher().due_in_ms(TurnClock::now(), 1000) <= 500, true);
  h.advance_ms(499);
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());
  h.advance_ms(1);
  h.turn();
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(as<FetchExResponse>(a[0]).records.empty());
  EXPECT_EQ(h.dispatcher().parked(), 0u);
}

TEST(DispatcherTest, LongPollsOverTheParkedLimitAreAnsweredAtOnce) {
  BrokerConfig cfg;
  cfg.max_parked_fetches_per_connection = 2;
  Harness h("always", cfg);
  h.create("t");
  for (int i = 0; i < 3; ++i) h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 60000, 1});
  h.send(1, PingRequest{});
  h.turn();
  // Answers leave in order: the third poll is ready but waits behind two.
  EXPECT_TRUE(h.answers(1).empty());
  EXPECT_EQ(h.dispatcher().parked(), 2u);
  EXPECT_EQ(h.broker().metrics().fetch_parked_refused.value(), 1u);
  h.send(2, ProduceRequest{"t", 0, {"x"}});
  h.turn();
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(as<FetchExResponse>(a[0]).records.size(), 1u);
  EXPECT_EQ(as<FetchExResponse>(a[1]).records.size(), 1u);
  EXPECT_TRUE(as<FetchExResponse>(a[2]).records.empty());  // answered when it arrived
  EXPECT_TRUE(std::holds_alternative<PongResponse>(a[3]));
}

TEST(DispatcherTest, LegacyFetchIsReadASlicePerTurnWhileOthersAreServed) {
  Harness h("never");
  h.create("t");
  h.fill(1, "t", 32, 16 * 1024);
  h.send(1, FetchRequest{"", "t", 0, 0, 1 << 20});
  h.send(2, PingRequest{});
  h.turn();
  EXPECT_TRUE(h.answers(1).empty());
  EXPECT_EQ(h.answers(2).size(), 1u);  // served between two slices
  int turns = 1;
  std::vector<Response> a;
  while (a.empty() && turns < 100) {
    h.turn();
    ++turns;
    a = h.answers(1);
  }
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(as<FetchResponse>(a[0]).records.size(), 32u);
  EXPECT_GT(turns, 4);
}

// --max-turn-us: once a request ends past the connection's turn deadline
// (set by the event loop when its turn starts), the rest wait for its next
// turn, in order.
TEST(DispatcherTest, ATurnPastItsDeadlineEndsAfterOneRequest) {
  Harness h("never");
  h.create("t");
  for (int i = 0; i < 5; ++i) h.send(1, ProduceRequest{"t", 0, {"x"}});
  Connection& c = h.conn(1);
  h.feed_pending();
  c.turn_deadline_ns = 1;  // long past
  bool over = false;
  EXPECT_EQ(h.dispatcher().serve(c, TurnClock::now(), 128, &over), 1u);
  EXPECT_TRUE(over);
  c.turn_deadline_ns = 0;  // no deadline: the rest in one go
  EXPECT_EQ(h.dispatcher().serve(c, TurnClock::now(), 128, &over), 4u);
  h.turn();
  const auto a = h.answers(1);
  ASSERT_EQ(a.size(), 5u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(as<ProduceResponse>(a[i]).base_offset, i);
}

TEST(DispatcherTest, DeleteTopicWithRequestsForItQueued) {
  Harness h("always");
  h.create("t");
  h.create("u");
  const std::string value(16 * 1024, 'v');
  for (int i = 0; i < 32; ++i) h.send(4, ProduceRequest{"t", 0, {value}});
  h.turn();
  ASSERT_EQ(h.answers(4).size(), 32u);
  h.send(4, FetchRequest{"", "t", 0, 0, 1 << 20});       // sliced over turns
  h.send(3, FetchExRequest{"t", 0, 33, 1 << 20, 60000, 1});  // parked past the produce below
  h.turn();
  h.send(1, ProduceRequest{"t", 0, {"a"}});  // awaits the flush the delete forgoes
  h.send(2, DeleteTopicRequest{"t"});
  h.send(2, ProduceRequest{"u", 0, {"b"}});  // other topics still flushed and acknowledged
  h.turns(3);
  h.settle(3);  // the delete's steps, then the produce behind it
  auto a1 = h.answers(1);
  ASSERT_EQ(a1.size(), 1u);
  EXPECT_EQ(as<ProduceResponse>(a1[0]).base_offset, 32u);
  auto a2 = h.answers(2);
  ASSERT_EQ(a2.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<DeleteTopicResponse>(a2[0]));
  EXPECT_EQ(as<ProduceResponse>(a2[1]).base_offset, 0u);
  auto a3 = h.answers(3);  // the parked poll learns the partition is gone
  ASSERT_EQ(a3.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<ErrorResponse>(a3[0]));
  EXPECT_EQ(h.dispatcher().parked(), 0u);
  auto a4 = h.answers(4);  // the sliced fetch answers with what it had read
  ASSERT_EQ(a4.size(), 1u);
  EXPECT_LT(as<FetchResponse>(a4[0]).records.size(), 32u);
}

TEST(DispatcherTest, AConnectionPastItsOutputBudgetIsNotServedUntilItDrains) {
  BrokerConfig cfg;
  cfg.max_connection_output_bytes = 256 * 1024;
  Harness h("never", cfg);
  h.create("t");
  const std::string value(60 * 1024, 'v');
  h.send(2, ProduceRequest{"t", 0, {value}});
  h.turn();
  ASSERT_EQ(h.answers(2).size(), 1u);
  for (int i = 0; i < 40; ++i) h.send(1, FetchExRequest{"t", 0, 0, 64 * 1024, 0, 0});
  h.turns(3);
  Connection& c = h.conn(1);
  EXPECT_TRUE(c.over_budget);
  EXPECT_LE(c.reserved, cfg.max_connection_output_bytes + h.broker().answer_bound("\x12"));
  size_t got = h.answers(1, false).size();
  EXPECT_LT(got, 40u);
  EXPECT_GT(got, 0u);
  for (int i = 0; i < 100 && got < 40; ++i) {
    got += h.answers(1).size();  // the client reads: the rest is served
    h.turn();
  }
  EXPECT_EQ(got, 40u);
  EXPECT_GT(h.broker().metrics().output_budget_waits.value(), 0u);
}

TEST(DispatcherTest, AllConnectionsTogetherStayWithinTheBrokerWideOutputBudget) {
  BrokerConfig cfg;
  cfg.max_output_bytes = 1 << 20;
  Harness h("never", cfg);
  h.create("t");
  const std::string value(200 * 1024, 'v');
  h.send(9, ProduceRequest{"t", 0, {value}});
  h.turn();
  h.answers(9);
  for (uint64_t id = 1; id <= 8; ++id)
    for (int i = 0; i < 4; ++i) h.send(id, FetchExRequest{"t", 0, 0, 256 * 1024, 0, 0});
  h.turns(3);
  EXPECT_LE(h.dispatcher().output_bytes(), cfg.max_output_bytes + (1u << 20));
  EXPECT_GT(h.broker().metrics().output_global_waits.value(), 0u);
  size_t got = 0;
  for (int t = 0; t < 200 && got < 32; ++t) {
    for (uint64_t id = 1; id <= 8; ++id) got += h.answers(id).size();
    h.turn();
  }
  EXPECT_EQ(got, 32u);
}

TEST(DispatcherTest, AConnectionHoldingAPartialFrameIsClosedAfterTheTimeout) {
  BrokerConfig cfg;
  cfg.partial_frame_timeout_ms = 1000;
  Harness h("never", cfg);
  h.send_raw(1, std::string("\x00\x00\x00\x10\xff", 5));  // 16 bytes announced, 1 sent
  h.send(2, PingRequest{});
  h.turn();
  EXPECT_TRUE(h.dispatcher().take_closed().empty());
  EXPECT_GT(h.dispatcher().input_bytes(), 0u);
  h.advance_ms(999);
  h.send(2, PingRequest{});  // a connection that completes its frames is not closed
  h.turn();
  EXPECT_TRUE(h.dispatcher().take_closed().empty());
  h.advance_ms(1);
  h.turn();
  EXPECT_EQ(h.dispatcher().take_closed(), std::vector<uint64_t>{1});
  EXPECT_EQ(h.broker().metrics().connections_idle_closed.value(), 1u);
}

TEST(DispatcherTest, StopAnswersParkedPollsAndFlushesWhatWasAppended) {
  Harness h("interval:600000");
  h.create("t");
  h.send(1, FetchExRequest{"t", 0, 0, 1 << 20, 60000, 1 << 20});  // min_bytes never reached
  h.send(2, ProduceRequest{"t", 0, {"x"}});
  h.turn();
  EXPECT_EQ(h.answers(2).size(), 1u);
  EXPECT_TRUE(h.answers(1).empty());
  PartitionLog* log = h.broker().log_for("t", 0);
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->has_unflushed());
  h.dispatcher().stop();
  h.turn();
  auto a = h.answers(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(as<FetchExResponse>(a[0]).records.size(), 1u);
  EXPECT_FALSE(log->has_unflushed());
  EXPECT_EQ(h.dispatcher().output_bytes(), 0u);
}

// A client that does not read: its socket refuses its answers. Below
// kStallAnswers unsent answers it is still served; past them it stalls
// (not served, so not read either) until the socket has taken them all.
TEST(DispatcherTest, AConnectionWhoseSocketRefusesItsAnswersStallsUntilTheyAreTaken) {
  Harness h("never");
  h.create("t");
  Connection& c = h.conn(1);
  auto hwm = [&] { return h.broker().log_for("t", 0)->high_watermark(); };
  std::string wire;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(encode_request(ProduceRequest{"t", 0, {"x"}}, wire).is_ok());
  uint64_t sent = 0;
  while (sent < Dispatcher::kStallAnswers) {
    h.send_raw(1, wire);
    sent += 1000;
    while (hwm() < sent) h.turn();
    h.dispatcher().collect(c);  // moved to the socket's side, none taken
    h.dispatcher().output_refused(c);
    EXPECT_EQ(c.stalled, c.out.frames() >= Dispatcher::kStallAnswers) << c.out.frames();
  }
  ASSERT_TRUE(c.stalled);
  EXPECT_EQ(h.broker().metrics().output_stalls.value(), 1u);
  EXPECT_EQ(c.out.frames(), sent);
  h.send(1, ProduceRequest{"t", 0, {"later"}});
  h.turns(3);
  EXPECT_EQ(hwm(), sent) << "a stalled connection was served";
  // The socket takes part of them: still stalled; all of them: served again.
  const size_t frame = c.pending_out() / sent;  // every answer is a ProduceResponse of one size
  h.dispatcher().sent(c, frame * (sent / 2));
  h.turns(2);
  EXPECT_TRUE(c.stalled);
  EXPECT_EQ(hwm(), sent);
  EXPECT_EQ(h.answers(1).size(), static_cast<size_t>(sent - sent / 2));  // the rest, in order, taken
  h.turns(2);
  EXPECT_FALSE(c.stalled);
  EXPECT_EQ(hwm(), sent + 1);
}

}  // namespace
}  // namespace rustlog
