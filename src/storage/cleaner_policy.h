#pragma once
// What the cleaner cleans (policy only; no I/O): a partition's dirty range
// and ratio, and how sealed segments are grouped for recopying.
//
// - first dirty offset: the cleaner checkpoint, clamped to the log start.
// - first uncleanable offset: the base of the first sealed segment whose
//   newest broker append is younger than min.compaction.lag.ms, else the
//   active segment's base (the active segment is never cleaned).
// - clean bytes: segments wholly below the first dirty offset; cleanable
//   bytes: sealed segments from the one holding the first dirty offset up
//   to the first uncleanable offset; lag bytes: everything from the first
//   dirty segment to the log end (what no pass has cleaned yet).
// - dirty ratio = cleanable / (clean + cleanable), Kafka's.
// - overdue: max.compaction.lag.ms is set and the first dirty segment's
//   newest append is at least that old (a conservative bound: every record
//   in it was appended no later than that).
// - groups: consecutive sealed segments below `end`, merged while their
//   total size stays within segment.bytes and every offset of the group is
//   within 2^32 - 1 of its base (the index's relative offsets); an empty
//   segment ends a group and is left alone.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "storage/log_config.h"

namespace rustlog {

struct SegmentShape {
  uint64_t base = 0;
  uint64_t size = 0;
  int64_t last_append_us = 0;
};

struct DirtyRange {
  uint64_t first_dirty = 0;
  uint64_t first_uncleanable = 0;
  uint64_t clean_bytes = 0;
  uint64_t cleanable_bytes = 0;
  uint64_t lag_bytes = 0;
  bool overdue = false;
  double ratio() const {
    const uint64_t total = clean_bytes + cleanable_bytes;
    return total == 0 ? 0.0 : static_cast<double>(cleanable_bytes) / static_cast<double>(total);
  }
  bool cleanable(const CompactionConfig& c) const {
    return cleanable_bytes > 0 && (overdue || ratio() >= c.min_cleanable_dirty_ratio);
  }
};

// `segs`: the whole log, oldest first, the last one active.
inline DirtyRange dirty_range(const std::vector<SegmentShape>& segs, uint64_t checkpoint, int64_t now_us,
                              const CompactionConfig& c) {
  DirtyRange r;
  if (segs.empty()) return r;
  const size_t active = segs.size() - 1;
  r.first_dirty = checkpoint < segs.front().base ? segs.front().base : checkpoint;
  size_t uncleanable = active;
  for (size_t i = 0; i < active; ++i)
    if (c.min_compaction_lag_ms > 0 && now_us - segs[i].last_append_us < c.min_compaction_lag_ms * 1000) {
      uncleanable = i;
      break;
    }
  r.first_uncleanable = segs[uncleanable].base;
  if (r.first_dirty > segs[active].base) r.first_dirty = segs[active].base;
  bool first_dirty_seen = false;
  for (size_t i = 0; i < segs.size(); ++i) {
    const uint64_t end = i < active ? segs[i + 1].base : UINT64_MAX;
    if (end <= r.first_dirty) {
      r.clean_bytes += segs[i].size;
      continue;
    }
    r.lag_bytes += segs[i].size;
    if (i >= uncleanable) continue;
    r.cleanable_bytes += segs[i].size;
    if (!first_dirty_seen && c.max_compaction_lag_ms >= 0)
      r.overdue = now_us - segs[i].last_append_us >= c.max_compaction_lag_ms * 1000;
    first_dirty_seen = true;
  }
  if (r.first_dirty > r.first_uncleanable) r.first_dirty = r.first_uncleanable;
  return r;
}

struct SegmentGroup {
  std::vector<uint64_t> bases;  // the segments' base offsets, in order
  uint64_t bytes = 0;           // their total size before cleaning
};

// Groups of the sealed segments whose base is below `end` (`segs` as above).
inline std::vector<SegmentGroup> group_segments(const std::vector<SegmentShape>& segs, uint64_t end,
                                                uint64_t max_bytes) {
  std::vector<SegmentGroup> out;
  if (segs.size() < 2) return out;
  const size_t active = segs.size() - 1;
  size_t i = 0;
  while (i < active && segs[i].base < end) {
    if (segs[i].size == 0) {
      ++i;
      continue;
    }
    SegmentGroup g;
    const uint64_t base = segs[i].base;
    size_t j = i;
    while (j < active && segs[j].base < end && segs[j].size > 0) {
      const bool first = j == i;
      const bool fits_bytes = g.bytes + segs[j].size <= max_bytes;
      // The group's offsets end before the next segment's base.
      const bool fits_offsets = segs[j + 1].base - 1 - base <= std::numeric_limits<uint32_t>::max();
      if (!first && !(fits_bytes && fits_offsets)) break;
      g.bases.push_back(segs[j].base);
      g.bytes += segs[j].size;
      ++j;
    }
    out.push_back(std::move(g));
    i = j;
  }
  return out;
}

}  // namespace rustlog
