// Topic create and delete, and the start-up steps that finish them after a
// crash. Every step is ordered so that a kill -9 or power loss between any
// two leaves a state the next start resolves without guessing: the markers
// written here (data_dir.h) record what the broker decided.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <set>

#include "common/crash_point.h"
#include "storage/file.h"
#include "topics/data_dir.h"
#include "topics/topic_registry.h"

namespace rustlog {

namespace fs = std::filesystem;

namespace {

// An empty marker file, durable before the caller's next step.
Status write_marker(const std::string& dir, const std::string& name) {
  auto f = File::open(dir + "/" + name, O_WRONLY | O_CREAT);
  if (!f) return f.status();
  f->close();
  return fsync_dir(dir);
}

Status remove_path(const std::string& path) { return remove_tree(path); }

// Frees a deleted partition's space but keeps the directory and its marker,
// which the next start needs until topics.json no longer lists the topic.
Status empty_except_marker(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.starts_with(kDeleteMarkerPrefix)) continue;
    RUSTLOG_RETURN_IF_ERROR(remove_tree(e.path().string()));
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot empty " + dir + ": " + ec.message());
  return Status::ok();
}

bool dir_is_empty(const std::string& dir) {
  std::error_code ec;
  return fs::is_empty(dir, ec) && !ec;
}

}  // namespace

Result<Topic*> TopicRegistry::create(const std::string& name, const TopicConfig& config) {
  if (topics_.count(name))
    return Status(ErrorCode::kTopicExists, "topic '" + name + "' already exists");
  // Never build on, or remove, a directory the broker did not make for this
  // create: an empty one is used, anything else refuses the create.
  for (uint32_t p = 0; p < config.partitions; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    if (path_exists(dir) && !dir_is_empty(dir))
      return Status(ErrorCode::kTopicExists,
                    "cannot create topic '" + name + "': " + dir +
                        " already exists and belongs to no topic; it was left as it is (move it "
                        "away, or restart with --recover-topics to adopt it)");
  }
  auto t = std::make_unique<Topic>();
  t->name = name;
  t->config = config;
  std::vector<std::string> made;
  auto undo = [&](Status st) {
    t->partitions.clear();
    for (const auto& d : made) (void)remove_path(d);
    return st;
  };
  // 1. Every partition directory is marked CREATING before it holds a segment.
  for (uint32_t p = 0; p < config.partitions; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    if (Status st = make_dirs(dir); !st) return undo(st);
    made.push_back(dir);
    if (Status st = write_marker(dir, kCreatingMarker); !st) return undo(st);
  }
  crash_point("topic-create:marked");
  if (Status st = open_partitions(*t, {}, nullptr); !st) return undo(st);
  if (Status st = fsync_dir(data_dir_); !st) return undo(st);
  crash_point("topic-create:opened");
  // 2. The metadata commits the topic (one record in topics.log).
  Topic* raw = t.get();
  topics_[name] = std::move(t);
  if (Status st = commit_metadata(name); !st) {
    t = std::move(topics_[name]);
    topics_.erase(name);
    return undo(st);
  }
  crash_point("topic-create:committed");
  // 3. The markers go (one left behind is removed at the next start).
  for (const auto& d : made) {
    const std::string marker = d + "/" + kCreatingMarker;
    if (Status st = remove_file(marker); !st) spdlog::warn("{}", st.message());
  }
  return raw;
}

Status TopicRegistry::remove(const std::string& name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status(ErrorCode::kTopicNotFound, "topic '" + name + "' does not exist");
  const uint32_t n = it->second->config.partitions;
  const std::string marker = std::string(kDeleteMarkerPrefix) + name;
  // 1. The decision: a marker in every partition directory. A failure here
  //    undoes the markers and leaves the topic as it was.
  for (uint32_t p = 0; p < n; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    if (!path_exists(dir)) continue;
    if (Status st = write_marker(dir, marker); !st) {
      for (uint32_t q = 0; q <= p; ++q)
        (void)remove_file(data_dir_ + "/" + partition_dir_name(name, q) + "/" + marker);
      return st;
    }
  }
  crash_point("topic-delete:marked");
  // From here on the delete happens, now or at the next start.
  topics_.erase(it);  // closes the logs (descriptors and mappings)
  // 2. Rename out of the topic's namespace, so the name can be reused at once.
  std::vector<std::string> gone;
  for (uint32_t p = 0; p < n; ++p) {
    const std::string dir = data_dir_ + "/" + partition_dir_name(name, p);
    std::string target;
    do target = data_dir_ + "/" + deleted_dir_name(next_delete_id_++, p);
    while (path_exists(target));
    if (Status rs = rename_path(dir, target); !rs) {
      spdlog::warn("{}; removing it in place", rs.message());
      if (Status st = remove_path(dir); !st) spdlog::warn("{} (finished at the next start)", st.message());
      continue;
    }
    gone.push_back(target);
  }
  if (Status st = fsync_dir(data_dir_); !st) spdlog::warn("{} (the delete is finished at the next start)", st.message());
  crash_point("topic-delete:renamed");
  // 3. Free the space first, so a full disk can still commit the delete.
  for (const auto& d : gone)
    if (Status st = empty_except_marker(d); !st) spdlog::warn("{}", st.message());
  crash_point("topic-delete:emptied");
  deleted_dirs_.insert(deleted_dirs_.end(), gone.begin(), gone.end());
  // 4. The metadata without the topic; the directories go after it is written.
  if (Status st = commit_metadata(name); !st)
    spdlog::warn("topic '{}' is deleted but {} could not be written ({}); the next successful write "
                 "or start finishes the delete",
                 name, kTopicLogFile, st.message());
  crash_point("topic-delete:committed");
  return Status::ok();
}

void TopicRegistry::remove_deleted_dirs() {
  for (const auto& d : deleted_dirs_)
    if (Status st = remove_path(d); !st) spdlog::warn("{} (removed at the next start)", st.message());
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
