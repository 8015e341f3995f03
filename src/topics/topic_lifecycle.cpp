// The start-up steps that finish topic creates and deletes a crash
// interrupted (the creates and deletes themselves are in topic_jobs.cpp):
// the markers they wrote (data_dir.h) record what the broker decided.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>
#include <set>

#include "storage/file.h"
#include "topics/data_dir.h"
#include "topics/topic_registry.h"

namespace rustlog {

void TopicRegistry::remove_deleted_dirs() {
  for (const auto& d : deleted_dirs_)
    if (Status st = remove_tree(d); !st) spdlog::warn("{} (removed at the next start)", st.message());
  deleted_dirs_.clear();
}

Result<bool> TopicRegistry::finish_interrupted(RegistryOpenReport* report) {
  auto entries = list_data_dir(data_dir_);
  if (!entries) return entries.status();
  bool changed = false;
  std::set<std::string> decided;  // topics whose delete was decided (marker in a live directory)
  std::set<std::string> renamed;  // topics named by "<id>-<n>.deleted" directories
  for (const auto& e : *entries) {
    if (e.kind == DataDirEntry::Kind::kPartition && e.delete_marked) decided.insert(e.partition.topic);
    if (e.kind == DataDirEntry::Kind::kDeleted) renamed.insert(e.deleted_topic);
  }
  // Removed by open() once the metadata no longer names what they hold.
  auto finished = [&](const std::string& what, const std::string& path) -> Status {
    spdlog::info("finishing an interrupted {}: removing {}", what, path);
    if (report) ++report->orphans_removed;
    finished_dirs_.insert(path);
    return Status::ok();
  };
  std::set<std::string> live;  // topics with a partition directory left
  for (const auto& e : *entries) {
    const std::string path = data_dir_ + "/" + e.name;
    if (e.kind == DataDirEntry::Kind::kDeleted) {
      RUSTLOG_RETURN_IF_ERROR(finished("delete of topic '" + e.deleted_topic + "'", path));
      continue;
    }
    if (e.kind != DataDirEntry::Kind::kPartition) continue;
    const std::string& topic = e.partition.topic;
    const Topic* t = find(topic);
    const bool listed = t && e.partition.partition < t->config.partitions;
    if (e.delete_marked || (decided.count(topic) && listed)) {
      RUSTLOG_RETURN_IF_ERROR(finished("delete of topic '" + topic + "'", path));
    } else if (e.creating && !listed) {
      RUSTLOG_RETURN_IF_ERROR(finished("create of topic '" + topic + "'", path));
    } else {
      if (e.creating) {
        const std::string m = path + "/" + kCreatingMarker;
        RUSTLOG_RETURN_IF_ERROR(remove_file(m));
      }
      live.insert(topic);
    }
  }
  for (const auto& topic : decided) changed |= topics_.erase(topic) > 0;
  // Renamed directories alone (no live one left) mean the delete got past
  // its renames: the topic is gone. With live directories the name was
  // reused by a later create, which keeps them.
  for (const auto& topic : renamed)
    if (!live.count(topic)) changed |= topics_.erase(topic) > 0;
  return changed;
}

Result<bool> TopicRegistry::claim_partition_dirs(const RegistryOpenOptions& options,
                                                 RegistryOpenReport* report) {
  auto entries = list_data_dir(data_dir_);
  if (!entries) return entries.status();
  std::map<std::string, uint32_t> stray;  // topic -> partition count its directories need
  std::vector<std::string> stray_names;
  for (const auto& e : *entries) {
    if (finished_dirs_.count(data_dir_ + "/" + e.name)) continue;  // an interrupted create or delete
    if (e.kind == DataDirEntry::Kind::kPartition) {
      const Topic* t = find(e.partition.topic);
      if (t && e.partition.partition < t->config.partitions) continue;
      if (e.has_segments) {
        uint32_t& need = stray[e.partition.topic];
        need = std::max(need, e.partition.partition + 1);
        stray_names.push_back(e.name);
        continue;
      }
    }
    if (e.kind == DataDirEntry::Kind::kBrokerFile) continue;
    spdlog::info("data dir entry {}{} is not the broker's; left alone", e.name, e.is_directory ? "/" : "");
    if (report) ++report->foreign_entries;
  }
  if (stray.empty()) return false;
  if (!options.recover_topics)
    return Status(ErrorCode::kStorageError,
                  "partition directories " + name_list(stray_names) + " in " + data_dir_ +
                      " belong to no topic in " + kTopicMetadataFile +
                      "; nothing was changed. 'rustlog verify " + data_dir_ +
                      "' shows what is there; start once with --recover-topics to adopt them "
                      "into the topic list (or move them away)");
  for (const auto& [topic, count] : stray) {
    if (Topic* t = find(topic)) {
      spdlog::info("recovering topic '{}': {} -> {} partitions (from its directories), settings from {}",
                   topic, t->config.partitions, count, kTopicMetadataFile);
      t->config.partitions = count;
    } else {
      auto nt = std::make_unique<Topic>();
      nt->name = topic;
      nt->config = options.recovered_config ? options.recovered_config(topic) : TopicConfig{};
      nt->config.partitions = count;
      spdlog::info("recovering topic '{}': {} partitions (from its directories), default settings",
                   topic, count);
      topics_[topic] = std::move(nt);
    }
    if (report) ++report->topics_recovered;
  }
  return true;
}

}  // namespace rustlog
