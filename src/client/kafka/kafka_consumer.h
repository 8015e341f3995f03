#pragma once
// The Consumer on Apache Kafka (a kafka:// address): a librdkafka consumer
// behind consumer.h's contract.
//
// What maps how (docs/CLIENT.md, "RustLog or Kafka"):
// - group_id is Kafka's group.id; offsets are committed only by commit(),
//   auto_commit_every and close(), as on RustLog (enable.auto.commit and
//   enable.auto.offset.store are off), and a committed offset means the same
//   on both: the next record the group will read;
// - where reading starts follows consumer.h's rule, resolved here (seek,
//   else the group's committed offset, else auto_offset_reset against the
//   partition's watermarks), so position() is known before records arrive;
//   a position that later falls out of range is reset by librdkafka with
//   the same policy (kNone: poll() fails with 416);
// - assign() and subscribe() without a group read exactly those partitions;
//   subscribe() with a group_id joins Kafka's group protocol: the group's
//   members split the partitions and the rebalance callback (inside poll())
//   resolves the ones that arrive and forgets the ones taken away, after
//   committing them when auto_commit_every is on;
// - max_wait, min_bytes and max_bytes become fetch.wait.max.ms,
//   fetch.min.bytes and max.partition.fetch.bytes; ClientOptions::kafka_config
//   comes last; timestamps are ms (µs = ms * 1000).
#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/backend.h"
#include "client/kafka/kafka_common.h"

namespace rustlog::client::kafka {

class KafkaConsumer final : public ConsumerBackend {
 public:
  // Creates the librdkafka consumer and checks that the cluster answers a
  // metadata request within connect_timeout (503 otherwise).
  static ClientResult<std::unique_ptr<ConsumerBackend>> open(const std::string& address,
                                                             const std::string& bootstrap,
                                                             const ConsumerOptions& options,
                                                             const ClientOptions& client_options);
  ~KafkaConsumer() override;

  ClientStatus subscribe(const std::string& topic) override;
  ClientStatus assign(const std::string& topic, std::vector<uint32_t> partitions) override;
  ClientStatus seek(uint32_t partition, uint64_t offset) override;
  ClientStatus seek_to_beginning() override;
  ClientStatus seek_to_end() override;
  ClientStatus seek_to_time(int64_t timestamp_us) override;
  ClientResult<std::vector<ConsumerRecord>> poll(std::chrono::milliseconds timeout, size_t max_records) override;
  ClientStatus commit() override;
  ClientStatus close() override;
  ClientStatus resolve_positions() override;
  const std::string& topic() const override { return topic_; }
  std::vector<PartitionPosition> positions() const override;
  std::optional<uint64_t> position(uint32_t partition) const override;
  uint64_t uncommitted() const override { return since_commit_; }

 private:
  enum class Mode { kNone, kAssigned, kSubscribed };
  struct Part {
    std::optional<uint64_t> position;  // next offset poll() returns
    std::optional<uint64_t> committed;
  };

  KafkaConsumer(std::string address, ConsumerOptions options, int timeout_ms);
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                           void* opaque);
  void rebalanced(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list);
  ClientStatus usable() const;
  // Resolves the listed partitions that have no position yet.
  ClientStatus resolve(const std::vector<uint32_t>& partitions);
  ClientResult<uint64_t> watermark(uint32_t partition, bool high);
  ClientStatus seek_to_watermark(bool high);
  // Hands the assigned partitions to librdkafka at their positions (assign mode).
  ClientStatus start_fetching();
  ClientError read_error(const rd_kafka_message_t* m) const;
  std::string where(uint32_t partition) const { return topic_ + "/" + std::to_string(partition); }

  const std::string address_;
  const ConsumerOptions options_;
  const int timeout_ms_;  // metadata, committed offsets, watermarks, commits
  Handle rk_;
  Mode mode_ = Mode::kNone;
  std::string topic_;
  std::map<uint32_t, Part> parts_;  // assigned now
  bool fetching_ = false;           // assign mode: librdkafka has the assignment
  uint64_t since_commit_ = 0;
  std::optional<ClientError> pending_;  // an error met after records were collected: the next poll() returns it
  bool closed_ = false;
};

}  // namespace rustlog::client::kafka
