// PartitionLog's part of compaction: swapping a cleaned segment in for a
// group of sealed segments (segment_swap.h has the file steps and the
// recovery of an interrupted swap; log_cleaner.h decides what to clean).
// The swap is three calls around two directory fsyncs, which the caller may
// run off the loop (DiskWait): swap_begin, swap_commit, swap_finish.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/crash_point.h"
#include "storage/partition_log.h"
#include "storage/segment_swap.h"

namespace rustlog {

Result<DiskWait> PartitionLog::swap_begin(size_t first, size_t count) {
  if (!fatal_.is_ok()) return fatal_;
  if (swap_base_)
    return Status(ErrorCode::kInternal, "a compaction swap is already under way in " + dir_);
  if (count == 0 || first + count >= segments_.size())
    return Status(ErrorCode::kInternal, "compaction may only replace sealed segments of " + dir_);
  const uint64_t base = segments_[first]->base_offset();
  crash_point("compaction.after_cleaned");
  // 2. The commit: the .log's rename to .swap, made durable by the returned fsync.
  if (Status st = rename_cleaned_to_swap(dir_, base); !st) {
    (void)remove_swap_files(dir_, base);
    return st;
  }
  // Retention leaves the group alone until its originals are renamed.
  swap_base_ = base;
  swap_count_ = count;
  return dir_sync_wait(dir_);
}

Result<DiskWait> PartitionLog::swap_commit(const Status& synced) {
  if (!swap_base_) return Status(ErrorCode::kInternal, "no compaction swap is under way in " + dir_);
  const uint64_t base = *swap_base_;
  const size_t count = swap_count_;
  swap_base_.reset();
  if (!synced) {
    // Not known to be committed: undone, the log as it was.
    (void)remove_swap_files(dir_, base);
    return synced;
  }
  if (!fatal_.is_ok()) return fatal_;
  crash_point("compaction.after_swap");
  size_t first = 0;
  while (first < segments_.size() && segments_[first]->base_offset() != base) ++first;
  if (first + count >= segments_.size())
    return fail(Status(ErrorCode::kInternal, "the segments of a committed compaction swap left " + dir_));
  int64_t last_append = 0;
  for (size_t i = first; i < first + count; ++i) last_append = std::max(last_append, segments_[i]->last_append_us());
  // 3. The originals out of the log (their descriptors and mappings stay
  //    valid for reads of this turn; purge_deleted unlinks them later).
  for (size_t i = first; i < first + count; ++i) {
    if (Status st = segments_[i]->rename_to_deleted(); !st) return fail(st);
  }
  crash_point("compaction.after_originals_deleted");
  // 4. The final names, the log last; the cleaned segment replaces the group
  //    in memory at once (nothing is read by a name that no longer exists),
  //    and the returned fsync of the directory ends the swap (swap_finish).
  if (Status st = rename_swap_to_final(dir_, base); !st) return fail(st);
  crash_point("compaction.after_rename");
  SegmentScanReport report;
  auto s = Segment::open(dir_, base, config_.index_interval_bytes, cache_, &report);
  if (!s) return fail(s.status());
  Status st = (*s)->rebuild_indexes_if_needed(&report);
  if (!st) return fail(st);
  (*s)->set_last_append_us(last_append);
  for (size_t i = first; i < first + count; ++i) graveyard_.push_back(std::move(segments_[i]));
  segments_.erase(segments_.begin() + static_cast<ptrdiff_t>(first + 1),
                  segments_.begin() + static_cast<ptrdiff_t>(first + count));
  segments_[first] = std::move(*s);
  return dir_sync_wait(dir_);
}

Status PartitionLog::swap_finish(const Status& synced) {
  if (!synced) return fail(synced);
  crash_point("compaction.after_dir_sync");
  return Status::ok();
}

Status PartitionLog::swap_in_cleaned(size_t first, size_t count) {
  auto commit = swap_begin(first, count);
  if (!commit) return commit.status();
  auto finish = swap_commit((*commit)());
  if (!finish) return finish.status();
  return swap_finish((*finish)());
}

}  // namespace rustlog
