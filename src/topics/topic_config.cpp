#include "topics/topic_config.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace rustlog {

const char* cleanup_policy_name(CleanupPolicy p) {
  switch (p) {
    case CleanupPolicy::kDelete: return "delete";
    case CleanupPolicy::kCompact: return "compact";
    case CleanupPolicy::kDeleteAndCompact: return "delete,compact";
  }
  return "delete";
}

namespace {
std::string ratio_string(double r);
}  // namespace

LogConfig TopicConfig::log_config() const {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.segment_ms = segment_ms;
  c.index_interval_bytes = index_interval_bytes;
  c.flush = flush;
  // Compacted-only topics keep their data until the cleaner removes it.
  c.retention_ms = deletes() ? retention_ms : -1;
  c.retention_bytes = deletes() ? retention_bytes : -1;
  c.compaction.enabled = compacts();
  c.compaction.min_cleanable_dirty_ratio = min_cleanable_dirty_ratio;
  c.compaction.min_compaction_lag_ms = min_compaction_lag_ms;
  c.compaction.max_compaction_lag_ms = max_compaction_lag_ms;
  c.compaction.delete_retention_ms = delete_retention_ms;
  c.compression = compression;
  return c;
}

namespace {
std::string ratio_string(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", r);
  return buf;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> TopicConfig::to_pairs() const {
  return {
      {"cleanup.policy", cleanup_policy_name(cleanup)},
      {"compression.type", compression ? compression_to_string(*compression) : "producer"},
      {"delete.retention.ms", std::to_string(delete_retention_ms)},
      {"flush", flush.to_string()},
      {"index.interval.bytes", std::to_string(index_interval_bytes)},
      {"max.compaction.lag.ms", std::to_string(max_compaction_lag_ms)},
      {"min.cleanable.dirty.ratio", ratio_string(min_cleanable_dirty_ratio)},
      {"min.compaction.lag.ms", std::to_string(min_compaction_lag_ms)},
      {"retention.bytes", std::to_string(retention_bytes)},
      {"retention.ms", std::to_string(retention_ms)},
      {"segment.bytes", std::to_string(segment_bytes)},
      {"segment.ms", std::to_string(segment_ms)},
  };
}

namespace {
template <typename T>
bool parse_int(const std::string& s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}
Status bad_value(const std::string& key, const std::string& value, const std::string& want) {
  return Status(ErrorCode::kInvalidRequest,
                "bad value '" + value + "' for topic config " + key + ": expected " + want);
}
}  // namespace

Status TopicConfig::set(const std::string& key, const std::string& value) {
  if (key == "segment.bytes") {
    if (!parse_int(value, &segment_bytes)) return bad_value(key, value, "bytes (1024..2147483647)");
  } else if (key == "segment.ms") {
    if (!parse_int(value, &segment_ms) || segment_ms < 1)
      return bad_value(key, value, "milliseconds >= 1");
  } else if (key == "retention.ms") {
    if (!parse_int(value, &retention_ms) || retention_ms < -1)
      return bad_value(key, value, "milliseconds, or -1 for no time limit");
  } else if (key == "retention.bytes") {
    if (!parse_int(value, &retention_bytes) || retention_bytes < -1)
      return bad_value(key, value, "bytes per partition, or -1 for no size limit");
  } else if (key == "cleanup.policy") {
    if (value == "delete") cleanup = CleanupPolicy::kDelete;
    else if (value == "compact") cleanup = CleanupPolicy::kCompact;
    else if (value == "delete,compact" || value == "compact,delete")
      cleanup = CleanupPolicy::kDeleteAndCompact;
    else return bad_value(key, value, "delete, compact or delete,compact");
  } else if (key == "min.cleanable.dirty.ratio") {
    char* end = nullptr;
    const double d = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size() || !(d >= 0 && d <= 1))
      return bad_value(key, value, "a ratio between 0 and 1 (e.g. 0.5)");
    min_cleanable_dirty_ratio = d;
  } else if (key == "min.compaction.lag.ms") {
    if (!parse_int(value, &min_compaction_lag_ms) || min_compaction_lag_ms < 0)
      return bad_value(key, value, "milliseconds >= 0");
  } else if (key == "max.compaction.lag.ms") {
    if (!parse_int(value, &max_compaction_lag_ms) || max_compaction_lag_ms < -1 || max_compaction_lag_ms == 0)
      return bad_value(key, value, "milliseconds >= 1, or -1 for no deadline");
  } else if (key == "delete.retention.ms") {
    if (!parse_int(value, &delete_retention_ms) || delete_retention_ms < 0)
      return bad_value(key, value, "milliseconds >= 0");
  } else if (key == "index.interval.bytes") {
    if (!parse_int(value, &index_interval_bytes)) return bad_value(key, value, "bytes");
  } else if (key == "compression.type") {
    if (value == "producer") {
      compression.reset();
    } else {
      auto c = parse_compression(value);
      if (!c) return bad_value(key, value, "producer, none, lz4[:0-12] or zstd[:-7-22]");
      compression = *c;
    }
  } else if (key == "flush") {
    auto p = FlushPolicy::parse(value);
    if (!p) return bad_value(key, value, "always, never or interval:<ms>");
    flush = *p;
  } else {
    return Status(ErrorCode::kInvalidRequest,
                  "unknown topic config '" + key +
                      "': known keys are cleanup.policy, compression.type, delete.retention.ms, flush, "
                      "index.interval.bytes, max.compaction.lag.ms, min.cleanable.dirty.ratio, "
                      "min.compaction.lag.ms, retention.bytes, retention.ms, segment.bytes, segment.ms");
  }
  return Status::ok();
}

Status TopicConfig::validate(uint32_t max_partitions) const {
  if (partitions < 1 || partitions > max_partitions)
    return Status(ErrorCode::kInvalidRequest, "partition count " + std::to_string(partitions) +
                                                  " is out of range: use 1.." + std::to_string(max_partitions) +
                                                  " (the broker's --max-partitions)");
  return log_config().validate();
}

Status check_segment_floors(const TopicConfig& c, const SegmentFloors& floors) {
  auto below = [](const char* key, const std::string& value, const std::string& floor, const char* flag) {
    return Status(ErrorCode::kInvalidRequest,
                  std::string(key) + " " + value + " is below the broker's floor of " + floor +
                      ": a topic would roll a segment (a file and its index) every few produces; ask for " +
                      floor + " or more, or start kafka-lite with " + flag + " " + value + " (or lower)");
  };
  if (c.segment_bytes < floors.bytes)
    return below("segment.bytes", std::to_string(c.segment_bytes), std::to_string(floors.bytes), "--min-segment-bytes");
  if (c.segment_ms < floors.ms)
    return below("segment.ms", std::to_string(c.segment_ms), std::to_string(floors.ms), "--min-segment-ms");
  return Status::ok();
}

}  // namespace rustlog
