#pragma once
// What the broker owns in its data directory, and the start-up rules that
// follow from it (docs/OPERATIONS.md, "The data directory"). The broker only
// ever removes what it created and marked for removal itself:
//
//   .lock, topics.json, topics.log,
//   recovery-point-offset-checkpoint                    broker files
//   <name>.tmp of those files                           interrupted atomic writes
//   <topic>-<n>/ of a topic listed in the metadata       partition data
//                (topics.json and topics.log)
//   <topic>-<n>/CREATING                                 a create not yet committed
//   <topic>-<n>/topic=<topic>                            a delete decided (the marker)
//   <id>-<n>.deleted/ holding a topic=<topic> marker     a delete in progress
//
// Anything else is foreign: logged at start and never touched. A directory
// that looks like a partition (<topic>-<n> holding segment files) but belongs
// to no listed topic is never deleted: the broker refuses to start until the
// operator adopts it (kafka-lite --recover-topics) or moves it away.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rustlog {

inline constexpr const char* kLockFile = ".lock";
// Marker file inside a partition directory made by a create that has not yet
// been committed to topics.json.
inline constexpr const char* kCreatingMarker = "CREATING";
// Marker file "topic=<name>" inside a partition directory whose topic is
// being deleted (at most 6 + 249 = 255 bytes, the longest file name).
inline constexpr std::string_view kDeleteMarkerPrefix = "topic=";
inline constexpr std::string_view kDeletedSuffix = ".deleted";

struct PartitionDirName {
  std::string topic;
  uint32_t partition = 0;
};

// "<topic>-<n>" with a valid topic name and n a decimal without leading zeros.
std::optional<PartitionDirName> parse_partition_dir_name(std::string_view name);
std::string partition_dir_name(const std::string& topic, uint32_t partition);
// "<id>-<n>.deleted", the name a partition directory is renamed to when its
// topic is deleted (short, so even 249-character topic names fit).
std::string deleted_dir_name(uint64_t id, uint32_t partition);
std::optional<std::pair<uint64_t, uint32_t>> parse_deleted_dir_name(std::string_view name);

// True when `dir` holds at least one segment file (<20 digits>.log).
bool holds_segments(const std::string& dir);
// The topic named by a "topic=<name>" marker inside `dir`, if there is one.
std::optional<std::string> delete_marker_topic(const std::string& dir);

// One entry of the data directory as the start-up rules see it.
struct DataDirEntry {
  enum class Kind {
    kBrokerFile,      // .lock, topics.json, topics.log, the checkpoint, their temp files
    kPartition,       // a directory named <topic>-<n> (listed or not)
    kDeleted,         // <id>-<n>.deleted with a topic= marker
    kLostFound,       // lost+found (a filesystem root): always left alone
    kForeign,         // anything else: left alone
  };
  Kind kind = Kind::kForeign;
  std::string name;
  bool is_directory = false;
  PartitionDirName partition;        // kPartition
  bool has_segments = false;         // kPartition: holds <20 digits>.log files
  bool creating = false;             // kPartition: holds the CREATING marker
  bool delete_marked = false;        // kPartition: holds topic=<its topic>
  std::string deleted_topic;         // kDeleted
};

Result<std::vector<DataDirEntry>> list_data_dir(const std::string& dir);

// The start-up claim check, read-only (run before anything is written):
// a missing or empty directory (or one holding only lost+found) is fine; a
// directory with topics.json is the broker's; anything else is refused with
// a message naming what was found and the way out, unless `init_data_dir`
// (foreign content accepted and left untouched) or `recover_topics`
// (partition directories adopted) says otherwise.
Status check_data_dir_claim(const std::string& dir, bool init_data_dir, bool recover_topics);

// "a, b, c and 4 more" for messages.
std::string name_list(const std::vector<std::string>& names, size_t max_shown = 8);

}  // namespace rustlog
