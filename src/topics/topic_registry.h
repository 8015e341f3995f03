#pragma once
// Owns every topic and its partition logs in one data directory, and the
// topic metadata file that says which topics exist. Single-threaded: the
// broker's event loop is the only caller.
//
// Crash safety (docs/OPERATIONS.md, "The data directory"; the ownership
// rules are in topics/data_dir.h). The broker removes only what it created
// and marked itself:
// - The topic list is topics.json plus the log of changes since, topics.log
//   (topic_metadata.h): "commits" below is one record appended to the log
//   and fdatasynced.
// - Create: each partition directory gets a CREATING marker before any
//   segment file, then the metadata commits the topic, then the markers go. A directory still marked CREATING at start belongs
//   to an uncommitted create and is removed.
// - Delete: a "topic=<name>" marker in every partition directory is the
//   decision; the directories are then renamed to "<id>-<n>.deleted", their
//   files removed (space is freed before the metadata is written, so a full
//   disk can still delete), the delete committed, the directories removed.
//   A start after a crash at any step finishes the delete.
// - Nothing else is ever deleted: partition directories no listed topic
//   claims, or a missing topics.json beside partition directories, make
//   open() refuse with the way out (RegistryOpenOptions::recover_topics).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "storage/segment_cache.h"
#include "storage/partition_log.h"
#include "storage/recovery_checkpoint.h"
#include "common/status.h"
#include "topics/topic_config.h"
#include "topics/topic_job.h"
#include "topics/topic_metadata.h"

namespace rustlog {

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
  uint64_t orphans_removed = 0;   // directories of interrupted creates/deletes finished
  uint64_t foreign_entries = 0;   // entries left alone (not the broker's)
  uint64_t topics_recovered = 0;  // topics rebuilt by recover_topics
};

struct RegistryOpenOptions {
  // Accept a non-empty directory without broker metadata (its contents are
  // left untouched).
  bool init_data_dir = false;
  // Rebuild the topic list from the partition directories found: partition
  // counts from the directory names; settings from topics.json where it still
  // names the topic, else from `recovered_config(topic)`.
  bool recover_topics = false;
  std::function<TopicConfig(const std::string& topic)> recovered_config;
};

class TopicRegistry {
 public:
  // The caps of the segment cache every partition shares (segment_cache.h).
  // Every partition's active segment is preallocated at most
  // `segment_preallocate_bytes` at a time (LogConfig::preallocate_bytes).
  TopicRegistry(std::string data_dir, size_t max_mapped_segments, size_t max_open_segment_files = 1000,
                uint64_t segment_preallocate_bytes = LogConfig::kDefaultPreallocateBytes);
  ~TopicRegistry();

  // Checks the directory is the broker's (data_dir.h), finishes interrupted
  // creates and deletes, loads the metadata and recovers every partition
  // (using the recovery point checkpoint).
  Status open(const RegistryOpenOptions& options, RegistryOpenReport* report);
  Status open(RegistryOpenReport* report) { return open(RegistryOpenOptions{}, report); }

  // A create or delete done at once (begin + one step without a deadline).
  Result<Topic*> create(const std::string& name, const TopicConfig& config);
  Status remove(const std::string& name);

  // --- create and delete in bounded steps (topic_job.h, topic_jobs.cpp).
  // The checks run at the start (409 for a name already listed, or being
  // created or deleted by another job; 404 for deleting a topic not
  // listed). A create's topic is listed once its metadata is committed; a
  // delete's is out of the list from the start. One job at a time: a create
  // or delete starts once the one before it is done.
  Result<std::unique_ptr<TopicJob>> begin_create(const std::string& name, const TopicConfig& config);
  // `before_close` runs once, just before the topic's logs are closed (the
  // caller lets go of them there).
  Result<std::unique_ptr<TopicJob>> begin_delete(const std::string& name,
                                                 std::function<void(const Topic&)> before_close = {});
  // Does units of `job` until `deadline_ns` (std::chrono::steady_clock, ns
  // since its epoch; 0: no deadline) has passed, at least one: true once
  // the job is done. An error ends the job, undone as far as it can be: a
  // create's directories are removed; a delete not yet decided leaves the
  // topic listed as it was.
  Result<bool> step(TopicJob& job, int64_t deadline_ns);
  Topic* find(const std::string& name);
  // 404 / 405 with a message naming the topic and the valid partitions.
  Result<PartitionLog*> partition(const std::string& topic, uint32_t partition);
  const std::map<std::string, std::unique_ptr<Topic>>& topics() const { return topics_; }

  // Writes the recovery points of every partition (atomically).
  Status checkpoint();
  // Flushes every partition and cuts off the preallocated zeros of its
  // active segment (shutdown).
  Status flush_all();

  const std::string& data_dir() const { return data_dir_; }
  const SegmentCache& segment_cache() const { return segment_cache_; }
  static std::string partition_dir_name(const std::string& topic, uint32_t partition);
  // Records in topics.log since its last compaction; tests lower the bound
  // at which it is compacted (topic_metadata.h).
  uint64_t metadata_log_records() const { return metadata_.records(); }
  void set_min_compact_records(uint64_t n) { metadata_.set_min_compact_records(n); }

 private:
  // Commits one change to the topic list: a record in topics.log (set when
  // `changed` is listed, deleted when not), or a compaction when the log is
  // due for one. After success the emptied directories of finished deletes
  // are removed.
  Status commit_metadata(const std::string& changed);
  // A new topics.json of every topic and an empty topics.log.
  Status compact_metadata();
  TopicConfigs configs() const;
  Status load_metadata(bool* present, TopicMetadataRead* read);
  Status open_partitions(Topic& t, const RecoveryPoints& points, RegistryOpenReport* report);
  Result<std::unique_ptr<PartitionLog>> open_partition(const Topic& t, uint32_t partition,
                                                       const RecoveryPoints& points, RegistryOpenReport* report);
  Status check_not_busy(const std::string& name) const;
  Status create_unit(TopicJob& job);
  Status delete_unit(TopicJob& job);
  // Start-up: finish what interrupted creates and deletes left; returns
  // whether the topic list changed.
  Result<bool> finish_interrupted(RegistryOpenReport* report);
  // Start-up: partition directories no listed topic claims (refused, or
  // adopted with recover_topics); returns whether the topic list changed.
  Result<bool> claim_partition_dirs(const RegistryOpenOptions& options, RegistryOpenReport* report);
  // Removes the "<id>-<n>.deleted" directories of deletes whose topics.json
  // rewrite has succeeded.
  void remove_deleted_dirs();

  std::string data_dir_;
  SegmentCache segment_cache_;
  uint64_t segment_preallocate_bytes_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  TopicMetadataLog metadata_;
  std::vector<std::string> deleted_dirs_;  // emptied, removed after the next metadata write
  std::set<std::string> finished_dirs_;    // start-up: removed once the metadata no longer needs them
  uint64_t next_delete_id_ = 1;
  std::map<std::string, TopicJob::Kind> busy_;  // topics a job is creating or deleting
  std::map<std::string, TopicConfig> deciding_;  // deletes not yet decided: still in the metadata
};

}  // namespace rustlog
