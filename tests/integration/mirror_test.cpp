// `rustlog mirror` (a real process) from a real kafka-lite into librdkafka's
// mock Kafka cluster: every record compared, kill -9 and resume, injected
// broker-down and request errors. Built only with librdkafka.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "client/client.h"
#include "client/producer.h"
#include "mirror/offset_map.h"
#include "support/broker_process.h"
#include "support/child_process.h"
#include "support/kafka_mock.h"

namespace rustlog::test {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 3;
constexpr int kRecords = 10000;

// Record i: partition i % 3; keys null / empty / "k<n>"; values null
// (tombstone) / empty / "v<i>"; headers on some; a ms-exact timestamp on half.
protocol::ProducerRecord nth_record(int i) {
  protocol::ProducerRecord r;
  if (i % 4 == 1) r.key = "";
  else if (i % 4 != 0) r.key = "k" + std::to_string(i % 17);
  if (i % 10 == 1) r.value = "";
  else if (i % 10 != 0) r.value = "v" + std::to_string(i);
  if (i % 3 == 0) r.headers = {{"seq", std::to_string(i)}, {"empty", ""}};
  if (i % 2 == 0) r.timestamp_us = 1'700'000'000'000'000 + static_cast<int64_t>(i) * 1000;
  return r;
}

class MirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
    auto c = client::Client::connect(addr_);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->create_topic("orders", kPartitions));
    auto p = client::Producer::connect(addr_);
    ASSERT_TRUE(p) << p.error().to_string();
    for (int i = 0; i < kRecords; ++i) p->send("orders", static_cast<uint32_t>(i % kPartitions), nth_record(i));
    ASSERT_TRUE(p->flush());
    ASSERT_EQ(p->stats().records_acked, static_cast<uint64_t>(kRecords));
    for (uint32_t part = 0; part < kPartitions; ++part) rustlog_[part] = read_rustlog(*c, part);
    offsets_file_ = broker_.data_dir() + "/../mirror-offsets.json";
  }

  static std::vector<Record> read_rustlog(client::Client& c, uint32_t part) {
    std::vector<Record> out;
    uint64_t at = 0;
    for (;;) {
      auto f = c.fetch("orders", part, at);
      if (!f || f->records.empty()) return out;
      for (auto& r : f->records) out.push_back(std::move(r));
      at = f->next_offset;
    }
  }

  std::vector<std::string> mirror_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {bin("rustlog"), "mirror", "--broker", addr_, "--to-kafka", kafka_.bootstrap(),
                                  "--topics", "orders", "--offsets-file", offsets_file_};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // A Kafka record carries the RustLog record exactly (timestamp in ms).
  static void expect_same(const Record& r, const KafkaRecord& k, const std::string& where) {
    EXPECT_EQ(k.key, r.key) << where;
    EXPECT_EQ(k.value, r.value) << where;
    EXPECT_EQ(k.headers, r.headers) << where;
    EXPECT_EQ(k.timestamp_ms, r.timestamp_us / 1000) << where;
  }

  std::map<int32_t, std::vector<KafkaRecord>> kafka_by_partition() {
    std::map<int32_t, std::vector<KafkaRecord>> out;
    for (auto& k : kafka_.read_all("orders", kPartitions)) out[k.partition].push_back(std::move(k));
    return out;
  }

  void expect_offset_map_consistent(std::map<int32_t, std::vector<KafkaRecord>>& kafka) {
    auto map = mirror::load_offset_map(offsets_file_);
    ASSERT_TRUE(map) << map.status().to_string();
    ASSERT_EQ(map->partitions.size(), static_cast<size_t>(kPartitions));
    for (const auto& e : map->partitions) {
      const auto& rl = rustlog_[e.partition];
      EXPECT_EQ(e.last_offset, rl.back().offset) << e.partition;
      EXPECT_EQ(e.next_offset, e.last_offset + 1);
      EXPECT_EQ(e.kafka_partition, static_cast<int32_t>(e.partition));
      auto& kp = kafka[e.kafka_partition];
      ASSERT_LT(static_cast<size_t>(e.kafka_offset), kp.size() + kp.front().offset);
      const KafkaRecord& k = kp[static_cast<size_t>(e.kafka_offset - kp.front().offset)];
      EXPECT_EQ(k.offset, e.kafka_offset);
      expect_same(rl.back(), k, "offset map entry of partition " + std::to_string(e.partition));
    }
    auto c = client::Client::connect(addr_);
    ASSERT_TRUE(c);
    for (const auto& e : map->partitions) EXPECT_EQ(*c->committed_offset("rustlog-mirror", "orders", e.partition), e.next_offset);
  }

  BrokerProcess broker_{{"--metrics-listen", "off"}};
  KafkaMock kafka_{3};
  std::string addr_;
  std::string offsets_file_;
  std::map<uint32_t, std::vector<Record>> rustlog_;
};

TEST_F(MirrorTest, EveryRecordArrivesWithKeyValueHeadersAndTimestamp) {
  // librdkafka's mock cluster has no CreateTopics (see MissingKafkaTopic...).
  kafka_.create_topic("orders", kPartitions);
  RunResult r = run_program(mirror_args({"--json"}), {.timeout = scaled(120s)});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("\"records\": 10000"), std::string::npos) << r.out;
  auto kafka = kafka_by_partition();
  size_t total = 0;
  for (uint32_t part = 0; part < kPartitions; ++part) {
    const auto& rl = rustlog_[part];
    const auto& kp = kafka[static_cast<int32_t>(part)];
    ASSERT_EQ(kp.size(), rl.size()) << "partition " << part;
    for (size_t i = 0; i < rl.size(); ++i) expect_same(rl[i], kp[i], "partition " + std::to_string(part) + " #" + std::to_string(i));
    total += kp.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kRecords));
  expect_offset_map_consistent(kafka);
  // Nothing new: a second run mirrors nothing and repeats nothing.
  RunResult again = run_program(mirror_args({"--json"}), {.timeout = scaled(120s)});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("\"records\": 0"), std::string::npos) << again.out;
}

TEST_F(MirrorTest, Kill9HalfWayThenResumeMissesNothingAndRepeatsOnlyTheInFlightWindow) {
  kafka_.create_topic("orders", kPartitions);
  kafka_.set_rtt_ms(20);  // slow enough to be killed half-way
  constexpr int kWindow = 300;
  {
    SpawnedProgram m(mirror_args({"--max-in-flight", std::to_string(kWindow), "--commit-interval-ms", "50"}));
    auto c = client::Client::connect(addr_);
    ASSERT_TRUE(c);
    const auto deadline = std::chrono::steady_clock::now() + scaled(120s);
    uint64_t committed = 0;
    while (committed < kRecords / 2 && std::chrono::steady_clock::now() < deadline) {
      committed = 0;
      for (uint32_t p = 0; p < kPartitions; ++p)
        if (auto o = c->committed_offset("rustlog-mirror", "orders", p); o && *o) committed += **o;
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_GE(committed, static_cast<uint64_t>(kRecords / 2));
    ASSERT_LT(committed, static_cast<uint64_t>(kRecords)) << "the mirror finished before it could be killed";
    m.kill(SIGKILL);
    EXPECT_EQ(m.wait(), 128 + SIGKILL);
  }
  kafka_.set_rtt_ms(0);
  RunResult r = run_program(mirror_args({"--max-in-flight", std::to_string(kWindow)}), {.timeout = scaled(120s)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto kafka = kafka_by_partition();
  for (uint32_t part = 0; part < kPartitions; ++part) {
    const auto& rl = rustlog_[part];
    const auto& kp = kafka[static_cast<int32_t>(part)];
    // Kafka holds rl[0..a) then rl[b..n) with b <= a: the resumed run
    // started at the committed offset b and repeated rl[b..a).
    size_t a = 0;
    while (a < kp.size() && a < rl.size() && kp[a].value == rl[a].value && kp[a].key == rl[a].key &&
           kp[a].headers == rl[a].headers && kp[a].timestamp_ms == rl[a].timestamp_us / 1000)
      ++a;
    ASSERT_GE(kp.size(), rl.size()) << "partition " << part << ": records missing";
    const size_t repeated = kp.size() - rl.size();
    EXPECT_LE(repeated, static_cast<size_t>(kWindow)) << "partition " << part;
    ASSERT_GE(a, repeated);
    const size_t b = a - repeated;
    for (size_t i = b; i < rl.size(); ++i)
      expect_same(rl[i], kp[i + repeated], "partition " + std::to_string(part) + " resumed #" + std::to_string(i));
  }
  expect_offset_map_consistent(kafka);
}

TEST_F(MirrorTest, BrokerDownAndRequestErrorsAreRetriedAndLoseNothing) {
  kafka_.create_topic("orders", kPartitions);
  // Retriable errors on the first Produce requests, then a broker outage.
  kafka_.push_errors(0, {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                         RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                         RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS});
  kafka_.set_rtt_ms(5);
  std::atomic<bool> done{false};
  std::thread outage([&] {
    std::this_thread::sleep_for(300ms);
    for (int id = 1; id <= 3; ++id) kafka_.broker_down(id);
    std::this_thread::sleep_for(1500ms);
    for (int id = 1; id <= 3; ++id) kafka_.broker_up(id);
    done = true;
  });
  RunResult r = run_program(mirror_args({"--max-in-flight", "200"}), {.timeout = scaled(180s)});
  outage.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto kafka = kafka_by_partition();
  for (uint32_t part = 0; part < kPartitions; ++part) {
    const auto& rl = rustlog_[part];
    const auto& kp = kafka[static_cast<int32_t>(part)];
    // The idempotent producer's retries neither lose nor repeat records.
    ASSERT_EQ(kp.size(), rl.size()) << "partition " << part;
    for (size_t i = 0; i < rl.size(); ++i) expect_same(rl[i], kp[i], "partition " + std::to_string(part));
  }
  expect_offset_map_consistent(kafka);
}

// The mirror creates a missing Kafka topic with CreateTopics; the mock does
// not implement that request, so here it must fail clearly, in time.
TEST_F(MirrorTest, MissingKafkaTopicThatCannotBeCreatedIsAOneLineError) {
  RunResult r = run_program(mirror_args({"--kafka-timeout-ms", "2000"}), {.timeout = scaled(120s)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("rustlog: mirror: creating Kafka topic orders: "), std::string::npos) << r.err;
}

TEST_F(MirrorTest, AnUnreachableKafkaIsAOneLineError) {
  RunResult r = run_program({bin("rustlog"), "mirror", "--broker", addr_, "--to-kafka", "127.0.0.1:1", "--topics",
                             "orders", "--offsets-file", offsets_file_, "--kafka-timeout-ms", "3000"},
                            {.timeout = scaled(120s)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Kafka unreachable at 127.0.0.1:1"), std::string::npos) << r.err;
  RunResult bad = run_program({bin("rustlog"), "mirror", "--broker", addr_, "--to-kafka", kafka_.bootstrap(),
                               "--offsets-file", offsets_file_});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--topics"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace rustlog::test
