#include "topics/topic_registry.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "storage/atomic_file.h"
#include "storage/file.h"
#include "storage/recovery_checkpoint.h"
#include "topics/topic_name.h"

namespace rustlog {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr std::string_view kDeletedSuffix = ".deleted";

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

TopicRegistry::TopicRegistry(std::string data_dir, size_t max_mapped_segments)
    : data_dir_(std::move(data_dir)), mmap_cache_(max_mapped_segments) {}

TopicRegistry::~TopicRegistry() { topics_.clear(); }

std::string TopicRegistry::partition_dir_name(const std::string& topic, uint32_t partition) {
  return topic + "-" + std::to_string(partition);
}

Status TopicRegistry::write_metadata() {
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
                                  it == points.end() ? 0 : it->second, &mmap_cache_);
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

Status TopicRegistry::open(RegistryOpenReport* report) {
  std::error_code ec;
  fs::create_directories(data_dir_, ec);
  if (ec) return Status(ErrorCode::kStorageError, "cannot create data dir " + data_dir_ + ": " + ec.message());
  auto removed = remove_temp_files(data_dir_);
  if (!removed) return removed.status();

  const std::string meta_path = data_dir_ + "/" + kTopicMetadataFile;
  if (path_exists(meta_path)) {
    auto text = read_file(meta_path);
    if (!text) return text.status();
    json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("topics") || !j["topics"].is_object())
      return Status(ErrorCode::kStorageError,
                    meta_path + " is not valid topic metadata; restore it from a backup or move it "
                                "away to start with no topics");
    for (const auto& [name, cj] : j["topics"].items()) {
      auto cfg = config_from_json(cj);
      if (!cfg) return Status(ErrorCode::kStorageError, meta_path + ": topic " + name + ": " + cfg.status().message());
      auto t = std::make_unique<Topic>();
      t->name = name;
      t->config = *cfg;
      topics_[name] = std::move(t);
    }
  }
  // Finish interrupted deletes and creates.
  std::set<std::string> claimed;
  for (const auto& [name, t] : topics_)
    for (uint32_t p = 0; p < t->config.partitions; ++p) claimed.insert(partition_dir_name(name, p));
  for (const auto& e : fs::directory_iterator(data_dir_, ec)) {
    if (!e.is_directory()) continue;
    const std::string n = e.path().filename().string();
    const bool deleted = n.size() > kDeletedSuffix.size() &&
                         n.compare(n.size() - kDeletedSuffix.size(), kDeletedSuffix.size(), kDeletedSuffix) == 0;
    if (deleted || !claimed.count(n)) {
      spdlog::info("removing {} directory {}", deleted ? "deleted" : "unclaimed", n);
      fs::remove_all(e.path(), ec);
      if (report) ++report->orphans_removed;
    }
  }
  auto points = read_recovery_points(data_dir_);
  RecoveryPoints rp;
  if (points) rp = std::move(*points);
  else spdlog::warn("{}; recovering every partition from its start", points.status().message());
  for (auto& [name, t] : topics_) RUSTLOG_RETURN_IF_ERROR(open_partitions(*t, rp, report));
  return Status::ok();
}

Result<Topic*> TopicRegistry::create(const std::string& name, const TopicConfig& config) {
  if (topics_.count(name))
    return Status(ErrorCode::kTopicExists, "topic '" + name + "' already exists");
  auto t = std::make_unique<Topic>();
  t->name = name;
  t->config = config;
  // Directories may exist from an interrupted create; start them empty.
  std::error_code ec;
  for (uint32_t p = 0; p < config.partitions; ++p)
    fs::remove_all(data_dir_ + "/" + partition_dir_name(name, p), ec);
  RUSTLOG_RETURN_IF_ERROR(open_partitions(*t, {}, nullptr));
  RUSTLOG_RETURN_IF_ERROR(fsync_dir(data_dir_));
  Topic* raw = t.get();
  topics_[name] = std::move(t);
  Status st = write_metadata();
  if (!st) {
    topics_.erase(name);
    for (uint32_t p = 0; p < config.partitions; ++p)
      fs::remove_all(data_dir_ + "/" + partition_dir_name(name, p), ec);
    return st;
  }
  return raw;
}

Status TopicRegistry::remove(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status(ErrorCode::kTopicNotFound, "topic '" + name + "' does not exist");
  std::unique_ptr<Topic> t = std::move(it->second);
  topics_.erase(it);
  Status st = write_metadata();
  if (!st) {
    topics_[name] = std::move(t);
    return st;
  }
  const uint32_t n = t->config.partitions;
  t.reset();  // closes the logs
  std::error_code ec;
  for (uint32_t p = 0; p < n; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    const std::string gone = dir + std::string(kDeletedSuffix);
    fs::rename(dir, gone, ec);
    if (ec) spdlog::warn("cannot rename {}: {} (removed at next start)", dir, ec.message());
  }
  (void)fsync_dir(data_dir_);
  for (uint32_t p = 0; p < n; ++p)
    fs::remove_all(data_dir_ + "/" + partition_dir_name(name, p) + std::string(kDeletedSuffix), ec);
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
