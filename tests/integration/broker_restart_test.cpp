// End to end: what survives a clean restart of kafka-lite (SIGTERM, exit code
// 0, start again on the same data dir), and startup configuration from a TOML
// file: applied when valid, refused (non-zero exit, message naming the key)
// when not.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/crash_workload.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

std::vector<Record> fetch_all(client::Connection& c, const std::string& topic, uint32_t partition) {
  std::vector<Record> out;
  uint64_t next = 0;
  for (;;) {
    auto f = call<FetchExResponse>(c, FetchExRequest{topic, partition, next, 64 * 1024, 0, 0});
    if (f.records.empty()) return out;
    for (auto& r : f.records) out.push_back(std::move(r));
    next = f.next_offset;
  }
}

// Everything a client can observe about the broker's state.
struct Observed {
  std::vector<TopicSummary> topics;
  std::vector<DescribeTopicConfigResponse> configs;
  std::vector<std::vector<Record>> records;  // per topic and partition, in topic order
  std::vector<std::string> groups;
  std::vector<DescribeGroupResponse> group_offsets;
  bool operator==(const Observed&) const = default;
};

Observed observe(client::Connection& c) {
  Observed o;
  o.topics = call<ListTopicsResponse>(c, ListTopicsRequest{}).topics;
  for (const auto& t : o.topics) {
    o.configs.push_back(call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{t.name}));
    for (uint32_t p = 0; p < t.partition_count; ++p) o.records.push_back(fetch_all(c, t.name, p));
  }
  o.groups = call<ListGroupsResponse>(c, ListGroupsRequest{}).groups;
  for (const auto& g : o.groups) o.group_offsets.push_back(call<DescribeGroupResponse>(c, DescribeGroupRequest{g}));
  return o;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

TEST(BrokerRestartTest, TopicsRecordsAndCommittedOffsetsSurviveACleanRestart) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"legacy", 3}).success);
    // Small segments (several per partition), and flush policies that leave
    // acknowledged data unsynced until shutdown.
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"ex", 2, {{"segment.bytes", "4096"}, {"flush", "never"},
                                                                   {"retention.ms", "-1"}}});
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"lazy", 1, {{"flush", "interval:60000"}}});
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"gone", 1, {}});
    for (int i = 0; i < 30; ++i)
      call<ProduceResponse>(c, ProduceRequest{"legacy", static_cast<uint32_t>(i % 3), {"L" + std::to_string(i), ""}});
    for (int i = 0; i < 40; ++i) {
      ProducerRecord r{i % 2 ? int64_t{1'000'000} * i : -1, "key" + std::to_string(i % 5),
                       std::string(200 + i, static_cast<char>('a' + i % 26)), {{"n", std::to_string(i)}}};
      if (i % 7 == 0) r.value.reset();  // tombstones too
      call<ProduceExResponse>(c, ProduceExRequest{"ex", static_cast<uint32_t>(i % 2), -1, {r}});
    }
    call<ProduceExResponse>(c, ProduceExRequest{"lazy", 0, 42, {{-1, std::nullopt, "unsynced", {}}}});
    call<ProduceResponse>(c, ProduceRequest{"gone", 0, {"x"}});
    for (const auto& [g, t, p, off] : std::vector<std::tuple<std::string, std::string, uint32_t, uint64_t>>{
             {"g1", "legacy", 0, 5}, {"g1", "legacy", 1, 2}, {"g1", "ex", 0, 10}, {"g2", "ex", 0, 3},
             {"g2", "lazy", 0, 1}, {"dead", "legacy", 2, 1}, {"g3", "gone", 0, 1}})
      EXPECT_TRUE(call<OffsetCommitResponse>(c, OffsetCommitRequest{g, t, p, off}).success);
    EXPECT_TRUE(call<OffsetCommitResponse>(c, OffsetCommitRequest{"g1", "legacy", 0, 7}).success);  // latest wins
    call<DeleteTopicResponse>(c, DeleteTopicRequest{"gone"});
    call<DeleteGroupResponse>(c, DeleteGroupRequest{"dead"});
  }
  Observed before;
  {
    auto c = broker.connect();
    before = observe(c);
  }
  ASSERT_EQ(before.topics.size(), 3u);
  ASSERT_GT(before.configs[0].partitions[0].segment_count, 1u) << "ex should have rolled segments";

  for (int cycle = 1; cycle <= 2; ++cycle) {
    SCOPED_TRACE("restart " + std::to_string(cycle));
    EXPECT_EQ(broker.stop(), 0) << broker.log_tail();
    ASSERT_TRUE(broker.start());
    auto c = broker.connect();
    Observed after = observe(c);
    EXPECT_EQ(after.topics, before.topics);
    EXPECT_EQ(after.configs, before.configs);
    ASSERT_EQ(after.records.size(), before.records.size());
    for (size_t i = 0; i < before.records.size(); ++i) EXPECT_EQ(after.records[i], before.records[i]) << "partition #" << i;
    EXPECT_EQ(after.groups, (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(after.group_offsets, before.group_offsets);
    EXPECT_EQ(call<OffsetFetchResponse>(c, OffsetFetchRequest{"g1", "legacy", 0}).offset, std::optional<uint64_t>(7));
    EXPECT_EQ(call<OffsetFetchResponse>(c, OffsetFetchRequest{"dead", "legacy", 2}).offset, std::nullopt);
    EXPECT_EQ(call_error(c, DescribeTopicRequest{"gone"}).code, v0(V0Code::kTopicNotFound));

    // Offsets continue where they were; new commits and records join the state.
    const uint64_t hw = call<DescribePartitionResponse>(c, DescribePartitionRequest{"legacy", 0}).high_watermark;
    EXPECT_EQ(call<ProduceResponse>(c, ProduceRequest{"legacy", 0, {"after" + std::to_string(cycle)}}).base_offset, hw);
    const uint64_t ex_hw = call<ListOffsetsResponse>(c, ListOffsetsRequest{"ex", 1, kListOffsetsLatest}).offset;
    EXPECT_EQ(call<ProduceExResponse>(c, ProduceExRequest{"ex", 1, -1, {{-1, "k", "v", {}}}}).base_offset, ex_hw);
    EXPECT_TRUE(call<OffsetCommitResponse>(c, OffsetCommitRequest{"g2", "legacy", 0, hw + 1}).success);
    before = observe(c);
  }
}

TEST(BrokerRestartTest, CleanShutdownAnswersAParkedFetchAndExitsZero) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
  ASSERT_TRUE(c.send(FetchExRequest{"t", 0, 0, 1024, 60'000, 1}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(broker.stop(), 0);
  auto f = as<FetchExResponse>(c.receive(), "the parked fetch at shutdown");
  EXPECT_TRUE(f.records.empty());
  EXPECT_TRUE(c.wait_for_close(scaled(5s)));
}

// SIGTERM while clients produce and commit: exit code 0, and everything
// acknowledged before the stop is there after the restart.
TEST(BrokerRestartTest, SigtermUnderLoadExitsZeroAndKeepsEveryAcknowledgement) {
  run_crash_rounds(2, 777, /*graceful=*/true);
}

// ---------------------------------------------------------------- TOML config

TEST(BrokerConfigFileTest, SettingsFromATomlFileAreApplied) {
  BrokerProcess broker;
  const std::string path = broker.root_dir() + "/broker.toml";
  write_text(path,
             "# kafka-lite test config\n"
             "max_frame_bytes = 2048\n"
             "flush = \"interval:50\"\n"
             "segment_bytes = 8192\n"
             "max_connections = 3\n"
             "log_level = \"warn\"\n"
             "data_dir = \"/nonexistent/overridden-by-the-flag\"\n");
  broker.set_args({"--config", path});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_EQ(call<HandshakeResponse>(c, HandshakeRequest{"t"}).max_frame_bytes, 2048u);
  EXPECT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
  auto d = call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"t"});
  bool saw_segment = false, saw_flush = false;
  for (const auto& e : d.configs) {
    if (e.key == "segment.bytes") saw_segment = (e.value == "8192");
    if (e.key == "flush") saw_flush = (e.value == "interval:50");
  }
  EXPECT_TRUE(saw_segment) << "segment_bytes from the file is the new topics' default";
  EXPECT_TRUE(saw_flush) << "flush from the file is the new topics' default";
  // max_frame_bytes: above it is 413 (this connection sent Handshake: extended codes).
  ASSERT_TRUE(c.send_bytes(raw_frame(std::string(1, '\x07') + wire_str(std::string(2047, 'x')))));
  EXPECT_EQ(as<ErrorResponse>(c.receive()).code, ErrorCode::kTooLarge);
  EXPECT_TRUE(c.wait_for_close(scaled(5s)));  // ... and closed: no connection is open now
  // max_connections = 3.
  std::vector<client::Connection> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(broker.connect());
    EXPECT_TRUE(pings(conns.back()));
  }
  auto fourth = broker.connect();
  EXPECT_TRUE(fourth.wait_for_close(scaled(5s)));
  // log_level = warn: no info lines.
  EXPECT_EQ(broker.log().find(" info "), std::string::npos) << broker.log_tail();
  EXPECT_TRUE(std::filesystem::exists(broker.data_dir() + "/topics.json")) << "--data-dir overrides data_dir";
}

TEST(BrokerConfigFileTest, CompactionDefaultsFromATomlFileReachNewTopics) {
  BrokerProcess broker;
  const std::string path = broker.root_dir() + "/broker.toml";
  write_text(path,
             "min_cleanable_dirty_ratio = 0.25\n"  // a TOML float
             "min_compaction_lag_ms = 100\n"
             "max_compaction_lag_ms = 60000\n"
             "delete_retention_ms = 1000\n"
             "cleaner_backoff_ms = 50\n"
             "cleaner_buffer_bytes = 1048576\n"
             "cleaner_step_bytes = 65536\n"
             "cleaner_max_bytes_per_sec = 10485760\n"
             "offsets_retention_ms = 3600000\n");
  broker.set_args({"--config", path});
  ASSERT_TRUE(broker.start()) << broker.log_tail();
  auto c = broker.connect();
  call<CreateTopicExResponse>(c, CreateTopicExRequest{"t", 1, {{"cleanup.policy", "compact"}}});
  auto d = call<DescribeTopicConfigResponse>(c, DescribeTopicConfigRequest{"t"});
  std::map<std::string, std::string> got;
  for (const auto& e : d.configs) got[e.key] = e.value;
  EXPECT_EQ(got["cleanup.policy"], "compact");
  EXPECT_EQ(got["min.cleanable.dirty.ratio"], "0.25");
  EXPECT_EQ(got["min.compaction.lag.ms"], "100");
  EXPECT_EQ(got["max.compaction.lag.ms"], "60000");
  EXPECT_EQ(got["delete.retention.ms"], "1000");
}

TEST(BrokerConfigFileTest, FlagsOverrideTheFile) {
  BrokerProcess broker;
  const std::string path = broker.root_dir() + "/broker.toml";
  write_text(path, "max_frame_bytes = 2048\n");
  broker.set_args({"--config", path, "--max-frame-bytes", "4096"});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  EXPECT_EQ(call<HandshakeResponse>(c, HandshakeRequest{"t"}).max_frame_bytes, 4096u);
}

struct BadConfig {
  const char* name;
  const char* toml;
  const char* must_mention;
};

class BrokerBadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BrokerBadConfigTest, IsRefusedAtStartupNamingTheKey) {
  const BadConfig& bc = GetParam();
  BrokerProcess broker;
  const std::string path = broker.root_dir() + "/broker.toml";
  write_text(path, bc.toml);
  broker.set_args({"--config", path});
  EXPECT_FALSE(broker.start()) << "kafka-lite accepted:\n" << bc.toml;
  ASSERT_TRUE(broker.exit_code().has_value());
  EXPECT_NE(*broker.exit_code(), 0);
  EXPECT_TRUE(has_substr(broker.log(), bc.must_mention)) << bc.toml;
  EXPECT_FALSE(std::filesystem::exists(broker.data_dir() + "/topics.json")) << "it must refuse before touching data";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokerBadConfigTest,
    ::testing::Values(BadConfig{"UnknownKey", "max_frame_bytes = 4096\nbogus_key = 1\n", "bogus_key"},
                      BadConfig{"FlagSpellingOfAKey", "max-frame-bytes = 4096\n", "max-frame-bytes"},
                      BadConfig{"FrameLimitTooSmall", "max_frame_bytes = 12\n", "max_frame_bytes"},
                      BadConfig{"FrameLimitNotANumber", "max_frame_bytes = \"lots\"\n", "max_frame_bytes"},
                      BadConfig{"NegativeNumber", "max_connections = -1\n", "max_connections"},
                      BadConfig{"ZeroConnections", "max_connections = 0\n", "max_connections"},
                      BadConfig{"FloatValue", "max_connections = 1.5\n", "max_connections"},
                      BadConfig{"BadFlushPolicy", "flush = \"sometimes\"\n", "flush"},
                      BadConfig{"BoolFlushPolicy", "flush = true\n", "flush"},
                      BadConfig{"BadListen", "listen = \"nonsense\"\n", "listen"},
                      BadConfig{"BadLogLevel", "log_level = \"loud\"\n", "log_level"},
                      BadConfig{"SegmentBytesTooSmall", "segment_bytes = 10\n", "segment_bytes"},
                      BadConfig{"BadRetention", "retention_ms = -7\n", "retention_ms"},
                      BadConfig{"DirtyRatioAboveOne", "min_cleanable_dirty_ratio = 1.5\n", "min_cleanable_dirty_ratio"},
                      BadConfig{"ZeroMaxCompactionLag", "max_compaction_lag_ms = 0\n", "max_compaction_lag_ms"},
                      BadConfig{"NegativeTombstoneHorizon", "delete_retention_ms = -1\n", "delete_retention_ms"},
                      BadConfig{"TinyCleanerStep", "cleaner_step_bytes = 10\n", "cleaner_step_bytes"},
                      BadConfig{"ZeroOffsetsRetention", "offsets_retention_ms = 0\n", "offsets_retention_ms"},
                      BadConfig{"Table", "[broker]\nmax_connections = 5\n", "broker"},
                      BadConfig{"MalformedToml", "max_frame_bytes = \n", "broker.toml"}),
    [](const ::testing::TestParamInfo<BadConfig>& p) { return std::string(p.param.name); });

TEST(BrokerConfigFileTest, BadFlagValuesAreRefusedNamingTheFlag) {
  BrokerProcess broker({"--max-connections", "0"});
  EXPECT_FALSE(broker.start());
  ASSERT_TRUE(broker.exit_code().has_value());
  EXPECT_NE(*broker.exit_code(), 0);
  EXPECT_TRUE(has_substr(broker.log(), "--max-connections"));

  BrokerProcess missing({"--config", "/nonexistent/kafka-lite.toml"});
  EXPECT_FALSE(missing.start());
  EXPECT_NE(missing.exit_code().value_or(0), 0);
  EXPECT_TRUE(has_substr(missing.log(), "/nonexistent/kafka-lite.toml"));
}

TEST(BrokerConfigFileTest, SecondBrokerOnTheSameDataDirIsRefused) {
  BrokerProcess first;
  ASSERT_TRUE(first.start());
  BrokerProcess second;
  second.set_data_dir(first.data_dir());
  EXPECT_FALSE(second.start());
  EXPECT_NE(second.exit_code().value_or(0), 0);
  EXPECT_TRUE(has_substr(second.log(), "in use"));
  auto c = first.connect();
  EXPECT_TRUE(pings(c));
}

// A recovery-point checkpoint that does not parse is logged and every
// partition is rescanned from its start: slower, never a loss.
TEST(BrokerRestartTest, AMalformedCheckpointMeansAFullRescanAndNoLoss) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  std::vector<Record> before;
  {
    auto c = broker.connect();
    ASSERT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1}).success);
    for (int i = 0; i < 20; ++i) call<ProduceResponse>(c, ProduceRequest{"t", 0, {"v" + std::to_string(i)}});
    before = fetch_all(c, "t", 0);
  }
  ASSERT_EQ(broker.stop(), 0);
  write_text(broker.data_dir() + "/recovery-point-offset-checkpoint", "0\n7\nnot a checkpoint\n");
  ASSERT_TRUE(broker.start());
  EXPECT_TRUE(has_substr(broker.log(), "recovering every partition from its start")) << broker.log_tail();
  auto c = broker.connect();
  EXPECT_EQ(fetch_all(c, "t", 0), before);
}

// A topics.json that does not parse: the broker refuses to start (exit 1,
// naming the file and what to do) and touches no partition directory
// (docs/FAILURE_MODES.md, runbook "topics.json is corrupt").
TEST(BrokerConfigFileTest, CorruptTopicsJsonIsRefusedAtStartAndNoDataIsTouched) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    ASSERT_TRUE(call<CreateTopicResponse>(c, CreateTopicRequest{"orders", 1}).success);
    call<ProduceResponse>(c, ProduceRequest{"orders", 0, {"a", "b"}});
  }
  ASSERT_EQ(broker.stop(), 0);
  const std::string meta = broker.data_dir() + "/topics.json";
  const std::string log = broker.data_dir() + "/orders-0/00000000000000000000.log";
  const auto log_size = std::filesystem::file_size(log);
  write_text(meta, "{\"version\": 1, \"topics\": {\"orders\": ");  // cut short

  EXPECT_FALSE(broker.start());
  ASSERT_TRUE(broker.exit_code().has_value());
  EXPECT_EQ(*broker.exit_code(), 1);
  EXPECT_TRUE(has_substr(broker.log(), "topics.json is not valid topic metadata")) << broker.log_tail();
  EXPECT_EQ(std::filesystem::file_size(log), log_size) << "the partition must be left as it was";
}

}  // namespace
}  // namespace rustlog::test
