#pragma once
// The engine of `rustlog mirror` (docs/OUTGROWING.md): reads RustLog topics
// as a consumer group and produces every record to Apache Kafka with
// librdkafka (idempotent producer, acks=all), keeping key, value (null stays
// null), headers and timestamp (µs cut to Kafka's ms).
//
// At-least-once, resumable: per partition the group's offset is committed
// only up to the first record Kafka has not acknowledged, so after a crash
// the mirror restarts there; it repeats at most the records that were in
// flight (max_in_flight) and misses none. After each commit the offset map
// (offset_map.h) is replaced atomically.
//
// Partition p goes to Kafka partition p when the Kafka topic has at least
// as many partitions (it is created with the same count when missing); else
// a record with a key goes to fnv1a_32(key) mod N (client/partitioner.h), one
// without to p mod N.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/errors.h"
#include "client/kafka/kafka_common.h"

namespace rustlog::mirror {

namespace kafka = client::kafka;

struct MirrorOptions {
  std::string rustlog_broker;          // host:port
  std::string kafka_bootstrap;         // host:port[,host:port...]
  std::vector<std::string> topics;     // empty with all = every topic
  bool all = false;
  std::string rename_prefix;           // Kafka topic = prefix + RustLog topic
  std::string group = "rustlog-mirror";
  bool follow = false;                 // false: stop once caught up
  kafka::ConfigPairs kafka_config;  // applied after the mirror's own settings
  std::string offsets_file = "rustlog-mirror-offsets.json";
  size_t max_in_flight = 10000;        // records produced and not yet acknowledged
  std::chrono::milliseconds commit_interval{1000};
  int replication_factor = -1;         // for topics the mirror creates; -1 = the cluster's default
  std::chrono::milliseconds kafka_timeout{30000};  // metadata and topic creation
};

struct PartitionProgress {
  std::string topic;
  uint32_t partition = 0;
  std::string kafka_topic;
  uint64_t committed = 0;       // group offset: everything before it is in Kafka
  uint64_t high_watermark = 0;  // as of the last fetch
  uint64_t mirrored = 0;        // acknowledged by Kafka in this run
  uint64_t lag() const { return high_watermark > committed ? high_watermark - committed : 0; }
};

struct MirrorProgress {
  std::vector<PartitionProgress> partitions;
  uint64_t mirrored = 0;  // this run
  uint64_t in_flight = 0;
  double seconds = 0;
};

class Mirror {
 public:
  // Connects to both sides, resolves the topics, creates missing Kafka
  // topics, and reads the group's committed offsets.
  static client::ClientResult<std::unique_ptr<Mirror>> open(MirrorOptions options);
  ~Mirror();

  // Mirrors until caught up (or, with follow, until `stop`), calling
  // `progress` about once a second. Ends with a commit and the offset map
  // either way; an error (a record Kafka refused for good, RustLog
  // unreachable for 30 s) is returned after that.
  client::ClientStatus run(const std::atomic<bool>& stop, const std::function<void(const MirrorProgress&)>& progress);

  MirrorProgress progress() const;
  const std::string& offsets_file() const;

  class Impl;

 private:
  explicit Mirror(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rustlog::mirror
