// End to end: a client that pipelines produces and never reads its answers
// stops being read once its socket refuses them and Dispatcher::kStallAnswers
// of them wait unsent (rustlog_output_stalls_total): its produces stop
// landing, other clients are answered, and once it reads all its answers
// (every one, in order) it is read again. Real broker, real TCP.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "protocol/codec.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/hostile_load.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

uint64_t high_watermark(client::Connection& c) {
  return call<DescribePartitionResponse>(c, DescribePartitionRequest{"flood", 0}).high_watermark;
}

uint64_t stalls(client::Connection& c) {
  return sample_value(call<MetricsResponse>(c, MetricsFetchRequest{}).text, "rustlog_output_stalls_total");
}

TEST(BrokerNonReaderTest, AClientThatNeverReadsStopsBeingReadAndIsReadAgainOnceItReads) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"flood", 1, {{"flush", "never"}}});
  auto flood = broker.connect(scaled(120s));
  constexpr int kPerSend = 1000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};  // produces sent whole
  std::thread sender([&] {
    const std::string wire = frames(kPerSend, ProduceRequest{"flood", 0, {"x"}});
    while (!stop && send_all(flood.fd(), wire)) sent += kPerSend;
  });
  const auto deadline = std::chrono::steady_clock::now() + scaled(120s);
  while (stalls(c) == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_GT(stalls(c), 0u) << "the non-reading client was never stopped";
  // Not read further: what it has sent since does not land, others are served.
  const uint64_t landed = high_watermark(c);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(high_watermark(c), landed);
  EXPECT_TRUE(pings(c));
  // It reads: every answer, in order, and what it sent meanwhile is read and
  // answered too (its last send completes).
  stop = true;
  uint64_t got = 0;
  auto answer = [&] {
    auto r = flood.receive();
    ASSERT_TRUE(r) << "answer " << got << ": " << r.status().to_string();
    auto* p = std::get_if<ProduceResponse>(&*r);
    ASSERT_NE(p, nullptr) << describe(*r);
    ASSERT_EQ(p->base_offset, got);
    ++got;
  };
  while (got < landed && !::testing::Test::HasFatalFailure()) answer();
  sender.join();
  EXPECT_GT(sent.load(), landed);
  while (got < sent && !::testing::Test::HasFatalFailure()) answer();
  EXPECT_EQ(high_watermark(c), sent.load());
}

}  // namespace
}  // namespace rustlog::test
