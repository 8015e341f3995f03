#pragma once
// Committed consumer-group offsets, kept the way Kafka keeps them: as
// records in an internal topic (`__consumer_offsets`, one partition) whose
// key is (group, topic, partition) and whose value is the offset; a null
// value (tombstone) deletes the key. The latest record per key wins. The
// in-memory map is rebuilt by replaying that log on start (both copies of
// a record, in offset order: the second one changes nothing). A commit is
// acknowledged only after the broker flushed the offsets partition (group
// commit), so it survives kill -9 and power loss.
// See docs/DESIGN_DECISIONS.md for why this beats snapshot files.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "storage/partition_log.h"
#include "common/status.h"

namespace rustlog {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

struct GroupKey {
  std::string group;
  std::string topic;
  uint32_t partition = 0;
  auto operator<=>(const GroupKey&) const = default;
};

// The key and value byte formats (docs/STORAGE.md, "Consumer offsets").
// Every record is written twice, in two batches of one write: the primary
// copy and its mirror, whose key differs only in its first byte, so that
// compaction (latest record per key) keeps both and one damaged batch never
// loses or undoes a commit or a tombstone.
enum class KeyCopy : uint8_t { kPrimary = 0, kMirror = 1 };
std::string encode_group_key(const GroupKey& k, KeyCopy copy = KeyCopy::kPrimary);
// Either copy's key (data written before mirrors existed holds primaries only).
std::optional<GroupKey> decode_group_key(std::string_view bytes);
std::string encode_offset_value(uint64_t offset, int64_t commit_time_us);
std::optional<uint64_t> decode_offset_value(std::string_view bytes);
// The commit time (broker clock, µs) a value carries.
std::optional<int64_t> decode_commit_time(std::string_view bytes);

class OffsetStore {
 public:
  // `log` is the internal topic's partition; it must outlive the store.
  explicit OffsetStore(PartitionLog* log) : log_(log) {}

  // Replays the whole log.
  Status load();

  // Appends the commit (not yet durable: the caller flushes log()). Like
  // every append of the store, it takes effect (committed(), groups(), ...)
  // only once apply_durable() finds the log made it durable: a write that
  // failed, or whose flush failed, has not happened.
  Status commit(const GroupKey& key, uint64_t offset, int64_t now_us);
  // Applies the appends the log's recovery point has passed; call after
  // each flush of log(). Appends behind a failed flush never apply.
  void apply_durable();
  bool has_pending() const { return !pending_.empty(); }
  std::optional<uint64_t> committed(const GroupKey& key) const;

  std::vector<std::string> groups() const;
  // Every (topic, partition) -> offset of one group.
  std::vector<std::pair<GroupKey, uint64_t>> group_offsets(const std::string& group) const;
  // Every (group, partition) -> offset committed on one topic.
  std::vector<std::pair<GroupKey, uint64_t>> topic_offsets(const std::string& topic) const;
  // Tombstones every key of the group / of the topic. Returns how many.
  Result<size_t> delete_group(const std::string& group, int64_t now_us);
  Result<size_t> delete_topic(const std::string& topic, int64_t now_us);

  // Offset expiry (--offsets-retention-ms): a group whose last commit is
  // `retention_us` old or older loses its offsets. One call tombstones at most
  // `max_keys` keys, of the groups with the oldest last commit first, in one
  // batch (not yet durable: the caller flushes log()); returns how many and
  // which groups. Finding nothing to expire is O(1).
  struct Expired {
    size_t keys = 0;
    std::vector<std::string> groups;  // each group at most once
  };
  Result<Expired> expire(int64_t now_us, int64_t retention_us, size_t max_keys);
  // The broker time (µs) of the group's last commit; nullopt without offsets.
  std::optional<int64_t> last_commit_us(const std::string& group) const;

  PartitionLog* log() const { return log_; }
  size_t size() const { return offsets_.size(); }

 private:
  Status append(const std::vector<std::pair<GroupKey, std::optional<uint64_t>>>& entries,
                int64_t now_us);
  // The map updates every commit, replay and tombstone goes through.
  void put(const GroupKey& k, uint64_t offset, int64_t commit_us);
  // The keys the log holds once every pending append is durable (applied
  // state, then the pending appends in order) that `keep` selects: what a
  // tombstone must cover, even for a commit not yet acknowledged.
  template <typename Keep>
  std::vector<GroupKey> keys_in_log(Keep keep) const;
  void erase(const GroupKey& k);

  PartitionLog* log_;
  // Appended, not yet durable: the log offset after each append, and what
  // it changes once the recovery point reaches it.
  struct Pending {
    uint64_t end = 0;
    int64_t at_us = 0;
    std::vector<std::pair<GroupKey, std::optional<uint64_t>>> entries;
  };
  std::deque<Pending> pending_;
  std::map<GroupKey, uint64_t> offsets_;
  struct GroupAge {
    int64_t last_commit_us = 0;
    size_t keys = 0;
  };
  std::map<std::string, GroupAge> groups_;
  std::set<std::pair<int64_t, std::string>> by_last_commit_;  // oldest group first
};

}  // namespace rustlog
