#pragma once
// The mirror's offset-mapping file: per RustLog partition, the last record
// mirrored (and committed to the group) and where it is in Kafka, so
// consumers can be cut over at a known point. JSON, replaced atomically
// (temp file, fsync, rename, fsync the directory):
//
//   {"version": 1, "group": "rustlog-mirror", "kafka": "host:9092",
//    "partitions": [{"topic": "orders", "partition": 0, "kafka_topic": "orders",
//                    "kafka_partition": 0, "last_offset": 9999, "kafka_offset": 10001,
//                    "next_offset": 10000}]}
//
// next_offset is the group's committed offset (last_offset + 1): a consumer
// that had read RustLog up to next_offset continues in Kafka after
// kafka_offset (per kafka_partition when partitions map one to one).
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rustlog::mirror {

struct OffsetMapEntry {
  std::string topic;
  uint32_t partition = 0;
  std::string kafka_topic;
  int32_t kafka_partition = 0;
  uint64_t last_offset = 0;   // RustLog offset of the last mirrored record
  int64_t kafka_offset = 0;   // its offset in Kafka
  uint64_t next_offset = 0;   // last_offset + 1
  bool operator==(const OffsetMapEntry&) const = default;
};

struct OffsetMap {
  std::string group;
  std::string kafka;
  std::vector<OffsetMapEntry> partitions;
};

std::string to_json(const OffsetMap& map);
Result<OffsetMap> parse_offset_map(const std::string& text);
// A missing file is an empty map.
Result<OffsetMap> load_offset_map(const std::string& path);
Status save_offset_map(const std::string& path, const OffsetMap& map);

}  // namespace rustlog::mirror
