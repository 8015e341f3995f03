#pragma once
// The topic list of a data directory, kept as a snapshot plus a log
// (docs/STORAGE.md, "Topic metadata"; why: docs/DESIGN_DECISIONS.md):
//
//   topics.json  the snapshot: {"version":1,"log_generation":G,"topics":{...}}
//   topics.log   the changes since (metadata_log_format.h), its header
//                naming generation G
//
// A create, delete or config change appends one CRC'd record to topics.log
// and fdatasyncs it: its cost does not grow with the number of topics.
// Compaction writes topics.json with G+1 (temp, fsync, rename, directory
// fsync), then replaces topics.log by an empty log of generation G+1 the
// same way. A log whose generation is older than the snapshot's was
// compacted into it already and is ignored, so a crash between the two
// steps loses nothing and replays nothing twice (a log newer than its
// snapshot, beside an older topics.json put back, is applied to it). A topics.json without
// "log_generation" (written before the log existed) is generation 0 with
// no log: it opens as it is, and the first compaction adds the log.
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "storage/file.h"
#include "topics/topic_config.h"

namespace rustlog {

inline constexpr const char* kTopicMetadataFile = "topics.json";
inline constexpr const char* kTopicLogFile = "topics.log";

using TopicConfigs = std::map<std::string, TopicConfig>;

struct TopicMetadataRead {
  bool present = false;     // topics.json exists
  TopicConfigs topics;      // the snapshot with the log applied
  uint64_t generation = 0;  // the snapshot's
  uint64_t log_generation = 0;  // topics.log's (its header), when it exists
  uint64_t log_records = 0; // records applied from topics.log
  uint64_t torn_bytes = 0;  // a torn tail of topics.log, not applied
  bool log_current = false; // topics.log exists and continues this snapshot (same generation)
};

// Reads both files and changes nothing (also for `rustlog verify`).
// StorageError naming the file and the way out when either is damaged.
Result<TopicMetadataRead> read_topic_metadata(const std::string& data_dir);

// The writer, owned by the TopicRegistry (single-threaded).
class TopicMetadataLog {
 public:
  explicit TopicMetadataLog(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // Continues the log `read` found. Compacts `topics` first when asked, or
  // when the log holds records or a torn tail, or is not current (a new
  // directory, one written before the log existed, a lost log).
  Status open(const TopicMetadataRead& read, const TopicConfigs& topics, bool compact_now = false);
  // One record, durable when this returns. After a failure the next
  // change compacts instead (the log may end in a partial record).
  Status append_set(const std::string& name, const TopicConfig& config);
  Status append_delete(const std::string& name);
  // A new snapshot of `topics` and an empty log (the broker's topic list).
  Status compact(const TopicConfigs& topics);
  // True when the log holds more records than max(kMinCompactRecords,
  // topics): compacting then costs O(1) per change on average.
  bool wants_compaction(size_t topics) const;
  uint64_t records() const { return records_; }
  // Lower the bound (tests: exercise compaction with a few topics; 0 =
  // compact on every change, as the benchmark's baseline does).
  void set_min_compact_records(uint64_t n) { min_compact_records_ = n; }

  static constexpr uint64_t kMinCompactRecords = 1000;

 private:
  Status append(const std::string& record);

  std::string data_dir_;
  File file_;
  uint64_t generation_ = 0;
  uint64_t records_ = 0;
  uint64_t size_ = 0;
  bool broken_ = false;  // a failed append: compact before the next record
  uint64_t min_compact_records_ = kMinCompactRecords;
};

// The snapshot's JSON (shared with the log's records).
std::string topic_config_json(const TopicConfig& c);
Result<TopicConfig> topic_config_from_json(std::string_view json_text);

}  // namespace rustlog
