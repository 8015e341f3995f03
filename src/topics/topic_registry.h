#pragma once
// Owns every topic and its partition logs in one data directory, and the
// topic metadata file that says which topics exist. Single-threaded: the
// broker's event loop is the only caller.
//
// Crash safety: the metadata file (written atomically) is the commit point.
// Create: partition directories first, then metadata. Delete: metadata
// first, then partition directories are renamed to "<dir>.deleted" and
// removed. On open, partition directories that no topic claims (a create or
// delete interrupted by a crash) and "*.deleted" directories are removed.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/mmap_cache.h"
#include "storage/partition_log.h"
#include "storage/recovery_checkpoint.h"
#include "common/status.h"
#include "topics/topic_config.h"

namespace rustlog {

inline constexpr const char* kTopicMetadataFile = "topics.json";

struct Topic {
  std::string name;
  TopicConfig config;
  std::vector<std::unique_ptr<PartitionLog>> partitions;
};

struct RegistryOpenReport {
  uint64_t partitions = 0;
  uint64_t bytes_scanned = 0;
  uint64_t bytes_truncated = 0;
  uint64_t indexes_rebuilt = 0;
  uint64_t corruptions = 0;
  uint64_t orphans_removed = 0;
};

class TopicRegistry {
 public:
  TopicRegistry(std::string data_dir, size_t max_mapped_segments);
  ~TopicRegistry();

  // Loads the metadata and recovers every partition (using the recovery
  // point checkpoint).
  Status open(RegistryOpenReport* report);

  Result<Topic*> create(const std::string& name, const TopicConfig& config);
  Status remove(const std::string& name);
  Topic* find(const std::string& name);
  // 404 / 405 with a message naming the topic and the valid partitions.
  Result<PartitionLog*> partition(const std::string& topic, uint32_t partition);
  const std::map<std::string, std::unique_ptr<Topic>>& topics() const { return topics_; }

  // Writes the recovery points of every partition (atomically).
  Status checkpoint();
  // Flushes every partition (shutdown).
  Status flush_all();

  const std::string& data_dir() const { return data_dir_; }
  static std::string partition_dir_name(const std::string& topic, uint32_t partition);

 private:
  Status write_metadata();
  Status open_partitions(Topic& t, const RecoveryPoints& points, RegistryOpenReport* report);

  std::string data_dir_;
  MmapCache mmap_cache_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
};

}  // namespace rustlog
