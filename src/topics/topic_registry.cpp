#include "topics/topic_registry.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/atomic_file.h"  // kTempSuffix
#include "storage/file.h"
#include "storage/recovery_checkpoint.h"
#include "topics/data_dir.h"
#include "topics/topic_name.h"

namespace rustlog {

namespace fs = std::filesystem;

TopicRegistry::TopicRegistry(std::string data_dir, size_t max_mapped_segments,
                             size_t max_open_segment_files, uint64_t segment_preallocate_bytes)
    : data_dir_(std::move(data_dir)),
      segment_cache_(max_mapped_segments, max_open_segment_files),
      segment_preallocate_bytes_(segment_preallocate_bytes),
      metadata_(data_dir_) {}

TopicRegistry::~TopicRegistry() { topics_.clear(); }

std::string TopicRegistry::partition_dir_name(const std::string& topic, uint32_t partition) {
  return ::rustlog::partition_dir_name(topic, partition);
}

TopicConfigs TopicRegistry::configs() const {
  TopicConfigs out;
  for (const auto& [name, t] : topics_) out[name] = t->config;
  for (const auto& [name, c] : deciding_) out[name] = c;
  return out;
}

Status TopicRegistry::compact_metadata() {
  Status st = metadata_.compact(configs());
  if (st) remove_deleted_dirs();
  return st;
}

Status TopicRegistry::commit_metadata(const std::string& changed) {
  if (metadata_.wants_compaction(topics_.size())) return compact_metadata();
  const Topic* t = find(changed);
  Status st = t ? metadata_.append_set(changed, t->config) : metadata_.append_delete(changed);
  if (!st) {
    // The record may be on disk in part or whole: a compaction now states
    // the list as it is (best effort; the next change retries it).
    if (Status cs = compact_metadata(); !cs) spdlog::warn("{}", cs.message());
    return st;
  }
  remove_deleted_dirs();
  return st;
}

Result<std::unique_ptr<PartitionLog>> TopicRegistry::open_partition(const Topic& t, uint32_t p,
                                                                    const RecoveryPoints& points,
                                                                    RegistryOpenReport* report) {
  const std::string name = partition_dir_name(t.name, p);
  auto it = points.find(name);
  LogConfig lc = t.config.log_config();
  lc.preallocate_bytes = segment_preallocate_bytes_;
  auto log = PartitionLog::open(data_dir_ + "/" + name, lc, it == points.end() ? 0 : it->second, &segment_cache_);
  if (!log) return log.status();
  if (report) {
    const auto& r = (*log)->recovery_report();
    ++report->partitions;
    report->bytes_scanned += r.bytes_scanned;
    report->bytes_truncated += r.bytes_truncated;
    report->indexes_rebuilt += r.indexes_rebuilt;
    report->corruptions += r.corruptions.size();
  }
  return std::move(*log);
}

Status TopicRegistry::open_partitions(Topic& t, const RecoveryPoints& points,
                                      RegistryOpenReport* report) {
  t.partitions.clear();
  for (uint32_t p = 0; p < t.config.partitions; ++p) {
    auto log = open_partition(t, p, points, report);
    if (!log) return log.status();
    t.partitions.push_back(std::move(*log));
  }
  return Status::ok();
}

Status TopicRegistry::load_metadata(bool* present, TopicMetadataRead* read) {
  auto r = read_topic_metadata(data_dir_);
  if (!r) return r.status();
  *present = r->present;
  for (auto& [name, config] : r->topics) {
    auto t = std::make_unique<Topic>();
    t->name = name;
    t->config = config;
    topics_[name] = std::move(t);
  }
  r->topics.clear();
  *read = std::move(*r);
  return Status::ok();
}

Status TopicRegistry::open(const RegistryOpenOptions& options, RegistryOpenReport* report) {
  RUSTLOG_RETURN_IF_ERROR(check_data_dir_claim(data_dir_, options.init_data_dir, options.recover_topics));
  RUSTLOG_RETURN_IF_ERROR(make_dirs(data_dir_));
  // Only the broker's own temp files (interrupted atomic writes of its files).
  for (const char* f : {kTopicMetadataFile, kTopicLogFile, kRecoveryCheckpointFile}) {
    const std::string tmp = data_dir_ + "/" + f + std::string(kTempSuffix);
    RUSTLOG_RETURN_IF_ERROR(remove_file(tmp));
  }
  bool present = false;
  TopicMetadataRead read;
  RUSTLOG_RETURN_IF_ERROR(load_metadata(&present, &read));
  auto finished = finish_interrupted(report);
  if (!finished) return finished.status();
  auto claimed = claim_partition_dirs(options, report);
  if (!claimed) return claimed.status();
  // A new directory is claimed by writing topics.json at once, so the next
  // start knows it is the broker's. What start-up changed in the list is
  // committed (compacted) before the directories of finished creates and
  // deletes are removed, so a crash in between finds their markers again.
  RUSTLOG_RETURN_IF_ERROR(metadata_.open(read, configs(), /*compact_now=*/*finished || *claimed));
  for (const auto& d : finished_dirs_) RUSTLOG_RETURN_IF_ERROR(remove_tree(d));
  finished_dirs_.clear();

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
      if (st) st = p->release_preallocation();
      if (!st && first.is_ok()) first = st;
    }
  return first;
}

}  // namespace rustlog
