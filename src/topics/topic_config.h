#pragma once
// Per-topic configuration: what CreateTopicEx carries as key=value pairs,
// what is persisted in the topic metadata, and how it maps to LogConfig.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/log_config.h"
#include "common/status.h"

namespace rustlog {

enum class CleanupPolicy { kDelete, kCompact, kDeleteAndCompact };

struct TopicConfig {
  uint32_t partitions = 1;
  uint64_t segment_bytes = 1ull << 30;
  int64_t segment_ms = 7ll * 24 * 3600 * 1000;
  int64_t retention_ms = 7ll * 24 * 3600 * 1000;  // -1 = keep forever
  int64_t retention_bytes = -1;                    // per partition; -1 = no limit
  CleanupPolicy cleanup = CleanupPolicy::kDelete;
  // Compaction (Kafka's names and defaults; docs/OPERATIONS.md).
  double min_cleanable_dirty_ratio = 0.5;
  int64_t min_compaction_lag_ms = 0;
  int64_t max_compaction_lag_ms = -1;       // -1 = no deadline
  int64_t delete_retention_ms = 86400000;   // tombstone horizon after the clean that saw them
  uint32_t index_interval_bytes = 4096;
  FlushPolicy flush;
  // compression.type: nullopt = "producer" (batches stored as the producer
  // sent them); a codec: every batch stored with it (the broker recompresses).
  std::optional<Compression> compression;

  LogConfig log_config() const;
  bool deletes() const { return cleanup != CleanupPolicy::kCompact; }
  bool compacts() const { return cleanup != CleanupPolicy::kDelete; }
  // key=value pairs as DescribeTopicConfig shows them (stable order).
  std::vector<std::pair<std::string, std::string>> to_pairs() const;
  // Applies one key=value; 400 naming the key for unknown keys and bad values.
  Status set(const std::string& key, const std::string& value);
  Status validate(uint32_t max_partitions) const;
};

const char* cleanup_policy_name(CleanupPolicy p);

// The smallest segment.bytes and segment.ms a new topic may have (broker
// flags --min-segment-bytes, --min-segment-ms). Below them a topic rolls a
// segment per produce: a file, an index and a directory entry per batch.
struct SegmentFloors {
  uint64_t bytes = 1ull << 20;
  int64_t ms = 60000;
};
// 400 naming the key, the value, the floor and the flag that lowers it.
Status check_segment_floors(const TopicConfig& c, const SegmentFloors& floors);

}  // namespace rustlog
