#pragma once
// librdkafka's in-process mock Kafka cluster for the Kafka tests (built only
// with librdkafka): real loopback sockets, no JVM.
//
//   test::KafkaMock kafka(3);                 // 3 brokers
//   kafka.create_topic("orders", 3);
//   run rustlog mirror --to-kafka kafka.bootstrap() ...
//   auto recs = kafka.read_all("orders");     // every record, per partition in order
//   kafka.broker_down(1); kafka.broker_up(1);
//   kafka.push_errors(0 /* Produce */, {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION});
//
// Mind its limits: it keeps about 5 MiB / 100,000 batches per partition.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/kafka/kafka_common.h"
#include "common/record.h"

namespace rustlog::test {

struct KafkaRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key, value;
  std::vector<RecordHeader> headers;
  int64_t timestamp_ms = 0;
};

class KafkaMock {
 public:
  explicit KafkaMock(int brokers = 3) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) throw std::runtime_error(std::string("rd_kafka_new: ") + err);
    mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (!mc_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~KafkaMock() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  KafkaMock(const KafkaMock&) = delete;
  KafkaMock& operator=(const KafkaMock&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  rd_kafka_mock_cluster_t* cluster() { return mc_; }

  void create_topic(const std::string& topic, int partitions) {
    if (rd_kafka_mock_topic_create(mc_, topic.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("mock topic create failed");
  }
  void broker_down(int id) { rd_kafka_mock_broker_set_down(mc_, id); }
  void broker_up(int id) { rd_kafka_mock_broker_set_up(mc_, id); }
  void set_rtt_ms(int ms) { rd_kafka_mock_broker_set_rtt(mc_, -1, ms); }
  void push_errors(int16_t api_key, const std::vector<rd_kafka_resp_err_t>& errors) {
    rd_kafka_mock_push_request_errors_array(mc_, api_key, errors.size(), errors.data());
  }

  // Every record of the topic, partition by partition, read with a real
  // librdkafka consumer from the beginning to the end of each partition.
  std::vector<KafkaRecord> read_all(const std::string& topic, int partitions,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const char* v) {
      if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) throw std::runtime_error(err);
    };
    set("bootstrap.servers", bootstrap_.c_str());
    set("group.id", "rustlog-test-reader");
    set("enable.auto.commit", "false");
    set("enable.partition.eof", "true");
    set("log_level", "2");
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!c) throw std::runtime_error(err);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p)
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::map<int32_t, std::vector<KafkaRecord>> by_part;
    std::map<int32_t, bool> at_end;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (static_cast<int>(at_end.size()) < partitions && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 200);
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end[m->partition] = true;
      } else if (!m->err) {
        Record rec = client::kafka::to_record(m);
        KafkaRecord r;
        r.partition = m->partition;
        r.offset = m->offset;
        r.key = std::move(rec.key);
        r.value = std::move(rec.value);
        r.headers = std::move(rec.headers);
        r.timestamp_ms = rec.timestamp_us / 1000;
        by_part[m->partition].push_back(std::move(r));
        at_end.erase(m->partition);
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (static_cast<int>(at_end.size()) < partitions) ADD_FAILURE() << "reading " << topic << " from the mock timed out";
    std::vector<KafkaRecord> out;
    for (auto& [p, v] : by_part)
      for (auto& r : v) out.push_back(std::move(r));
    return out;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string bootstrap_;
};

}  // namespace rustlog::test
