#pragma once
// Per-partition storage configuration and the flush policy.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/compression.h"
#include "common/status.h"

namespace rustlog {

// When appended bytes are fdatasync'ed. `always`: before anything is
// acknowledged (the broker groups the appends of one loop turn into one
// flush); `interval:<ms>`: at most that long after the first unflushed
// append; `never`: only at shutdown (and for what recovery validated), so a
// power loss may lose what the page cache held. Rolling never flushes.
struct FlushPolicy {
  enum class Kind { kAlways, kInterval, kNever };
  Kind kind = Kind::kAlways;
  uint32_t interval_ms = 0;

  static Result<FlushPolicy> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const FlushPolicy&) const = default;
};

// Key-based compaction of the partition (log_cleaner.h; Kafka's names:
// min.cleanable.dirty.ratio, min.compaction.lag.ms, max.compaction.lag.ms,
// delete.retention.ms). Times are broker time.
struct CompactionConfig {
  bool enabled = false;                    // cleanup.policy includes compact
  double min_cleanable_dirty_ratio = 0.5;  // clean once dirty / (clean + dirty) reaches it
  int64_t min_compaction_lag_ms = 0;       // segments appended to more recently are not cleaned
  int64_t max_compaction_lag_ms = -1;      // dirty data older than this is cleaned whatever the ratio; -1 none
  int64_t delete_retention_ms = 86400000;  // tombstones stay this long after the clean that first kept them
};

struct LogConfig {
  uint64_t segment_bytes = 1ull << 30;          // roll when the next batch would exceed it
  int64_t segment_ms = 7ll * 24 * 3600 * 1000;  // roll when the first batch is older
  uint32_t index_interval_bytes = 4096;         // one index entry per this many bytes
  FlushPolicy flush;
  // Retention (retention_policy.h): whole sealed segments go once their
  // newest broker append time is older than retention_ms, or while the log
  // exceeds retention_bytes by a whole segment. -1 = no limit (the default
  // for a bare log; topics map theirs from TopicConfig).
  int64_t retention_ms = -1;
  int64_t retention_bytes = -1;
  CompactionConfig compaction;
  // compression.type: nullopt = "producer" (batches stored as sent);
  // otherwise the broker stores every appended batch with this codec
  // (recompress_batch) before PartitionLog::append.
  std::optional<Compression> compression;
  // The active segment's file is extended with written zeros ahead of its
  // appends, at most this many bytes at a time (preallocation.h); 0 = off.
  // A broker-wide setting (--segment-preallocate-bytes), not kept per topic.
  uint64_t preallocate_bytes = kDefaultPreallocateBytes;
  static constexpr uint64_t kDefaultPreallocateBytes = 4ull << 20;

  // Checks ranges (segment_bytes in [1 KiB, 2 GiB - 1], ...); the message
  // names the bad field.
  Status validate() const;
};

}  // namespace rustlog
