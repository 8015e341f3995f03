#include "mirror/offset_map.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "storage/atomic_file.h"

namespace rustlog::mirror {

std::string to_json(const OffsetMap& map) {
  nlohmann::json j;
  j["version"] = 1;
  j["group"] = map.group;
  j["kafka"] = map.kafka;
  j["partitions"] = nlohmann::json::array();
  for (const auto& e : map.partitions)
    j["partitions"].push_back({{"topic", e.topic},
                               {"partition", e.partition},
                               {"kafka_topic", e.kafka_topic},
                               {"kafka_partition", e.kafka_partition},
                               {"last_offset", e.last_offset},
                               {"kafka_offset", e.kafka_offset},
                               {"next_offset", e.next_offset}});
  return j.dump(2) + "\n";
}

Result<OffsetMap> parse_offset_map(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.value("version", 0) != 1) return Status(ErrorCode::kInvalidRequest, "offset map: unknown version");
    OffsetMap m;
    m.group = j.value("group", "");
    m.kafka = j.value("kafka", "");
    for (const auto& p : j.at("partitions")) {
      OffsetMapEntry e;
      e.topic = p.at("topic").get<std::string>();
      e.partition = p.at("partition").get<uint32_t>();
      e.kafka_topic = p.at("kafka_topic").get<std::string>();
      e.kafka_partition = p.at("kafka_partition").get<int32_t>();
      e.last_offset = p.at("last_offset").get<uint64_t>();
      e.kafka_offset = p.at("kafka_offset").get<int64_t>();
      e.next_offset = p.at("next_offset").get<uint64_t>();
      m.partitions.push_back(std::move(e));
    }
    return m;
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kInvalidRequest, std::string("offset map is not valid: ") + ex.what());
  }
}

Result<OffsetMap> load_offset_map(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return OffsetMap{};
    return Status(ErrorCode::kStorageError, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = parse_offset_map(ss.str());
  if (!m) return Status(m.status().code(), path + ": " + m.status().message());
  return m;
}

Status save_offset_map(const std::string& path, const OffsetMap& map) {
  return write_file_atomic(path, to_json(map));
}

}  // namespace rustlog::mirror
