#include "topics/topic_registry.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/atomic_file.h"
#include "storage/file.h"
#include "storage/recovery_checkpoint.h"
#include "topics/data_dir.h"
#include "topics/topic_name.h"

namespace rustlog {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
json config_to_json(const TopicConfig& c) {
  json j = json::object();
  j["partitions"] = c.partitions;
  for (const auto& [k, v] : c.to_pairs()) j[k] = v;
  return j;
}

Result<TopicConfig> config_from_json(const json& j) {
  TopicConfig c;
  if (!j.is_object() || !j.contains("partitions") || !j["partitions"].is_number_unsigned())
    return Status(ErrorCode::kStorageError, "topic metadata entry lacks 'partitions'");
  c.partitions = j["partitions"].get<uint32_t>();
  for (const auto& [k, v] : j.items()) {
    if (k == "partitions") continue;
    if (!v.is_string()) return Status(ErrorCode::kStorageError, "topic metadata: " + k + " is not a string");
    RUSTLOG_RETURN_IF_ERROR(c.set(k, v.get<std::string>()));
  }
  return c;
}
}  // namespace

TopicRegistry::TopicRegistry(std::string data_dir, size_t max_mapped_segments,
                             size_t max_open_segment_files)
    : data_dir_(std::move(data_dir)), segment_cache_(max_mapped_segments, max_open_segment_files) {}

TopicRegistry::~TopicRegistry() { topics_.clear(); }

std::string TopicRegistry::partition_dir_name(const std::string& topic, uint32_t partition) {
  return ::rustlog::partition_dir_name(topic, partition);
}

Status TopicRegistry::write_metadata() {
  Status st = write_metadata_file();
  if (st) remove_deleted_dirs();
  return st;
}

Status TopicRegistry::write_metadata_file() {
  json j = json::object();
  j["version"] = 1;
  json topics = json::object();
  for (const auto& [name, t] : topics_) topics[name] = config_to_json(t->config);
  j["topics"] = topics;
  return write_file_atomic(data_dir_ + "/" + kTopicMetadataFile, j.dump(2) + "\n");
}

Status TopicRegistry::open_partitions(Topic& t, const RecoveryPoints& points,
                                      RegistryOpenReport* report) {
  t.partitions.clear();
  for (uint32_t p = 0; p < t.config.partitions; ++p) {
    const std::string name = partition_dir_name(t.name, p);
    auto it = points.find(name);
    auto log = PartitionLog::open(data_dir_ + "/" + name, t.config.log_config(),
                                  it == points.end() ? 0 : it->second, &segment_cache_);
    if (!log) return log.status();
    if (report) {
      const auto& r = (*log)->recovery_report();
      ++report->partitions;
      report->bytes_scanned += r.bytes_scanned;
      report->bytes_truncated += r.bytes_truncated;
      report->indexes_rebuilt += r.indexes_rebuilt;
      report->corruptions += r.corruptions.size();
    }
    t.partitions.push_back(std::move(*log));
  }
  return Status::ok();
}

Status TopicRegistry::load_metadata(bool* present) {
  const std::string meta_path = data_dir_ + "/" + kTopicMetadataFile;
  *present = path_exists(meta_path);
  if (!*present) return Status::ok();
  auto text = read_file(meta_path);
  if (!text) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("topics") || !j["topics"].is_object())
    return Status(ErrorCode::kStorageError,
                  meta_path + " is not valid topic metadata; restore it from a backup, or move it "
                              "away and start with --recover-topics to rebuild it from the partition "
                              "directories");
  for (const auto& [name, cj] : j["topics"].items()) {
    auto cfg = config_from_json(cj);
    if (!cfg) return Status(ErrorCode::kStorageError, meta_path + ": topic " + name + ": " + cfg.status().message());
    auto t = std::make_unique<Topic>();
    t->name = name;
    t->config = *cfg;
    topics_[name] = std::move(t);
  }
  return Status::ok();
}

Status TopicRegistry::open(const RegistryOpenOptions& options, RegistryOpenReport* report) {
  RUSTLOG_RETURN_IF_ERROR(check_data_dir_claim(data_dir_, options.init_data_dir, options.recover_topics));
  RUSTLOG_RETURN_IF_ERROR(make_dirs(data_dir_));
  // Only the broker's own temp files (interrupted atomic writes of its files).
  for (const char* f : {kTopicMetadataFile, kRecoveryCheckpointFile}) {
    const std::string tmp = data_dir_ + "/" + f + std::string(kTempSuffix);
    RUSTLOG_RETURN_IF_ERROR(remove_file(tmp));
  }
  bool present = false;
  RUSTLOG_RETURN_IF_ERROR(load_metadata(&present));
  auto finished = finish_interrupted(report);
  if (!finished) return finished.status();
  auto claimed = claim_partition_dirs(options, report);
  if (!claimed) return claimed.status();
  // A new directory is claimed by writing topics.json at once, so the next
  // start knows it is the broker's.
  if (!present || *finished || *claimed) RUSTLOG_RETURN_IF_ERROR(write_metadata());

  auto points = read_recovery_points(data_dir_);
  RecoveryPoints rp;
  if (points) rp = std::move(*points);
  else spdlog::warn("{}; recovering every partition from its start", points.status().message());
  for (auto& [name, t] : topics_) {
    for (uint32_t p = 0; p < t->config.partitions; ++p)
      if (present && !path_exists(data_dir_ + "/" + partition_dir_name(name, p)))
        spdlog::warn("partition directory {} of topic {} is missing; starting it empty",
                     partition_dir_name(name, p), name);
    RUSTLOG_RETURN_IF_ERROR(open_partitions(*t, rp, report));
  }
  return Status::ok();
}

Topic* TopicRegistry::find(const std::string& name) {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

Result<PartitionLog*> TopicRegistry::partition(const std::string& topic, uint32_t partition) {
  Topic* t = find(topic);
  if (!t) return Status(ErrorCode::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition >= t->partitions.size())
    return Status(ErrorCode::kPartitionNotFound,
                  "topic '" + topic + "' has no partition " + std::to_string(partition) +
                      " (valid: 0.." + std::to_string(t->partitions.size() - 1) + ")");
  return t->partitions[partition].get();
}

Status TopicRegistry::checkpoint() {
  RecoveryPoints rp;
  for (const auto& [name, t] : topics_)
    for (uint32_t p = 0; p < t->partitions.size(); ++p)
      rp[partition_dir_name(name, p)] = t->partitions[p]->recovery_point();
  return write_recovery_points(data_dir_, rp);
}

Status TopicRegistry::flush_all() {
  Status first;
  for (auto& [name, t] : topics_)
    for (auto& p : t->partitions) {
      Status st = p->flush();
      if (!st && first.is_ok()) first = st;
    }
  return first;
}

}  // namespace rustlog
