// End to end: __consumer_offsets in a real kafka-lite. A group's offsets
// expire --offsets-retention-ms after its last commit (tombstones in the log,
// gone after a restart); DeleteGroup tombstones every key of the group.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "offsets/offset_store.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every record of __consumer_offsets, decoded: (group key, offset or
// tombstone), primary copies only; each mirror must repeat its primary.
std::vector<std::pair<GroupKey, std::optional<uint64_t>>> offsets_log(client::Connection& c) {
  std::vector<std::pair<GroupKey, std::optional<uint64_t>>> out, mirrors;
  uint64_t next = 0;
  for (;;) {
    auto f = call<FetchExResponse>(c, FetchExRequest{kOffsetsTopic, 0, next, 1 << 20, 0, 0});
    if (f.records.empty()) break;
    for (const auto& r : f.records) {
      auto k = decode_group_key(r.key.value_or(""));
      EXPECT_TRUE(k.has_value()) << "offset " << r.offset;
      if (!k) continue;
      const bool mirror = r.key->front() == static_cast<char>(KeyCopy::kMirror);
      (mirror ? mirrors : out).emplace_back(*k, r.value ? decode_offset_value(*r.value) : std::nullopt);
    }
    next = f.next_offset;
  }
  EXPECT_EQ(mirrors, out) << "the mirror copies differ from the primaries";
  return out;
}

std::optional<uint64_t> committed(client::Connection& c, const std::string& group, uint32_t partition) {
  return call<OffsetFetchResponse>(c, OffsetFetchRequest{group, "t", partition}).offset;
}

void commit(client::Connection& c, const std::string& group, uint32_t partition, uint64_t offset) {
  EXPECT_TRUE(call<OffsetCommitResponse>(c, OffsetCommitRequest{group, "t", partition, offset}).success);
}

TEST(BrokerOffsetsTest, AGroupsOffsetsExpireAfterItsLastCommitAndStayGoneAfterARestart) {
  constexpr auto kRetention = 1500ms;
  BrokerProcess broker({"--metrics-listen", "off", "--offsets-retention-ms", std::to_string(kRetention.count())});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"t", 2, {}});
  call<ProduceExResponse>(c, ProduceExRequest{"t", 0, kBrokerTimestamp, {ProducerRecord{-1, "k", "v", {}}}});
  call<ProduceExResponse>(c, ProduceExRequest{"t", 1, kBrokerTimestamp, {ProducerRecord{-1, "k", "v", {}}}});

  const auto before_commit = Clock::now();
  commit(c, "quiet", 0, 1);
  commit(c, "quiet", 1, 1);
  // "busy" keeps committing: it never expires, while "quiet" does.
  std::optional<Clock::time_point> gone_at;
  const auto deadline = Clock::now() + scaled(30s);
  uint64_t busy = 0;
  while (Clock::now() < deadline) {
    commit(c, "busy", 0, busy++ % 2);
    if (!committed(c, "quiet", 0) && !committed(c, "quiet", 1)) {
      gone_at = Clock::now();
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(gone_at.has_value()) << "the quiet group never expired\n" << broker.log_tail();
  EXPECT_GE(*gone_at - before_commit, kRetention) << "expired before --offsets-retention-ms passed";
  EXPECT_TRUE(committed(c, "busy", 0).has_value());
  EXPECT_EQ(call<ListGroupsResponse>(c, ListGroupsRequest{}).groups, std::vector<std::string>{"busy"});
  EXPECT_TRUE(has_substr(broker.log(), "group(s) 'quiet' expired")) << broker.log_tail();

  // The expiry is two tombstones in the log, after the two commits.
  std::map<uint32_t, std::vector<std::optional<uint64_t>>> quiet;
  for (const auto& [k, v] : offsets_log(c))
    if (k.group == "quiet") quiet[k.partition].push_back(v);
  using Values = std::vector<std::optional<uint64_t>>;
  EXPECT_EQ(quiet[0], (Values{1u, std::nullopt}));
  EXPECT_EQ(quiet[1], (Values{1u, std::nullopt}));

  // A restart replays the tombstones: still gone, "busy" still there.
  EXPECT_EQ(broker.stop(), 0);
  ASSERT_TRUE(broker.start());
  auto c2 = broker.connect();
  EXPECT_FALSE(committed(c2, "quiet", 0).has_value());
  EXPECT_FALSE(committed(c2, "quiet", 1).has_value());
  EXPECT_TRUE(committed(c2, "busy", 0).has_value());
}

TEST(BrokerOffsetsTest, DeletingAGroupWritesATombstonePerKey) {
  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"t", 2, {}});
  commit(c, "g", 0, 0);
  commit(c, "g", 1, 0);
  commit(c, "other", 0, 0);
  call<DeleteGroupResponse>(c, DeleteGroupRequest{"g"});
  size_t tombstones = 0;
  for (const auto& [k, v] : offsets_log(c))
    if (!v) {
      EXPECT_EQ(k.group, "g");
      ++tombstones;
    }
  EXPECT_EQ(tombstones, 2u);
  EXPECT_TRUE(committed(c, "other", 0).has_value());
}

}  // namespace
}  // namespace rustlog::test
