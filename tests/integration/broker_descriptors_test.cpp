// End to end: file descriptors are a budget. A real kafka-lite under a low
// RLIMIT_NOFILE (soft = hard, so the broker cannot raise it) serves a topic
// of far more sealed segments than it has descriptors: every record is
// produced and consumed, CreateTopic and accept keep working, a restart
// recovers the whole log under the same limit, and the metrics count the
// descriptor cache's evictions and reopens.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

constexpr rlim_t kFdLimit = 256;
constexpr int kRecords = 1500;  // one sealed segment each: ~6x the descriptor limit

// Starts `broker` with RLIMIT_NOFILE = kFdLimit (soft and hard), inherited
// through fork/exec; the test process gets its own limit back afterwards.
::testing::AssertionResult start_with_fd_limit(BrokerProcess& broker) {
  rlimit old{};
  if (::getrlimit(RLIMIT_NOFILE, &old) != 0) return ::testing::AssertionFailure() << "getrlimit";
  if (old.rlim_max < kFdLimit) return ::testing::AssertionFailure() << "hard RLIMIT_NOFILE below " << kFdLimit;
  rlimit low{kFdLimit, kFdLimit};
  if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return ::testing::AssertionFailure() << "setrlimit";
  const bool started = broker.start();
  // Raising the hard limit back needs CAP_SYS_RESOURCE; without it the test
  // process simply keeps the low one (it needs only a few descriptors).
  (void)::setrlimit(RLIMIT_NOFILE, &old);
  if (!started) return ::testing::AssertionFailure() << "broker did not start: " << broker.log_tail();
  return ::testing::AssertionSuccess();
}

std::string value_of(int i) { return "value-" + std::to_string(i) + std::string(900, 'x'); }

void consume_all(client::Connection& c, const std::string& topic) {
  uint64_t next = 0;
  int seen = 0;
  while (next < static_cast<uint64_t>(kRecords)) {
    auto f = call<FetchExResponse>(c, FetchExRequest{topic, 0, next, 64 * 1024, 0, 0}, "fetch");
    ASSERT_FALSE(f.records.empty()) << "no records at " << next;
    for (const auto& r : f.records) {
      ASSERT_EQ(r.offset, static_cast<uint64_t>(seen));
      ASSERT_EQ(r.value, value_of(seen));
      ++seen;
    }
    next = f.next_offset;
  }
  EXPECT_EQ(seen, kRecords);
}

TEST(BrokerDescriptorsTest, ThousandsOfSegmentsUnderALowDescriptorLimit) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(start_with_fd_limit(broker));
  // The default --max-open-segment-files does not fit: it is lowered to
  // half the limit, and the broker says so.
  EXPECT_NE(broker.log().find("--max-open-segment-files 1000 lowered to 128"), std::string::npos)
      << broker.log_tail();
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"many", 1, {{"segment.bytes", "1024"}}}, "create");
  for (int i = 0; i < kRecords; ++i)
    call<ProduceExResponse>(c, ProduceExRequest{"many", 0, kBrokerTimestamp, {ProducerRecord{-1, std::nullopt, value_of(i), {}}}},
                            "produce " + std::to_string(i));
  auto d = call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"many"});
  ASSERT_EQ(d.partitions.size(), 1u);
  EXPECT_EQ(d.partitions[0].high_watermark, static_cast<uint64_t>(kRecords));
  EXPECT_GE(d.partitions[0].segment_count, static_cast<uint32_t>(kRecords));  // one batch each, then the empty active one
  consume_all(c, "many");
  // Partitions (3 descriptors each for their active segment) and
  // connections still get descriptors: had every sealed segment kept its
  // file open, none would be left.
  for (int t = 0; t < 10; ++t)
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"more-" + std::to_string(t), 1, {}}, "create more");
  std::vector<client::Connection> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(broker.connect());
    call<PongResponse>(clients.back(), PingRequest{}, "ping");
  }
  clients.clear();
  EXPECT_LE(metric(c, "rustlog_segment_files_open"), 128);
  EXPECT_GE(metric(c, "rustlog_segment_file_evictions_total"), kRecords - 128);
  EXPECT_GE(metric(c, "rustlog_segment_file_opens_total"), kRecords - 128);  // consume reopened them
  EXPECT_EQ(metric(c, "rustlog_accept_fd_exhausted_total"), 0);

  // A restart opens (and checks) every segment under the same limit.
  broker.kill9();
  ASSERT_TRUE(start_with_fd_limit(broker));
  auto c2 = broker.connect();
  consume_all(c2, "many");
  call<CreateTopicExResponse>(c2, CreateTopicExRequest{"after-restart", 1, {}}, "create after restart");
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace rustlog::test
