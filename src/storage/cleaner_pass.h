#pragma once
// One cleaner pass over one partition (log_cleaner.h drives it), as a state
// machine of bounded steps:
//   kPrepareMap  initialise the key map's slots, a budget's worth per step
//   kBuildMap    scan the dirty range [first dirty, first uncleanable),
//                recording each key's latest offset, until the range ends or
//                the map is full (the map's end, possibly mid-segment)
//   kClean       recopy the sealed segments from the log start to the one
//                holding the map's end, group by group (cleaner_policy.h),
//                each group swapped in when written (segment_swap.h); the
//                swap's three fsyncs are handed out (take_disk_wait) and the
//                pass goes on with resume() once each has returned
//   kCheckpoint  the map's end becomes the cleaner checkpoint
// Segments are found by base offset at every step: retention may delete the
// oldest ones between two steps, and the pass goes on with what is left.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/cleaner_key_map.h"
#include "storage/cleaner_policy.h"
#include "storage/log_cleaner.h"
#include "storage/partition_log.h"
#include "storage/segment_swap.h"

namespace rustlog {

// The log's segments as the policy sees them (base, size, newest append).
std::vector<SegmentShape> segment_shapes(const PartitionLog& log);

class CleanerPass {
 public:
  // `map` is reset by the pass (the cleaner reuses one across passes).
  CleanerPass(PartitionLog* log, CleanerKeyMap* map, uint64_t buffer_bytes, const DirtyRange& range,
              int64_t start_us);
  ~CleanerPass();

  // Handles about `budget` bytes (at least one batch); an error aborts the
  // pass (the caller marks the partition uncleanable and calls abandon()).
  Status step(uint64_t budget, CleanerStep* out, CleanerCounters* c);
  bool done() const { return phase_ == Phase::kDone; }
  // The fsync the last step or resume() stopped at, if any: run it (on any
  // thread), then call resume() with its result before the next step.
  std::optional<DiskWait> take_disk_wait();
  // Goes on after a disk wait: the next part of the group's swap.
  Status resume(const Status& waited, CleanerStep* out, CleanerCounters* c);
  // Removes the .cleaned files of a group being written.
  void abandon();
  // After done(): the new first dirty offset (the map's end).
  uint64_t map_end() const { return map_end_; }
  uint64_t first_dirty() const { return range_.first_dirty; }

 private:
  enum class Phase { kPrepareMap, kBuildMap, kClean, kCheckpoint, kDone };
  Status build_map(uint64_t budget, CleanerStep* out, CleanerCounters* c);
  Status clean(uint64_t budget, CleanerStep* out, CleanerCounters* c);
  // Recopies one source batch into the writer, keeping what the map and the
  // tombstone horizon allow.
  Status filter_batch(const ScanEvent& ev, CleanerCounters* c, uint64_t* written);
  Status finish_group(CleanerStep* out, CleanerCounters* c);
  // Where a group's swap waits: for its files' fsync, the commit's
  // directory fsync, or the last directory fsync.
  enum class Swap { kNone, kCleanedSync, kCommitSync, kFinalSync };
  // Index in log->segments() of the segment with this base, if it is still there.
  std::optional<size_t> find_segment(uint64_t base) const;
  // Index of the group's first segment when all of it is still in the log.
  std::optional<size_t> whole_group(const SegmentGroup& g) const;

  PartitionLog* log_;
  CleanerKeyMap* map_;
  DirtyRange range_;
  int64_t start_us_;
  Phase phase_ = Phase::kPrepareMap;
  uint64_t map_end_ = 0;
  // Scan cursor (map building and recopying): segment base, byte position,
  // the offset the next batch continues from.
  uint64_t seg_ = 0;
  uint64_t pos_ = 0;
  uint64_t next_ = 0;
  std::vector<SegmentGroup> groups_;
  size_t group_ = 0;     // current group
  size_t member_ = 0;    // current segment of the group
  std::optional<CleanedSegmentWriter> writer_;
  BatchHeader last_src_;  // the last source batch of the group so far
  bool any_src_ = false;
  Swap swap_ = Swap::kNone;
  std::optional<DiskWait> disk_wait_;
};

}  // namespace rustlog
