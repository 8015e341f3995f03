#include "topics/topic_config.h"

#include <charconv>

namespace rustlog {

const char* cleanup_policy_name(CleanupPolicy p) {
  switch (p) {
    case CleanupPolicy::kDelete: return "delete";
    case CleanupPolicy::kCompact: return "compact";
    case CleanupPolicy::kDeleteAndCompact: return "delete,compact";
  }
  return "delete";
}

LogConfig TopicConfig::log_config() const {
  LogConfig c;
  c.segment_bytes = segment_bytes;
  c.segment_ms = segment_ms;
  c.index_interval_bytes = index_interval_bytes;
  c.flush = flush;
  return c;
}

std::vector<std::pair<std::string, std::string>> TopicConfig::to_pairs() const {
  return {
      {"cleanup.policy", cleanup_policy_name(cleanup)},
      {"flush", flush.to_string()},
      {"index.interval.bytes", std::to_string(index_interval_bytes)},
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
  } else if (key == "index.interval.bytes") {
    if (!parse_int(value, &index_interval_bytes)) return bad_value(key, value, "bytes");
  } else if (key == "flush") {
    auto p = FlushPolicy::parse(value);
    if (!p) return bad_value(key, value, "always, never or interval:<ms>");
    flush = *p;
  } else {
    return Status(ErrorCode::kInvalidRequest,
                  "unknown topic config '" + key +
                      "': known keys are cleanup.policy, flush, index.interval.bytes, "
                      "retention.bytes, retention.ms, segment.bytes, segment.ms");
  }
  return Status::ok();
}

Status TopicConfig::validate(uint32_t max_partitions) const {
  if (partitions < 1 || partitions > max_partitions)
    return Status(ErrorCode::kInvalidRequest, "partition count " + std::to_string(partitions) +
                                                  " is out of range: use 1.." +
                                                  std::to_string(max_partitions));
  return log_config().validate();
}

}  // namespace rustlog
