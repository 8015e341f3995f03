#pragma once
// The two sparse per-segment indexes, in memory, with their byte formats
// (tables in docs/STORAGE.md). No file I/O here.
//
//   .index      8-byte entries: u32 relative_offset | u32 position
//   .timeindex 12-byte entries: i64 timestamp       | u32 relative_offset
//
// Offset index entry (r, p): the batch with base offset base+r starts at byte
// p. Time index entry (t, r): every record before offset base+r has a
// timestamp <= t, and t is the largest such timestamp (strictly increasing).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rustlog {

inline constexpr size_t kOffsetIndexEntrySize = 8;
inline constexpr size_t kTimeIndexEntrySize = 12;

class OffsetIndex {
 public:
  void add(uint32_t rel_offset, uint32_t position) {
    rel_.push_back(rel_offset);
    pos_.push_back(position);
  }
  size_t size() const { return rel_.size(); }
  bool empty() const { return rel_.empty(); }
  uint32_t rel_at(size_t i) const { return rel_[i]; }
  uint32_t pos_at(size_t i) const { return pos_[i]; }
  // Position of the last indexed batch whose base offset <= rel_target (0 if none).
  uint32_t lookup(uint32_t rel_target) const;
  // Number of entries with rel_offset <= rel.
  size_t count_at_or_below(uint32_t rel) const;
  // Index of the first entry with position >= pos (size() if none).
  size_t first_at_or_after_position(uint64_t pos) const;
  void truncate_entries(size_t n) { rel_.resize(n); pos_.resize(n); }
  void clear() { truncate_entries(0); }

  std::string serialize() const;
  static void serialize_entry(uint32_t rel, uint32_t pos, std::string& out);
  // Checks size % 8 == 0 and strictly increasing offsets and positions.
  static Result<OffsetIndex> parse(std::string_view bytes);
  bool operator==(const OffsetIndex&) const = default;

 private:
  std::vector<uint32_t> rel_;
  std::vector<uint32_t> pos_;
};

class TimeIndex {
 public:
  void add(int64_t ts, uint32_t rel_offset) {
    ts_.push_back(ts);
    rel_.push_back(rel_offset);
  }
  size_t size() const { return ts_.size(); }
  bool empty() const { return ts_.empty(); }
  int64_t ts_at(size_t i) const { return ts_[i]; }
  uint32_t rel_at(size_t i) const { return rel_[i]; }
  // Relative offset from which a scan for the first timestamp >= target may
  // start: the last entry with t < target (0 if none).
  uint32_t scan_start(int64_t target) const;
  // Number of entries with t < target: scan_start uses the last of them.
  size_t count_below(int64_t target) const;
  // Index of the first entry with rel_offset >= rel (size() if none).
  size_t first_at_or_after_offset(uint32_t rel) const;
  void truncate_entries(size_t n) { ts_.resize(n); rel_.resize(n); }
  void clear() { truncate_entries(0); }

  std::string serialize() const;
  static void serialize_entry(int64_t ts, uint32_t rel, std::string& out);
  static Result<TimeIndex> parse(std::string_view bytes);
  bool operator==(const TimeIndex&) const = default;

 private:
  std::vector<int64_t> ts_;
  std::vector<uint32_t> rel_;
};

// The deterministic rule that decides when entries are written, shared by
// the live append path and by rebuild so both produce identical bytes:
// before a batch is appended at `position`, if at least `interval_bytes`
// were appended since the last offset-index entry, index this batch; and if
// the largest timestamp before it grew past the last time-index entry,
// add a time-index entry too.
class IndexPolicy {
 public:
  struct Entry {
    std::optional<std::pair<uint32_t, uint32_t>> offset;  // (rel, pos)
    std::optional<std::pair<int64_t, uint32_t>> time;     // (ts, rel)
  };
  // An interval of 0 behaves as 1: every batch but a segment's first is
  // indexed (the first is found without an entry: it is at position 0).
  explicit IndexPolicy(uint32_t interval_bytes) : interval_(interval_bytes ? interval_bytes : 1) {}
  // Resumes the rule at byte `position` given the indexes built so far for
  // everything before it and the largest timestamp before it.
  void resume(uint64_t position, const OffsetIndex& oi, const TimeIndex& ti, int64_t max_ts_before);
  Entry on_batch(uint32_t rel_offset, uint32_t position, uint32_t size, int64_t batch_max_ts);
  int64_t max_timestamp() const { return max_ts_; }

 private:
  uint32_t interval_;
  uint64_t bytes_since_ = 0;
  int64_t max_ts_ = INT64_MIN;
  std::optional<int64_t> last_time_entry_;
};

}  // namespace rustlog
