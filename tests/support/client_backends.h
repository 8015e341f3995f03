#pragma once
// The two systems the client library's Producer and Consumer run on, for
// tests written once and run against both (a typed test suite):
//
//   RustLogSystem: a real kafka-lite process; address "127.0.0.1:PORT"
//   KafkaSystem:   librdkafka's mock cluster (real loopback sockets);
//                  address "kafka://127.0.0.1:PORT,..."
//
// Each offers address(), client_options() for its consumers,
// create_topic(name, partitions), an address where nothing listens,
// go_down() (the whole system stops answering), and read_all(topic, partitions): every record per
// partition in order, read with that system's own tools (a RustLog Client;
// a plain librdkafka consumer), not with the code under test.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/record.h"
#include "support/broker_process.h"
#include "support/kafka_mock.h"

namespace rustlog::test {

using PartitionRecords = std::map<uint32_t, std::vector<Record>>;

class RustLogSystem {
 public:
  static constexpr const char* kName = "RustLog";
  static constexpr bool kOffsetsForTimes = true;
  RustLogSystem() {
    if (!broker_.start()) throw std::runtime_error("kafka-lite did not start");
    address_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  const std::string& address() const { return address_; }
  static std::string unreachable_address() { return "127.0.0.1:1"; }
  static client::ClientOptions client_options() { return {}; }
  void create_topic(const std::string& name, uint32_t partitions) {
    auto st = client().create_topic(name, partitions);
    if (!st) throw std::runtime_error(st.error().to_string());
  }
  PartitionRecords read_all(const std::string& topic, uint32_t partitions) {
    client::Client c = client();
    PartitionRecords out;
    for (uint32_t p = 0; p < partitions; ++p) {
      auto& v = out[p];
      for (uint64_t at = 0;;) {
        auto f = c.fetch(topic, p, at);
        if (!f) throw std::runtime_error(f.error().to_string());
        if (f->records.empty()) break;
        for (auto& r : f->records) v.push_back(std::move(r));
        at = f->next_offset;
      }
    }
    return out;
  }
  // The broker dies (kill -9) and stays down.
  void go_down() { broker_.kill9(); }
  // Produces with a plain Client (not the code under test).
  void produce(const std::string& topic, uint32_t partition, std::vector<protocol::ProducerRecord> records) {
    auto r = client().produce(topic, partition, std::move(records));
    if (!r) throw std::runtime_error(r.error().to_string());
  }
  // The group's committed offset, as the broker has it.
  std::optional<uint64_t> committed(const std::string& group, const std::string& topic, uint32_t partition) {
    auto c = client().committed_offset(group, topic, partition);
    if (!c) throw std::runtime_error(c.error().to_string());
    return *c;
  }

 private:
  client::Client client() {
    auto c = client::Client::connect(address_);
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(*c);
  }
  BrokerProcess broker_{{"--metrics-listen", "off"}};
  std::string address_;
};

class KafkaSystem {
 public:
  static constexpr const char* kName = "Kafka";
  // librdkafka 2.0's mock answers a ListOffsets by timestamp with the end of
  // the log, so Consumer::seek_to_time cannot be checked against it.
  static constexpr bool kOffsetsForTimes = false;
  KafkaSystem() : address_("kafka://" + mock_.bootstrap()) {}
  const std::string& address() const { return address_; }
  static std::string unreachable_address() { return "kafka://127.0.0.1:1"; }
  // The mock cluster lets a member that left stay in its group until its
  // session times out, and a new member waits for that: keep it short.
  static client::ClientOptions client_options() {
    client::ClientOptions o;
    o.kafka_config = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    return o;
  }
  void create_topic(const std::string& name, uint32_t partitions) {
    mock_.create_topic(name, static_cast<int>(partitions));
  }
  PartitionRecords read_all(const std::string& topic, uint32_t partitions) {
    PartitionRecords out;
    for (uint32_t p = 0; p < partitions; ++p) out[p];
    for (auto& k : mock_.read_all(topic, static_cast<int>(partitions))) {
      Record r;
      r.offset = static_cast<uint64_t>(k.offset);
      r.timestamp_us = k.timestamp_ms * 1000;
      r.key = std::move(k.key);
      r.value = std::move(k.value);
      r.headers = std::move(k.headers);
      out[static_cast<uint32_t>(k.partition)].push_back(std::move(r));
    }
    return out;
  }
  // Every broker of the cluster goes down and stays down.
  void go_down() {
    for (int id = 1; id <= 3; ++id) mock_.broker_down(id);
  }
  KafkaMock& mock() { return mock_; }

 private:
  KafkaMock mock_{3};
  std::string address_;
};

// For TYPED_TEST_SUITE: names the instantiations "RustLog" and "Kafka".
struct SystemName {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace rustlog::test
